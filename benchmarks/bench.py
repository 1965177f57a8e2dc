"""`make bench`: the redirect's cold start and warm overhead measured side by side with a
minimal baseline, DynamoDB requests per operation, devserver throughput, and the cost per
million redirects those counts imply. Prints figures; passes or fails nothing."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

import boto3  # noqa: E402
from crawlers import measure as measure_crawlers  # noqa: E402
from crawlers import print_crawlers  # noqa: E402
from search import ROUNDS as SEARCH_ROUNDS  # noqa: E402
from search import print_search, search_figures  # noqa: E402

from devserver.dynamo import create_tables, local_client  # noqa: E402
from devserver.gateway import LambdaContext, build_event, load_handler  # noqa: E402
from devserver.template import Template, local_environment  # noqa: E402

COLD_RUNS = 15
WARM_REQUESTS = 400
LOAD_THREADS, LOAD_REQUESTS = 8, 250
ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Published on-demand prices, us-east-1, as of 2026-11 (USD).
PRICE_API_GATEWAY_REST_PER_MILLION = 3.50
PRICE_API_GATEWAY_HTTP_PER_MILLION = 1.00  # the first 300 million a month
PRICE_DATA_OUT_PER_GB = 0.09
ANSWER_BYTES = 300  # a redirect's status line and headers, about
STATS_MEMORY_GB = 0.25
PRICE_LAMBDA_REQUESTS_PER_MILLION = 0.20
PRICE_LAMBDA_ARM_GB_SECOND = 0.0000133334
PRICE_DYNAMODB_WRITE_PER_MILLION = 0.625
PRICE_DYNAMODB_READ_PER_MILLION = 0.125
PRICE_LOGS_INGESTED_PER_GB = 0.50
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts for every event beside its message
PRICE_XRAY_TRACES_PER_MILLION = 5.00
XRAY_SAMPLED = 0.05  # the default rule: 1 request a second and 5 % of the rest
REDIRECT_MEMORY_GB = 0.5
# PublicApi's access log line (template.yaml, AccessLogs=true in prod), with typical values.
ACCESS_LOG_LINE = '{"id":"Xy12Ab3cdEFgAbc=","t":"1796515200123","r":"GET /{code}","s":"302","ms":"7"}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- cold start -------------------------------------------------------------------------

COLD_REDIRECT = """
import sys, time, importlib.util
sys.path.insert(0, {functions!r})
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {app!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
imported = time.perf_counter() - t
from shortlink.dynamodb import client
client()
print(imported, time.perf_counter() - t)
"""
COLD_BASELINE = """
import time
t = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - t)
"""


def cold_start(app: str = "functions/redirect/app.py") -> dict[str, float]:
    """A handler module's import (and its DynamoDB client) in fresh processes, beside boto3's own."""
    env = {**os.environ, **ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    redirect_code = COLD_REDIRECT.format(functions=str(ROOT / "functions"), app=str(ROOT / app))
    imports, with_client, baseline = [], [], []
    for _ in range(COLD_RUNS):  # alternate, so both see the same machine state
        out = subprocess.run([sys.executable, "-c", redirect_code], env=env, capture_output=True, text=True, check=True).stdout.split()
        imports.append(float(out[0]))
        with_client.append(float(out[1]))
        baseline.append(float(subprocess.run([sys.executable, "-c", COLD_BASELINE], env=env, capture_output=True,
                                             text=True, check=True).stdout))
    return {"redirect_import_ms": statistics.median(imports) * 1000,
            "redirect_import_and_client_ms": statistics.median(with_client) * 1000,
            "baseline_boto3_and_client_ms": statistics.median(baseline) * 1000}


# --- warm overhead and request counts ---------------------------------------------------

class _Counting(io.TextIOBase):
    """A stand-in for stdout that counts the bytes written (a function's log lines, as Lambda
    would ship them to CloudWatch Logs) and keeps none."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        self.lines += text.count("\n")
        return len(text)

