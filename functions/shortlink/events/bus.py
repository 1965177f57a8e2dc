"""Sending link events: to the stack's EventBridge bus (EVENT_BUS_NAME), or, outside AWS, as
the same JSON EventBridge would deliver, posted to EVENT_WEBHOOK_URL (the devserver)."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..dynamodb import CLIENT_CONFIG
from .changes import LinkEvent

logger = logging.getLogger(__name__)
SOURCE = "shortlink"
PUT_EVENTS_MAX = 10  # entries per PutEvents request
WEBHOOK_TIMEOUT = 5.0


@cache
def events_client() -> Any:
    return boto3.client("events", config=CLIENT_CONFIG)


def envelope(event: LinkEvent) -> dict[str, Any]:
    """The event as EventBridge hands it to a rule's target (an API destination posts this)."""
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, event.event_id)),
        "detail-type": event.kind,
        "source": SOURCE,
        "account": os.environ.get("AWS_ACCOUNT_ID", "000000000000"),
        "time": event.time,
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "local"),
        "resources": [],
        "detail": {"event_id": event.event_id, **event.detail},
    }


def publish(events: Sequence[LinkEvent]) -> int:
    """Send the events in order; returns how many were accepted (the rest are to be retried)."""
    webhook = os.environ.get("EVENT_WEBHOOK_URL", "").strip()
    bus = os.environ.get("EVENT_BUS_NAME", "").strip()
    if webhook:
        return _post_each(webhook, events)
    if not bus:
        for event in events:
            logger.info("link event (no bus or webhook here): %s %s", event.kind, event.event_id)
        return len(events)
    sent = 0
    for start in range(0, len(events), PUT_EVENTS_MAX):
        chunk = events[start:start + PUT_EVENTS_MAX]
        entries = [{"Source": SOURCE, "DetailType": e.kind, "EventBusName": bus, "Time": e.at,
                    "Detail": json.dumps(envelope(e)["detail"], ensure_ascii=False)} for e in chunk]
        try:
            answer = events_client().put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            logger.error("PutEvents failed: %s", exc)
            return sent
        results = answer.get("Entries", [])
        for result in results:
            if result.get("ErrorCode"):
                logger.error("PutEvents refused an event: %s %s", result.get("ErrorCode"), result.get("ErrorMessage"))
                return sent
            sent += 1
    return sent


def _post_each(url: str, events: Sequence[LinkEvent]) -> int:
    for sent, event in enumerate(events):
        body = json.dumps(envelope(event), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as answer:
                if answer.status >= 300:
                    return sent
        except (urllib.error.URLError, OSError) as exc:
            logger.error("webhook %s did not take %s: %s", url, event.kind, exc)
            return sent
    return len(events)
