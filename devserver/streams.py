"""Feeds the embedded table's stream to the functions subscribed to it in template.yaml,
in the event shape Lambda's DynamoDB event source sends (`sam local generate-event
dynamodb update`), and retries records a function reports as failed."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .dynamo import streams_client
from .gateway import LambdaContext
from .template import StreamSubscription

log = logging.getLogger("devserver.streams")
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
MAX_ATTEMPTS = 3


def lambda_event(records: list[dict[str, Any]], arn: str, ttl_deleted: set[str]) -> dict[str, Any]:
    """Stream records as Lambda's DynamoDB event source hands them to a function; a REMOVE of a
    key in `ttl_deleted` (removed by the TTL sweeper) gets TTL's identity."""
    shaped = []
    for record in records:
        record = {**record, "eventSourceARN": arn, "eventID": record.get("eventID") or uuid.uuid4().hex}
        stamp = record["dynamodb"].get("ApproximateCreationDateTime")
        if hasattr(stamp, "timestamp"):
            record["dynamodb"] = {**record["dynamodb"], "ApproximateCreationDateTime": int(stamp.timestamp())}
        key = str(record["dynamodb"].get("Keys"))
        if record.get("eventName") == "REMOVE" and key in ttl_deleted:
            ttl_deleted.discard(key)
            record["userIdentity"] = TTL_IDENTITY
        shaped.append(record)
    return {"Records": shaped}


def stored_records(streams: Any, arn: str) -> list[tuple[str, dict[str, Any]]]:
    """Every record the stream holds, from each shard's start, with its shard's id: what a test
    or a benchmark hands to a function itself."""
    found: list[tuple[str, dict[str, Any]]] = []
    for shard_id in [shard["ShardId"] for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]]:
        iterator: str | None = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            found += [(shard_id, dict(record)) for record in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return found


LOCAL_WINDOW_SECONDS = 5


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class StreamPump(threading.Thread):
    def __init__(self, endpoint: str, client: Any, subscription: StreamSubscription,
                 handler: Callable[[dict[str, Any], Any], dict[str, Any]], ttl_deleted: set[str],
                 interval: float = 0.5) -> None:
        super().__init__(name=f"stream-{subscription.function}", daemon=True)
        self.streams = streams_client(endpoint)
        self.subscription, self.handler, self.interval = subscription, handler, interval
        self.ttl_deleted = ttl_deleted  # keys the TTL sweeper removed: their REMOVE records get its identity
        self.arn = client.describe_table(TableName=subscription.table)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard,
                                                        ShardIteratorType="LATEST")["ShardIterator"]
        self.stopped = threading.Event()
        self.delivered = 0
        self._open_window()
        # Polls started, and the last one that found the stream empty: a test waits for an empty
        # poll that started after it asked (drained), instead of sleeping.
        self._polls = self._empty_poll = 0
        self._progress = threading.Condition()

    def _event(self, records: list[dict[str, Any]], *, final: bool = False) -> dict[str, Any]:
        event = lambda_event(records, self.arn, self.ttl_deleted)
        if self.subscription.window_seconds:  # as Lambda hands a tumbling window's batches
            event.update(window=self.window, state=self.state, shardId="shardId-local", eventSourceARN=self.arn,
                         isFinalInvokeForWindow=final, isWindowTerminatedEarly=final and time.time() < self.window_ends)
        return event

    def _open_window(self) -> None:
        start = time.time()
        # Shorter than the template's minute: local statistics appear sooner, and a window's
        # writes stay small enough that stopping the devserver never waits on a minute of them
        # (Lambda too may end a window early; the handler treats every end alike).
        self.window_ends = start + min(self.subscription.window_seconds, LOCAL_WINDOW_SECONDS)
        self.window = {"start": _iso(start), "end": _iso(self.window_ends)}
        self.state: dict[str, Any] = {}

    def close_window(self) -> None:
        """The window's final invocation (tried again until it succeeds, as Lambda holds the shard):
        at its end, or, here, as soon as the stream is idle, so that local statistics do not wait
        a minute (Lambda too ends a window early, when its state grows past 1 MB)."""
        if not self.subscription.window_seconds:
            return
        for _ in range(MAX_ATTEMPTS):
            try:
                answer = self.handler(self._event([], final=True), LambdaContext(self.subscription.function, uuid.uuid4().hex,
                                                                                timeout_seconds=60)) or {}
            except Exception:
                log.exception("%s raised at the end of its window", self.subscription.function)
                continue
            if "state" in answer:
                break
        self._open_window()

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        wanted = [r for r in records if self.subscription.wants(r)]
        for start in range(0, len(wanted), self.subscription.batch_size):
            pending = wanted[start:start + self.subscription.batch_size]
            for attempt in range(1, MAX_ATTEMPTS + 1):
                context = LambdaContext(self.subscription.function, uuid.uuid4().hex, timeout_seconds=60)
                try:
                    answer = self.handler(self._event(pending), context) or {}
                    failed = [f["itemIdentifier"] for f in answer.get("batchItemFailures", [])]
                    if self.subscription.window_seconds and not failed:
                        self.state = answer["state"]  # Lambda requires it: an answer without it is a failure
                except Exception:  # a crashed invocation fails the whole batch, as on Lambda
                    log.exception("%s raised", self.subscription.function)
                    failed = [r["dynamodb"]["SequenceNumber"] for r in pending]
                if not failed:
                    break
                # as Lambda does: retry from the first failed record on
                first = min(i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failed)
                pending = pending[first:]
                if attempt == MAX_ATTEMPTS:
                    log.error("%s: %d stream record(s) failed %d times; dropped (AWS sends them to the "
                              "failure queue)", self.subscription.function, len(pending), attempt)
            self.delivered += len(wanted[start:start + self.subscription.batch_size])

    def poll(self) -> None:
        with self._progress:
            self._polls += 1
            number = self._polls
        answer = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
        self.iterator = answer.get("NextShardIterator", self.iterator)
        if answer.get("Records"):
            self._deliver([dict(record) for record in answer["Records"]])
            if self.subscription.window_seconds and time.time() >= self.window_ends:
                self.close_window()
        else:
            if self.state:
                self.close_window()
            with self._progress:
                self._empty_poll = number
                self._progress.notify_all()

    def wait_drained(self, timeout: float) -> bool:
        """Wait until a poll that started after this call found nothing more to deliver: every
        record written before the call has then been handed to the function."""
        with self._progress:
            asked = self._polls
            return self._progress.wait_for(lambda: self._empty_poll > asked, timeout)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.poll()
            except Exception:  # keep the stream flowing after a failure; it is logged
                log.exception("stream delivery to %s failed", self.subscription.function)

    def stop(self) -> None:
        self.stopped.set()
        self.join()
