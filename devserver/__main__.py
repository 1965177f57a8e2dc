"""`make run`: the template's API on http://127.0.0.1:$PORT with the embedded DynamoDB.

Environment: PORT (3000), LOCAL_API_KEYS or LOCAL_API_KEY (else one generated and kept
in the data directory), LOCAL_ADMIN_KEYS (operators' keys, else one generated and kept there),
DEVSERVER_DATA (.devserver/), DYNAMODB_ENDPOINT (use that DynamoDB instead of the embedded one), TTL_SWEEP_INTERVAL / TTL_SWEEP_LAG (seconds: 10 / 60),
DEVSERVER_CLOCK (a file holding seconds to add to the wall clock: tests move time with it),
EVENT_WEBHOOK_URL (link events are posted there as EventBridge would deliver them). Scheduled
functions (the expiry sweep) run every TTL_SWEEP_INTERVAL seconds.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from .bus import BUS_NAME, LocalEventBus
from .dynamo import EmbeddedDynamoDB, Housekeeper, Journal, Snapshot, create_tables, local_client
from .gateway import Gateway, api_key_id, load_handler, make_http_server
from .invoke import ENDPOINT_FILE
from .schedules import Scheduler
from .streams import StreamPump
from .template import ROOT, Template, local_environment
from .throttles import throttles_from

log = logging.getLogger("devserver")
# Every name and address by which a link could lead back to the devserver (it listens on 127.0.0.1).
THIS_MACHINE = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def _api_keys(data_dir: Path) -> list[str]:
    """LOCAL_API_KEYS (comma-separated) or LOCAL_API_KEY, else one key generated once
    and kept beside the local data. Each key is an owner, as on API Gateway."""
    listed = [k.strip() for k in os.environ.get("LOCAL_API_KEYS", "").split(",") if k.strip()]
    if not listed:
        listed = [os.environ["LOCAL_API_KEY"] if os.environ.get("LOCAL_API_KEY") else _kept_secret(data_dir / "api-key")]
    return listed + [k for k in _admin_keys(data_dir) if k not in listed]


def _admin_keys(data_dir: Path) -> list[str]:
    """LOCAL_ADMIN_KEYS: keys of operators (each is also a key the gateway takes); without it, one
    operator key made once and kept beside the local data, as the owner's key is."""
    listed = [k.strip() for k in os.environ.get("LOCAL_ADMIN_KEYS", "").split(",") if k.strip()]
    return listed or [_kept_secret(data_dir / "operator-key")]


def _kept_secret(path: Path) -> str:
    """A random value made once and kept beside the local data."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


# The embedded store applies writes one at a time, each fsynced into its journal: a burst of a few
# hundred visits queues there for seconds where DynamoDB answers in milliseconds. An answer that
# late is slow, not lost; the functions' 1 s read timeout (whose retry of a ticket's claim would
# take a second ticket: docs/api.md, GET /{code}) is for DynamoDB, so locally it is longer.
EMBEDDED_READ_TIMEOUT = 30.0


def _patient_with_the_embedded_store() -> None:
    from botocore.config import Config

    from shortlink import dynamodb

    dynamodb.CLIENT_CONFIG = dynamodb.CLIENT_CONFIG.merge(Config(read_timeout=EMBEDDED_READ_TIMEOUT))


class OffsetClock:
    """The wall clock plus the seconds a file says (absent or empty: 0), read at every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> float:
        try:
            return time.time() + float(self.path.read_text(encoding="utf-8") or 0)
        except FileNotFoundError:
            return time.time()


