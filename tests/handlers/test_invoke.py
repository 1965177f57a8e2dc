"""`python -m devserver invoke` (make invoke): sam local invoke without Docker. Every sample event
through the command, SAM's own generated events piped in, and a handler that raises."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from support import EVENTS, INVOCATIONS, ROOT, load_event

BIN = Path(sys.executable).parent


def _invoke(function: str, event: str | dict[str, Any], *args: str, env: dict[str, str] | None = None,
            data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user types it; an event dict goes in through standard input (EVENT=-)."""
    stdin = json.dumps(event) if isinstance(event, dict) else None
    target = "-" if isinstance(event, dict) else event
    # the shell's store is the test's embedded DynamoDB, named as a user names one: DYNAMODB_ENDPOINT
    run_env = {**os.environ, "DYNAMODB_ENDPOINT": os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", ""), **(env or {})}
    if data_dir is not None:
        run_env["DEVSERVER_DATA"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "devserver", "invoke", function, target, *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, env=run_env, timeout=120)


def _answer(run: subprocess.CompletedProcess[str]) -> Any:
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


# Each sample event in order, against one store (the test's embedded DynamoDB, as DYNAMODB_ENDPOINT):
# (file, status, or for stream batches the partial-batch answer).
STORY = [
    ("create", 201), ("redirect-head", 302), ("redirect", 302), ("list", 200), ("patch", 200), ("batch", 200),
    ("domains", 200), ("shorten", 201), ("create-invalid", 422), ("web-page", 200), ("delete", 204),
    ("redirect-unknown", 404), ("unlock", 404), ("stream-visits", {"batchItemFailures": []}),
    ("stream-ttl-removal", {"batchItemFailures": []}), ("expiry-sweep", {"marked": 0, "failed": 0}),
    # a usage-plan key API Gateway made: let in on every route, for API Gateway to check against the plan
    ("authorizer", {"principalId": "gateway-key", "context": {}, "usageIdentifierKey": "usage-plan-key-0123456789abcdef",
                    "policyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/*"}]}}),
]


def test_every_sample_event_runs_through_the_command(dynamodb: Any, tmp_path: Path) -> None:
    assert {name for name, _ in STORY} | {"stream-poison"} == {p.stem for p in EVENTS.glob("*.json")}
    for name, expected in STORY:
        run = _invoke(INVOCATIONS[name], f"events/{name}.json", data_dir=tmp_path)
        answer = _answer(run)
        if isinstance(expected, dict):
            assert answer == expected, name
        else:
            assert answer["statusCode"] == expected, (name, answer)
        assert "DynamoDB at " + os.environ["AWS_ENDPOINT_URL_DYNAMODB"] in run.stderr  # the shell's store was used
    poison = load_event("stream-poison")
    failed = _answer(_invoke("StatsFunction", "events/stream-poison.json", data_dir=tmp_path))["batchItemFailures"]
    assert failed == [{"itemIdentifier": poison["Records"][1]["dynamodb"]["SequenceNumber"]}]


def test_logs_go_to_stderr_and_the_answer_alone_to_stdout(tmp_path: Path) -> None:
    env = {k: "" for k in ("DYNAMODB_ENDPOINT",)}
    run = _invoke("RedirectFunction", "events/redirect-unknown.json", env=env, data_dir=tmp_path)
    answer = _answer(run)  # stdout is exactly the answer's JSON
    assert answer["statusCode"] == 404
    assert '"NotFoundHits":1' in run.stderr  # the function's metric line is a log line
    assert "a fresh embedded DynamoDB" in run.stderr


@pytest.mark.parametrize("generate, function", [
    (["apigateway", "aws-proxy", "--method", "GET", "--path", "abc"], "RedirectFunction"),
    (["dynamodb", "update"], "StatsFunction"),
])
def test_sams_generated_events_pipe_into_the_command(generate: list[str], function: str, tmp_path: Path) -> None:
    sam = subprocess.run([str(BIN / "sam"), "local", "generate-event", *generate], capture_output=True, text=True,
                         env={**os.environ, "SAM_CLI_TELEMETRY": "0"}, check=True)
    piped = subprocess.run(f"{BIN / 'sam'} local generate-event {' '.join(generate)} | make -s invoke FUNCTION={function} EVENT=-",
                           shell=True, cwd=ROOT, capture_output=True, text=True, timeout=180,
                           env={**os.environ, "SAM_CLI_TELEMETRY": "0", "DEVSERVER_DATA": str(tmp_path), "DYNAMODB_ENDPOINT": ""})
    answer = _answer(piped)
    if function == "RedirectFunction":
        assert answer["statusCode"] == 404  # /abc names no link: the answer API Gateway would get
    else:
        records = json.loads(sam.stdout)["Records"]
        assert answer == {"batchItemFailures": []} and records  # sample records of another table: nothing to count


