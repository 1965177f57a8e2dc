"""Runs the functions template.yaml schedules (events of Type Schedule), locally every
TTL_SWEEP_INTERVAL seconds instead of their rate, with the event EventBridge sends
(`sam local generate-event cloudwatch scheduled-event`)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .gateway import LambdaContext

log = logging.getLogger("devserver.schedules")


def scheduled_event(function: str, moment: float) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{function}-schedule"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    def __init__(self, function: str, handler: Callable[[dict[str, Any], Any], Any], interval: float,
                 now: Callable[[], float]) -> None:
        super().__init__(name=f"schedule-{function}", daemon=True)
        self.function, self.handler, self.interval, self.now = function, handler, interval, now
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.handler(scheduled_event(self.function, self.now()), LambdaContext(self.function, uuid.uuid4().hex))
            except Exception:  # a failed run is followed by the next, as on AWS
                log.exception("%s raised", self.function)

    def stop(self) -> None:
        self.stopped.set()
        self.join()
