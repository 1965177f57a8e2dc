"""Finding links among a month of campaigns over real HTTP (issue 26): 1,200 links of one key,
searched by a Chinese title fragment, part of the URL and the code, filtered by tag and state,
newest first or by visits; and an ended campaign that stays listed, readable and 410 after TTL
deleted it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from support import Devserver, alias, eventually, keyed

KEY = "search-key-000000000000000"
OTHER = "search-other-key-000000000"
# A marketer's month: campaign names and channels, in Chinese, combined into titles.
CAMPAIGNS = ["双十二", "年货节", "春节", "元旦", "会员日", "开学季", "女王节", "周年庆", "秒杀", "直播"]
CHANNELS = ["海报", "朋友圈", "公众号", "短信", "抖音", "小红书", "微博", "门店"]
LINKS = 1_200


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Devserver, list[dict[str, Any]]]]:
    """A devserver of its own with 1,200 links of one key, made in 12 batches, indexed."""
    # No TTL sweeps (each reads every item): ~100,000 postings are enough work for the embedded store.
    dev = Devserver(tmp_path_factory.mktemp("search"), LOCAL_API_KEYS=f"{KEY},{OTHER}", TTL_SWEEP_INTERVAL="3600").start()
    pick = random.Random(26)
    made: list[dict[str, Any]] = []
    for batch in range(LINKS // 100):
        items = [{"url": f"https://shop{n % 7}.example.cn/c/{n}/item-{pick.randrange(10**6)}?utm_source=poster",
                  "title": f"{pick.choice(CAMPAIGNS)}{pick.choice(CHANNELS)} 第{n}场", "tags": [pick.choice(CHANNELS)]}
                 for n in range(batch * 100, batch * 100 + 100)]
        answer = keyed(KEY).post(f"{dev.url}/api/links/batch", json={"links": items})
        assert answer.status_code == 200
        made += [result["link"] for result in answer.json()["results"]]
    dev.drain(rounds=10)
    yield dev, made
    dev.stop()


def _first_page(server: Devserver, **params: Any) -> dict[str, Any]:
    answer = keyed(KEY).get(f"{server.url}/api/links", params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def test_q_finds_a_link_by_a_chinese_title_fragment_part_of_its_url_and_its_code_in_the_first_answer(
        month: tuple[Devserver, list[dict[str, Any]]]) -> None:
    server, made = month
    oldest = made[3]  # among the first made: the last of 1,200 newest first
    fragment = oldest["title"][2:6]  # e.g. "节朋友圈" across the campaign and the channel
    found = _first_page(server, q=fragment, limit=100)["links"]
    assert oldest["code"] in [link["code"] for link in found]
    assert all(fragment in link["title"] for link in found)
    path = oldest["url"].split(".cn", 1)[1].split("?")[0][-9:]  # "item-123456"-like end of its path
    assert [link["code"] for link in _first_page(server, q=path)["links"]] == [oldest["code"]]
    assert [link["code"] for link in _first_page(server, q=oldest["code"])["links"]] == [oldest["code"]]
    assert _first_page(server, q="不存在的活动")["links"] == []


def test_tag_and_state_pages_are_never_empty_while_matches_remain_and_newest_comes_first(
        month: tuple[Devserver, list[dict[str, Any]]]) -> None:
    server, made = month
    session = keyed(KEY)
    rare_tag = alias("rare")
    oldest_two = made[:2]
    for link in oldest_two:
        assert session.patch(f"{server.url}/api/links/{link['code']}", json={"tags": [rare_tag], "disabled": True}).status_code == 200
    server.drain()
    by_tag = _first_page(server, tag=rare_tag, limit=10)
    assert {link["code"] for link in by_tag["links"]} == {link["code"] for link in oldest_two}
    disabled = _first_page(server, state="disabled", limit=1)  # the oldest two of 1,200: one a page
    assert len(disabled["links"]) == 1 and disabled["cursor"]
    rest = _first_page(server, state="disabled", limit=1, cursor=disabled["cursor"])
    assert {link["code"] for link in disabled["links"] + rest["links"]} == {link["code"] for link in oldest_two}
    newest = _first_page(server, limit=100)["links"]
    stamps = [link["created_at"] for link in newest]
    assert stamps == sorted(stamps, reverse=True) and stamps[0] == max(link["created_at"] for link in made)
    oldest_first = [link["created_at"] for link in _first_page(server, sort="created", limit=3)["links"]]
    assert oldest_first == sorted(link["created_at"] for link in made)[:3]
    assert keyed(OTHER).get(f"{server.url}/api/links", params={"q": made[0]["code"]}).json()["links"] == []


def _visit(server: Devserver, code: str, times: int) -> None:
    for _ in range(times):
        assert requests.get(f"{server.url}/{code}", allow_redirects=False).status_code == 302


def test_sort_by_visits_lists_the_most_visited_first_across_pages_and_filters(month: tuple[Devserver, list[dict[str, Any]]]) -> None:
    server, made = month
    session = keyed(KEY)
    tag = alias("hot")
    # A visit limit: its visits are counted on its own item, the others' on counters. (The module's
    # links are changed, not added to: the other tests count on the 1,200.)
    limited = session.patch(f"{server.url}/api/links/{made[700]['code']}", json={"title": "秒杀 限量", "max_visits": 100, "tags": [tag]})
    assert limited.status_code == 200
    # Among 1,200: visits 7 (limited), 5, 3, 3 (the later one first among equals), 1.
    picked = {made[500]["code"]: 5, made[10]["code"]: 3, made[900]["code"]: 3, made[1100]["code"]: 1, made[700]["code"]: 7}
    for code, times in picked.items():
        _visit(server, code, times)
    assert session.patch(f"{server.url}/api/links/{made[10]['code']}", json={"tags": [tag]}).status_code == 200
    server.drain()
    expected = [made[700]["code"], made[500]["code"], made[900]["code"], made[10]["code"], made[1100]["code"]]
    first = _first_page(server, sort="-visits", limit=3)
    rest = _first_page(server, sort="-visits", limit=3, cursor=first["cursor"])
    listed = first["links"] + rest["links"]
    assert [link["code"] for link in listed[:5]] == expected
    assert [link["visits"] for link in listed] == [7, 5, 3, 3, 1, 0]
    assert [link["code"] for link in _first_page(server, sort="-visits", tag=tag)["links"]] == [expected[0], made[10]["code"]]
    assert [link["code"] for link in _first_page(server, sort="-visits", q="秒杀 限量")["links"]] == [expected[0]]
    fewest = _first_page(server, sort="visits", limit=100)["links"]
    assert all(link["visits"] == 0 for link in fewest) and expected[-1] not in [link["code"] for link in fewest]
    assert keyed(OTHER).get(f"{server.url}/api/links", params={"sort": "-visits"}).json()["links"] == []
    wrong = session.get(f"{server.url}/api/links", params={"sort": "-visits", "cursor": _first_page(server, limit=1)["cursor"]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "cursor"


@pytest.fixture()
def sweeping(tmp_path: Any) -> Iterator[Devserver]:
    """A devserver whose TTL sweeper deletes expired items within a second of their expiry."""
    dev = Devserver(tmp_path, LOCAL_API_KEYS=KEY, TTL_SWEEP_INTERVAL="1", TTL_SWEEP_LAG="0").start()
    yield dev
    dev.stop()


def test_an_ended_campaign_stays_listed_readable_and_410_after_ttl_deleted_it(sweeping: Devserver) -> None:
    server = sweeping
    session = keyed(KEY)
    code = alias("ended")
    first = session.post(f"{server.url}/api/links", json={"url": "https://example.com/sale", "alias": code, "validity": "1d",
                                                         "title": "限时秒杀"})
    assert first.status_code == 201
    for _ in range(3):
        assert requests.get(f"{server.url}/{code}", allow_redirects=False).status_code == 302
    server.advance_clock(2 * 86_400)  # past its expiry: the TTL sweeper (lag 0) deletes it
    key = {"link_id": {"S": f"{first.json()['domain']}/{code}"}}
    eventually(lambda: server.dynamodb.get_item(TableName="LinksTable", Key=key).get("Item") is None)
    server.drain()
    assert keyed(KEY).get(f"{server.url}/api/links/{code}").json()["state"] == "expired"
    gone = requests.get(f"{server.url}/{code}", allow_redirects=False)
    assert gone.status_code == 410  # not 404: its campaign ended
    listed = _first_page(server, q=code)["links"]
    assert [(link["state"], link["visits"]) for link in listed] == [("expired", 3)]
    stats = session.get(f"{server.url}/api/links/{code}/stats")
    assert stats.status_code == 200 and stats.json()["total"] == 3
    assert [link["code"] for link in _first_page(server, state="expired")["links"]].count(code) == 1
    again = session.post(f"{server.url}/api/links", json={"url": "https://example.com/sale-2", "alias": code})
    assert again.status_code == 201
    assert requests.get(f"{server.url}/{code}", allow_redirects=False).status_code == 302
    server.drain()
    lives = _first_page(server, q=code)["links"]
    assert [(link["url"], link["state"], link["visits"]) for link in lives] == [
        ("https://example.com/sale-2", "active", 1), ("https://example.com/sale", "expired", 3)]
