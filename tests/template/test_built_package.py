"""The code `sam build` produced, run the way Lambda runs it: each sample event through its
built function in a fresh, isolated interpreter that sees only the function's package, the
CoreLayer and what the Python runtime provides (boto3). A dependency missing from a
requirements.txt fails here, even though the test virtualenv has it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devserver.invoke import runtime_folder
from support import lambda_python, load_event

RUNNER = """
import json, sys, importlib.util
function_dir, layer_dir, runtime_dir, event_path = sys.argv[1:5]
sys.path[:0] = [function_dir, layer_dir, runtime_dir]
spec = importlib.util.spec_from_file_location("app", function_dir + "/app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
class Context:
    function_name = "built"; memory_limit_in_mb = 256; aws_request_id = "built-test"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:built"
    def get_remaining_time_in_millis(self): return 10000
answer = app.handler(json.load(open(event_path)), Context())
print("RESULT " + json.dumps(answer, default=str))
"""


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with only the Lambda runtime's own packages (links into the virtualenv), as make invoke uses."""
    return runtime_folder(tmp_path_factory.mktemp("runtime"))


def _invoke(build: Path, runtime: Path, function: str, event: dict[str, Any], tmp: Path) -> dict[str, Any]:
    path = tmp / f"{function}-{len(list(tmp.iterdir()))}.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k.isupper() and not k.startswith("PYTHON")}
    run = subprocess.run([str(lambda_python()), "-I", "-S", "-B", "-c", RUNNER, str(build / function),
                          str(build / "CoreLayer" / "python"), str(runtime), str(path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, f"{function} failed as built:\n{run.stderr[-3000:]}"
    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_every_built_function_serves_its_sample_events(build: Path, runtime: Path, dynamodb: Any, tmp_path: Path) -> None:
    dynamodb.delete_item(TableName="LinksTable", Key={"link_id": {"S": "s.example.com/spring-sale"}})
    dynamodb.delete_item(TableName="LinksTable", Key={"link_id": {"S": "s.example.com/members-only"}})
    members = load_event("create")
    members["body"] = json.dumps({"url": "https://example.com/members", "alias": "members-only", "password": "open sesame"})
    members["isBase64Encoded"] = False
    story = [
        ("CreateFunction", load_event("create"), 201),
        ("CreateFunction", members, 201),
        ("RedirectFunction", load_event("redirect-head"), 302),
        ("RedirectFunction", load_event("redirect"), 302),
        ("RedirectFunction", load_event("unlock"), 303),
        ("ManageFunction", load_event("list"), 200),
        ("ManageFunction", load_event("patch"), 200),
        ("ManageFunction", load_event("batch"), 200),
        ("ManageFunction", load_event("delete"), 204),
        ("RedirectFunction", load_event("redirect-unknown"), 404),
        ("CreateFunction", load_event("create-invalid"), 422),
        ("CreateFunction", load_event("shorten"), 201),
        ("CreateFunction", load_event("domains"), 200),
        ("WebFunction", load_event("web-page"), 200),
    ]
    for function, event, status in story:
        assert _invoke(build, runtime, function, event, tmp_path)["statusCode"] == status, (function, event.get("path"))
    for name in ("stream-visits", "stream-ttl-removal"):
        assert _invoke(build, runtime, "StatsFunction", load_event(name), tmp_path) == {"batchItemFailures": []}
    # the QR route needs segno in the manage package, the page's QR in the web package
    qr = load_event("list")
    qr.update(resource="/api/links/{code}/qr", path="/api/links/members-only/qr", pathParameters={"code": "members-only"},
              queryStringParameters={"format": "png"}, multiValueQueryStringParameters={"format": ["png"]})
    assert _invoke(build, runtime, "ManageFunction", qr, tmp_path)["statusCode"] == 200


def test_the_redirect_package_stays_small(build: Path) -> None:
    def size(folder: Path) -> int:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    redirect, layer = size(build / "RedirectFunction"), size(build / "CoreLayer")
    print(f"RedirectFunction package: {redirect} bytes; CoreLayer: {layer} bytes")
    # the core's source (make bench times its import) and two tables read at their first use: the
    # IP-to-country table (about 1.3 MB) and the crawler table (about 190 kB)
    assert redirect < 32 * 1024 and layer < 2 * 1024 * 1024
    assert not list((build / "RedirectFunction").glob("aws_lambda_powertools*"))  # the hot path bundles nothing
