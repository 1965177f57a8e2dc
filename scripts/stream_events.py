"""Writes the sample stream batches in events/ (the shape of `sam local generate-event
dynamodb update`): visits of one link, a TTL removal, and a batch with a poison record.
Run once when the item layout changes; tests run every file through StatsFunction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/shortlink-LinksTable-ABC/stream/2026-11-25T00:00:00.000"
LINK = {"link_id": {"S": "s.example.com/spring-sale"}, "domain": {"S": "s.example.com"}, "code": {"S": "spring-sale"},
        "url": {"S": "https://example.com/spring-sale"}, "created_at": {"S": "2026-11-24T08:00:00.000Z"},
        "updated_at": {"S": "2026-11-24T08:00:00.000Z"}, "expires_at": {"N": "1795608000"}}
AT = 1795579200  # 2026-11-25T04:00:00Z


def _record(seq: int, name: str, new: dict[str, Any] | None, old: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Keys": {"link_id": LINK["link_id"]}, "ApproximateCreationDateTime": AT,
                            "SequenceNumber": f"44215845000000000174504{seq:05d}", "SizeBytes": 300,
                            "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        body["NewImage"] = new
    if old is not None:
        body["OldImage"] = old
    return {"eventID": f"{seq:032x}", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": body, "eventSourceARN": ARN, **extra}


def _visit(n: int, platform: str, referrer: str | None, bot: bool = False, app: str | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = {"id": {"S": f"req-{n}"}, "at": {"N": str(AT + 3600 + n)}, "platform": {"S": platform},
                             "bot": {"BOOL": bot}}
    if referrer:
        facts["referrer"] = {"S": referrer}
    if app:
        facts["app"] = {"S": app}
    return facts


def visits_batch() -> dict[str, Any]:
    records, count, previous = [], 0, None
    plan = [("ios", "weixin.qq.com", False, "wechat"), ("android", None, False, None), ("windows", "www.google.com", False, None),
            ("other", None, True, None), ("ios", "weixin.qq.com", False, "wechat"), ("macos", "www.google.com", False, None)]
    for i, (platform, referrer, bot, app) in enumerate(plan, start=1):
        new_count = count + (0 if bot else 1)
        new = {**LINK, "visits": {"N": str(new_count)}, "last_visit": {"M": _visit(i, platform, referrer, bot, app)}}
        old = {**LINK, "visits": {"N": str(count)}, **({"last_visit": previous} if previous else {})}
        records.append(_record(i, "MODIFY", new, old))
        count, previous = new_count, new["last_visit"]
    # a PATCH (title changed) is a MODIFY too, but not a visit
    records.append(_record(99, "MODIFY", {**LINK, "visits": {"N": str(count)}, "title": {"S": "Sale"}, "last_visit": previous},
                           {**LINK, "visits": {"N": str(count)}, "last_visit": previous}))
    return {"Records": records}


def ttl_removal() -> dict[str, Any]:
    return {"Records": [_record(1, "REMOVE", None, {**LINK, "visits": {"N": "5"}},
                                userIdentity={"type": "Service", "principalId": "dynamodb.amazonaws.com"})]}


def poison_batch() -> dict[str, Any]:
    good = visits_batch()["Records"][0]
    broken = _record(2, "MODIFY", {"link_id": LINK["link_id"], "last_visit": {"M": {"id": {"S": "x"}}}}, {"link_id": LINK["link_id"]})
    return {"Records": [good, broken]}


if __name__ == "__main__":
    for name, event in (("stream-visits", visits_batch()), ("stream-ttl-removal", ttl_removal()), ("stream-poison", poison_batch())):
        (ROOT / "events" / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        print(f"wrote events/{name}.json")
