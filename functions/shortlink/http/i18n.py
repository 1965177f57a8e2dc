"""The two languages of the pages (zh-CN and English): which one a visitor gets, and the texts."""

from __future__ import annotations

from contextlib import suppress
from http.cookies import CookieError, SimpleCookie

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Short links",
        "tagline": "Paste a long link, choose a domain and how long it lives, and get a short link with its QR code.",
        "url_label": "Long URL",
        "url_placeholder": "https://example.com/a/very/long/link",
        "domain_label": "Link domain",
        "validity_label": "Valid for",
        "validity.1d": "1 day",
        "validity.7d": "7 days",
        "validity.30d": "30 days",
        "validity.90d": "90 days",
        "validity.180d": "180 days",
        "validity.365d": "1 year",
        "validity.permanent": "Permanent",
        "alias_label": "Custom alias (optional)",
        "alias_hint": "3-64 letters, digits, - or _",
        "shorten": "Shorten",
        "shortening": "Shortening…",
        "result_title": "Your short link",
        "copy": "Copy",
        "copied": "Copied",
        "copy_failed": "Copy failed: select the link and copy it yourself.",
        "qr_alt": "QR code of the short link",
        "expires_label": "Expires",
        "never_expires": "Never expires",
        "error.url": "Enter a valid http:// or https:// address (no spaces, no user name, not one of our short links).",
        "error.alias": "Use 3-64 letters, digits, - or _ (some words are reserved).",
        "error.alias_taken": "This alias is already taken. Choose another one.",
        "error.domain": "Choose one of the listed domains.",
        "error.validity": "Choose one of the listed periods.",
        "error.disabled": "Anonymous shortening is turned off on this service.",
        "error.too_many": "Too many requests. Wait a moment and try again.",
        "error.unavailable": "The service is busy. Try again in a moment.",
        "error.network": "Could not reach the service. Check your connection; what you typed is kept.",
        "error.generic": "Something went wrong. Try again.",
        "language": "Language",
        "page.not_found.title": "Link not found",
        "page.not_found.body": "This short link does not exist (or is not active yet). Check the address.",
        "page.expired.title": "Link expired",
        "page.expired.body": "This short link has expired and no longer leads anywhere.",
        "page.disabled.title": "Link disabled",
        "page.disabled.body": "The owner of this short link has turned it off.",
        "page.exhausted.title": "Visit limit reached",
        "page.exhausted.body": "This short link has been used as many times as its owner allowed.",
        "page.unavailable.title": "Temporarily unavailable",
        "page.unavailable.body": "The service could not look up this link just now. Reload the page in a moment.",
        "page.password.title": "Protected link",
        "page.password.body": "Enter the password to open this link.",
        "page.password.wrong": "That password is not right.",
        "page.password.too_many": "Too many wrong passwords. Try again in {seconds} s.",
        "page.preview.title": "Open in a browser",
        "page.preview.body": "This link can be opened a limited number of times. Previews do not use up a visit, so they do not see where it leads.",
        "page.password.label": "Password",
        "page.password.submit": "Open link",
        "page.home": "Make your own short link",
    },
    "zh-CN": {
        "title": "短链接",
        "tagline": "粘贴长链接，选择链接域名和有效期，立即获得短链接和二维码。",
        "url_label": "长链接",
        "url_placeholder": "https://example.com/很长的链接",
        "domain_label": "链接域名",
        "validity_label": "短网址有效期",
        "validity.1d": "1天",
        "validity.7d": "7天",
        "validity.30d": "30天",
        "validity.90d": "90天",
        "validity.180d": "180天",
        "validity.365d": "1年",
        "validity.permanent": "永久有效",
        "alias_label": "自定义后缀（可选）",
        "alias_hint": "3-64 位字母、数字、- 或 _",
        "shorten": "生成短链接",
        "shortening": "正在生成…",
        "result_title": "您的短链接",
        "copy": "复制",
        "copied": "已复制",
        "copy_failed": "复制失败，请手动选择链接复制。",
        "qr_alt": "短链接二维码",
        "expires_label": "到期时间",
        "never_expires": "永久有效",
        "error.url": "请输入有效的 http:// 或 https:// 网址（不能有空格或用户名，也不能是本站短链接）。",
        "error.alias": "请使用 3-64 位字母、数字、- 或 _（部分词语为保留字）。",
        "error.alias_taken": "该后缀已被占用，请换一个。",
        "error.domain": "请选择列表中的域名。",
        "error.validity": "请选择列表中的有效期。",
        "error.disabled": "本服务已关闭匿名生成短链接。",
        "error.too_many": "请求过于频繁，请稍后再试。",
        "error.unavailable": "服务繁忙，请稍后再试。",
        "error.network": "无法连接服务，请检查网络；已填写的内容仍然保留。",
        "error.generic": "出错了，请重试。",
        "language": "语言",
        "page.not_found.title": "链接不存在",
        "page.not_found.body": "该短链接不存在（或尚未生效），请检查网址。",
        "page.expired.title": "链接已过期",
        "page.expired.body": "该短链接已过期，无法继续访问。",
        "page.disabled.title": "链接已停用",
        "page.disabled.body": "该短链接已被所有者停用。",
        "page.exhausted.title": "访问次数已用完",
        "page.exhausted.body": "该短链接的访问次数已达到上限。",
        "page.unavailable.title": "暂时无法访问",
        "page.unavailable.body": "服务暂时无法查询该链接，请稍后刷新页面。",
        "page.password.title": "受保护的链接",
        "page.password.body": "请输入访问密码以打开该链接。",
        "page.password.wrong": "密码不正确。",
        "page.password.too_many": "密码错误次数过多，请 {seconds} 秒后再试。",
        "page.preview.title": "请在浏览器中打开",
        "page.preview.body": "该短链接的访问次数有限。预览不计入访问次数，因此无法看到目标网址。",
        "page.password.label": "访问密码",
        "page.password.submit": "打开链接",
        "page.home": "生成我的短链接",
    },
}


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
