"""Helpers the tests share: paths, keys, the devserver process, events, request counting."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "functions", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from devserver.dynamo import local_client  # noqa: E402
from devserver.template import Template, local_environment  # noqa: E402

LOCAL_KEY = "test-key-a"

OTHER_KEY = "test-key-b"


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
        # what the devserver works out itself: not whatever another fixture put into this process
        own = {"DYNAMODB_ENDPOINT", "LOCAL_API_KEY", "LOCAL_API_KEYS", *local_environment(Template())}
        inherited = {k: v for k, v in os.environ.items() if k not in own}
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


EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def seed_link(dynamodb: Any, *, domain: str = "s.example.com", code: str | None = None,
              url: str = "https://example.com/target", expires_in: int | None = 3600, visits: int = 0) -> str:
    """Put a link straight into the table and return its code. moto never deletes expired
    items, so this is how tests get a link that expired but is still stored."""
    code = code or "r-" + uuid.uuid4().hex[:10]
    item = {
        "link_id": {"S": f"{domain}/{code}"}, "domain": {"S": domain}, "code": {"S": code}, "url": {"S": url},
        "created_at": {"S": "2026-01-01T00:00:00.000Z"}, "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
        "visits": {"N": str(visits)},
    }
    if expires_in is not None:
        item["expires_at"] = {"N": str(int(time.time()) + expires_in)}
    dynamodb.put_item(TableName="LinksTable", Item=item)
    return code


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


@contextmanager
def store_faults(client: Any, operation: str, table: str | None = None, *, code: str = "InternalServerError",
                 timeout: bool = False, times: int = 1_000_000) -> Iterator[list[str]]:
    """Make the next `times` calls of `operation` (on `table`) fail as DynamoDB or the network
    would: an error answer with `code`, or a read timeout. Yields the calls it failed."""
    from botocore.awsrequest import AWSResponse
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
        return AWSResponse("https://dynamodb.local", status, {}, None), parsed

    client.meta.events.register("before-parameter-build.dynamodb.*", note_table)
    client.meta.events.register("before-call.dynamodb.*", fail)
    try:
        yield failed
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", fail)
        client.meta.events.unregister("before-parameter-build.dynamodb.*", note_table)
