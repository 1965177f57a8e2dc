"""Helpers the tests share: paths, keys, the devserver process, events, stored items,
problem answers, request counting, store faults and the clock the tests move."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import requests

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "functions", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from devserver.dynamo import local_client  # noqa: E402
from devserver.template import Template, local_environment  # noqa: E402
from shortlink.settings import Settings  # noqa: E402

LINK_CACHE_SECONDS = Settings.link_cache_seconds  # how long the redirect follows its copy of a link
# The unit tests' stack: a short domain on TLS and one served plainly (as the devserver's are).
SETTINGS = Settings(links_table="LinksTable", short_domains=("s.example.com", "127.0.0.1:3000"), default_validity="30d",
                    public_shortening=True, blocked_hosts=("blocked.example",), stats_table="StatsTable", stats_retention_days=90,
                    plain_http=frozenset({"127.0.0.1:3000"}))
DAY_SECONDS = 86_400  # what FakeClock.advance and stored times count in
LOCAL_KEY = "test-key-a"
OTHER_KEY = "test-key-b"
DOMAIN = "s.example.com"  # the default short domain of the handler tests (local_environment)

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
MakeEvent = Callable[..., dict[str, Any]]


class FakeClock:
    """The handlers' clock in tests: it stands still until a test moves it."""

    def __init__(self, start: float) -> None:
        self.at = start

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


def new_link(**fields: Any) -> Any:
    """A Link as the core holds it (the unit tests' factory); `fields` override the defaults."""
    from shortlink.links.model import Link

    defaults: dict[str, Any] = {"domain": DOMAIN, "code": "abc", "url": "https://example.com",
                                "created_at": 1_790_000_000_000, "updated_at": 1_790_000_000_000}  # 2026-09-21T14:13:20Z
    return Link(**{**defaults, **fields})


def solve_proof(challenge: str, bits: int) -> str:
    """The nonce a proof-of-work challenge asks for (links/proofs.py), as a program would find it."""
    from shortlink.links.proofs import leading_zero_bits

    return str(next(n for n in itertools.count() if leading_zero_bits(challenge, str(n)) >= bits))


def alias(prefix: str = "t") -> str:
    """A fresh custom alias, so tests never meet each other's links."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DeployedStack:
    """A deployed stack the black-box tests run against instead of the devserver:
    SHORTLINK_API_URL (the stack's ApiUrl output), SHORTLINK_API_KEY and, for the owner
    isolation tests, SHORTLINK_OTHER_API_KEY (a second key of the usage plan)."""

    remote = True

    def __init__(self, url: str, api_key: str, other_key: str | None) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.other_key = other_key
        self.domains: list[str] = requests.get(f"{self.url}/api/domains", timeout=10).json()["domains"]


class Devserver:
    """`python -m devserver` in a child process, as `make run` starts it."""

    remote = False

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        # what the devserver works out itself: not whatever another fixture put into this process
        own = {"DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_EVENTBRIDGE", "LOCAL_API_KEY", "LOCAL_API_KEYS",
               *local_environment(Template())}
        inherited = {k: v for k, v in os.environ.items() if k not in own}
        self.clock_file = data_dir / "clock"
        # TRUST_FORWARDED: the tests play visitors from many addresses by X-Forwarded-For
        self.env = {**inherited, "PORT": str(self.port), "DEVSERVER_DATA": str(data_dir),
                    "DEVSERVER_CLOCK": str(self.clock_file), "TRUST_FORWARDED": "1", **env}
        self.output: list[str] = []
        self.api_keys: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Devserver:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devserver"], cwd=ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("DynamoDB endpoint:"):
                self.dynamodb = local_client(line.split(":", 1)[1].strip())
            if line.startswith("Local API key"):
                self.api_keys.append(line.rsplit(": ", 1)[1].strip())
            if line.startswith("Ready."):
                self.api_key = self.api_keys[0]
                self.other_key = self.api_keys[1] if len(self.api_keys) > 1 else None
                self.domains = requests.get(f"{self.url}/api/domains", timeout=10).json()["domains"]
                self._drain()
                return self
        raise RuntimeError("devserver did not start:\n" + "".join(self.output))

    def _clock_offset(self) -> float:
        return float(self.clock_file.read_text(encoding="utf-8") or 0) if self.clock_file.exists() else 0.0

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock (its handlers and TTL sweeper) forward."""
        self.clock_file.write_text(str(self._clock_offset() + seconds), encoding="utf-8")

    def now(self) -> float:
        return time.time() + self._clock_offset()

    def drain(self, rounds: int = 1) -> None:
        """Wait until every record the links table's stream holds now has reached the functions
        it feeds (the devserver's own signal, instead of a pause that only hopes so); a round
        waits up to the devserver's bound (rounds > 1: for a backlog, such as 1,200 new links)."""
        for _ in range(rounds):
            answer = requests.post(f"{self.url}/_devserver/drained", timeout=60)
            if answer.status_code == 200 and answer.json() == {"drained": True}:
                return
        raise AssertionError(f"the stream did not drain: {answer.text}")

    def _drain(self) -> None:
        """Keep reading the child's output so its pipe never fills and blocks it."""

        def run() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)

        self._reader = threading.Thread(target=run, daemon=True)
        self._reader.start()

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=30)
        self._reader.join(timeout=5)
        return code


