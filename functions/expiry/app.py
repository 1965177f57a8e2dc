"""Every minute (a Schedule event): mark the links whose expiry has come, so that
link.expired goes out within minutes of expires_at (links/expiry.py tells why and what it costs)."""

from __future__ import annotations

import logging
import os
from typing import Any

from shortlink import clock
from shortlink.errors import ShortLinkError
from shortlink.http.boundary import guarded
from shortlink.http.metrics import emit
from shortlink.http.requests import request_id
from shortlink.links.expiry import sweep
from shortlink.links.store import LinkStore
from shortlink.settings import load_settings

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def _sweep() -> dict[str, Any]:
    marked, failed = sweep(LinkStore.of(load_settings()), clock.now())
    if failed:
        logger.error("expiry sweep: %d slot(s) could not be read; the next sweep asks again", failed)
    emit(LinksExpiredAnnounced=marked, ExpirySweepFaults=failed)
    return {"marked": marked, "failed": failed}


def _failed(failure: ShortLinkError) -> dict[str, Any]:
    """The sweep runs again in a minute; the failure is logged (the boundary) and counted."""
    emit(LinksExpiredAnnounced=0, ExpirySweepFaults=1)
    return {"marked": 0, "failed": 1, "error": failure.slug}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return guarded(_sweep, _failed, request_id(event, context), logger, log_known=True)
