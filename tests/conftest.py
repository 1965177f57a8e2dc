"""Shared fixtures: the embedded DynamoDB (moto server) for handler tests, and a real
devserver process for HTTP tests. Both read template.yaml, as production does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from devserver.dynamo import EmbeddedDynamoDB, create_tables, local_client  # noqa: E402
from devserver.gateway import load_handler  # noqa: E402
from devserver.template import Template, local_environment  # noqa: E402

LOCAL_KEY = "test-key-a"
OTHER_KEY = "test-key-b"


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


@pytest.fixture(scope="session")
def dynamodb(template: Template) -> Iterator[Any]:
    """moto in server mode on 127.0.0.1 with the template's tables; env as the template sets it."""
    db = EmbeddedDynamoDB()
    endpoint = db.start()
    saved = dict(os.environ)
    os.environ.update(local_environment(template))
    os.environ.update({
        "DYNAMODB_ENDPOINT": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    })
    client = local_client(endpoint)
    create_tables(client, template.tables())
    yield client
    db.stop()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def handlers(template: Template, dynamodb: Any) -> dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """Each function's handler, imported from its app.py exactly as the devserver does."""
    return {name: load_handler(fn) for name, fn in template.functions().items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Devserver:
    """`python -m devserver` in a child process, as `make run` starts it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        inherited = {k: v for k, v in os.environ.items() if k not in ("DYNAMODB_ENDPOINT", "LINKS_TABLE", "LOCAL_API_KEY", "LOCAL_API_KEYS")}
        self.env = {**inherited, "PORT": str(self.port), "DEVSERVER_DATA": str(data_dir), **env}
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
                self.api_keys.append(line.split(":", 1)[1].strip())
            if line.startswith("Ready."):
                self.api_key = self.api_keys[0]
                self.domains = requests.get(f"{self.url}/api/domains", timeout=10).json()["domains"]
                self._drain()
                return self
        raise RuntimeError("devserver did not start:\n" + "".join(self.output))

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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devserver]:
    """One devserver for the HTTP tests; its TTL sweeper runs every second, 3 s late."""
    dev = Devserver(tmp_path_factory.mktemp("devserver"), LOCAL_API_KEYS=f"{LOCAL_KEY},{OTHER_KEY}",
                    TTL_SWEEP_INTERVAL="1", TTL_SWEEP_LAG="3").start()
    yield dev
    dev.stop()


@pytest.fixture()
def api(server: Devserver) -> requests.Session:
    session = requests.Session()
    session.headers["x-api-key"] = server.api_key
    return session


EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    import json

    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def make_event(template: Template) -> Callable[..., dict[str, Any]]:
    """A proxy event for method/path routed by template.yaml, as API Gateway would send it."""
    import json

    from devserver.gateway import build_event

    routes = template.routes()
    binary_types = template.binary_media_types()

    def make(method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
             raw_body: bytes | None = None, api_key: str | None = LOCAL_KEY) -> dict[str, Any]:
        route = next(r for r in routes if r.match(method, path.split("?")[0]) is not None)
        pairs = [("Host", "abc123.execute-api.us-east-1.amazonaws.com"), ("User-Agent", "pytest")]
        if body is not None:
            pairs.append(("Content-Type", "application/json"))
        pairs += list((headers or {}).items())
        payload = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        return build_event(route, method, path, pairs, payload, "198.51.100.1",
                           api_key if route.api_key_required else None, binary_types)

    return make


@pytest.fixture(scope="session")
def invoke(handlers: dict[str, Callable[..., dict[str, Any]]], template: Template) -> Callable[..., dict[str, Any]]:
    """Run the function that template.yaml routes the event to, with a Lambda-like context."""
    from devserver.gateway import LambdaContext

    routes = template.routes()

    def run(event: dict[str, Any]) -> dict[str, Any]:
        route = next(r for r in routes if r.path == event["resource"] and r.method == event["httpMethod"])
        return handlers[route.function](event, LambdaContext(route.function, "test-request"))

    return run


@contextmanager
def dynamodb_requests(client: Any) -> Iterator[list[str]]:
    """Record the operation name of every request this boto3 client sends meanwhile."""
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(model.name)

    client.meta.events.register("before-call.dynamodb.*", record)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", record)


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """A proxy response's headers, whichever of the two maps the handler used."""
    merged = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    merged.update(response.get("headers") or {})
    return merged