T = TypeVar("T")


def eventually(read: Callable[[], T], until: Callable[[T], bool] = bool, *, seconds: float = 20, every: float = 0.2) -> T:
    """Ask `read` until `until` holds for its answer (by default: the answer is truthy) and
    return that answer: how the tests wait for what happens after a request returned (the
    stream, the TTL sweeper, a webhook). Fails after `seconds`, naming the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if until(value):
            return value
        assert time.monotonic() < deadline, f"not within {seconds} s; the last answer: {value!r}"
        time.sleep(every)


def lambda_python() -> Path:
    """The interpreter of the functions' Lambda runtime (python3.13), from pyenv: `sam build`
    needs it on PATH, and the built packages (wheels for 3.13) run only in it."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted(root.glob("versions/3.13*/bin/python3.13"))
    assert found, f"no Python 3.13 under {root}/versions (pyenv install 3.13)"
    return found[-1]


def sam_environment() -> dict[str, str]:
    """What `sam` needs here: this virtualenv's tools and the runtime's Python on PATH, no telemetry."""
    bin_dir = Path(sys.executable).parent
    return {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1",
            "PATH": f"{bin_dir}:{lambda_python().parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


EVENTS = ROOT / "events"
# event file -> the function `sam local invoke` runs it with
INVOCATIONS = {
    "create": "CreateFunction",
    "create-invalid": "CreateFunction",
    "shorten": "ShortenFunction",
    "domains": "CreateFunction",
    "redirect": "RedirectFunction",
    "redirect-head": "RedirectFunction",
    "redirect-unknown": "RedirectFunction",
    "unlock": "RedirectFunction",
    "list": "ManageFunction",
    "patch": "ManageFunction",
    "batch": "ManageFunction",
    "delete": "ManageFunction",
    "web-page": "WebFunction",
    "authorizer": "AuthorizerFunction",
    "stream-visits": "StatsFunction",
    "stream-ttl-removal": "StatsFunction",
    "stream-poison": "StatsFunction",
    "expiry-sweep": "ExpiryFunction",
}


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def seed_link(dynamodb: Any, *, domain: str = DOMAIN, code: str | None = None, url: str = "https://example.com/target",
              expires_in: int | None = 3600, visits: int = 0, now: float | None = None,
              max_visits: int | None = None) -> str:
    """Put a link straight into the table and return its code. moto never deletes expired
    items, so this is how tests get a link that expired but is still stored. `now` (epoch seconds)
    is the clock of whoever follows it (the handlers' clock by default)."""
    from shortlink import clock

    code = code or alias("r")
    item = {
        "link_id": {"S": f"{domain}/{code}"}, "domain": {"S": domain}, "code": {"S": code}, "url": {"S": url},
        "created_at": {"S": "2026-01-01T00:00:00.000Z"}, "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
        "visits": {"N": str(visits)},
    }
    if expires_in is not None:  # stored in epoch seconds, as DynamoDB's TTL reads it
        item["expires_at"] = {"N": str(int(now if now is not None else clock.to_seconds(clock.now())) + expires_in)}
    if max_visits is not None:
        item["max_visits"] = {"N": str(max_visits)}
    dynamodb.put_item(TableName="LinksTable", Item=item)
    return code


def make_link(invoke: Invoke, make_event: MakeEvent, **fields: Any) -> dict[str, Any]:
    """POST /api/links with the test key (a fresh alias unless `alias` is given); the link body."""
    body = {"url": "https://example.com/dest?a=1", "alias": alias("l"), **fields}
    answer = invoke(make_event("POST", "/api/links", body))
    assert answer["statusCode"] == 201, answer["body"]
    created: dict[str, Any] = json.loads(answer["body"])
    return created


def stored_item(dynamodb: Any, code: str, domain: str = DOMAIN) -> dict[str, Any] | None:
    """The link's item as DynamoDB holds it (typed attribute values), or None."""
    answer = dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"{domain}/{code}"}}, ConsistentRead=True)
    item: dict[str, Any] | None = answer.get("Item")
    return item


