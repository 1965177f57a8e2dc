"""Short codes: random generated ones and user-chosen aliases."""

from __future__ import annotations

import re
import secrets

from ..errors import InvalidInput

# No 0/O, 1/l/I: codes get read aloud, typed from posters and printed in QR captions.
ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 7
ALIAS_PATTERN = re.compile(r"[A-Za-z0-9_-]{3,64}")
# Paths the service itself uses or may use; compared case-insensitively.
RESERVED = frozenset(
    {
        "api", "docs", "static", "assets", "favicon.ico", "robots.txt", "health",
        "admin", "login", "logout", "signup", "account", "settings", "dashboard",
        "www", "app", "help", "about", "terms", "privacy", "stats", "qr", "console",
        "sitemap.xml", ".well-known", "openapi.json",
    }
)


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def check_alias(alias: str) -> str:
    if not ALIAS_PATTERN.fullmatch(alias):
        raise InvalidInput.single("alias", "must be 3 to 64 characters from A-Z a-z 0-9 _ -")
    if alias.lower() in RESERVED:
        raise InvalidInput.single("alias", f"'{alias}' is reserved")
    return alias


def looks_like_code(code: str) -> bool:
    """Whether a path segment could name a link at all (saves a store round trip otherwise)."""
    return bool(ALIAS_PATTERN.fullmatch(code)) and code.lower() not in RESERVED
