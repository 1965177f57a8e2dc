"""Writes functions/shortlink/links/crawlers.json, the redirect's table of crawler User-Agents,
from two maintained lists that requirements-dev.txt pins:

- crawler-user-agents (MIT, https://github.com/monperrus/crawler-user-agents): named crawlers,
  each tagged (search-engine, social-preview, monitoring, ai-crawler, http-library, ...);
- crawlerdetect (MIT, a port of https://github.com/JayBizzle/Crawler-Detect): broad patterns
  (bot, crawl, spider, ...) run on the User-Agent once the browser words are taken out.

A check runs each pattern's regular expression only when the User-Agent holds one of the
pattern's keys: three lower-case characters that any match must contain (taken from the
pattern's literal text, the key rarest among real browsers' User-Agents). Working the keys out
takes seconds; the redirect reads them from the table. `make crawlers` runs this; a test fails
when the committed table is not what the installed packages give.

To refresh: raise both pins in requirements-dev.txt, `make crawlers`, commit the table.
"""

from __future__ import annotations

import json
import re
import re._constants as sre_constants  # the parser re compiles with: the literal text a pattern needs
import re._parser as sre_parse
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "functions" / "shortlink" / "links" / "crawlers.json"
BROWSERS = ROOT / "tests" / "data" / "intoli-browsers.tsv"  # only to rank the keys: rare ones first
KEY = 3



def _literals(parsed: Any) -> list[set[str]]:
    """Sets of text of which a match must contain at least one member each (case kept)."""
    found: list[set[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            found.append({"".join(run)})
            run.clear()

    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        close()
        if op is sre_constants.SUBPATTERN:
            found += _literals(arg[-1])
        elif op is sre_constants.BRANCH:  # a match contains the text one of the branches needs
            picks = [_best(_literals(branch)) for branch in arg[1]]
            if all(len(pick) >= KEY for pick in picks):
                found.append(set(picks))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[0] >= 1:
            found += _literals(arg[2])
    close()
    return found


def _best(needs: list[set[str]]) -> str:
    """The longest text a branch needs on its own ("" when it needs none for sure)."""
    return max((next(iter(texts)) for texts in needs if len(texts) == 1), key=len, default="")


def keys(pattern: str, flags: int, rarity: Counter[str]) -> list[str]:
    """The keys of a pattern: one of them is in any User-Agent it matches; [] when none can be
    worked out (such a pattern is run on every User-Agent)."""
    candidates = []
    for texts in _literals(sre_parse.parse(pattern, flags)):
        if all(len(text) >= KEY for text in texts):
            grams = [min((t.lower()[i:i + KEY] for i in range(len(t) - KEY + 1)), key=lambda g: rarity[g]) for t in texts]
            candidates.append(sorted(set(grams)))
    if not candidates:
        return []
    return min(candidates, key=lambda grams: (sum(rarity[g] for g in grams), len(grams)))


def build() -> dict[str, Any]:
    import crawlerdetect.providers.crawlers as broad
    import crawlerdetect.providers.exclusions as exclusions
    import crawleruseragents

    rarity: Counter[str] = Counter()
    for line in BROWSERS.read_text(encoding="utf-8").splitlines():
        agent = line.split("\t", 1)[1].lower()
        rarity.update({agent[i:i + KEY] for i in range(len(agent) - KEY + 1)})
    named = [{"pattern": e["pattern"], "tags": e["tags"], "keys": keys(e["pattern"], 0, rarity)}
             for e in crawleruseragents.CRAWLER_USER_AGENTS_DATA]
    generic = [{"pattern": p, "keys": keys(p, re.IGNORECASE, rarity)} for p in broad.data]
    return {
        "sources": [f"crawler-user-agents {version('crawler-user-agents')} (MIT, https://github.com/monperrus/crawler-user-agents)",
                    f"crawlerdetect {version('crawlerdetect')} (MIT, https://github.com/JayBizzle/Crawler-Detect)"],
        "named": named,
        "generic": generic,
        "browser_words": list(exclusions.data),
    }


def text() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=0, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(text(), encoding="utf-8")
    table = json.loads(OUTPUT.read_text(encoding="utf-8"))
    unkeyed = sum(1 for part in ("named", "generic") for entry in table[part] if not entry["keys"])
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size / 1e3:.0f} kB; {unkeyed} patterns without a key)")
