"""The two languages of the pages (zh-CN and English): which one a visitor gets, and the texts."""

from __future__ import annotations

import json
from contextlib import suppress
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from ..links.limits import numbers

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "en"



class _Bound(dict[str, str]):
    """The named bounds a text fills in; a placeholder filled later ({seconds}) stays as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _texts(language: str) -> dict[str, str]:
    """One language's texts (messages/<language>.json), the bounds they name filled in from
    links/limits.py, so that "3-64 letters" is never a copy of the alias rule."""
    raw: dict[str, str] = json.loads((Path(__file__).parent / "messages" / f"{language}.json").read_text(encoding="utf-8"))
    bounds = _Bound({name: str(value) for name, value in numbers().items()})
    return {key: text.format_map(bounds) for key, text in raw.items()}


MESSAGES: dict[str, dict[str, str]] = {language: _texts(language) for language in LANGUAGES}


def _canonical(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def pick_language(accept_language: str | None, chosen: str | None = None) -> str:
    """An explicit choice (?lang= or the lang cookie) wins; then Accept-Language by q."""
    explicit = _canonical(chosen) if chosen else None
    if explicit:
        return explicit
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = _canonical(tag)
        if language and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def language_of(headers: dict[str, str], chosen: str | None = None) -> str:
    """The page language: `chosen` (?lang=), then the lang cookie, then Accept-Language.
    `headers` are the request's, with lower-case names."""
    cookie: SimpleCookie = SimpleCookie()
    with suppress(CookieError):  # a malformed Cookie header only loses the remembered choice
        cookie.load(headers.get("cookie", ""))
    remembered = cookie["lang"].value if "lang" in cookie else None
    return pick_language(headers.get("accept-language"), chosen or remembered)