def _require_writable(data_dir: Path) -> None:
    """Stop at once, naming the path, when the local data cannot be kept: a server that said
    Ready and then lost every write would be worse."""
    probe = data_dir / ".writable"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as out:
            out.write(b"ok")
            out.flush()
            os.fsync(out.fileno())
        probe.unlink()
    except OSError as exc:
        print(f"devserver: cannot write its data directory {data_dir}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    template = Template()
    data_dir = Path(os.environ.get("DEVSERVER_DATA", ROOT / ".devserver"))
    _require_writable(data_dir)
    api_keys = _api_keys(data_dir)
    port = int(os.environ.get("PORT", "3000"))

    # Locally the short links must be followable: the short domains are this server
    # itself (http://, as there is no TLS here) unless the shell names others. A link may not
    # point back at this machine by any name (BLOCKED_HOSTS takes names and networks).
    os.environ.setdefault("SHORT_DOMAINS", f"http://127.0.0.1:{port},http://localhost:{port}")
    os.environ["BLOCKED_HOSTS"] = ",".join(filter(None, [os.environ.get("BLOCKED_HOSTS", ""), *THIS_MACHINE]))
    os.environ.setdefault("VISITOR_PEPPER", _kept_secret(data_dir / "visitor-pepper"))
    # as AdminApiKeyIds names them on AWS: by the keys' ids
    os.environ["ADMIN_API_KEY_IDS"] = ",".join(api_key_id(key) for key in _admin_keys(data_dir))
    os.environ.update(local_environment(template))
    sys.path.insert(0, str(ROOT / "functions"))  # where Lambda finds the CoreLayer's shortlink package
    from shortlink import clock
    from shortlink.errors import ConfigError
    from shortlink.settings import checked_settings

    try:  # on AWS a bad setting fails the function's first request; here it stops the start
        checked_settings()
    except ConfigError as bad:
        print(f"devserver: {bad}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None

    # The devserver's own clock (epoch seconds): its TTL sweeper, its schedules and the handlers read it.
    seconds: Callable[[], float] = OffsetClock(Path(os.environ["DEVSERVER_CLOCK"])) if os.environ.get("DEVSERVER_CLOCK") else time.time
    clock.use(seconds)

    db: EmbeddedDynamoDB | None = None
    housekeeper: Housekeeper | None = None
    tables = template.tables()
    if os.environ.get("DYNAMODB_ENDPOINT"):
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = os.environ["DYNAMODB_ENDPOINT"]  # the functions' clients (botocore reads it)
        client = local_client(os.environ["DYNAMODB_ENDPOINT"], embedded=False)
        create_tables(client, tables)
        log.info("using DynamoDB at %s (no TTL sweeper, no snapshot, no stream delivery)", os.environ["DYNAMODB_ENDPOINT"])
    else:
        os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
        os.environ.pop("AWS_SESSION_TOKEN", None)
        db = EmbeddedDynamoDB()
        os.environ["DYNAMODB_ENDPOINT"] = os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.start()
        _patient_with_the_embedded_store()
        client = local_client(os.environ["DYNAMODB_ENDPOINT"])
        create_tables(client, tables)
        snapshot = Snapshot(data_dir / "dynamodb.json")
        restored, covered = snapshot.restore(client)
        journal = Journal(data_dir / "journal.jsonl", after=covered)
        replayed = journal.replay(os.environ["DYNAMODB_ENDPOINT"], after=covered)
        db.journal = journal  # from here on every write is journaled before it is applied
        endpoint_note = data_dir / ENDPOINT_FILE  # `python -m devserver invoke` uses this store while we run
        endpoint_note.write_text(os.environ["DYNAMODB_ENDPOINT"], encoding="utf-8")
        log.info("embedded DynamoDB at %s, %d item(s) restored, %d journaled write(s) replayed",
                 os.environ["DYNAMODB_ENDPOINT"], restored, replayed)
        housekeeper = Housekeeper(client, tables, db, snapshot, seconds,
                                  interval=float(os.environ.get("TTL_SWEEP_INTERVAL", "10")),
                                  lag=float(os.environ.get("TTL_SWEEP_LAG", "60")))
        housekeeper.start()

    bus = LocalEventBus(os.environ.get("EVENT_WEBHOOK_URL") or None)
    os.environ.update({"EVENT_BUS_NAME": BUS_NAME, "AWS_ENDPOINT_URL_EVENTBRIDGE": bus.start()})
    pumps: list[StreamPump] = []
    schedules: list[Scheduler] = []
    workers: list[StreamPump | Scheduler] = []
    if housekeeper:
        functions = template.functions()
        pumps = [StreamPump(os.environ["DYNAMODB_ENDPOINT"], client, sub, load_handler(functions[sub.function]),
                            housekeeper.ttl_deleted.reader()) for sub in template.stream_subscriptions()]
        schedules = [Scheduler(name, load_handler(functions[name]), housekeeper.interval, seconds)
                     for name in template.scheduled_functions()]
        workers = [*pumps, *schedules]
        for worker in workers:
            worker.start()

    def drained(timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(pump.wait_drained(max(0.0, deadline - time.monotonic())) for pump in pumps)

    gateway = Gateway(template, set(api_keys), drained, throttles=throttles_from(template, os.environ.get("DEVSERVER_THROTTLES", "on")),
                      trust_forwarded=os.environ.get("TRUST_FORWARDED", "") == "1")
    server = make_http_server(gateway, port)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it even when started from a background job
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"Short links API on {base}/ (the page), console {base}/console, API docs {base}/api/docs", flush=True)
    print(f"DynamoDB endpoint: {os.environ['DYNAMODB_ENDPOINT']}", flush=True)
    operators = _admin_keys(data_dir)
    kept_operator = not os.environ.get("LOCAL_ADMIN_KEYS", "").strip()  # made once, kept in the data directory
    for key in api_keys:
        if key in operators and kept_operator:
            continue
        role = "operator: every link" if key in operators else "owner: its own links"
        print(f"Local API key (x-api-key, {role}): {key}", flush=True)
    if kept_operator:
        print(f"Operator API key (x-api-key, admin: every link and key; the console's Keys view makes more): {operators[0]}",
              flush=True)
    print("Ready. Ctrl-C stops.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
        for worker in workers:
            worker.stop()
        if housekeeper:
            housekeeper.stop()
        bus.stop()
        if db:
            (data_dir / ENDPOINT_FILE).unlink(missing_ok=True)
            db.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["invoke"]:
        from .invoke import main as invoke_main

        raise SystemExit(invoke_main(sys.argv[2:]))
    main()
