"""stats/agents.py: browser, OS and device type from a User-Agent, with ua-parser's rules."""

from __future__ import annotations

import pytest

from shortlink.stats.agents import Agent, describe


@pytest.mark.parametrize("user_agent, agent", [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50",
     Agent("WeChat Browser", "iOS", "mobile")),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36", Agent("Chrome", "Android", "mobile")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36", Agent("Chrome", "Windows", "desktop")),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", Agent("Mobile Safari UI/WKWebView", "iOS", "tablet")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15", Agent("Safari", "Mac OS X", "desktop")),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Agent("Firefox", "Linux", "desktop")),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
     Agent("Chrome", "Android", "tablet")),  # an Android browser without "Mobile": a tablet's
    ("Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/538.1 (KHTML, like Gecko) Version/6.0 TV Safari/538.1",
     Agent("Safari", "Tizen", "tv")),
    ("Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager",
     Agent("Chrome", "Web0S", "tv")),
    (None, Agent("(unknown)", "(unknown)", "(unknown)")),
])
def test_agents_are_described_by_maintained_rules(user_agent: str | None, agent: Agent) -> None:
    assert describe(user_agent) == agent
