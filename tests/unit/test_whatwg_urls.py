"""The long-URL rules against web-platform-tests' urltestdata.json (tests/data/README.md): the
cases a user could paste, the http and https URLs that need no base. A URL the standard refuses
is refused; a URL it accepts is stored exactly as it serialises it, or refused only by the
documented policy (a user name or password, a host name DNS cannot look up)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shortlink.errors import InvalidInput
from shortlink.links.urls import MAX_HOST_LENGTH, MAX_LABEL_LENGTH, normalize_url

CORPUS = Path(__file__).parents[1] / "data" / "urltestdata.json"
# What the URL parser strips before reading (C0 controls and space at the ends, tab and newline anywhere).
_ENDS = "".join(chr(c) for c in range(0x21))
# With a base, "http:foo" resolves against it; "http://" (or "http:\\") starts an authority whatever the base.
_NEEDS_NO_BASE = re.compile(r"(?i)^https?:[/\\]{2}")


def _pasteable(case: dict[str, Any]) -> bool:
    text = re.sub(r"[\t\n\r]", "", case["input"].strip(_ENDS))
    if case.get("base") is None:
        return bool(re.match(r"(?i)^https?:", text))
    return bool(_NEEDS_NO_BASE.match(text))


CASES = [case for case in json.loads(CORPUS.read_text(encoding="utf-8")) if isinstance(case, dict) and _pasteable(case)]


def _policy_refusal(case: dict[str, Any]) -> str | None:
    """What the documented policy says of a URL the standard accepts, from the case's own parts."""
    if case["username"] or case["password"]:
        return "user name or password"
    labels = case["hostname"].removesuffix(".").split(".")
    if len(".".join(labels)) > MAX_HOST_LENGTH or not all(0 < len(label) <= MAX_LABEL_LENGTH for label in labels):
        return "DNS cannot look up"
    return None


def test_the_corpus_has_both_kinds_of_case() -> None:
    refused = [case for case in CASES if case.get("failure")]
    assert len(CASES) > 300 and len(refused) > 150, (len(CASES), len(refused))


@pytest.mark.parametrize("case", CASES, ids=[ascii(case["input"])[1:-1][:60] for case in CASES])
def test_a_url_is_read_as_browsers_read_it(case: dict[str, Any]) -> None:
    if case.get("failure"):
        with pytest.raises(InvalidInput):
            normalize_url(case["input"], ("s.example.com",), ())
        return
    refusal = _policy_refusal(case)
    if refusal is None:
        assert normalize_url(case["input"], ("s.example.com",), ()) == case["href"]
        return
    with pytest.raises(InvalidInput) as caught:
        normalize_url(case["input"], ("s.example.com",), ())
    assert refusal in caught.value.errors[0].message