def test_a_stream_batch_that_cannot_be_counted_goes_back_to_lambda_whole_and_says_why(tmp_path: Path) -> None:
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"StatsFunction": {"STATS_TABLE": ""}, "Parameters": {"NOT_DECLARED": "x"}}))
    run = _invoke("StatsFunction", "events/stream-visits.json", "--env-vars", str(env_vars), data_dir=tmp_path, env={"DYNAMODB_ENDPOINT": ""})
    records = load_event("stream-visits")["Records"]
    assert _answer(run) == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]}
    assert "STATS_TABLE" in run.stderr  # the boundary logged the known failure it could not answer


def test_a_handler_that_raises_exits_non_zero_with_lambdas_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every handler of ours answers through the boundary; a function that raises anyway (here a
    stand-in for the expiry function) is reported as Lambda reports it."""
    from devserver.invoke import invoke
    from devserver.template import Template

    raising = tmp_path / "expiry"
    raising.mkdir()
    (raising / "app.py").write_text("def handler(event, context):\n    raise ValueError('no sweep today')\n", encoding="utf-8")
    text = (ROOT / "template.yaml").read_text(encoding="utf-8").replace("CodeUri: functions/expiry/", f"CodeUri: {raising}/")
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DEVSERVER_DATA", str(tmp_path / "data"))
    assert invoke("ExpiryFunction", json.dumps(load_event("expiry-sweep")), {}, Template(tmp_path / "template.yaml")) == 1
    error = json.loads(capsys.readouterr().out)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "no sweep today" and error["stackTrace"]


def test_a_missing_requirement_shows_up_here_first(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The function sees only what its requirements.txt brings: the web function without its
    requirements.txt (segno) fails here, although this virtualenv has segno."""
    import shutil

    from devserver.invoke import invoke
    from devserver.template import Template

    web = tmp_path / "web"
    shutil.copytree(ROOT / "functions" / "web", web, ignore=shutil.ignore_patterns("requirements.txt", "__pycache__"))
    text = (ROOT / "template.yaml").read_text(encoding="utf-8").replace("CodeUri: functions/web/", f"CodeUri: {web}/")
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DEVSERVER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DYNAMODB_ENDPOINT", "http://127.0.0.1:9")  # not reached: the import fails first
    assert invoke("WebFunction", json.dumps(load_event("web-page")), {}, Template(tmp_path / "template.yaml")) == 1
    error = json.loads(capsys.readouterr().out)
    assert error["errorType"] == "ModuleNotFoundError" and "segno" in error["errorMessage"]


def test_an_unknown_function_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    run = _invoke("NoSuchFunction", "events/redirect.json", data_dir=tmp_path)
    assert run.returncode == 2 and "RedirectFunction" in run.stderr


class _Silent:
    """A store that accepts connections and never answers: what a hung network path looks like."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        with suppress(OSError):
            while True:
                self.held.append(self.server.accept()[0])

    def close(self) -> None:
        self.server.close()
        for held in self.held:
            held.close()


def test_against_a_store_that_never_answers_the_redirect_answers_503_a_second_before_its_timeout(tmp_path: Path,
                                                                                              template: Any) -> None:
    silent = _Silent()
    try:
        run = _invoke("RedirectFunction", "events/redirect.json", data_dir=tmp_path, env={"DYNAMODB_ENDPOINT": silent.url})
    finally:
        silent.close()
    assert _answer(run)["statusCode"] == 503
    duration = float(re.search(r"Duration: ([\d.]+) ms", run.stderr).group(1))  # Lambda's REPORT line
    timeout_ms = template.functions()["RedirectFunction"].timeout_s * 1000
    assert duration <= timeout_ms - 1000, run.stderr[-1500:]


def test_a_handler_that_runs_past_its_timeout_is_stopped_as_lambda_stops_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from devserver.invoke import invoke
    from devserver.template import Template

    slow = tmp_path / "expiry"
    slow.mkdir()
    (slow / "app.py").write_text("import time\ndef handler(event, context):\n    time.sleep(60)\n", encoding="utf-8")
    text = (ROOT / "template.yaml").read_text(encoding="utf-8").replace("CodeUri: functions/expiry/", f"CodeUri: {slow}/")
    block = text.index("  ExpiryFunction:\n")
    text = text[:block] + re.sub(r"Timeout: \d+", "Timeout: 2", text[block:], count=1)  # a short one, for the test's sake
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DEVSERVER_DATA", str(tmp_path / "data"))
    limit = Template(tmp_path / "template.yaml").functions()["ExpiryFunction"].timeout_s
    assert limit == 2
    started = time.monotonic()
    assert invoke("ExpiryFunction", json.dumps(load_event("expiry-sweep")), {}, Template(tmp_path / "template.yaml")) == 1
    assert limit <= time.monotonic() - started < limit + 15  # stopped at its timeout, not when it would have finished
    out, err = capsys.readouterr()
    assert json.loads(out)["errorType"] == "Sandbox.Timedout" and f"Task timed out after {limit:.2f} seconds" in err