# The handlers of the functions the links table's stream feeds (conftest sets them, by the
# template's subscriptions): StatsFunction adds visits up, SearchFunction keeps the search index.
STREAM_HANDLERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {}
_DELIVERED: dict[tuple[str, str, str], str] = {}  # (stream, shard, function) -> last sequence number handed over


def drain_stream(dynamodb: Any, only: str | None = None) -> int:
    """Hand every record the links table's stream holds that a subscribed function (or `only`
    that one) has not had yet to it, in batches of 100, as Lambda's event source would (filters
    included). Returns how many records were new."""

    from devserver.dynamo import streams_client
    from devserver.gateway import LambdaContext
    from devserver.streams import lambda_event, stored_records
    from devserver.template import Template

    assert STREAM_HANDLERS, "conftest sets the stream's handlers"
    streams = streams_client(dynamodb.meta.endpoint_url)
    arn = dynamodb.describe_table(TableName="LinksTable")["Table"]["LatestStreamArn"]
    records = stored_records(streams, arn)
    new = 0
    for subscription in Template().stream_subscriptions():
        if only is not None and subscription.function != only:
            continue
        handler = STREAM_HANDLERS[subscription.function]
        fresh = [record for shard, record in records
                 if int(record["dynamodb"]["SequenceNumber"]) > int(_DELIVERED.get((arn, shard, subscription.function), "0"))]
        for shard, record in records:
            _DELIVERED[(arn, shard, subscription.function)] = record["dynamodb"]["SequenceNumber"]
        new = max(new, len(fresh))
        wanted = [record for record in fresh if subscription.wants(record)]
        for start in range(0, len(wanted), 100):
            event = lambda_event(wanted[start:start + 100], arn, set())
            answer = handler(event, LambdaContext(subscription.function, "drain"))
            assert answer.get("batchItemFailures") == [], answer
    return new


def visits_of(dynamodb: Any, code: str, domain: str = DOMAIN) -> int:
    """The link's visits as its body shows them, once the stream has drained: those counted on
    its item plus those StatsFunction added up from its counters (the life row)."""
    drain_stream(dynamodb)
    item = stored_item(dynamodb, code, domain)
    assert item is not None, f"no link {domain}/{code}"
    life = dynamodb.get_item(TableName="StatsTable", Key={"link_key": {"S": f"{domain}/{code}#{item['created_at']['S']}"},
                                                          "hour": {"S": "life"}}, ConsistentRead=True).get("Item", {})
    tally = int(life.get("total", {"N": "0"})["N"]) - int(item.get("tally_base", {"N": "0"})["N"])
    return int(item["visits"]["N"]) + max(0, tally)


def link_count(dynamodb: Any) -> int:
    """Links stored (not their visit counters, which share the table)."""
    return int(dynamodb.scan(TableName="LinksTable", Select="COUNT", FilterExpression="attribute_exists(code)")["Count"])


