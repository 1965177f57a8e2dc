"""The HTML answer to an error, for browsers: a page in the visitor's language, in the same
look as the web page (and the password form where the error asks for a password)."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from typing import Any

from ..errors import (
    LinkGone,
    LinkNotFound,
    PasswordRequired,
    PreviewWithheld,
    ShortLinkError,
    StoreUnavailable,
    TooManyAttempts,
    WrongPassword,
)
from ..links.proofs import BITS
from .i18n import MESSAGES, language_of
from .problems import problem_headers, problem_response

TEMPLATES = Path(__file__).parent / "templates"
PAGE = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))
PASSWORD_FORM = Template((TEMPLATES / "password-form.html").read_text(encoding="utf-8"))
# No form-action: browsers apply it to the redirect after the password post as well,
# and that redirect goes to the link's own site.
PAGE_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'"


def _page_texts(error: ShortLinkError) -> tuple[str, str, bool] | None:
    """(page, message key, with the password form) for errors a browser gets as a page."""
    if isinstance(error, (PasswordRequired, TooManyAttempts)):
        key = {WrongPassword: "wrong", TooManyAttempts: "too_many"}.get(type(error), "body")
        return "password", f"page.password.{key}", True  # the form stays, also while waiting
    if isinstance(error, PreviewWithheld):
        return "preview", "page.preview.body", False
    if isinstance(error, LinkGone):
        return error.state, f"page.{error.state}.body", False
    if isinstance(error, LinkNotFound):
        return "not_found", "page.not_found.body", False
    if isinstance(error, StoreUnavailable):
        return "unavailable", "page.unavailable.body", False
    return None


def error_response(error: ShortLinkError, headers: dict[str, str]) -> dict[str, Any]:
    """A page in the visitor's language for browsers (Accept: text/html); problem+json otherwise.
    `headers` are the request's, with lower-case names."""
    texts = _page_texts(error)
    if texts is None or "text/html" not in headers.get("accept", ""):
        return problem_response(error)
    page, message_key, with_form = texts
    lang = language_of(headers)
    words = MESSAGES[lang]
    challenge = getattr(error, "challenge", None)
    form = PASSWORD_FORM.substitute(
        label=html.escape(words["page.password.label"]), submit=html.escape(words["page.password.submit"]),
        # the page's script (web/static/unlock.js) finds the proof while the password is typed
        proof_attributes=f' data-bits="{BITS}" data-working="{html.escape(words["page.password.working"])}"' if challenge else "",
        proof_inputs=(f'<input type="hidden" name="challenge" value="{html.escape(challenge)}">\n'
                      '<input type="hidden" name="proof" value="">\n<script src="static/unlock.js" defer></script>\n')
        if challenge else "") if with_form else ""
    if challenge:
        message_key = "page.password.proof"
    body = PAGE.substitute(
        lang=lang,
        title=html.escape(words[f"page.{page}.title"]),
        message=html.escape(words[message_key].format(seconds=getattr(error, "retry_after_seconds", ""))),
        message_class="form-error" if message_key.endswith(("wrong", "too_many", "proof")) else "",
        form=form,
        home=html.escape(words["page.home"]),
    )
    response_headers = {**problem_headers(error), "Content-Type": "text/html; charset=utf-8", "Content-Language": lang,
                        "Content-Security-Policy": PAGE_CSP + ("; script-src 'self'" if challenge else ""),
                        "Vary": "Accept, Accept-Language"}
    return {"statusCode": error.status, "headers": response_headers, "body": body}
