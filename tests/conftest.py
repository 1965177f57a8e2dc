"""Shared fixtures: the embedded DynamoDB (moto server) for handler tests, emptied before each
test that uses it; the handlers' clock, which tests move; and a real devserver process for the
HTTP tests. Both read template.yaml, as production does."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

import support
from devserver.dynamo import EmbeddedDynamoDB, create_tables, local_client
from devserver.gateway import LambdaContext, build_event, load_handler
from devserver.template import Template, local_environment
from shortlink import clock as handler_clock
from shortlink import instance
from shortlink.http.requests import request_method, route_path
from support import LOCAL_KEY, OTHER_KEY, DeployedStack, Devserver, FakeClock, Webhook


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


@pytest.fixture(scope="session")
def embedded_dynamodb(template: Template) -> Iterator[str]:
    """moto in server mode on 127.0.0.1; the environment as the template sets it. Yields the endpoint."""
    db = EmbeddedDynamoDB()
    endpoint = db.start()
    saved = dict(os.environ)
    os.environ.update(local_environment(template))
    os.environ.update({
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,  # how botocore (and so every function's client) finds the store
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    })
    yield endpoint
    db.stop()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture()
def dynamodb(embedded_dynamodb: str, template: Template) -> Any:
    """A client of the embedded DynamoDB, whose tables are new and empty for this test:
    no test sees another's links, idempotency records or statistics, whatever the order."""
    requests.post(f"{embedded_dynamodb}/moto-api/reset", timeout=10).raise_for_status()
    client = local_client(embedded_dynamodb)
    create_tables(client, template.tables())
    return client


@pytest.fixture(autouse=True)
def new_instance() -> None:
    """Every test starts as a new Lambda instance would: no kept settings, clients, link copies
    or salts (shortlink/instance.py)."""
    instance.reset()


@pytest.fixture()
def clock() -> Iterator[FakeClock]:
    """The handlers' clock, standing still at the real time until the test moves it."""
    fake = FakeClock(time.time())
    handler_clock.use(fake)
    yield fake
    handler_clock.use(time.time)


@pytest.fixture(scope="session")
def handlers(template: Template, embedded_dynamodb: str) -> dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """Each function's handler, imported from its app.py exactly as the devserver does."""
    loaded = {name: load_handler(fn) for name, fn in template.functions().items()}
    support.STREAM_HANDLERS.update({sub.function: loaded[sub.function] for sub in template.stream_subscriptions()})
    return loaded


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against a deployed stack (SHORTLINK_API_URL), the tests that need the devserver's insides
    (its store, its clock, its loopback domains) are skipped; the rest run as they are."""
    if not os.environ.get("SHORTLINK_API_URL"):
        return
    skip = pytest.mark.skip(reason="needs the devserver's store or clock (SHORTLINK_API_URL is set)")
    for item in items:
        if item.get_closest_marker("devserver"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devserver | DeployedStack]:
    """What the HTTP tests talk to: a deployed stack when SHORTLINK_API_URL is set, else one
    devserver, whose TTL sweeper runs every second, 3 s late."""
    if os.environ.get("SHORTLINK_API_URL"):
        yield DeployedStack(os.environ["SHORTLINK_API_URL"], os.environ["SHORTLINK_API_KEY"], os.environ.get("SHORTLINK_OTHER_API_KEY"))
        return
    dev = Devserver(tmp_path_factory.mktemp("devserver"), LOCAL_API_KEYS=f"{LOCAL_KEY},{OTHER_KEY}",
                    TTL_SWEEP_INTERVAL="1", TTL_SWEEP_LAG="3").start()
    yield dev
    dev.stop()


@pytest.fixture()
def api(server: Devserver) -> requests.Session:
    session = requests.Session()
    session.headers["x-api-key"] = server.api_key
    return session


@pytest.fixture(scope="session")
def make_event(template: Template) -> Callable[..., dict[str, Any]]:
    """A proxy event for method/path routed by template.yaml, as API Gateway would send it."""
    routes = template.routes()
    binary_types = template.binary_media_types()

    def make(method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
             raw_body: bytes | None = None, api_key: str | None = LOCAL_KEY) -> dict[str, Any]:
        route = next(r for r in routes if r.match(method, path.split("?")[0]) is not None)
        given = {name.lower() for name in headers or {}}
        pairs = [(name, value) for name, value in (("Host", "abc123.execute-api.us-east-1.amazonaws.com"), ("User-Agent", "pytest"))
                 if name.lower() not in given]  # a header the test gives replaces the default, as one request sends one
        if body is not None and "content-type" not in given:
            pairs.append(("Content-Type", "application/json"))
        pairs += list((headers or {}).items())
        payload = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        return build_event(route, method, path, pairs, payload, "198.51.100.1",
                           api_key if route.api_key_required else None, binary_types)

    return make


@pytest.fixture()
def invoke(handlers: dict[str, Callable[..., dict[str, Any]]], template: Template, dynamodb: Any,
           clock: FakeClock) -> Callable[..., dict[str, Any]]:
    """Run the function that template.yaml routes the event to, with a Lambda-like context,
    on empty tables and the test's clock."""
    routes = template.routes()

    def run(event: dict[str, Any]) -> dict[str, Any]:
        route = next(r for r in routes if r.path == route_path(event) and r.method == request_method(event))
        return handlers[route.function](event, LambdaContext(route.function, "test-request"))

    return run


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    """A local receiver of a devserver's event posts (its EVENT_WEBHOOK_URL)."""
    hook = Webhook()
    yield hook
    hook.server.shutdown()
