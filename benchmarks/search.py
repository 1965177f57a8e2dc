"""Search among one key's links on the devserver (issue 26): answer times at 1,200 and 10,000
links, and the read units a search costs on DynamoDB, modelled from the index items' own sizes
at 10,000 and 1,000,000 links; and what keeping the visits order costs. Prints figures; passes
or fails nothing."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import requests

KEY = "bench-key"
CAMPAIGNS = ["双十二", "年货节", "春节", "元旦", "会员日", "开学季", "女王节", "周年庆", "秒杀", "直播"]
CHANNELS = ["海报", "朋友圈", "公众号", "短信", "抖音", "小红书", "微博", "门店"]
ROUNDS = 20  # each search asked this often at each size
READ_UNIT_BYTES, EVENTUAL = 4096, 0.5  # a read unit reads 4 KB; an eventually consistent read costs half
READ_PRICE, WRITE_PRICE = 0.125e-6, 0.625e-6  # on-demand, us-east-1, $ a read or write request unit
TAG_SHARE = 1 / len(CHANNELS)  # the links a tag of the benchmark's holds


def _make(base: str, first: int, count: int, pick: random.Random) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    session = requests.Session()
    session.headers["x-api-key"] = KEY
    for start in range(first, first + count, 100):
        items = [{"url": f"https://shop{n % 7}.example.cn/c/{n}/item-{pick.randrange(10**6)}?utm_source=poster",
                  "title": f"{pick.choice(CAMPAIGNS)}{pick.choice(CHANNELS)} 第{n}场", "tags": [pick.choice(CHANNELS)]}
                 for n in range(start, min(start + 100, first + count))]
        answer = session.post(f"{base}/api/links/batch", json={"links": items}, timeout=60)
        made += [r["link"] for r in answer.json()["results"] if r["status"] == 201]
    return made


def _drain(base: str) -> None:
    while requests.post(f"{base}/_devserver/drained", timeout=60).json() != {"drained": True}:
        pass


def _timed(base: str, searches: dict[str, dict[str, str]]) -> dict[str, tuple[float, float, int, list[str]]]:
    """Per search: p50 and p95 of its answer time (ms) over ROUNDS, the links it found, and
    the problems of the answers that were not 200."""
    session = requests.Session()
    session.headers["x-api-key"] = KEY
    figures = {}
    for name, params in searches.items():
        times, found, failed = [], 0, []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            answer = session.get(f"{base}/api/links", params={"limit": "50", **params}, timeout=60)
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code == 200:
                found = len(answer.json()["links"])
            else:
                failed.append(f"{answer.status_code} {answer.text[:120]}")
        times.sort()
        figures[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))], found, failed)
    return figures


def _item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value (strings by UTF-8
    length, numbers by about half their digits)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            size += len(value["N"]) // 2 + 1
        else:
            size += len(str(value).encode())
    return size


def _posting_sizes(endpoint: str) -> dict[str, float]:
    """Mean bytes of a life on its owner's `*` list (with its text) and on a tag list."""
    import boto3

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    every, tags, places = [], [], []
    for page in dynamodb.get_paginator("scan").paginate(TableName="SearchTable"):
        for item in page["Items"]:
            name = item["list"]["S"]
            if name.startswith("o:") and name.endswith("|*"):
                every.append(_item_bytes(item))
            elif name.startswith("o:") and "|tag:" in name:
                tags.append(_item_bytes(item))
            elif name.startswith("o:") and name.endswith("|visits"):
                places.append(_item_bytes(item))
    return {"every": statistics.mean(every), "tag": statistics.mean(tags), "visits": statistics.mean(places)}


def search_figures(devserver: Callable[..., Any], tmp: Any) -> dict[str, Any]:
    pick = random.Random(26)
    results: dict[str, Any] = {}
    # No TTL sweeps: each reads every item of every table, which is not what is measured here.
    with devserver(tmp, TTL_SWEEP_INTERVAL="3600") as (base, endpoint):
        made: list[dict[str, Any]] = []
        for size in (1_200, 10_000):
            started = time.perf_counter()
            made += _make(base, len(made), size - len(made), pick)
            _drain(base)
            results[f"indexed {size}"] = time.perf_counter() - started
            oldest = made[3]
            searches = {
                "q: a Chinese title fragment": {"q": oldest["title"][2:6]},
                "q: part of one link's URL": {"q": oldest["url"].split("?")[0][-11:]},
                "q: a code": {"q": oldest["code"]},
                "q: matching nothing": {"q": "不存在的活动"},
                "tag": {"tag": "门店"},
                "state=disabled (none)": {"state": "disabled"},
                "newest first, no filter": {},
                "most visits first": {"sort": "-visits"},
                "most visits first, tag": {"sort": "-visits", "tag": "门店"},
            }
            results[size] = _timed(base, searches)
        results["sizes"] = _posting_sizes(endpoint)
    return results


def print_search(results: dict[str, Any]) -> None:
    for size in (1_200, 10_000):
        print(f"  {size:,} links of one key (made in batches of 100 and indexed from the stream in "
              f"{results[f'indexed {size}']:.0f} s, cumulative):")
        for name, (p50, p95, found, failed) in results[size].items():
            print(f"    {name:32s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({found} on the first page of 50)"
                  + (f"   {len(failed)} failed: {failed[0]}" if failed else ""))
    sizes = results["sizes"]
    print(f"  index items: {sizes['every']:.0f} bytes a life on its owner's `*` list (with its text), "
          f"{sizes['tag']:.0f} on a tag's list, {sizes['visits']:.0f} its place by visits (text, tokens, rank)")
    for lives in (10_000, 1_000_000):
        whole = lives * sizes["every"] / READ_UNIT_BYTES * EVENTUAL
        print(f"  modelled at {lives:>9,} links of one key: a text search that matches nothing reads the whole `*` list: "
              f"{whole:,.0f} read units (${whole * 0.125 / 1e6:.4f}); a filter page of 50 reads "
              f"{max(EVENTUAL, 50 * sizes['tag'] / READ_UNIT_BYTES * EVENTUAL):.1f} units of its list, plus 50 links "
              f"({50 * EVENTUAL:.0f} units) and their tallies")
        entry = sizes["visits"] / READ_UNIT_BYTES * EVENTUAL  # a by_visits entry: the place's text, tokens and rank
        print(f"  {'':30s} by visits: a page of 50 reads {max(EVENTUAL, 50 * entry):.1f} units of the by_visits index "
              f"(with a tag held by 1 in {1 / TAG_SHARE:.0f}: {max(EVENTUAL, 50 / TAG_SHARE * entry):.1f}), the same at any size; "
              f"a text search by visits that matches nothing reads {lives * entry:,.0f}")
    # Keeping the order: a visited life's rank is raised once a window (a minute), in its two
    # scopes; each raise moves its by_visits entry (a delete and a put there), and the life's
    # link and tally are read first (eventually consistent, one each).
    writes, reads = 2 * (1 + 2), 2 * EVENTUAL
    cost = writes * WRITE_PRICE + reads * READ_PRICE
    print(f"  visits order upkeep: {writes} write units and {reads:.0f} read unit per visited link per minute "
          f"(${cost * 1e6:.2f} per million link-minutes; ${cost * 60 * 24 * 30:.4f} a month for a link visited every minute), "
          f"however many visits the minute has")


if __name__ == "__main__":  # this section alone: python benchmarks/search.py
    import tempfile
    from pathlib import Path

    from bench import devserver

    with tempfile.TemporaryDirectory() as folder:
        print_search(search_figures(devserver, Path(folder)))
