"""The embedded DynamoDB: moto's server on 127.0.0.1, tables from template.yaml,
a TTL sweeper that deletes late as DynamoDB does, and a snapshot kept across restarts."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

# moto's server pieces are public in use but not re-exported by name (mypy --strict checks that).
from moto.moto_server.threaded_moto_server import MotoRequestHandler  # type: ignore[attr-defined]
from moto.server import DomainDispatcherApplication, create_backend_app  # type: ignore[attr-defined]
from werkzeug.serving import BaseWSGIServer, make_server

from .template import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("devserver.dynamodb")

SNAPSHOT_SECONDS = 10.0
_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def _transactions_without_table_copies() -> None:
    """moto backs up every table a TransactWriteItems names, by deep copy, once per action, so
    that it can roll back: seconds a transaction once a table and its stream hold a day of
    visits (a PATCH writes the link and its 16 counters). Here requests are applied one at a
    time (EmbeddedDynamoDB's lock), so checking every action's condition first and applying
    only when all hold needs no backup and answers what DynamoDB answers: the cancellation
    reasons in order, the old item where ALL_OLD was asked for."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        reasons: list[Any] = []
        for action in transact_items:
            if len(action) > 1:
                raise TransactWriteSingleOpException()
            kind, op = next(iter(action.items()))
            table = backend.get_table(op["TableName"])
            key = op["Key"] if kind != "Put" else {name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name}
            target = (op["TableName"], json.dumps(key, sort_keys=True))
            if target in seen:
                raise MultipleTransactionsException()
            seen.add(target)
            current = backend.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition and not get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                                       op.get("ExpressionAttributeValues")).expr(current):
                old = current.to_json()["Attributes"] if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
            else:
                reasons.append((None, None, None))
        if any(code for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        for action in transact_items:
            kind, op = next(iter(action.items()))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if kind == "Put":
                backend.put_item(op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values)
            elif kind == "Delete":
                backend.delete_item(op["TableName"], op["Key"], expression_attribute_names=names, expression_attribute_values=values)
            elif kind == "Update":
                backend.update_item(op["TableName"], op["Key"], update_expression=op["UpdateExpression"],
                                    expression_attribute_names=names, expression_attribute_values=values)

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]  # moto's, replaced


def _partitioned_like_the_table(table: Any, index_name: str | None) -> bool:
    """Whether a Query's partition holds only items of one partition of the table: none is
    asked, or the index's partition key is the table's."""
    if not index_name:
        return True
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    return index is not None and [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] == [table.hash_key_attr]


def _queries_of_one_partition() -> None:
    """moto answers a Query of a table by sorting every item of the table (Table.all_items)
    and keeping the partition's: past ~50,000 items (the search index of a few thousand links)
    each Query takes longer than the functions' 1 s read timeout. DynamoDB reads the one
    partition; so does this: a Query of the table itself, or of an index partitioned by the
    table's own partition key (the search index's by_visits), sees only the items of its
    partition key, in the order moto would have given them. Requests are applied one at a time
    (EmbeddedDynamoDB's lock), so the table can hold the partition meanwhile."""
    import inspect

    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "narrowed", False):
        return  # another embedded store of this process did it
    query, all_items = Table.query, Table.all_items
    parameters = inspect.signature(query)

    def one_partition(table: Any, *args: Any, **kwargs: Any) -> Any:
        asked = parameters.bind(table, *args, **kwargs).arguments
        hash_key = asked.get("hash_key")
        if hash_key is None or not table.range_key_attr or not _partitioned_like_the_table(table, asked.get("index_name")):
            return query(table, *args, **kwargs)
        table._one_partition = sorted(table.items.get(hash_key, {}).values(), key=lambda item: item.range_key)
        try:
            return query(table, *args, **kwargs)
        finally:
            del table._one_partition

    def items_asked(table: Any) -> Any:
        partition = getattr(table, "_one_partition", None)
        return all_items(table) if partition is None else partition

    one_partition.narrowed = True  # type: ignore[attr-defined]
    Table.query = one_partition  # type: ignore[method-assign,assignment]  # moto's, narrowed
    Table.all_items = items_asked  # type: ignore[method-assign,assignment]


