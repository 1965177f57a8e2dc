"""What a User-Agent says about the visitor: platform, in-app browser, bot, link-preview fetcher."""

from __future__ import annotations

import re

from .crawlers import CRAWLERS

# In-app browsers that matter to users of Chinese short-link services, checked in order.
_APPS = (
    ("wechat", re.compile(r"MicroMessenger", re.IGNORECASE)),
    ("qq", re.compile(r"\bQQ/|MQQBrowser", re.IGNORECASE)),
    ("weibo", re.compile(r"Weibo", re.IGNORECASE)),
    ("douyin", re.compile(r"aweme|Douyin|BytedanceWebview", re.IGNORECASE)),
    ("alipay", re.compile(r"AlipayClient", re.IGNORECASE)),
    ("dingtalk", re.compile(r"DingTalk", re.IGNORECASE)),
    ("feishu", re.compile(r"Lark/|Feishu", re.IGNORECASE)),
    ("xiaohongshu", re.compile(r"xhsdiscover|XiaoHongShu", re.IGNORECASE)),
    ("kuaishou", re.compile(r"Kwai|kuaishou", re.IGNORECASE)),
    ("taobao", re.compile(r"AliApp\(TB", re.IGNORECASE)),
)
APPS = tuple(name for name, _ in _APPS)


def platform(user_agent: str | None) -> str:
    """ios, android, windows, macos, linux or other."""
    ua = user_agent or ""
    if re.search(r"iPhone|iPad|iPod", ua):
        return "ios"
    if "Android" in ua:
        return "android"
    if "Windows" in ua:
        return "windows"
    if "Macintosh" in ua or "Mac OS X" in ua:
        return "macos"
    if "Linux" in ua or "X11" in ua:
        return "linux"
    return "other"


def in_app(user_agent: str | None) -> str | None:
    ua = user_agent or ""
    return next((name for name, pattern in _APPS if pattern.search(ua)), None)


def is_bot(user_agent: str | None) -> bool:
    """A crawler for sure (links/crawlers.py): it is recorded, not counted, and a visit-limited link
    tells it nothing. HTTP libraries and User-Agents only possibly a bot are served as people."""
    return CRAWLERS.kind(user_agent) == "bot"


def is_preview_fetcher(user_agent: str | None) -> bool:
    return CRAWLERS.is_preview_fetcher(user_agent)
