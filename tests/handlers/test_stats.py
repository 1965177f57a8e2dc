"""StatsFunction on the sample stream batches, statistics and QR routes, against moto."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import resvg_py
import zxingcpp
from PIL import Image

from devserver.gateway import LambdaContext
from shortlink.dynamodb import client as dynamodb_client
from shortlink.stats.store import StatsStore, row_visitors
from shortlink.stats.visitors import Visitors
from support import FakeClock, Invoke, MakeEvent, dynamodb_keys, dynamodb_requests, headers_of, load_event, store_faults

SAMPLE_KEY = "s.example.com/spring-sale#2026-11-24T08:00:00.000Z"


@pytest.fixture()
def stats(handlers: dict[str, Callable[..., dict[str, Any]]], dynamodb: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """StatsFunction, fed stream events as the event source mapping would, on empty tables."""
    return lambda event: handlers["StatsFunction"](event, LambdaContext("StatsFunction", uuid.uuid4().hex))


def _visitors(key: str, hour: str) -> Visitors:
    """An hour's visitors as the statistics keep them (its visitor items)."""
    return row_visitors(StatsStore("StatsTable").hours(key, hour, hour)[hour])


def _row(dynamodb: Any, key: str, hour: str) -> dict[str, Any]:
    item = dynamodb.get_item(TableName="StatsTable", Key={"link_key": {"S": key}, "hour": {"S": hour}})["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_sample_batch_counts_visits_not_bots_or_patches_and_replays_change_nothing(stats: Any, dynamodb: Any) -> None:
    assert stats(load_event("stream-visits")) == {"batchItemFailures": []}
    row = _row(dynamodb, SAMPLE_KEY, "2026-11-25T05")
    assert row["total"] == "5" and row["upto"] == "5"
    assert (row["platform:ios"], row["platform:android"], row["platform:windows"], row["platform:macos"]) == ("2", "1", "1", "1")
    assert "platform:other" not in row  # the bot: counted apart, by which bot it is
    assert (row["bots"], row["bot:Googlebot"], row["bots_upto"]) == ("1", "1", "1")
    hashes = _visitors(SAMPLE_KEY, "2026-11-25T05").exact or set()
    assert len(hashes) == 4  # five visits, one visitor twice; kept re-keyed with the day's salt
    assert not hashes & {"5f1c0a9e3b7d2c41", "9a0e4d2b7c1f6e38"}
    salt = _row(dynamodb, "#salt", "2026-11-25")  # the stats day (Asia/Shanghai: 13:00 on the 25th)
    assert int(salt["expires_at"]) == 1795622400 + 86400  # the day's end there, plus the stream's retention
    assert row["app:wechat"] == "2"
    assert (row["referrer:weixin.qq.com"], row["referrer:www.google.com"], row["referrer:(direct)"]) == ("2", "2", "1")
    # TTL: 90 days (StatsRetentionDays) after the later of the hour's end and the link's expiry
    hour_end = 1795586400  # 2026-11-25T06:00:00Z; the visits came at 05:00, the link expires at noon
    assert int(row["expires_at"]) == max(hour_end, 1795608000) + 90 * 86400
    assert stats(load_event("stream-visits")) == {"batchItemFailures": []}
    assert _row(dynamodb, SAMPLE_KEY, "2026-11-25T05") == row


def test_a_partly_replayed_batch_adds_only_the_new_visits(stats: Any, dynamodb: Any) -> None:
    records = load_event("stream-visits")["Records"]
    stats({"Records": records[:3]})
    assert _row(dynamodb, SAMPLE_KEY, "2026-11-25T05")["total"] == "3"
    stats({"Records": records[1:]})  # a retry from the second record on, with the rest after it
    assert _row(dynamodb, SAMPLE_KEY, "2026-11-25T05")["total"] == "5"


def test_poison_record_is_reported_alone(stats: Any) -> None:
    event = load_event("stream-poison")
    answer = stats(event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]}


