"""Every bound on what callers send, declared once.

The rules enforce these (links/checks.py and the modules it calls: codes, urls, passwords), the
OpenAPI document publishes them as JSON Schema keywords (api/schemas.py), the pages' forms take
them from the server that renders them (functions/web: maxlength, min, max) and the texts that
name them are filled in from here (http/i18n.py). A test reads them back from the served OpenAPI
document and checks each against the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput


@dataclass(frozen=True)
class Bounds:
    """JSON Schema's bounds of one field: of a string's length and form, a number's range, a
    list's size and each of its items. `says` is what a value breaking `pattern` is told."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # anchored, as JSON Schema matches it
    says: str = ""
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    items: Bounds | None = None
    _compiled: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.pattern is not None:
            object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def schema(self) -> dict[str, Any]:
        """The JSON Schema keywords (OpenAPI 3.1) of these bounds."""
        keywords: dict[str, Any] = {"minLength": self.min_length, "maxLength": self.max_length, "pattern": self.pattern,
                                    "minimum": self.minimum, "maximum": self.maximum, "maxItems": self.max_items}
        found = {name: value for name, value in keywords.items() if value is not None}
        if self.items is not None:
            found["items"] = self.items.schema()
        return found

    def matches(self, text: str) -> bool:
        return self._compiled is None or self._compiled.fullmatch(text) is not None

    def check(self, name: str, value: Any) -> None:
        """Raise InvalidInput naming `name` when `value` breaks a bound."""
        if isinstance(value, str):
            if not self.matches(value):
                raise InvalidInput.single(name, self.says)
            low, high = self.min_length or 0, self.max_length
            if len(value) < low or (high is not None and len(value) > high):
                raise InvalidInput.single(name, f"must be {low} to {high} characters" if low else f"must be at most {high} characters")
        elif isinstance(value, list):
            if self.max_items is not None and len(value) > self.max_items:
                raise InvalidInput.single(name, f"at most {self.max_items} items")
            for i, item in enumerate(value):
                if self.items is not None:
                    self.items.check(f"{name}[{i}]", item)
        elif isinstance(value, int) and not isinstance(value, bool) and not self._in_range(value):
            raise InvalidInput.single(name, f"must be between {self.minimum} and {self.maximum}")

    def _in_range(self, value: int) -> bool:
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)


# The long URL as stored (after the standard's serialisation), and each per-platform target.
URL = Bounds(max_length=2048)
ALIAS = Bounds(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]{3,64}$",
               says="must be 3 to 64 characters from A-Z a-z 0-9 _ -")
TITLE = Bounds(max_length=200)
TAGS = Bounds(max_items=10, items=Bounds(min_length=1, max_length=50))
PASSWORD = Bounds(min_length=4, max_length=128)
MAX_VISITS = Bounds(minimum=1, maximum=1_000_000_000)
# Redirect rules (links/routing.py): how many, the values one condition may list, a query pair.
RULES = Bounds(max_items=20)
CONDITION = Bounds(max_items=50)
QUERY_NAME = Bounds(min_length=1, max_length=64)
QUERY_VALUE = Bounds(max_length=256)
# A link preview's texts (links/preview.py); its image is a URL under URL's bounds.
PREVIEW_TITLE = Bounds(min_length=1, max_length=200)
PREVIEW_DESCRIPTION = Bounds(max_length=500)

# Each field callers give (by the name they use) and its bounds.
FIELDS: dict[str, Bounds] = {"url": URL, "alias": ALIAS, "title": TITLE, "tags": TAGS, "password": PASSWORD,
                             "max_visits": MAX_VISITS, "rules": RULES}


def numbers() -> dict[str, int]:
    """The bounds as named numbers (alias_min_length, title_max_length, tags_max_items,
    tags_items_max_length …): what pages and texts fill in."""
    named: dict[str, int] = {}

    def add(prefix: str, bounds: Bounds) -> None:
        for name in ("min_length", "max_length", "minimum", "maximum", "max_items"):
            value = getattr(bounds, name)
            if value is not None:
                named[f"{prefix}_{name}"] = value
        if bounds.items is not None:
            add(f"{prefix}_items", bounds.items)

    for field_name, bounds in FIELDS.items():
        add(field_name, bounds)
    return named
