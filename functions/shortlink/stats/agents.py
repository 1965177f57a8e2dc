"""Browsers, operating systems and device types from User-Agents, with ua-parser (its maintained
regexes, ua-parser-builtins). Runs in StatsFunction only: the redirect just passes the header on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

UNKNOWN = "(unknown)"
_TABLETS = ("ipad", "tablet", "kindle", "silk")
# Smart TVs and TV sticks (their browsers say so in these words).
_TVS = re.compile(r"smart-?tv|hbbtv|googletv|android tv|appletv|web0s|netcast|bravia|tizen[^)]*\btv\b|\baft[a-z]{1,3}\b|crkey|roku",
                  re.IGNORECASE)


@dataclass(frozen=True)
class Agent:
    browser: str
    os: str
    device: str  # mobile, tablet, tv, desktop or (unknown)


@lru_cache(maxsize=4096)
def describe(user_agent: str | None) -> Agent:
    """Browser, OS and device type of one User-Agent (many visits share one: cached)."""
    if not user_agent:
        return Agent(UNKNOWN, UNKNOWN, UNKNOWN)
    # Imported here: only StatsFunction parses agents (its requirements.txt brings ua-parser);
    # the manage function reads reports from this room without it.
    from ua_parser import parse

    parsed = parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else UNKNOWN
    os = parsed.os.family if parsed.os else UNKNOWN
    device_family = (parsed.device.family if parsed.device else "").lower()
    if _TVS.search(user_agent):
        device = "tv"
    elif any(mark in device_family or mark in user_agent.lower() for mark in _TABLETS) or (
            os == "Android" and "Mobile" not in user_agent):  # Android phones' browsers say Mobile; tablets' don't
        device = "tablet"
    elif os in ("iOS", "Android", "HarmonyOS", "Windows Phone") or "mobile" in user_agent.lower():
        device = "mobile"
    elif os == UNKNOWN or os == "Other":
        device = UNKNOWN
    else:
        device = "desktop"
    return Agent(browser if browser != "Other" else UNKNOWN, os if os != "Other" else UNKNOWN, device)
