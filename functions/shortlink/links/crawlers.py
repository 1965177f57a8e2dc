"""Crawlers told from people by their User-Agent, from two maintained lists (scripts/crawlers.py
writes crawlers.json from crawler-user-agents and crawlerdetect; their sources are in the table).

- A named crawler of crawler-user-agents is a bot, unless the list tags it an HTTP library
  (curl, python-requests, ...): behind a script there is usually someone, so those stay people.
- crawlerdetect's broad words (bot, crawl, spider, ...), looked for once the browser words are
  taken out, make a bot too, except in a User-Agent that is a whole browser's (Chrome, Safari or
  Firefox on a named system): such a visitor is only *possibly* a bot and is served as a person.
  A person is never locked out of a visit-limited link because a phone's brand reads "bot".

The lists hold about 2,000 regular expressions; running them all costs about a millisecond per
User-Agent. Each carries keys (three lower-case characters any match contains), so a check runs
only the expressions whose keys are in the User-Agent: a few microseconds for a browser's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

Kind = Literal["person", "bot", "possible"]
KEY = 3
# A whole browser's User-Agent: its engine on a named system (the shape every browser sends).
_BROWSER = re.compile(
    r"^Mozilla/5\.0 \((?:Windows NT|Macintosh|X11|Linux; (?:U; )?Android|iPhone|iPad)[^)]*\) "
    r"(?:AppleWebKit/[\d.]+ \(KHTML, like Gecko\)|Gecko/)|^Mozilla/5\.0 \([^)]*rv:[\d.]+\) Gecko/")


@dataclass
class _Pattern:
    source: str
    flags: int
    role: str  # library, named, preview (a named link-preview fetcher) or broad
    _compiled: re.Pattern[str] | None = None

    def search(self, text: str) -> bool:
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled.search(text) is not None


class Crawlers:
    """The table, read at the first check (a few milliseconds, once per instance)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: dict[str, list[_Pattern]] | None = None
        self._browser_words: re.Pattern[str] | None = None
        self.sources: list[str] = []

    def _load(self) -> dict[str, list[_Pattern]]:
        if self._index is None:
            table: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            index: dict[str, list[_Pattern]] = {}
            for entry in table["named"]:
                role = "library" if "http-library" in entry["tags"] else "preview" if "social-preview" in entry["tags"] else "named"
                _file(index, entry["keys"], _Pattern(entry["pattern"], 0, role))
            for entry in table["generic"]:
                _file(index, entry["keys"], _Pattern(entry["pattern"], re.IGNORECASE, "broad"))
            self._browser_words = re.compile("|".join(table["browser_words"]), re.IGNORECASE)
            self.sources = table["sources"]
            self._index = index
        return self._index

    def _matched(self, user_agent: str) -> set[str]:
        """The roles of the patterns the User-Agent matches."""
        index = self._load()
        low = user_agent.lower()
        grams = {low[i:i + KEY] for i in range(len(low) - KEY + 1)}
        candidates = {id(p): p for gram in grams & index.keys() for p in index[gram]}.values()
        roles = {p.role for p in candidates if p.role != "broad" and p.search(user_agent)}
        broad = [p for p in candidates if p.role == "broad"]
        if broad and not roles:
            assert self._browser_words is not None
            rest = self._browser_words.sub("", user_agent)
            if rest.strip() and any(p.search(rest) for p in broad):
                roles.add("broad")
        return roles

    def kind(self, user_agent: str | None) -> Kind:
        return _kind(self, user_agent or "")

    def is_preview_fetcher(self, user_agent: str | None) -> bool:
        """A chat or social app fetching a link's preview (WhatsApp, Telegram, Slack, X, ...)."""
        return bool(user_agent) and "preview" in _roles(self, user_agent or "")


def _file(index: dict[str, list[_Pattern]], keys: list[str], pattern: _Pattern) -> None:
    for key in keys:
        index.setdefault(key, []).append(pattern)


@lru_cache(maxsize=4096)  # visits of one campaign share a few hundred User-Agents
def _roles(crawlers: Crawlers, user_agent: str) -> frozenset[str]:
    return frozenset(crawlers._matched(user_agent))


def _kind(crawlers: Crawlers, user_agent: str) -> Kind:
    if not user_agent.strip():
        return "person"
    roles = _roles(crawlers, user_agent)
    if "library" in roles:
        return "person"
    if roles & {"named", "preview"}:
        return "bot"
    if "broad" in roles:
        return "possible" if _BROWSER.search(user_agent) else "bot"
    return "person"


CRAWLERS = Crawlers(Path(__file__).with_name("crawlers.json"))