class MotoProcess:
    """moto's server in its own process, so timing the handler is not timing moto."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def counting(client: Any) -> list[str]:
    seen: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.append(model.name))
    return seen


def _index_from_stream(endpoint: str, search: Any) -> None:
    """Hand the links table's stream, from its start, to SearchFunction (the listing reads its index)."""
    from devserver.dynamo import streams_client
    from devserver.streams import lambda_event, stored_records

    arn = local_client(endpoint).describe_table(TableName="LinksTable")["Table"]["LatestStreamArn"]
    records = [record for _, record in stored_records(streams_client(endpoint), arn)]
    for start in range(0, len(records), 100):
        answer = search(lambda_event(records[start:start + 100], arn, set()), LambdaContext("SearchFunction", "bench"))
        assert answer == {"batchItemFailures": []}, answer


def warm(template: Template, endpoint: str) -> dict[str, Any]:
    os.environ["LOG_LEVEL"] = "WARNING"  # the functions' info lines are not figures
    warnings.filterwarnings("ignore", "No application metrics to publish")
    os.environ.update(local_environment(template))
    os.environ.update({**ENV, "AWS_ENDPOINT_URL_DYNAMODB": endpoint})
    create_tables(local_client(endpoint), template.tables())
    functions = template.functions()
    redirect = load_handler(functions["RedirectFunction"])
    create = load_handler(functions["CreateFunction"])
    manage = load_handler(functions["ManageFunction"])
    routes = {(r.method, r.public_path): r for r in template.routes()}
    binary = template.binary_media_types()

    def event(method: str, route: str, path: str, body: Any = None, key: str | None = None, **headers: str) -> dict[str, Any]:
        pairs = [("Host", "bench.execute-api.us-east-1.amazonaws.com"), ("User-Agent", "Mozilla/5.0 (iPhone)"),
                 *(("Content-Type", "application/json"),) * (body is not None), *headers.items()]
        return build_event(routes[(method, route)], method, path, pairs, json.dumps(body).encode() if body is not None else b"",
                           "127.0.0.1", key, binary)

    from shortlink.dynamodb import client as dynamodb_client

    client = dynamodb_client()
    sent = counting(client)
    code = "bench-" + uuid.uuid4().hex[:6]
    ctx = LambdaContext("bench", "bench")
    logged = _Counting()  # what the handlers print: their log lines, counted, not shown
    quiet = contextlib.redirect_stdout(logged)
    quiet.__enter__()
    sent.clear()
    made = create(event("POST", "/api/links", "/api/links", {"url": "https://example.com/b", "alias": code, "validity": "permanent"}, "k"), ctx)
    assert made["statusCode"] == 201
    per_create = list(sent)
    sent.clear()
    create(event("POST", "/api/links", "/api/links", {"url": "https://example.com/i"}, "k", **{"Idempotency-Key": uuid.uuid4().hex}), ctx)
    per_idempotent_create = list(sent)
    for _ in range(60):
        create(event("POST", "/api/links", "/api/links", {"url": "https://example.com/l"}, "k"), ctx)
    _index_from_stream(endpoint, load_handler(functions["SearchFunction"]))  # as SearchFunction does on AWS
    sent.clear()
    page = manage(event("GET", "/api/links", "/api/links?limit=50", key="k"), ctx)
    assert len(json.loads(page["body"])["links"]) == 50
    per_list_page = list(sent)

    follow = event("GET", "/{code}", f"/{code}")
    sent.clear()
    assert redirect(follow, ctx)["statusCode"] == 302
    per_first_redirect = list(sent)  # this instance reads the link, then keeps it LINK_CACHE_SECONDS
    sent.clear()
    assert redirect(follow, ctx)["statusCode"] == 302
    per_redirect = list(sent)

    # StatsFunction: a batch of 300 visits of 3 links over 2 UTC hours is 6 (link, hour) groups
    stats = load_handler(functions["StatsFunction"])
    records = []
    for n in range(1, 301):
        link_id = f"s.example.com/stats-{n % 3}"
        image = {"link_id": {"S": link_id}, "domain": {"S": "s.example.com"}, "code": {"S": f"stats-{n % 3}"},
                 "url": {"S": "https://example.com/s"}, "updated_at": {"S": "2026-11-25T00:00:00.000Z"},
                 "created_at": {"S": "2026-11-25T00:00:00.000Z"}, "visits": {"N": str(n)},
                 "last_visit": {"M": {"id": {"S": f"r{n}"}, "at": {"N": str(1795582800 + (n % 2) * 3600)},
                                      "platform": {"S": "ios"}, "bot": {"BOOL": False}, "ua": {"S": "Mozilla/5.0 (iPhone)"},
                                      "visitor": {"S": f"{n % 40:016x}"}}}}
        records.append({"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": {"link_id": image["link_id"]}, "NewImage": image, "OldImage": {**image, "last_visit": {"M": {}}},
            "SequenceNumber": str(n), "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    sent.clear()
    assert stats({"Records": records}, ctx) == {"batchItemFailures": []}
    per_first_stats_batch = list(sent)  # the first of the day also makes the day's salt
    for record in records:
        record["dynamodb"]["NewImage"]["visits"]["N"] = str(int(record["dynamodb"]["NewImage"]["visits"]["N"]) + 300)
    sent.clear()
    started = time.perf_counter()
    assert stats({"Records": records}, ctx) == {"batchItemFailures": []}
    stats_ms_per_visit = (time.perf_counter() - started) * 1000 / len(records)
    per_stats_batch = list(sent)

    baseline_client = boto3.client("dynamodb", endpoint_url=endpoint)
    key = {"link_id": {"S": f"s.example.com/{code}"}}

    def minimal_handler(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
        item = baseline_client.get_item(TableName="LinksTable", Key=key)["Item"]
        return {"statusCode": 302, "headers": {"Location": item["url"]["S"]}}

    # The same UpdateItem a warm redirect sends (the visit on one of the link's counters), from a
    # bare handler: what the embedded DynamoDB itself spends on the request, apart from the
    # handler's own work.
    same_request: dict[str, Any] = {}
    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", lambda params, **_: same_request.update(params))
    redirect(follow, ctx)

    def same_request_handler(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
        baseline_client.update_item(**same_request)
        return {"statusCode": 302, "headers": {"Location": "https://example.com/b"}}

    # The key authorizer's decision for a managed key (one GetItem of KeysTable), as API Gateway
    # asks it on a cache miss.
    from shortlink.keys.manage import make_key
    from shortlink.keys.store import KeyStore
    from shortlink.keys.usage import UsagePlan
    from shortlink.links.access import Caller
    from shortlink.settings import load_settings

    _, secret = make_key(KeyStore("KeysTable"), UsagePlan(""), load_settings(), {"name": "bench", "team": "growth"},
                         Caller("bench-admin", role="admin"), int(time.time() * 1000))
    authorizer = load_handler(functions["AuthorizerFunction"])
    authorizer_event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:bench/prod/GET/links",
                        "headers": {"x-api-key": secret}}

    def authorize(_event: dict[str, Any], context: Any) -> dict[str, Any]:
        decision: dict[str, Any] = authorizer(authorizer_event, context)
        return decision

    handlers = {"redirect": redirect, "baseline": minimal_handler, "same_request": same_request_handler, "authorizer": authorize}
    timings: dict[str, list[float]] = {name: [] for name in handlers}
    # The handlers' clock stands still while they are timed: the redirect keeps its copy of the
    # link, so every timed request is the one UpdateItem the bare handler sends too. (Its read
    # every LINK_CACHE_SECONDS is a second request, counted above as "link read first"; at this
    # loop's pace it would be 1 in 80 requests, at a busy instance's 1 in several hundred.)
    from shortlink import clock

    started = time.time()
    clock.use(lambda: started)
    for _ in range(20):  # warm all
        for run in handlers.values():
            run(follow, ctx)
    redirect_log_bytes = 0
    for _ in range(WARM_REQUESTS):  # interleaved, so drift hits all equally
        for name, run in handlers.items():
            before = logged.bytes
            t = time.perf_counter()
            run(follow, ctx)
            timings[name].append(time.perf_counter() - t)
            if name == "redirect":
                redirect_log_bytes += logged.bytes - before
    clock.use(time.time)
    quiet.__exit__(None, None, None)
    return {
        "timings": timings, "log_bytes_per_redirect": redirect_log_bytes / WARM_REQUESTS,
        "per_redirect": per_redirect, "per_first_redirect": per_first_redirect, "stats_ms_per_visit": stats_ms_per_visit,
        "per_create": per_create,
        "per_idempotent_create": per_idempotent_create,
        "per_list_page": per_list_page,
        "per_stats_batch": per_stats_batch, "per_first_stats_batch": per_first_stats_batch,
    }


# --- devserver throughput ---------------------------------------------------------------

@contextlib.contextmanager
def devserver(tmp: Path, **env: str) -> Any:
    """`python -m devserver` on a free port; yields (base URL, DynamoDB endpoint); stopped with Ctrl-C."""
    port = _free_port()
    # throttles off: the benchmarks measure the code, not the limits template.yaml sets
    env = {**os.environ, "PORT": str(port), "DEVSERVER_DATA": str(tmp), "LOCAL_API_KEY": "bench-key", "LOG_LEVEL": "WARNING",
           "DEVSERVER_THROTTLES": "off", **env}
    for name in ("DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB", "LINKS_TABLE", "SHORT_DOMAINS"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    endpoint = ""
    for line in proc.stdout:
        if line.startswith("DynamoDB endpoint:"):
            endpoint = line.split(":", 1)[1].strip()
        if line.startswith("Ready."):
            break
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}", endpoint
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)  # a devserver holding 100,000 items takes a while to write its snapshot


def throughput(tmp: Path) -> dict[str, float]:
    import requests

    with devserver(tmp) as (base, _):
        code = requests.post(f"{base}/api/links", json={"url": "https://example.com/t"}, headers={"x-api-key": "bench-key"}).json()["code"]
        statuses: list[int] = []
        lock = threading.Lock()

        def load() -> None:
            with requests.Session() as session:
                for _ in range(LOAD_REQUESTS):
                    status = session.get(f"{base}/{code}", allow_redirects=False).status_code
                    with lock:
                        statuses.append(status)

        threads = [threading.Thread(target=load) for _ in range(LOAD_THREADS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    return {"requests": len(statuses), "ok": sum(s == 302 for s in statuses), "seconds": elapsed,
            "per_second": len(statuses) / elapsed}


# --- soak: creators and redirectors at once ----------------------------------------------

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
SOAK_CREATORS, SOAK_REDIRECTORS = 5, 20


def soak(tmp: Path) -> dict[str, int]:
    """Creators make links (every URL and alias unique: a second stored copy is a duplicate, a 409 is
    false) while redirectors follow them, for SOAK_SECONDS; then the store is counted."""
    import random

    import requests

    tally: dict[str, int] = {"creates": 0, "created": 0, "false 409s": 0, "redirects": 0, "5xx": 0}
    answered_503: set[str] = set()
    codes: list[str] = []
    lock = threading.Lock()
    with devserver(tmp) as (base, endpoint):
        deadline = time.monotonic() + SOAK_SECONDS

        def create(worker: int) -> None:
            with requests.Session() as session:
                session.headers["x-api-key"] = "bench-key"
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    url = f"https://example.com/soak/{worker}/{n}"
                    body = {"url": url, **({"alias": f"soak-{worker}-{n}-{uuid.uuid4().hex[:6]}"} if n % 2 else {})}
                    answer = session.post(f"{base}/api/links", json=body)
                    with lock:
                        tally["creates"] += 1
                        tally["created"] += answer.status_code == 201
                        tally["false 409s"] += answer.status_code == 409
                        tally["5xx"] += answer.status_code >= 500
                        if answer.status_code == 201:
                            codes.append(answer.json()["code"])
                        elif answer.status_code == 503:
                            answered_503.add(url)

        def follow() -> None:
            with requests.Session() as session:
                while time.monotonic() < deadline:
                    with lock:
                        code = random.choice(codes) if codes else None
                    if code is None:
                        time.sleep(0.01)
                        continue
                    status = session.get(f"{base}/{code}", allow_redirects=False).status_code
                    with lock:
                        tally["redirects"] += 1
                        tally["5xx"] += status >= 500

        threads = [threading.Thread(target=create, args=(i,)) for i in range(SOAK_CREATORS)]
        threads += [threading.Thread(target=follow) for _ in range(SOAK_REDIRECTORS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored: dict[str, int] = {}
        for page in local_client(endpoint).get_paginator("scan").paginate(TableName="LinksTable", ProjectionExpression="#u",
                                                                            ExpressionAttributeNames={"#u": "url"}):
            for item in page["Items"]:
                if "url" in item:  # links, not their visit counters
                    stored[item["url"]["S"]] = stored.get(item["url"]["S"], 0) + 1
    tally["duplicates"] = sum(n - 1 for n in stored.values() if n > 1)
    tally["stored after a 503"] = sum(url in stored for url in answered_503)
    tally["links stored"] = len(stored)
    return tally


def console_first_view(tmp: Path) -> dict[str, int]:
    """Bytes the console's first view (the sign-in form) transfers: the page and every asset it
    names, fetched as a browser does (gzip offered: API Gateway compresses when configured to;
    the devserver does not, so these are the uncompressed sizes, an upper bound)."""
    import re

    import requests

    sizes: dict[str, int] = {}
    with devserver(tmp) as (base, _endpoint):
        page = requests.get(f"{base}/console", headers={"Accept-Language": "zh-CN"})
        sizes["console (HTML)"] = len(page.content)
        for asset in re.findall(r'(?:src|href)="(static/[^"?]+)', page.text):
            sizes[asset] = len(requests.get(f"{base}/{asset}").content)
    return sizes


def visitor_errors(n: int, trials: int) -> list[float]:
    """Relative errors of the day's unique visitors, counted as StatsFunction keeps them: each
    hour's visitors arrive in 60 one-minute windows and go into the hour's visitor items."""
    sys.path.insert(0, str(ROOT / "functions"))
    from shortlink.stats.visitors import CHUNKS, Chunk, Newcomers, Visitors, assembled, salted, visitor_id

    errors = []
    for _ in range(trials):
        salt = os.urandom(32)
        arrivals: list[list[str]] = [[] for _ in range(24)]
        for i in range(n):
            address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            arrivals[i % 24].append(salted(salt, visitor_id("pepper", address, "Mozilla/5.0")))
        day = Visitors()
        for hour in arrivals:
            items = [Chunk(number) for number in range(CHUNKS)]
            for minute in range(60):
                window = Newcomers()
                window.add(hour[minute::60])
                for part in window.parts():
                    items[part.number].absorb(part)
            day.merge(assembled(items))
        errors.append(day.count() / n - 1)
    return errors


def main() -> None:
    import tempfile

    template = Template()
    print(f"== redirect cold start (fresh process, median of {COLD_RUNS})")
    cold = cold_start()
    ratio_import = cold["redirect_import_ms"] / cold["baseline_boto3_and_client_ms"]
    ratio_client = cold["redirect_import_and_client_ms"] / cold["baseline_boto3_and_client_ms"]
    print(f"  baseline: import boto3 + create DynamoDB client   {cold['baseline_boto3_and_client_ms']:7.1f} ms")
    print(f"  redirect: import handler module                   {cold['redirect_import_ms']:7.1f} ms   ratio {ratio_import:.3f}")
    print(f"  redirect: import handler + create its client      {cold['redirect_import_and_client_ms']:7.1f} ms   ratio {ratio_client:.3f}  (target <= 1.15)")
    authorizer_cold = cold_start("functions/authorizer/app.py")
    print(f"  key authorizer: import handler + create its client {authorizer_cold['redirect_import_and_client_ms']:6.1f} ms   ratio "
          f"{authorizer_cold['redirect_import_and_client_ms'] / authorizer_cold['baseline_boto3_and_client_ms']:.3f}"
          " (a keyed request's first in an instance)")
    print("== bots told from people (the redirect's check, public corpora of tests/data)")
    print_crawlers(measure_crawlers())

    moto = MotoProcess()
    try:
        result = warm(template, moto.endpoint)
    finally:
        moto.stop()
    redirect_t, baseline_t = result["timings"]["redirect"], result["timings"]["baseline"]
    p50r, p99r = _percentile(redirect_t, 50) * 1000, _percentile(redirect_t, 99) * 1000
    p50b, p99b = _percentile(baseline_t, 50) * 1000, _percentile(baseline_t, 99) * 1000
    same_t = result["timings"]["same_request"]
    p50s, p99s = _percentile(same_t, 50) * 1000, _percentile(same_t, 99) * 1000
    print(f"== redirect warm, {WARM_REQUESTS} requests each, interleaved, against moto_server in its own process")
    print(f"  minimal handler (one GetItem)   p50 {p50b:6.2f} ms   p99 {p99b:6.2f} ms")
    print(f"  redirect handler                p50 {p50r:6.2f} ms   p99 {p99r:6.2f} ms")
    print(f"  ratio p50 {p50r / p50b:.3f} (target <= 1.3)   ratio p99 {p99r / p99b:.3f}")
    print(f"  bare handler, the redirect's own UpdateItem p50 {p50s:6.2f} ms   p99 {p99s:6.2f} ms")
    print(f"  redirect vs the same request from a bare handler: ratio p50 {p50r / p50s:.3f}   p99 {p99r / p99s:.3f}")
    authorizer_t = result["timings"]["authorizer"]
    p50a, p99a = _percentile(authorizer_t, 50) * 1000, _percentile(authorizer_t, 99) * 1000
    print(f"  key authorizer, a managed key   p50 {p50a:6.2f} ms   p99 {p99a:6.2f} ms   ratio p50 to one GetItem {p50a / p50b:.3f}"
          " (a cache miss; API Gateway keeps each decision 60 s)")
    print("== DynamoDB requests (counted through botocore events)")
    for label, key in (("per redirect, link kept by the instance", "per_redirect"),
                       ("per redirect, link read first", "per_first_redirect"), ("per create", "per_create"),
                       ("per create with Idempotency-Key", "per_idempotent_create"), ("per list page (50 links)", "per_list_page")):
        print(f"  {label:34s} {len(result[key])}  {result[key]}")
    groups = len(result["per_stats_batch"]) / 6
    print(f"  {'StatsFunction, 300 visits in 6 (link, hour) groups':34s} {len(result['per_stats_batch'])}  = {groups:.0f} per group"
          f"  (the day's first batch: {len(result['per_first_stats_batch'])}: the day's salt and the hours' visitor items too;"
          f" later ones write an item only when its visitors change it)")
    print("== unique visitors: N visitors spread over 24 hours in one-minute windows (an hour's 8 items exact up to 25 each,"
          " then a sketch), the day's union")
    for n, trials in ((10_000, 5), (1_000_000, 3)):
        errors = visitor_errors(n, trials)
        print(f"  {n:>9,} visitors: errors {', '.join(f'{e:+.2%}' for e in errors)}   mean |error| "
              f"{sum(abs(e) for e in errors) / len(errors):.2%}  (standard error 1.6 %)")

    with tempfile.TemporaryDirectory() as tmp:
        first_view = console_first_view(Path(tmp))
    print("== console first view (GET /console and the assets it names, uncompressed)")
    for name, size in first_view.items():
        print(f"  {name:34s} {size / 1024:7.1f} KB")
    print(f"  {'total':34s} {sum(first_view.values()) / 1024:7.1f} KB  (target <= 200 KB)")

    with tempfile.TemporaryDirectory() as tmp:
        found = search_figures(devserver, Path(tmp))
    print(f"== search among one key's links on the devserver (GET /api/links, {SEARCH_ROUNDS} times each)")
    print_search(found)

    with tempfile.TemporaryDirectory() as tmp:
        load = throughput(Path(tmp))
    print(f"== devserver throughput, redirects, {LOAD_THREADS} clients x {LOAD_REQUESTS} on 127.0.0.1, {os.cpu_count()} cores")
    print(f"  {load['requests']} requests ({load['ok']} x 302) in {load['seconds']:.2f} s = {load['per_second']:.0f} req/s")

    with tempfile.TemporaryDirectory() as tmp:
        soaked = soak(Path(tmp))
    print(f"== soak, {SOAK_SECONDS:.0f} s: {SOAK_CREATORS} creators + {SOAK_REDIRECTORS} redirectors on the devserver")
    print(f"  creates {soaked['creates']} ({soaked['created']} x 201), links stored {soaked['links stored']}, "
          f"redirects {soaked['redirects']}")
    print(f"  duplicates {soaked['duplicates']}, false 409s {soaked['false 409s']}, 5xx {soaked['5xx']}, "
          f"stored after a 503 {soaked['stored after a 503']}")

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from hot_links import BATCH_SIZE, SCENARIOS, simulated
    from hot_links import report as hot_link_report

    print("== viral links: the redirect's code against per-key limits (1,000 WCU/s, 3,000 RCU/s), virtual clock,"
          " then StatsFunction's aggregation of the stream")
    started = time.perf_counter()
    simulation = simulated()
    for line in hot_link_report(simulation):
        print(line)
    print(f"  (simulated in {time.perf_counter() - started:.0f} s)")

    # Cost of this design, from what was measured: the DynamoDB units per redirect the simulation
    # counted (the redirect's, then StatsFunction's over the drained stream), the warm handler's
    # p50 and StatsFunction's time per visit measured above. Two workloads: one hot link (each
    # instance keeps the link; a stream batch holds many of its visits) and 1,000 links at 10/s
    # (each instance reads each link again once a minute (LinkCacheSeconds); a batch holds about one visit per
    # link, so each visit costs its hour row and its life row a read and a write).
    # Lambda bills each invocation's duration rounded up to the next millisecond.
    billed_ms = sum(math.ceil(t * 1000) for t in redirect_t) / len(redirect_t)
    compute = REDIRECT_MEMORY_GB * billed_ms / 1000 * 1_000_000 * PRICE_LAMBDA_ARM_GB_SECOND
    # CloudWatch Logs: what the redirect itself printed per plain redirect (measured above; its
    # platform START/END/REPORT lines are filtered out: JSON logs, system level WARN) and, with
    # AccessLogs on (prod), PublicApi's access log line. X-Ray: none with RedirectTracing PassThrough.
    function_log_bytes = result["log_bytes_per_redirect"]
    access_log_bytes = len(ACCESS_LOG_LINE) + LOG_EVENT_OVERHEAD
    logs = (function_log_bytes + access_log_bytes) * 1e6 / 1e9 * PRICE_LOGS_INGESTED_PER_GB
    xray_active = XRAY_SAMPLED * PRICE_XRAY_TRACES_PER_MILLION
    stats_compute = STATS_MEMORY_GB * result["stats_ms_per_visit"] / 1000 * 1_000_000 * PRICE_LAMBDA_ARM_GB_SECOND
    columns = {s.name: simulation[(16, i)][1] for i, s in enumerate(SCENARIOS) if s.max_visits is None}

    def per_million(held: dict[str, int]) -> dict[str, float]:
        return {
            "API Gateway HTTP API requests": PRICE_API_GATEWAY_HTTP_PER_MILLION,
            "Lambda requests": PRICE_LAMBDA_REQUESTS_PER_MILLION,
            f"Lambda compute (512 MB arm64, {billed_ms:.1f} ms billed)": compute,
            f"CloudWatch Logs ({function_log_bytes:.0f} B logged + {access_log_bytes} B access log)": logs,
            "X-Ray (RedirectTracing=PassThrough: no trace)": 0.0,
            "DynamoDB writes (a counter)": held["redirect write units"] * PRICE_DYNAMODB_WRITE_PER_MILLION / 1e6,
            "DynamoDB reads (the link, once a minute)": held["redirect read units"] * PRICE_DYNAMODB_READ_PER_MILLION / 1e6,
            f"data out (about {ANSWER_BYTES} B an answer)": ANSWER_BYTES * 1e6 / 1e9 * PRICE_DATA_OUT_PER_GB,
            "StatsFunction DynamoDB (rows)": (held["statistics write units"] * PRICE_DYNAMODB_WRITE_PER_MILLION
                                              + held["statistics read units"] * PRICE_DYNAMODB_READ_PER_MILLION) / 1e6,
            "StatsFunction invocations and compute": PRICE_LAMBDA_REQUESTS_PER_MILLION / BATCH_SIZE + stats_compute,
        }

    costs = {name: per_million(held) for name, held in columns.items()}
    names = list(costs)
    print("== cost per million redirects (us-east-1 list prices, 2026-11), this design")
    print(f"  {'':46s} " + "  ".join(f"{n[:24]:>24s}" for n in names))
    for item in costs[names[0]]:
        print(f"  {item:46s} " + "  ".join(f"{'$' + format(costs[n][item], '.3f'):>24s}" for n in names))
    redirect_part = {n: sum(v for k, v in costs[n].items() if not k.startswith("StatsFunction")) for n in names}
    print(f"  {'the redirect (target <= $2.00)':46s} " + "  ".join(f"{'$' + format(redirect_part[n], '.3f'):>24s}" for n in names))
    print(f"  {'with its statistics':46s} " + "  ".join(f"{'$' + format(sum(costs[n].values()), '.3f'):>24s}" for n in names))
    units = "; ".join(f"{n}: {h['redirect write units'] / 1e6:.2f} WRU + {h['redirect read units'] / 1e6:.3f} RRU a redirect, "
                      f"statistics {h['statistics write units'] / 1e6:.3f} WRU + {h['statistics read units'] / 1e6:.3f} RRU"
                      for n, h in columns.items())
    print(f"  (units: {units})")
    # Today's design, priced as the earlier figure was: the REST API and one conditional write per
    # redirect (two for a link made with a key: its by_owner index entry too); no statistics.
    today = PRICE_API_GATEWAY_REST_PER_MILLION + PRICE_LAMBDA_REQUESTS_PER_MILLION + compute + PRICE_DYNAMODB_WRITE_PER_MILLION
    print(f"  with RedirectTracing=Active the redirect adds ${xray_active:.3f} (X-Ray's default sampling); with the text log"
          f" format its START/END/REPORT lines (about 250 B) would add ${(250 + 3 * LOG_EVENT_OVERHEAD) * 1e6 / 1e9 * PRICE_LOGS_INGESTED_PER_GB:.3f}")
    print(f"  today's design, the redirect priced the same way (REST API, one conditional write): ${today:.3f}"
          f" (${today + PRICE_DYNAMODB_WRITE_PER_MILLION:.3f} for a link made with a key: its index entry too)")


if __name__ == "__main__":
    main()
