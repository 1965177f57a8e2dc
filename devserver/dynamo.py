"""The embedded DynamoDB: moto's server on 127.0.0.1, tables from template.yaml,
a TTL sweeper that deletes late as DynamoDB does, and a snapshot kept across restarts."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable

import boto3
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .template import Table

log = logging.getLogger("devserver.dynamodb")

_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class EmbeddedDynamoDB:
    """moto in server mode. Requests are applied one at a time, like DynamoDB's
    per-item atomicity: a conditional write never interleaves with another write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.writes = 0  # bumped on every write, so the snapshot knows when to save
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _app(self) -> Callable[..., Iterable[bytes]]:
        moto_app = DomainDispatcherApplication(create_backend_app)

        def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            with self._lock:
                body = list(moto_app(environ, start_response))
                if target.endswith(_WRITES):
                    self.writes += 1
            return body

        return serialized

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def create_tables(client: Any, tables: list[Table]) -> None:
    """Create each template table (same keys, indexes, stream and TTL) unless it exists."""
    existing = set(client.list_tables()["TableNames"])
    for table in tables:
        if table.name in existing:
            continue
        props = table.properties
        kwargs: dict[str, Any] = {
            "TableName": table.name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        client.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )


def ttl_attributes(tables: list[Table]) -> dict[str, str]:
    return {
        t.name: t.properties["TimeToLiveSpecification"]["AttributeName"]
        for t in tables
        if t.properties.get("TimeToLiveSpecification", {}).get("Enabled")
    }


def _scan(client: Any, table: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    for page in client.get_paginator("scan").paginate(TableName=table, **kwargs):
        yield from page["Items"]


def _key_of(client: Any, table: str, item: dict[str, Any]) -> dict[str, Any]:
    schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    return {k["AttributeName"]: item[k["AttributeName"]] for k in schema}


def sweep_expired(client: Any, ttl: dict[str, str], now: float, lag: float, deleted_keys: set[str] | None = None) -> int:
    """Delete items whose TTL passed more than `lag` seconds ago, as DynamoDB's TTL
    service does some time after expiry. Conditional, so a re-created item survives.
    The keys deleted go into deleted_keys, so the stream can say the TTL service did it."""
    deleted = 0
    cutoff = {":cutoff": {"N": str(int(now - lag))}}
    for table, attribute in ttl.items():
        names = {"#ttl": attribute}
        for item in _scan(client, table, FilterExpression="#ttl < :cutoff", ExpressionAttributeNames=names,
                          ExpressionAttributeValues=cutoff):
            key = _key_of(client, table, item)
            if deleted_keys is not None:
                deleted_keys.add(str(key))
            try:
                client.delete_item(TableName=table, Key=key,
                                   ConditionExpression="#ttl < :cutoff", ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=cutoff)
                deleted += 1
            except client.exceptions.ConditionalCheckFailedException:
                pass
    return deleted


class Snapshot:
    """All items of all tables in one JSON file, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, client: Any, tables: list[Table]) -> None:
        data = {t.name: list(_scan(client, t.name)) for t in tables}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.path)

    def restore(self, client: Any) -> int:
        if not self.path.exists():
            return 0
        data = json.loads(self.path.read_text(encoding="utf-8"))
        count = 0
        for table, items in data.items():
            for item in items:
                client.put_item(TableName=table, Item=item)
                count += 1
        return count


EMBEDDED_CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "local", "aws_secret_access_key": "local"}


def local_client(endpoint: str, *, embedded: bool = True) -> Any:
    """A client for the embedded store (any credentials do) or for DYNAMODB_ENDPOINT (the shell's)."""
    return boto3.client("dynamodb", endpoint_url=endpoint, **(EMBEDDED_CREDENTIALS if embedded else {}))


class Housekeeper(threading.Thread):
    """Background loop: sweep expired items and save the snapshot when data changed."""

    def __init__(self, client: Any, tables: list[Table], db: EmbeddedDynamoDB, snapshot: Snapshot,
                 now: Callable[[], float], interval: float, lag: float) -> None:
        super().__init__(name="housekeeper", daemon=True)
        self.client, self.tables, self.db, self.snapshot, self.now = client, tables, db, snapshot, now
        self.interval, self.lag = interval, lag
        self.ttl = ttl_attributes(tables)
        self.ttl_deleted: set[str] = set()
        self.stopped = threading.Event()
        self._saved_at_writes = -1

    def tick(self) -> None:
        swept = sweep_expired(self.client, self.ttl, self.now(), self.lag, self.ttl_deleted)
        if swept:
            log.info("TTL sweeper deleted %d expired item(s)", swept)
        if self.db.writes != self._saved_at_writes:
            self._saved_at_writes = self.db.writes
            self.snapshot.save(self.client, self.tables)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.tick()
            except Exception:  # keep sweeping after a transient failure; it is logged
                log.exception("housekeeping failed")

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.tick()
