"""`python -m devserver invoke <Function> <event.json|->` (`make invoke`): `sam local invoke` without Docker.

The function's handler runs in a separate interpreter that sees only what Lambda would give it:
the function's own folder, its layers, the packages its requirements.txt names (with their
dependencies, linked from this virtualenv) and the Python runtime's own (boto3 and friends), with
the environment the template gives it (Globals and its own variables; `--env-vars` in SAM's format
overrides them). Its logs go to stderr, its answer as JSON to stdout; when it raises, the error
as Lambda reports it (errorMessage, errorType, stackTrace) goes to stdout and the exit code is 1.
The function's Timeout holds as on Lambda: a handler still running when it has passed is
stopped, "Task timed out after N.00 seconds" is reported and the exit code is 1. Each
invocation ends with Lambda's REPORT line (duration, billed duration, memory) on stderr.

The store: DYNAMODB_ENDPOINT when set; else the embedded DynamoDB of a running `make run`
(it leaves its endpoint in .devserver/endpoint); else a fresh embedded one for this invoke.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path
from typing import Any

from .template import ROOT, Function, Template

# What the Lambda Python runtime ships besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "s3transfer", "urllib3", "six.py")
ENDPOINT_FILE = "endpoint"  # in DEVSERVER_DATA: the running devserver's embedded DynamoDB
LOCAL_CREDENTIALS = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local",
                     "AWS_SECRET_ACCESS_KEY": "local"}

# Runs inside the function's interpreter: argv = handler, code folder, then the folders for sys.path;
# the event on stdin; a JSON description of the context in SHORTLINK_INVOKE_CONTEXT.
RUNNER = r"""
import importlib, json, os, sys, time, traceback
module_name, function_name = sys.argv[1].rsplit(".", 1)
sys.path[:0] = sys.argv[2:]
spec = json.loads(os.environ.pop("SHORTLINK_INVOKE_CONTEXT"))
answer_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # the function's own prints are its logs: stderr, as sam local invoke shows them
sys.stdout = sys.stderr

class LambdaContext:
    def __init__(self):
        self.function_name = spec["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec["arn"]
        self.memory_limit_in_mb = spec["memory_mb"]
        self.aws_request_id = spec["request_id"]
        self.log_group_name = "/aws/lambda/" + spec["function_name"]
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec["timeout_s"]
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

def report(started):
    duration = (time.monotonic() - started) * 1000
    sys.stderr.write(f"REPORT RequestId: {spec['request_id']}\tDuration: {duration:.2f} ms\t"
                     f"Billed Duration: {int(-(-duration // 1))} ms\tMemory Size: {spec['memory_mb']} MB\n")
    sys.stderr.flush()

event = json.load(sys.stdin)
started = None
try:
    handler = getattr(importlib.import_module(module_name), function_name)
    context = LambdaContext()
    started = time.monotonic()
    with open(spec["started_file"], "w") as note:  # the parent's clock for the Timeout starts here, as Lambda's does
        note.write(str(time.time()))
    answer = handler(event, context)
except Exception as error:
    answer = {"errorMessage": str(error), "errorType": type(error).__name__,
              "stackTrace": traceback.format_tb(error.__traceback__)}
    answer_out.write(json.dumps(answer) + "\n")
    answer_out.flush()
    if started is not None:
        report(started)
    sys.exit(1)
answer_out.write(json.dumps(answer, default=str) + "\n")
answer_out.flush()
report(started)
"""
INIT_LIMIT = 10.0  # Lambda's init phase (imports) may take at most 10 s


def _top_level_names(distribution: metadata.Distribution) -> set[str]:
    """The importable names a distribution installs (packages and single modules)."""
    names = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".egg-info", ".data")) or first in ("..", "__pycache__", "bin"):
            continue
        names.add(first)
    return names


def _requirement_name(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return match.group(0) if match else None


def _with_dependencies(names: list[str]) -> list[metadata.Distribution]:
    """The distributions named and everything they need (markers for this interpreter, no extras)."""
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"invoke: {name} (a requirement) is not installed in this virtualenv; run make run or make test once") from None
        found[key] = distribution
        for spec in distribution.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def package_folder(function: Function, cache: Path) -> Path:
    """A folder holding exactly the packages the function's requirements.txt brings (links into
    this virtualenv), made once per set of requirements."""
    requirements = function.code_dir / "requirements.txt"
    lines = requirements.read_text(encoding="utf-8").splitlines() if requirements.exists() else []
    names = [n for n in (_requirement_name(line) for line in lines) if n]
    folder = cache / hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]
    if folder.exists():
        return folder
    partial = Path(tempfile.mkdtemp(dir=cache))
    runtime = {name.removesuffix(".py") for name in RUNTIME_PACKAGES}
    for distribution in _with_dependencies(names):
        site = Path(str(distribution.locate_file("")))
        for top in _top_level_names(distribution):
            if top.removesuffix(".py") in runtime or (partial / top).exists():
                continue
            if (site / top).exists():
                (partial / top).symlink_to(site / top)
    partial.rename(folder)
    return folder


def runtime_folder(cache: Path) -> Path:
    """The Python runtime's own packages (boto3 and what it needs), linked from this virtualenv."""
    import boto3

    folder = cache / "runtime"
    if not folder.exists():
        partial = Path(tempfile.mkdtemp(dir=cache))
        site = Path(boto3.__file__).resolve().parent.parent
        for name in RUNTIME_PACKAGES:
            (partial / name).symlink_to(site / name)
        partial.rename(folder)
    return folder


def layer_folder(layer: Path, cache: Path) -> Path:
    """What a layer puts on sys.path (its python/ folder): here its source package, by a link."""
    folder = cache / f"layer-{layer.name}"
    if not folder.exists():
        partial = Path(tempfile.mkdtemp(dir=cache))
        (partial / layer.name).symlink_to(layer)
        partial.rename(folder)
    return folder


