"""A local stand-in for the stack's EventBridge bus and its webhook rule.

The functions send link events with EventBridge's PutEvents, as on AWS; the devserver points
their client here (AWS_ENDPOINT_URL_EVENTBRIDGE). Each entry is wrapped in the envelope
EventBridge gives a rule's target (version, id, detail-type, source, account, time, region,
resources, detail) and posted to EVENT_WEBHOOK_URL, as the template's API destination posts it;
without a webhook the event is logged.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("devserver.bus")
BUS_NAME = "LinkEventBus"  # the template's logical id: the devserver names its resources so
WEBHOOK_TIMEOUT = 5.0


def envelope(entry: dict[str, Any], region: str) -> dict[str, Any]:
    """A PutEvents entry as EventBridge delivers it to a rule's target."""
    moment = entry.get("Time")
    when = datetime.fromtimestamp(float(moment), tz=UTC) if moment is not None else datetime.now(tz=UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }


class LocalEventBus:
    """PutEvents on 127.0.0.1, delivering each event to the webhook before it answers."""

    def __init__(self, webhook: str | None, region: str = "us-east-1") -> None:
        self.webhook, self.region = webhook, region
        self.delivered: list[dict[str, Any]] = []
        bus = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                if target != "AWSEvents.PutEvents":
                    self._answer(400, {"__type": "UnknownOperationException", "message": f"{target} is not emulated"})
                    return
                entries = json.loads(body or b"{}").get("Entries", [])
                self._answer(200, {"FailedEntryCount": 0, "Entries": [{"EventId": bus.put(entry)} for entry in entries]})

            def _answer(self, status: int, document: dict[str, Any]) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="event-bus", daemon=True)

    def put(self, entry: dict[str, Any]) -> str:
        event = envelope(entry, self.region)
        self.delivered.append(event)
        if not self.webhook:
            log.info("link event %s %s", event["detail-type"], event["detail"].get("event_id"))
            return str(event["id"])
        request = urllib.request.Request(self.webhook, data=json.dumps(event, ensure_ascii=False).encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as answer:
                if answer.status >= 300:
                    log.error("webhook %s answered %s to %s", self.webhook, answer.status, event["detail-type"])
        except (urllib.error.URLError, OSError) as exc:  # EventBridge would retry for a day; locally it is logged
            log.error("webhook %s did not take %s: %s", self.webhook, event["detail-type"], exc)
        return str(event["id"])

    def start(self) -> str:
        self.thread.start()
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