def test_ttl_removal_is_an_expiry_metric(stats: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert stats(load_event("stream-ttl-removal")) == {"batchItemFailures": []}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert metrics, "no EMF metrics line was printed"
    emitted = metrics[-1]["LinksExpiredByTTL"]
    assert (emitted[0] if isinstance(emitted, list) else emitted) == 1


def _numbered_visits(key: str, numbers: range, visitor: Callable[[int], str]) -> list[dict[str, Any]]:
    """Stream records of visits `numbers` of one link, built from the sample's first visit."""
    template = load_event("stream-visits")["Records"][0]
    records = []
    for n in numbers:
        record = json.loads(json.dumps(template))
        for image in ("NewImage", "OldImage"):
            record["dynamodb"][image]["link_id"] = {"S": f"s.example.com/{key}"}
        record["dynamodb"]["NewImage"]["visits"] = {"N": str(n)}
        facts = record["dynamodb"]["NewImage"]["last_visit"]["M"]
        facts["id"], facts["visitor"] = {"S": f"r{n}"}, {"S": visitor(n)}
        record["dynamodb"]["SequenceNumber"] = str(1000 + n)
        records.append(record)
    return records


def test_a_batch_of_100_visits_is_one_read_and_one_write_of_its_row(stats: Any) -> None:
    records = _numbered_visits(uuid.uuid4().hex, range(1, 101), lambda n: f"{n % 7:016x}")
    with dynamodb_keys(dynamodb_client(), "hour") as sent:
        assert stats({"Records": records}) == {"batchItemFailures": []}
    rows = [(operation, hour) for operation, hour in sent if hour == "2026-11-25T05"]
    items = [(operation, hour) for operation, hour in sent if "#v" in hour]
    assert rows == [("GetItem", "2026-11-25T05"), ("UpdateItem", "2026-11-25T05")]
    ranking = [operation for operation, key in sent if not key]  # the visited links, read to rank them by visits
    assert ranking == ["BatchGetItem"]  # one for the window's lives (this link has no item: nothing more)
    assert len(sent) == 1 + len(rows) + len(items) + len(ranking)  # and the day's salt
    assert {operation for operation, _ in items} == {"GetItem", "UpdateItem"} and len(items) <= 2 * 7  # seven visitors
    records = _numbered_visits(records[0]["dynamodb"]["NewImage"]["link_id"]["S"].split("/")[1], range(101, 201),
                               lambda n: f"{n % 7:016x}")
    with dynamodb_requests(dynamodb_client()) as sent_again:
        assert stats({"Records": records}) == {"batchItemFailures": []}
    assert sent_again == ["GetItem", "UpdateItem", "BatchGetItem"]  # the salt, and what the visitor items hold, are remembered


def test_an_hour_past_200_visitors_keeps_a_sketch_instead_of_hashes(stats: Any, dynamodb: Any) -> None:
    key = uuid.uuid4().hex
    distinct = lambda n: f"{n * 0x9E3779B97F4A7C15 % 2**64:016x}"  # noqa: E731 - 250 different visitors
    for numbers in (range(1, 126), range(126, 251), range(1, 251)):  # the last batch: a replay of both
        assert stats({"Records": _numbered_visits(key, numbers, distinct)}) == {"batchItemFailures": []}
    life, hour = f"s.example.com/{key}#2026-11-24T08:00:00.000Z", "2026-11-25T05"
    row = StatsStore("StatsTable").hours(life, hour, hour)[hour]
    assert row["total"] == 250 and "visitors" not in row
    items = row["visitor_items"]
    assert len(items) == 8 and any("sketch" in item for item in items)  # an item of more than 25 keeps its sketch
    assert all(len(item.get("sketch", b"")) in (0, 512) for item in items)  # half a KB: one write unit
    assert abs(row_visitors(row).count() - 250) <= 0.05 * 250


def _visit(invoke: Invoke, make_event: MakeEvent, code: str, ua: str, referer: str | None = None, country: str | None = None) -> None:
    headers = {"User-Agent": ua, **({"Referer": referer} if referer else {}),
               **({"CloudFront-Viewer-Country": country} if country else {})}
    assert invoke(make_event("GET", f"/{code}", headers=headers))["statusCode"] == 302


def test_stats_route_reports_days_platforms_referrers(invoke: Invoke, make_event: MakeEvent, stats: Any, dynamodb: Any,
                                                      clock: FakeClock) -> None:
    code = "st-" + uuid.uuid4().hex[:8]
    assert invoke(make_event("POST", "/api/links", {"url": "https://example.com/s", "alias": code}))["statusCode"] == 201
    # feed the visits' stream records to the handler as the event source mapping would
    arn = dynamodb.describe_table(TableName="LinksTable")["Table"]["LatestStreamArn"]
    import boto3

    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.meta.endpoint_url, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    _visit(invoke, make_event, code, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)", "https://weibo.com/x", "cn")
    _visit(invoke, make_event, code, "Mozilla/5.0 (Linux; Android 14)")
    _visit(invoke, make_event, code, "facebookexternalhit/1.1")
    records = streams.get_records(ShardIterator=iterator)["Records"]
    for record in records:
        record["dynamodb"]["ApproximateCreationDateTime"] = int(clock())
    assert stats({"Records": records}) == {"batchItemFailures": []}

    today = time.strftime("%Y-%m-%d", time.gmtime(clock()))
    answer = invoke(make_event("GET", f"/api/links/{code}/stats?from=2026-01-01&to={today}&tz=UTC"))
    assert answer["statusCode"] == 200, answer["body"]
    report = json.loads(answer["body"])
    assert report["total"] == 2 and report["days"][-1] == {
        "day": today, "visits": 2, "visitors": 2, "platforms": {"ios": 1, "android": 1}, "apps": {},
        "referrers": {"weibo.com": 1, "(direct)": 1}, "countries": {"CN": 1, "(unknown)": 1},
        "browsers": {"Mobile Safari UI/WKWebView": 1, "Android": 1}, "os": {"iOS": 1, "Android": 1},
        "devices": {"mobile": 1, "tablet": 1}}  # an Android browser that does not say Mobile is a tablet's
    assert all(d["visits"] == 0 for d in report["days"][:-1]) and report["days"][0]["day"] == "2026-01-01"
    assert report["platforms"] == {"ios": 1, "android": 1}
    assert report["referrers"] == {"weibo.com": 1, "(direct)": 1}
    assert report["countries"] == {"CN": 1, "(unknown)": 1}
    sheet = invoke(make_event("GET", f"/api/links/{code}/stats?tz=UTC", headers={"Accept": "text/csv"}))
    assert headers_of(sheet)["Content-Type"] == "text/csv; charset=utf-8" and sheet["body"].startswith("\ufeffday,visits,")
    assert f"{today},2," in sheet["body"]
    default = json.loads(invoke(make_event("GET", f"/api/links/{code}/stats?tz=UTC"))["body"])
    assert [d["day"] for d in default["days"]] == [today]  # never before the link was made
    bad = invoke(make_event("GET", f"/api/links/{code}/stats?from=2026-13-01"))
    assert bad["statusCode"] == 422


@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_qr_code_decodes_to_the_exact_short_url(invoke: Invoke, make_event: MakeEvent, image_format: str) -> None:
    code = "qr-" + uuid.uuid4().hex[:8]
    made = json.loads(invoke(make_event("POST", "/api/links", {"url": "https://example.com/q", "alias": code, "domain": "go.example.com"}))["body"])
    answer = invoke(make_event("GET", f"/api/links/{code}/qr?domain=go.example.com&format={image_format}&size=300"))
    assert answer["statusCode"] == 200
    if image_format == "png":
        assert answer["isBase64Encoded"] is True and headers_of(answer)["Content-Type"] == "image/png"
        import base64

        image = Image.open(io.BytesIO(base64.b64decode(answer["body"])))
        assert 250 <= image.width <= 300
    else:
        assert headers_of(answer)["Content-Type"] == "image/svg+xml"
        svg = answer["body"] if not answer.get("isBase64Encoded") else __import__("base64").b64decode(answer["body"]).decode()
        image = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [made["short_url"]]
    assert invoke(make_event("GET", f"/api/links/{code}/qr?domain=go.example.com&size=10"))["statusCode"] == 422
    assert invoke(make_event("GET", f"/api/links/{code}/qr?domain=go.example.com&format=gif"))["statusCode"] == 422


def test_two_writers_of_one_row_never_lose_an_update(dynamodb: Any) -> None:
    """A link's counters sit on several stream shards, so two StatsFunction invocations may add
    to one hour row at once: the second one's write, made on what it read before the first
    wrote, is refused (and its batch retried) rather than overwriting the first one's visitors."""
    from shortlink.stats.store import HourTotals, StatsStore

    store = StatsStore("StatsTable")
    life, hour = "s.example.com/shared#2026-11-27T00:00:00.000Z", "2026-11-27T04"

    def totals(counter: str) -> HourTotals:
        return HourTotals(total=1, last={counter: 1}, bots=0, bots_last={}, counts={"platform": Counter({"ios": 1})})

    first_read, second_read = store.progress(life, hour), store.progress(life, hour)
    assert store.add(life, hour, first_read, totals("#1"), None)
    assert not store.add(life, hour, second_read, totals("#2"), None)  # moved since its read
    retried = store.progress(life, hour)
    assert retried.upto == {"#1": 1} and store.add(life, hour, retried, totals("#2"), None)
    row = store.progress(life, hour)
    assert row.total == 2 and row.upto == {"#1": 1, "#2": 1}
    assert store.hours(life, hour, hour)[hour]["platform:ios"] == 2


def test_two_writers_of_one_visitor_item_never_lose_a_visitor(dynamodb: Any) -> None:
    from shortlink import instance
    from shortlink.stats.store import StatsStore
    from shortlink.stats.visitors import Chunk

    life, hour = "s.example.com/shared#2026-11-27T00:00:00.000Z", "2026-11-27T04"
    StatsStore("StatsTable").add_visitors(life, hour, Chunk(0, {"0" * 16}), 1_900_000_000_000)
    instance.reset()  # another instance: it does not know what the first wrote
    StatsStore("StatsTable").add_visitors(life, hour, Chunk(0, {"01" + "0" * 14}), 1_900_000_000_000)
    assert _visitors(life, hour).exact == {"0" * 16, "01" + "0" * 14}


def test_a_window_writes_its_rows_once_at_its_end(stats: Any, dynamodb: Any) -> None:
    """Tumbling windows (TumblingWindowInSeconds): each batch hands on the state; the rows are
    written by the final invocation, once; that invocation tried again writes nothing twice."""
    key = uuid.uuid4().hex
    life, hour = f"s.example.com/{key}#2026-11-24T08:00:00.000Z", "2026-11-25T05"
    window = {"window": {"start": "2026-11-25T05:00:00Z", "end": "2026-11-25T05:01:00Z"}, "shardId": "shardId-1"}
    state: dict[str, Any] = {}
    for numbers in (range(1, 31), range(31, 61)):
        answer = stats({"Records": _numbered_visits(key, numbers, lambda n: f"{n % 9:016x}"), **window, "state": state,
                        "isFinalInvokeForWindow": False})
        assert answer["batchItemFailures"] == [] and answer["state"]
        state = answer["state"]
        assert StatsStore("StatsTable").hours(life, hour, hour) == {}  # nothing written before the window ends
    final = {"Records": [], **window, "state": state, "isFinalInvokeForWindow": True}
    with dynamodb_keys(dynamodb_client(), "hour") as sent:
        assert stats(final) == {"batchItemFailures": [], "state": {}}
    assert [operation for operation, at in sent if at == hour] == ["GetItem", "UpdateItem"]  # one read, one write
    items = [at for operation, at in sent if operation == "UpdateItem" and "#v" in at]  # the visitor items: each once
    stored = StatsStore("StatsTable").hours(life, hour, hour)[hour]["visitor_items"]
    assert sorted(items) == sorted(item["hour"] for item in stored) and len(set(items)) == len(items) > 0
    assert _row(dynamodb, life, hour)["total"] == "60" and _visitors(life, hour).count() == 9
    assert stats(final) == {"batchItemFailures": [], "state": {}}  # the final invocation again: nothing twice
    assert _row(dynamodb, life, hour)["total"] == "60"


def test_a_failed_batch_of_a_window_hands_back_the_state_it_was_given(stats: Any) -> None:
    key = uuid.uuid4().hex
    window = {"window": {"start": "2026-11-25T05:00:00Z", "end": "2026-11-25T05:01:00Z"}, "shardId": "shardId-1"}
    given = {"rows": []}
    with store_faults(dynamodb_client(), "UpdateItem", "StatsTable"):
        answer = stats({"Records": _numbered_visits(key, range(1, 11), lambda n: f"{n:016x}"), **window, "state": given,
                        "isFinalInvokeForWindow": False})
    assert answer["batchItemFailures"] and answer["state"] == given


def test_a_window_whose_state_grows_too_big_is_written_at_once(stats: Any, dynamodb: Any, monkeypatch: Any) -> None:
    """Lambda keeps at most 1 MB of state a shard: past the budget the batch writes the window
    itself and hands on an empty state, and the window's end writes nothing twice."""
    from shortlink.stats import window as windows

    monkeypatch.setattr(windows, "STATE_BUDGET", 2_000)
    key = uuid.uuid4().hex
    life, hour = f"s.example.com/{key}#2026-11-24T08:00:00.000Z", "2026-11-25T05"
    window = {"window": {"start": "2026-11-25T05:00:00Z", "end": "2026-11-25T05:01:00Z"}, "shardId": "shardId-1"}
    small = stats({"Records": _numbered_visits(key, range(1, 3), lambda n: f"{n:016x}"), **window, "state": {},
                   "isFinalInvokeForWindow": False})
    assert small["state"]["rows"] and StatsStore("StatsTable").hours(life, hour, hour) == {}
    big = stats({"Records": _numbered_visits(key, range(3, 101), lambda n: f"{n:016x}"), **window, "state": small["state"],
                 "isFinalInvokeForWindow": False})
    assert big == {"batchItemFailures": [], "state": {}}
    assert _row(dynamodb, life, hour)["total"] == "100" and abs(_visitors(life, hour).count() - 100) <= 5  # exact, or a sketch
    assert stats({"Records": [], **window, "state": small["state"], "isFinalInvokeForWindow": True})["state"] == {}
    assert _row(dynamodb, life, hour)["total"] == "100"  # the smaller state again (a retry): its visits are there


def test_a_windowed_batch_failing_in_the_middle_keeps_the_visits_before_it(stats: Any, dynamodb: Any) -> None:
    """Lambda retries from the first failed record: the visits before it must be in the state
    handed on, or nobody ever counts them."""
    key = uuid.uuid4().hex
    life, hour = f"s.example.com/{key}#2026-11-24T08:00:00.000Z", "2026-11-25T05"
    window = {"window": {"start": "2026-11-25T05:00:00Z", "end": "2026-11-25T05:01:00Z"}, "shardId": "shardId-1"}
    records = _numbered_visits(key, range(1, 11), lambda n: f"{n:016x}")
    poison = json.loads(json.dumps(records[4]))
    poison["dynamodb"]["NewImage"]["created_at"] = {"S": "not a time"}
    records[4] = poison
    answer = stats({"Records": records, **window, "state": {}, "isFinalInvokeForWindow": False})
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [poison["dynamodb"]["SequenceNumber"]]
    retried = stats({"Records": _numbered_visits(key, range(5, 11), lambda n: f"{n:016x}"), **window, "state": answer["state"],
                     "isFinalInvokeForWindow": False})  # the retry from there (its record now readable)
    assert retried["batchItemFailures"] == []
    assert stats({"Records": [], **window, "state": retried["state"], "isFinalInvokeForWindow": True})["state"] == {}
    assert _row(dynamodb, life, hour)["total"] == "10"