def problem_of(answer: dict[str, Any] | requests.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The problem+json body of a proxy response or an HTTP answer, checked: status, type,
    title, detail, and `field` among its errors when given."""
    if isinstance(answer, requests.Response):
        got, content_type, body = answer.status_code, answer.headers.get("Content-Type"), answer.text
    else:
        got, content_type, body = answer["statusCode"], headers_of(answer).get("Content-Type"), answer["body"]
    assert got == status, body
    assert content_type == "application/problem+json", content_type
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"] and problem["type"].startswith("https://")
    if field is not None:
        assert field in {e["field"] for e in problem["errors"]}, problem
    return problem


def error_fields(answer: dict[str, Any]) -> set[str]:
    """The fields a 422 answer names."""
    return {e["field"] for e in problem_of(answer, 422)["errors"]}


@contextmanager
def _sent(client: Any, entry: Callable[[Any, dict[str, Any]], Any]) -> Iterator[list[Any]]:
    """Record entry(operation model, parameters) of every request this boto3 client sends meanwhile."""
    seen: list[Any] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        seen.append(entry(model, params))

    client.meta.events.register("before-parameter-build.dynamodb.*", record)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.*", record)


def dynamodb_requests(client: Any) -> AbstractContextManager[list[str]]:
    """Record the operation name of every request this boto3 client sends meanwhile."""
    return _sent(client, lambda model, _params: model.name)


def dynamodb_keys(client: Any, attribute: str = "link_id") -> AbstractContextManager[list[tuple[str, str]]]:
    """Record (operation, key attribute: the links' link_id, the statistics' hour) of every
    keyed request this boto3 client sends meanwhile."""
    return _sent(client, lambda model, params: (model.name, str(params.get("Key", {}).get(attribute, {}).get("S", ""))))


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """A proxy response's headers, whichever of the two maps the handler used (and the HTTP
    API's `cookies`, which it sends as Set-Cookie)."""
    merged = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    merged.update(response.get("headers") or {})
    if response.get("cookies"):
        merged["Set-Cookie"] = response["cookies"][-1]
    return merged


@contextmanager
def store_faults(client: Any, operation: str, table: str | None = None, *, code: str = "InternalServerError",
                 timeout: bool = False, times: int = 1_000_000) -> Iterator[list[str]]:
    """Make the next `times` calls of `operation` (on `table`) fail as DynamoDB or the network
    would: an error answer with `code`, or a read timeout. Yields the calls it failed."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders
    from botocore.exceptions import ReadTimeoutError

    failed: list[str] = []

    def note_table(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_table"] = params.get("TableName", "")

    def fail(model: Any, context: dict[str, Any], **_: Any) -> Any:
        if model.name != operation or len(failed) >= times:
            return None
        if table is not None and context.get("fault_table") != table:
            return None
        failed.append(context.get("fault_table", ""))
        if timeout:
            raise ReadTimeoutError(endpoint_url="https://dynamodb.local")
        status = 400 if code in ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded") else 500
        parsed = {"Error": {"Code": code, "Message": "injected fault"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://dynamodb.local", status, HTTPHeaders(), None), parsed

    client.meta.events.register("before-parameter-build.dynamodb.*", note_table)
    client.meta.events.register("before-call.dynamodb.*", fail)
    try:
        yield failed
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", fail)
        client.meta.events.unregister("before-parameter-build.dynamodb.*", note_table)


@contextmanager
def lost_answers(client: Any, operation: str, table: str, *, times: int = 1) -> Iterator[list[str]]:
    """The next `times` `operation` requests on `table` reach DynamoDB and are applied, but their
    answers are lost (a read timeout), as when the network drops a response: botocore then
    retries the request. Yields one entry per lost answer."""
    with _unanswered(client, operation, table, times, late=False) as lost:
        yield lost


@contextmanager
def late_writes(client: Any, operation: str, table: str, *, times: int = 1) -> Iterator[list[str]]:
    """The next `times` `operation` requests on `table` time out on the client and reach DynamoDB
    only later, when the block ends (after the handler answered): a timed-out request is not a
    cancelled one. Yields one entry per late request."""
    with _unanswered(client, operation, table, times, late=True) as held:
        yield held


@contextmanager
def _unanswered(client: Any, operation: str, table: str, times: int, *, late: bool) -> Iterator[list[str]]:
    from botocore.exceptions import ReadTimeoutError
    from botocore.httpsession import URLLib3Session

    matched: list[str] = []
    waiting: list[Any] = []
    session = URLLib3Session()

    def unanswered(request: Any, **_: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if len(matched) >= times or not target.endswith("." + operation) or f'"TableName": "{table}"' not in request.body.decode():
            return None
        if late:
            waiting.append(request)
        else:
            session.send(request)
        matched.append(target)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.dynamodb", unanswered)
    try:
        yield matched
    finally:
        client.meta.events.unregister("before-send.dynamodb", unanswered)
        for request in waiting:
            session.send(request)


class Webhook:
    """A local receiver of the devserver's event posts."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, code: str) -> Counter[str]:
        return Counter(e["detail-type"] for e in list(self.received) if e["detail"]["link"]["code"] == code)


def keyed(key: str) -> requests.Session:
    """A session that sends `key` as its x-api-key."""
    session = requests.Session()
    session.headers["x-api-key"] = key
    return session