def environment(function: Function, overrides: dict[str, Any]) -> dict[str, str]:
    """The template's variables for this function, with SAM-style overrides: `Parameters` for every
    function, then the function's own entry; as in SAM, only variables the template declares."""
    env = {key: str(value) for key, value in function.environment.items()}
    for scope in (overrides.get("Parameters", {}), overrides.get(function.name, {})):
        env.update({key: str(value) for key, value in scope.items() if key in env})
    return env


def _reachable(endpoint: str) -> bool:
    import boto3
    from botocore.config import Config

    client = boto3.client("dynamodb", endpoint_url=endpoint, config=Config(connect_timeout=1, read_timeout=2,
                          retries={"max_attempts": 1}), region_name="us-east-1", aws_access_key_id="local",
                          aws_secret_access_key="local")
    try:
        client.list_tables(Limit=1)
    except Exception:
        return False
    return True


def store_endpoint(template: Template, stack: ExitStack, data_dir: Path) -> tuple[str, str]:
    """(endpoint, where it came from): the shell's DYNAMODB_ENDPOINT, make run's store, or a fresh one."""
    if os.environ.get("DYNAMODB_ENDPOINT"):
        return os.environ["DYNAMODB_ENDPOINT"], "DYNAMODB_ENDPOINT"
    noted = data_dir / ENDPOINT_FILE
    if noted.exists():
        endpoint = noted.read_text(encoding="utf-8").strip()
        if _reachable(endpoint):
            return endpoint, "the running devserver (make run)"
    import logging

    from .dynamo import EmbeddedDynamoDB, create_tables, local_client

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the store's request lines are not the function's logs
    db = EmbeddedDynamoDB()
    endpoint = db.start()
    stack.callback(db.stop)
    create_tables(local_client(endpoint), template.tables())
    return endpoint, "a fresh embedded DynamoDB"


def invoke(function_name: str, event_text: str, overrides: dict[str, Any], template: Template | None = None) -> int:
    template = template or Template()
    functions = template.functions()
    if function_name not in functions:
        print(f"invoke: no function {function_name!r} in template.yaml; there are {', '.join(sorted(functions))}", file=sys.stderr)
        return 2
    function = functions[function_name]
    try:
        json.loads(event_text)
    except ValueError as exc:
        print(f"invoke: the event is not JSON: {exc}", file=sys.stderr)
        return 2
    data_dir = Path(os.environ.get("DEVSERVER_DATA", ROOT / ".devserver"))
    cache = data_dir / "invoke"
    cache.mkdir(parents=True, exist_ok=True)
    paths = [str(function.code_dir), *(str(layer_folder(layer, cache)) for layer in function.layers),
             str(package_folder(function, cache)), str(runtime_folder(cache))]
    with ExitStack() as stack:
        endpoint, source = store_endpoint(template, stack, data_dir)
        print(f"invoke: {function.name} ({function.handler}), DynamoDB at {endpoint} ({source})", file=sys.stderr, flush=True)
        request_id = str(uuid.uuid4())
        started_file = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "started"
        context = {"function_name": function.name, "memory_mb": function.memory_mb, "timeout_s": function.timeout_s,
                   "request_id": request_id, "arn": f"arn:aws:lambda:us-east-1:000000000000:function:{function.name}",
                   "started_file": str(started_file)}
        inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ", "SAM_CLI_TELEMETRY")}
        env = {**inherited, **LOCAL_CREDENTIALS, **environment(function, overrides), "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
               "AWS_LAMBDA_FUNCTION_NAME": function.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
               "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "SHORTLINK_INVOKE_CONTEXT": json.dumps(context)}
        process = subprocess.Popen([sys.executable, "-I", "-S", "-B", "-c", RUNNER, function.handler, *paths],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        answer, timed_out = _run_within(process, event_text, started_file, function.timeout_s)
    if timed_out:
        message = f"Task timed out after {function.timeout_s:.2f} seconds"
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} {message}", file=sys.stderr, flush=True)
        print(json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}), flush=True)
        return 1
    sys.stdout.write(answer)
    sys.stdout.flush()
    return 0 if process.returncode == 0 else 1


def _run_within(process: subprocess.Popen[str], event_text: str, started_file: Path, timeout_s: int) -> tuple[str, bool]:
    """The function's answer, or that it ran past its Timeout, counted from the moment its handler
    was called (the imports before are Lambda's init phase, limited apart): then it is killed."""
    reader = ThreadPoolExecutor(max_workers=1)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(event_text)
    process.stdin.close()
    output = reader.submit(process.stdout.read)
    launched = time.monotonic()
    while process.poll() is None:
        noted = started_file.read_text(encoding="utf-8").strip() if started_file.exists() else ""
        # monotonic time of the handler's call: now, less how long ago (wall clock) it was noted
        limit = launched + INIT_LIMIT + timeout_s if not noted else time.monotonic() - (time.time() - float(noted)) + timeout_s
        if time.monotonic() >= limit:
            process.kill()
            process.wait()
            reader.shutdown(wait=False)
            return "", True
        time.sleep(0.01)
    answer = output.result()
    reader.shutdown()
    return answer, False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devserver invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", help="the function's logical id in template.yaml, e.g. RedirectFunction")
    parser.add_argument("event", help="an event file, or - for standard input")
    parser.add_argument("--env-vars", "-n", type=Path, help="JSON with variables to override, in sam local invoke's format")
    args = parser.parse_args(argv)
    event_text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
    overrides = json.loads(args.env_vars.read_text(encoding="utf-8")) if args.env_vars else {}
    return invoke(args.function, event_text, overrides)
