"""LinksTable stream -> hourly visit statistics (with unique visitors and bots) in StatsTable,
link events (created, updated, deleted, expired, exhausted, milestone) to EventBridge, and expiry metrics."""

from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shortlink.events.batch import announce, milestones_of
from shortlink.http.boundary import guarded
from shortlink.http.requests import request_id
from shortlink.links.store import LinkStore
from shortlink.settings import load_settings
from shortlink.stats.countries import Countries
from shortlink.stats.record import record_batch
from shortlink.stats.store import StatsStore
from shortlink.stats.stream import read_batch

logger = Logger()
metrics = Metrics()
# The IP-to-country table this function carries (scripts/countries.py writes it; read at the first lookup).
COUNTRIES = Countries(Path(__file__).parent / "countries.bin")


def _record(records: list[dict[str, Any]]) -> dict[str, Any]:
    settings = load_settings()
    batch = read_batch(records, COUNTRIES.of)
    for bad in batch.bad:
        logger.error("unreadable stream record", extra={"sequence_number": bad.sequence_number, "reason": str(bad)})
    failed, added = record_batch(batch, StatsStore(settings.require_stats_table()), settings.stats_retention_days,
                                 settings.time_zone(), milestones_of(LinkStore.of(settings), settings))
    unsent, announced = announce(records, failed, settings)
    failed += unsent
    metrics.add_metric(name="VisitsCounted", unit=MetricUnit.Count, value=added)
    metrics.add_metric(name="LinkEvents", unit=MetricUnit.Count, value=announced)
    metrics.add_metric(name="BotHits", unit=MetricUnit.Count, value=batch.bots)
    metrics.add_metric(name="LinksExpiredByTTL", unit=MetricUnit.Count, value=batch.expired_removals)
    if batch.expired_removals:
        logger.info("links removed by TTL", extra={"count": batch.expired_removals})
    # Partial batch response: Lambda retries from the first failed record; a record that
    # keeps failing is split off (bisect) and, after the retries, sent to the failure queue.
    return {"batchItemFailures": [{"itemIdentifier": s} for s in dict.fromkeys(failed)]}


def _retry_all(records: list[dict[str, Any]]) -> dict[str, Any]:
    """After an unforeseen failure (logged by the boundary): every record back to Lambda, which
    retries, then bisects, then sends what still fails to the failure queue."""
    return {"batchItemFailures": [{"itemIdentifier": str(r.get("dynamodb", {}).get("SequenceNumber", ""))} for r in records]}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    return guarded(lambda: _record(records), lambda _: _retry_all(records), request_id(event, context), logger, log_known=True)
