"""Short codes: random generated ones and user-chosen aliases."""

from __future__ import annotations

import secrets

from ..errors import InvalidInput
from .limits import ALIAS

# No 0/O, 1/l/I: codes get read aloud, typed from posters and printed in QR captions.
ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 7
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
    ALIAS.check("alias", alias)
    if alias.lower() in RESERVED:
        raise InvalidInput.single("alias", f"'{alias}' is reserved")
    return alias


def looks_like_code(code: str) -> bool:
    """Whether a path segment could name a link at all (saves a store round trip otherwise)."""
    return ALIAS.matches(code) and code.lower() not in RESERVED