class EmbeddedDynamoDB:
    """moto in server mode. Requests are applied one at a time, like DynamoDB's
    per-item atomicity: a conditional write never interleaves with another write.
    With a journal, every write is appended to it (and fsynced) before it is applied, so
    an acknowledged write survives a crash; one the journal cannot take fails with a 500
    (the client's 503) and is not applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.write_gate = threading.Lock()  # held by writes, and by a snapshot to make its cut
        self.writes = 0  # bumped on every write, so the snapshot knows when to save
        self.journal: Journal | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _app(self) -> Callable[..., Iterable[bytes]]:
        moto_app = DomainDispatcherApplication(create_backend_app)

        def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if not target.endswith(_WRITES):
                with self._lock:
                    return list(moto_app(environ, start_response))
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            with self.write_gate, self._lock:
                if self.journal is not None:
                    try:
                        self.journal.append(_request_headers(environ), body)
                    except OSError as exc:
                        log.error("cannot write the journal %s: %s; the write is refused", self.journal.path, exc)
                        start_response("500 Internal Server Error", [("Content-Type", "application/x-amz-json-1.0")])
                        return [json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                                            "message": f"the local store cannot write {self.journal.path}"}).encode()]
                answer = list(moto_app(environ, start_response))
                self.writes += 1
                return answer

        return serialized

    def start(self) -> str:
        _transactions_without_table_copies()
        _queries_of_one_partition()
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


# The headers a replayed write needs: which operation, and the region its credential names.
_JOURNALED_HEADERS = ("HTTP_X_AMZ_TARGET", "CONTENT_TYPE", "HTTP_AUTHORIZATION")


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    names = {"HTTP_X_AMZ_TARGET": "X-Amz-Target", "CONTENT_TYPE": "Content-Type", "HTTP_AUTHORIZATION": "Authorization"}
    return {names[key]: environ[key] for key in _JOURNALED_HEADERS if environ.get(key)}


class Journal:
    """The writes since the last snapshot, one JSON line each, numbered; fsynced before they are applied."""

    def __init__(self, path: Path, after: int = 0) -> None:
        self.path = path
        self.seq = max([after, *(seq for seq, _, _ in self.entries())])
        self._file = path.open("ab")

    def entries(self) -> Iterator[tuple[int, dict[str, str], bytes]]:
        """(number, headers, body) of each whole line; a line torn by a crash is the write that was never acknowledged."""
        if not self.path.exists():
            return
        for line in self.path.read_bytes().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("the journal %s ends in a torn line (a write cut off by a crash); it is left out", self.path)
                return
            yield int(entry["seq"]), entry["headers"], entry["body"].encode("utf-8")

    def append(self, headers: dict[str, str], body: bytes) -> None:
        line = json.dumps({"seq": self.seq + 1, "headers": headers, "body": body.decode("utf-8")}) + "\n"
        end = self._file.seek(0, os.SEEK_END)  # the file's end (after a truncation the position may lie past it)
        try:
            self._file.write(line.encode("utf-8"))
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            with suppress(OSError):  # a refused write must not come back at the next start
                self._file.truncate(end)
            raise
        self.seq += 1

    def clear(self) -> None:
        """Empty the journal (its writes are in a snapshot now); the numbering goes on."""
        self._file.truncate(0)
        self._file.flush()
        os.fsync(self._file.fileno())

    def replay(self, endpoint: str, after: int) -> int:
        """Send the store each journaled write numbered above `after` (the snapshot's), in order."""
        count = 0
        for seq, headers, body in self.entries():
            if seq <= after:
                continue
            request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as refused:  # a conditional write refused then is refused again
                refused.close()
            count += 1
        return count


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


class TtlDeletions:
    """The keys the TTL sweeper deleted, told to each reader of the stream (each forgets a key
    once its REMOVE record went out with TTL's identity): every function the stream feeds must
    see a TTL deletion as one."""

    def __init__(self) -> None:
        self._readers: list[set[str]] = []

    def reader(self) -> set[str]:
        keys: set[str] = set()
        self._readers.append(keys)
        return keys

    def add(self, key: str) -> None:
        for keys in self._readers:
            keys.add(key)


def sweep_expired(client: Any, ttl: dict[str, str], now: float, lag: float, deleted_keys: TtlDeletions | set[str] | None = None) -> int:
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


def _binary_as_text(value: Any, decode: bool = False) -> Any:
    """Typed items with binary values ({"B": b"..."}, {"BS": [...]}) to JSON and back (base64)."""
    if isinstance(value, list):
        return [_binary_as_text(v, decode) for v in value]
    if not isinstance(value, dict):
        return value
    converted: dict[str, Any] = {}
    for key, inner in value.items():
        if key == "B" and isinstance(inner, (bytes, str)):
            converted[key] = _binary(inner, decode)
        elif key == "BS" and isinstance(inner, list) and all(isinstance(v, (bytes, str)) for v in inner):
            converted[key] = [_binary(v, decode) for v in inner]
        else:
            converted[key] = _binary_as_text(inner, decode)
    return converted


def _binary(value: bytes | str, decode: bool) -> bytes | str:
    """Base64 text back to bytes (decode), or bytes to base64 text."""
    if decode:
        return base64.b64decode(value)
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode("ascii")


class Snapshot:
    """All items of all tables in one JSON file, written atomically, with the number of the last
    journaled write it holds; the copy before it is kept as <name>.prev."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.previous = path.with_name(path.name + ".prev")

    def save(self, client: Any, tables: list[Table], db: EmbeddedDynamoDB) -> None:
        """A consistent cut: writes wait while the tables are read; then the journal is emptied."""
        with db.write_gate:
            seq = db.journal.seq if db.journal else 0
            data = {"journal_seq": seq, "tables": {t.name: _binary_as_text(list(_scan(client, t.name))) for t in tables}}
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as out:
                json.dump(data, out)
                out.flush()
                os.fsync(out.fileno())
            if self.path.exists():
                self.path.replace(self.previous)
            tmp.replace(self.path)
            if db.journal:
                db.journal.clear()

    def _load(self, path: Path) -> dict[str, Any]:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if "tables" in data else {"journal_seq": 0, "tables": data}  # the older layout

    def restore(self, client: Any) -> tuple[int, int]:
        """Put back every item; (items, number of the last journaled write they hold). A damaged
        snapshot is kept beside, named in the log, and the copy before it is used."""
        if not self.path.exists():
            return 0, 0
        try:
            data = self._load(self.path)
        except (ValueError, UnicodeDecodeError) as exc:
            kept = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            self.path.replace(kept)
            log.error("the snapshot %s is damaged (%s); kept as %s", self.path, exc, kept)
            if not self.previous.exists():
                log.error("no earlier snapshot: starting from the journal alone")
                return 0, 0
            log.error("using the earlier snapshot %s", self.previous)
            data = self._load(self.previous)
        count = 0
        for table, items in data["tables"].items():
            for item in items:
                client.put_item(TableName=table, Item=_binary_as_text(item, decode=True))
                count += 1
        return count, int(data["journal_seq"])


def local_client(endpoint: str, *, embedded: bool = True) -> DynamoDBClient:
    """A client for the embedded store (any credentials do) or for DYNAMODB_ENDPOINT (the shell's)."""
    if not embedded:
        return boto3.client("dynamodb", endpoint_url=endpoint)
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="local",
                        aws_secret_access_key="local")


def streams_client(endpoint: str) -> DynamoDBStreamsClient:
    """A client of the embedded store's streams."""
    return boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="local",
                        aws_secret_access_key="local")


