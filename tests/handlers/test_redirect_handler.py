"""RedirectFunction against moto: expiry checked on read, hosts, HEAD, faults, caching."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from botocore.stub import Stubber

from shortlink import instance
from shortlink.dynamodb import client as dynamodb_client
from shortlink.stats.visitors import visitor_id
from support import (
    DOMAIN,
    LINK_CACHE_SECONDS,
    ROOT,
    FakeClock,
    Invoke,
    MakeEvent,
    alias,
    dynamodb_keys,
    dynamodb_requests,
    headers_of,
    seed_link,
    store_faults,
    stored_item,
    visits_of,
)


def test_redirect_reads_its_link_once_then_writes_one_counter_per_visit(invoke: Invoke, make_event: MakeEvent,
                                                                         dynamodb: Any, clock: FakeClock) -> None:
    url = "https://example.com/a%20b/%E4%B8%AD?x=1&y=%2F#top"
    code = seed_link(dynamodb, url=url)
    key = f"{DOMAIN}/{code}"
    with dynamodb_keys(dynamodb_client()) as first:
        answer = invoke(make_event("GET", f"/{code}"))
    assert answer["statusCode"] == 302 and headers_of(answer)["Location"] == url
    assert first[0] == ("GetItem", key) and len(first) == 2
    assert first[1][0] == "UpdateItem" and first[1][1].startswith(key + "#")  # a counter, not the link's item
    with dynamodb_keys(dynamodb_client()) as kept:  # within LINK_CACHE_SECONDS: the copy serves
        for _ in range(20):
            invoke(make_event("GET", f"/{code}"))
    assert [operation for operation, _ in kept] == ["UpdateItem"] * 20
    assert len({counter for _, counter in kept}) > 1, "visits spread over the link's counters"
    clock.advance(LINK_CACHE_SECONDS)
    with dynamodb_requests(dynamodb_client()) as again:
        invoke(make_event("GET", f"/{code}"))
    assert again == ["GetItem", "UpdateItem"]
    assert visits_of(dynamodb, code) == 22  # once StatsFunction has tallied the counters


def test_a_limited_link_counts_each_visit_in_one_conditional_write_of_its_item(invoke: Invoke, make_event: MakeEvent,
                                                                              dynamodb: Any) -> None:
    code = seed_link(dynamodb, max_visits=3)
    with dynamodb_keys(dynamodb_client()) as sent:
        statuses = [invoke(make_event("GET", f"/{code}"))["statusCode"] for _ in range(4)]
    assert statuses == [302, 302, 302, 410]
    link = f"{DOMAIN}/{code}"
    assert sent == [("GetItem", link), ("UpdateItem", link), ("UpdateItem", link), ("UpdateItem", link),
                    ("UpdateItem", link)]  # the refused fourth is the copy's last word for a few seconds
    with dynamodb_requests(dynamodb_client()) as after:
        assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 410
    assert after == []  # exhausted in the copy: no request at all
    assert stored_item(dynamodb, code)["visits"] == {"N": "3"}


IOS = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"}
# (PATCH body or None for DELETE, what the very next visit gets, where to, the requests of the visit after)
CHANGES = [
    ({"url": "https://example.com/new"}, 302, "https://example.com/new", ["UpdateItem"]),
    ({"targets": {"ios": "https://example.com/ios"}}, 302, "https://example.com/ios", ["UpdateItem"]),
    ({"max_visits": 5}, 302, "https://example.com/old", ["UpdateItem"]),  # now counted on the link's item
    ({"disabled": True}, 410, None, []),
    ({"password": "open sesame"}, 401, None, []),
    # no copy of a deleted link is kept; no item: the search index is asked for an ended life (410)
    (None, 404, None, ["GetItem", "GetItem", "Query"]),
]


@pytest.mark.parametrize("change, status, location, after", CHANGES, ids=lambda c: json.dumps(c)[:30])
def test_a_change_through_the_api_is_obeyed_by_the_very_next_visit(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                   change: dict[str, Any] | None, status: int,
                                                                   location: str | None, after: list[str]) -> None:
    made = invoke(make_event("POST", "/api/links", {"url": "https://example.com/old"}))
    code = json.loads(made["body"])["code"]
    assert invoke(make_event("GET", f"/{code}", headers=IOS))["statusCode"] == 302  # the instance keeps its copy
    if change is None:
        assert invoke(make_event("DELETE", f"/api/links/{code}"))["statusCode"] == 204
    else:
        assert invoke(make_event("PATCH", f"/api/links/{code}", change))["statusCode"] == 200
    with dynamodb_requests(dynamodb_client()) as sent:
        answer = invoke(make_event("GET", f"/{code}", headers=IOS))
    assert answer["statusCode"] == status, answer["body"]
    assert headers_of(answer).get("Location") == location
    assert sent[:2] == ["UpdateItem", "GetItem"]  # the counter's fence refused the copy; the link is read again
    with dynamodb_requests(dynamodb_client()) as then:
        assert invoke(make_event("GET", f"/{code}", headers=IOS))["statusCode"] == status
    assert then == after


def test_a_code_used_again_is_not_refused_by_its_old_lifes_fence(invoke: Invoke, make_event: MakeEvent, clock: FakeClock) -> None:
    code = alias("again")
    assert invoke(make_event("POST", "/api/links", {"url": "https://example.com/first", "alias": code}))["statusCode"] == 201
    assert invoke(make_event("PATCH", f"/api/links/{code}", {"title": "fenced"}))["statusCode"] == 200
    assert invoke(make_event("DELETE", f"/api/links/{code}"))["statusCode"] == 204
    clock.advance(1)  # a life is told by the moment it was made
    assert invoke(make_event("POST", "/api/links", {"url": "https://example.com/second", "alias": code}))["statusCode"] == 201
    for _ in range(3):
        answer = invoke(make_event("GET", f"/{code}"))
        assert answer["statusCode"] == 302 and headers_of(answer)["Location"] == "https://example.com/second"


def test_a_visit_that_meets_the_fence_being_written_reads_the_link_again(invoke: Invoke, make_event: MakeEvent,
                                                                         dynamodb: Any) -> None:
    code = seed_link(dynamodb)
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302
    with store_faults(dynamodb_client(), "UpdateItem", code="TransactionConflictException", times=1) as failed, \
            dynamodb_requests(dynamodb_client()) as sent:
        assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302
    assert failed and sent == ["UpdateItem", "GetItem", "UpdateItem"]


def test_a_change_behind_the_apis_back_reaches_the_redirect_within_the_copys_lifetime(invoke: Invoke, make_event: MakeEvent,
                                                                                       dynamodb: Any, clock: FakeClock) -> None:
    code = seed_link(dynamodb)
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302
    dynamodb.update_item(TableName="LinksTable", Key={"link_id": {"S": f"{DOMAIN}/{code}"}},
                         UpdateExpression="SET disabled = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    clock.advance(LINK_CACHE_SECONDS - 1)
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302  # no fence was written: the copy serves
    clock.advance(1)
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 410


def test_a_copy_that_refuses_is_kept_a_second(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, clock: FakeClock) -> None:
    code = seed_link(dynamodb)
    dynamodb.update_item(TableName="LinksTable", Key={"link_id": {"S": f"{DOMAIN}/{code}"}},
                         UpdateExpression="SET disabled = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 410
    dynamodb.update_item(TableName="LinksTable", Key={"link_id": {"S": f"{DOMAIN}/{code}"}},
                         UpdateExpression="REMOVE disabled")
    clock.advance(0.9)
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 410  # the refusing copy
    clock.advance(0.1)
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302


def test_an_expiry_is_checked_on_every_visit_even_from_the_copy(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                               clock: FakeClock) -> None:
    code = seed_link(dynamodb, expires_in=2)
    expires = int(stored_item(dynamodb, code)["expires_at"]["N"])
    clock.advance(expires - 0.5 - clock())
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302  # the copy is read
    clock.advance(0.9)
    with dynamodb_requests(dynamodb_client()) as sent:
        assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 410
    assert sent == []  # the copy's own expiry refused it


def test_a_visit_keeps_a_keyed_hash_of_its_visitor_and_its_network_never_the_address(invoke: Invoke, make_event: MakeEvent,
                                                                                      dynamodb: Any) -> None:
    code = seed_link(dynamodb, max_visits=5)  # counted on the link's own item
    invoke(make_event("GET", f"/{code}"))
    item = stored_item(dynamodb, code)
    assert item is not None
    facts = item["last_visit"]["M"]
    assert facts["visitor"]["S"] == visitor_id(os.environ["VISITOR_PEPPER"], "198.51.100.1", "pytest")
    assert facts["net"]["S"] == "198.51.100.0"  # the /24, for its country
    assert "198.51.100.1" not in json.dumps(item)
    invoke(make_event("GET", f"/{code}", headers={"CloudFront-Viewer-Country": "JP"}))
    facts = stored_item(dynamodb, code)["last_visit"]["M"]
    assert facts["country"]["S"] == "JP" and "net" not in facts  # CloudFront said: no network kept


def test_expired_link_still_stored_answers_410_and_is_not_counted(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = seed_link(dynamodb, expires_in=-5, visits=7)
    with dynamodb_requests(dynamodb_client()) as sent:
        answer = invoke(make_event("GET", f"/{code}"))
    assert sent == ["GetItem"]  # no visit written
    assert answer["statusCode"] == 410
    assert headers_of(answer)["Content-Type"] == "application/problem+json"
    assert headers_of(answer)["Cache-Control"] == "no-store"
    assert visits_of(dynamodb, code) == 7


def test_unknown_and_impossible_codes_are_404(invoke: Invoke, make_event: MakeEvent) -> None:
    for path in ("/never-made", "/x", "/docs", "/%E4%B8%AD%E6%96%87"):  # (/api is the REST API's mapping)
        answer = invoke(make_event("GET", path))
        assert answer["statusCode"] == 404, path
        assert json.loads(answer["body"])["status"] == 404


def test_head_answers_like_get_without_counting(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = seed_link(dynamodb)
    answer = invoke(make_event("HEAD", f"/{code}"))
    assert answer["statusCode"] == 302 and headers_of(answer)["Location"] == "https://example.com/target"
    assert answer["body"] == ""
    expired = seed_link(dynamodb, expires_in=-1)
    assert invoke(make_event("HEAD", f"/{expired}"))["statusCode"] == 410
    assert invoke(make_event("HEAD", "/nothing-here"))["statusCode"] == 404
    assert visits_of(dynamodb, code) == 0


def test_host_header_picks_the_short_domain(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = seed_link(dynamodb, domain="go.example.com")
    on_go = invoke(make_event("GET", f"/{code}", headers={"Host": "go.example.com"}))
    assert on_go["statusCode"] == 302
    # API Gateway's own host (and any unknown host) means the default domain, where the code is unknown
    assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 404
    assert invoke(make_event("GET", f"/{code}", headers={"Host": "GO.example.com:443"}))["statusCode"] == 302


def test_codes_are_case_sensitive(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = seed_link(dynamodb)
    assert invoke(make_event("GET", f"/{code.upper()}"))["statusCode"] == 404


def test_cache_never_outlives_the_link(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, clock: FakeClock) -> None:
    clock.at = int(clock.at)  # on a whole second: a link expiring 20 s later may be kept 20 s
    soon = seed_link(dynamodb, expires_in=20)
    assert headers_of(invoke(make_event("GET", f"/{soon}")))["Cache-Control"] == "private, max-age=20"
    clock.advance(15)
    assert headers_of(invoke(make_event("GET", f"/{soon}")))["Cache-Control"] == "private, max-age=5"
    clock.advance(5)
    assert invoke(make_event("GET", f"/{soon}"))["statusCode"] == 410
    forever = seed_link(dynamodb, expires_in=None)
    assert headers_of(invoke(make_event("GET", f"/{forever}")))["Cache-Control"] == "private, max-age=60"


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "InternalServerError", "RequestLimitExceeded"])
def test_store_faults_are_503_never_404(invoke: Invoke, make_event: MakeEvent, code: str) -> None:
    with Stubber(dynamodb_client()) as stub:
        stub.add_client_error("update_item", service_error_code=code, http_status_code=500)
        answer = invoke(make_event("GET", "/some-code"))
    assert answer["statusCode"] == 503
    assert headers_of(answer)["Retry-After"] == "1"
    assert json.loads(answer["body"])["status"] == 503


def test_unreachable_store_is_503(invoke: Invoke, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    # nothing listens on the discard port; the client keeps the store's retry and timeout settings
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    instance.reset()  # a new instance, whose client finds that endpoint
    answer = invoke(make_event("GET", "/some-code"))
    assert answer["statusCode"] == 503
    assert headers_of(answer)["Retry-After"] == "1"


def test_importing_a_handler_makes_no_network_call_and_needs_no_settings() -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "functions")}
    for function in ("redirect", "create"):
        probe = (
            "import socket, importlib.util, sys\n"
            "def refuse(*a, **k): raise SystemExit('network call at import')\n"
            "socket.socket.connect = refuse\n"
            f"spec = importlib.util.spec_from_file_location('app', '{ROOT}/functions/{function}/app.py')\n"
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        )
        run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr


def test_a_redirect_logs_nothing_and_every_other_answer_is_an_emf_metric(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    live, expired = seed_link(dynamodb), seed_link(dynamodb, expires_in=-1)
    capsys.readouterr()
    invoke(make_event("GET", f"/{live}"))
    invoke(make_event("GET", f"/{live}", headers={"User-Agent": "facebookexternalhit/1.1"}))
    assert capsys.readouterr().out == ""  # not a byte per redirect for CloudWatch Logs to bill
    invoke(make_event("GET", f"/{expired}"))
    invoke(make_event("GET", "/nobody-made-this"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert [{k: v for k, v in line.items() if k not in ("_aws", "service")} for line in lines] == [
        {"ExpiredHits": 1}, {"NotFoundHits": 1}]
    assert lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ShortLinks"
    assert visits_of(dynamodb, live) == 1  # the preview bot was redirected but not counted


def test_rules_and_the_guide_page_add_no_request(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    """Rules are checked against the instance's copy of the link; a country rule reads the
    IP-to-country table, not DynamoDB: a visit is still one write."""
    made = invoke(make_event("POST", "/api/links", {"url": "https://example.com/", "in_app": "guide", "rules": [
        {"when": {"country": ["US"]}, "url": "https://example.com/us"},
        {"when": {"language": ["zh"], "device": ["ios"]}, "url": "https://example.com/zh-ios"}]}))
    code = json.loads(made["body"])["code"]
    wechat = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
              "MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN")
    invoke(make_event("GET", f"/{code}"))  # the instance reads the link once
    with dynamodb_keys(dynamodb_client()) as kept:
        answers = [invoke(make_event("GET", f"/{code}", headers={"User-Agent": wechat, "Accept-Language": "zh-CN"}))
                   for _ in range(10)]
    assert [operation for operation, _ in kept] == ["UpdateItem"] * 10
    assert {a["statusCode"] for a in answers} == {200} and "example.com/zh-ios" in answers[0]["body"]
