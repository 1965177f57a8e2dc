"""Sending link events to the stack's EventBridge bus (EVENT_BUS_NAME). EventBridge hands each
one to the rules' targets in its envelope (version, id, detail-type, source, time … detail), the
webhook's API destination among them. The client takes its endpoint from botocore's own configuration
(AWS_ENDPOINT_URL_EVENTBRIDGE): that is how the devserver receives them locally."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..clock import utc
from ..dynamodb import CLIENT_CONFIG
from ..instance import kept
from .changes import LinkEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

logger = logging.getLogger(__name__)
SOURCE = "shortlink"
PUT_EVENTS_MAX = 10  # entries per PutEvents request


@kept
@cache
def events_client() -> EventBridgeClient:
    return boto3.client("events", config=CLIENT_CONFIG)


def detail(event: LinkEvent) -> dict[str, Any]:
    """What the event's `detail` holds: its id (the same for every delivery) and its facts."""
    return {"event_id": event.event_id, **event.detail}


def publish(events: Sequence[LinkEvent]) -> int:
    """Send the events in order; returns how many were accepted (the rest are to be retried)."""
    bus = os.environ.get("EVENT_BUS_NAME", "").strip()
    if not bus:
        for event in events:
            logger.info("link event (no EVENT_BUS_NAME here): %s %s", event.kind, event.event_id)
        return len(events)
    sent = 0
    for start in range(0, len(events), PUT_EVENTS_MAX):
        chunk = events[start:start + PUT_EVENTS_MAX]
        entries: list[PutEventsRequestEntryTypeDef] = [
            {"Source": SOURCE, "DetailType": e.kind, "EventBusName": bus, "Time": utc(e.at),
             "Detail": json.dumps(detail(e), ensure_ascii=False)} for e in chunk]
        try:
            answer = events_client().put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            logger.error("PutEvents failed: %s", exc)
            return sent
        for result in answer.get("Entries", []):
            if result.get("ErrorCode"):
                logger.error("PutEvents refused an event: %s %s", result.get("ErrorCode"), result.get("ErrorMessage"))
                return sent
            sent += 1
    return sent