class Housekeeper(threading.Thread):
    """Background loop: sweep expired items and save the snapshot when data changed."""

    def __init__(self, client: Any, tables: list[Table], db: EmbeddedDynamoDB, snapshot: Snapshot,
                 now: Callable[[], float], interval: float, lag: float) -> None:
        super().__init__(name="housekeeper", daemon=True)
        self.client, self.tables, self.db, self.snapshot, self.now = client, tables, db, snapshot, now
        self.interval, self.lag = interval, lag
        self.ttl = ttl_attributes(tables)
        self.ttl_deleted = TtlDeletions()
        self.stopped = threading.Event()
        self._saved_at_writes = -1
        self._saved_at = 0.0  # time.monotonic() of the last snapshot

    def tick(self, *, final: bool = False) -> None:
        swept = sweep_expired(self.client, self.ttl, self.now(), self.lag, self.ttl_deleted)
        if swept:
            log.info("TTL sweeper deleted %d expired item(s)", swept)
        writes = self.db.writes
        # The journal keeps every acknowledged write: a snapshot (which reads every item) only
        # shortens the journal, so it is taken at most every SNAPSHOT_SECONDS, and at the stop.
        due = final or time.monotonic() - self._saved_at >= SNAPSHOT_SECONDS
        if writes != self._saved_at_writes and due:
            self.snapshot.save(self.client, self.tables, self.db)
            self._saved_at_writes = writes  # only once saved: a failed save is tried again
            self._saved_at = time.monotonic()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.tick()
            except Exception:  # keep sweeping after a transient failure; it is logged
                log.exception("housekeeping failed")

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.tick(final=True)
