"""LinksTable stream -> the search index (SearchTable, links/catalogue.py): each link life's
token lists, and the lives that ended, so that GET /api/links finds any link by text, tag,
domain and state, and an ended campaign stays listed and readable until its retention ends."""

from __future__ import annotations

import logging
import os
from typing import Any

from shortlink.dynamodb import is_ttl_removal
from shortlink.errors import StoreUnavailable
from shortlink.http.boundary import guarded
from shortlink.http.metrics import emit
from shortlink.http.requests import request_id
from shortlink.links.catalogue import Catalogue
from shortlink.links.identity import LinkId
from shortlink.settings import load_settings

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def _sequence(record: dict[str, Any]) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", ""))


def _index(event: dict[str, Any]) -> dict[str, Any]:
    """The records in order; at a store fault, that record and every later one back to Lambda
    (which retries from there: what was written is written again harmlessly)."""
    catalogue = Catalogue.of(load_settings())
    records = event.get("Records", [])
    written = 0
    for number, record in enumerate(records):
        change = record.get("dynamodb") or {}
        old, new = change.get("OldImage"), change.get("NewImage")
        if LinkId.of_counter(str((new or old or {}).get("link_id", {}).get("S", ""))):
            continue  # a visit counter (links/counters.py): no link of its own
        try:
            written += catalogue.changed(old, new, ttl_removed=is_ttl_removal(record))
        except StoreUnavailable:
            emit(SearchIndexWrites=written, SearchIndexFaults=1)
            return {"batchItemFailures": [{"itemIdentifier": _sequence(r)} for r in records[number:]]}
    emit(SearchIndexWrites=written, SearchIndexFaults=0)
    return {"batchItemFailures": []}


def _retry_all(event: dict[str, Any]) -> dict[str, Any]:
    """After an unforeseen failure (logged by the boundary): every record back to Lambda, which
    retries, bisects, then sends what still fails to the failure queue."""
    return {"batchItemFailures": [{"itemIdentifier": _sequence(r)} for r in event.get("Records", [])]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return guarded(lambda: _index(event), lambda _: _retry_all(event), request_id(event, context), logger, log_known=True)
