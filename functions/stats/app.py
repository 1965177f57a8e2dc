"""LinksTable stream -> hourly visit statistics (with unique visitors and bots) in StatsTable,
link events (created, updated, deleted, expired, exhausted, milestone) to EventBridge, and expiry metrics."""

from datetime import tzinfo
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shortlink import clock
from shortlink.errors import StoreUnavailable
from shortlink.events.batch import announce, milestones_of
from shortlink.http.boundary import guarded
from shortlink.http.requests import request_id
from shortlink.links.catalogue import Catalogue
from shortlink.links.ranking import rank_visited
from shortlink.links.store import LinkStore
from shortlink.settings import Settings, load_settings
from shortlink.stats.countries import COUNTRIES
from shortlink.stats.record import Salts, flush
from shortlink.stats.store import StatsStore
from shortlink.stats.stream import first_failed, read_batch
from shortlink.stats.window import Window

logger = Logger()
metrics = Metrics()


def _record(event: dict[str, Any]) -> dict[str, Any]:
    """One invocation: each record's link events, and its visits added to the window, written at
    the window's end (stats/window.py; an event without a window is a window of its own)."""
    settings = load_settings()
    store = StatsStore(settings.require_stats_table())
    records = event.get("Records", [])
    windowed = "window" in event
    batch = read_batch(records, COUNTRIES.of)
    for bad in batch.bad:
        logger.error("unreadable stream record", extra={"sequence_number": bad.sequence_number, "reason": str(bad)})
    failed = [bad.sequence_number for bad in batch.bad]
    window = Window.from_state(event.get("state"))
    try:
        window.add(batch, Salts(store, settings.time_zone()))
    except StoreUnavailable:  # a day's salt could not be read: every visit again
        failed += batch.firsts()
    unsent, announced = announce(records, failed, settings)
    failed += unsent
    metrics.add_metric(name="LinkEvents", unit=MetricUnit.Count, value=announced)
    metrics.add_metric(name="BotHits", unit=MetricUnit.Count, value=batch.bots)
    metrics.add_metric(name="LinksExpiredByTTL", unit=MetricUnit.Count, value=batch.expired_removals)
    if batch.expired_removals:
        logger.info("links removed by TTL", extra={"count": batch.expired_removals})
    final = not windowed or bool(event.get("isFinalInvokeForWindow"))
    if windowed and failed:
        # Lambda retries from the first failed record: those before it are done, so the state
        # handed on is the one given plus their visits (rows are written again harmlessly, each
        # knowing what it has; a state is not).
        window, failed = _given_and_done(event, failed, store, settings.time_zone())
        if final:
            raise StoreUnavailable("a record of the window's last batch failed; its window is tried again")
    state = window.state() if windowed and not final else {}
    written = not (windowed and failed) and (final or window.too_big(state))
    if written:
        links = LinkStore.of(settings)
        unwritten, added = flush(window, store, settings.stats_retention_days, milestones_of(links, settings))
        metrics.add_metric(name="VisitsCounted", unit=MetricUnit.Count, value=added)
        unwritten += _ranked(window, links, store, settings)
        if unwritten and windowed:
            raise StoreUnavailable(f"{len(unwritten)} statistics row(s) or visits rank(s) of the window were not written")
        failed += unwritten
    # Partial batch response: Lambda retries from the first failed record; a record that keeps
    # failing is split off (bisect) and, after the retries, sent to the failure queue.
    answer: dict[str, Any] = {"batchItemFailures": [{"itemIdentifier": s} for s in dict.fromkeys(failed)]}
    if windowed:
        answer["state"] = {} if written else state
    return answer


def _ranked(window: Window, links: LinkStore, store: StatsStore, settings: Settings) -> list[str]:
    """The visited lives' places in the visits order (links/ranking.py), after their rows; at a
    store fault, the first record of each, to try again (the rows then know their visits)."""
    visited = window.visited()
    try:
        raised = rank_visited(visited, links, store.counted, Catalogue.of(settings), clock.now())
    except StoreUnavailable:
        return [first for first in visited.values() if first]
    metrics.add_metric(name="VisitsRanksRaised", unit=MetricUnit.Count, value=raised)
    return []


def _given_and_done(event: dict[str, Any], failed: list[str], store: StatsStore, zone: tzinfo) -> tuple[Window, list[str]]:
    """The window as given, with the visits of the records before the first failed one; and the
    records to report failed."""
    records = event.get("Records", [])
    window = Window.from_state(event.get("state"))
    try:
        window.add(read_batch(records[:first_failed(records, failed)], COUNTRIES.of), Salts(store, zone))
    except StoreUnavailable:  # the day's salt again: from the first record on, with the state as given
        return Window.from_state(event.get("state")), [str(records[0]["dynamodb"]["SequenceNumber"])]
    return window, failed


def _retry_all(event: dict[str, Any]) -> dict[str, Any]:
    """After an unforeseen failure (logged by the boundary): every record back to Lambda, which
    retries (with the window's state as it was), then bisects, then sends what still fails to
    the failure queue."""
    records = event.get("Records", [])
    answer: dict[str, Any] = {"batchItemFailures": [{"itemIdentifier": str(r.get("dynamodb", {}).get("SequenceNumber", ""))}
                                                    for r in records]}
    if "window" in event:
        answer["state"] = event.get("state") or {}
    return answer


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("isFinalInvokeForWindow"):
        # The window's rows are written here; should that fail, the invocation fails and Lambda
        # tries it again with the same state, holding the shard meanwhile.
        return _record(event)
    return guarded(lambda: _record(event), lambda _: _retry_all(event), request_id(event, context), logger, log_known=True)
