"""Failures the core reports; each knows the HTTP status and problem title it maps to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ShortLinkError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal"
    headers: ClassVar[dict[str, str]] = {}  # answer headers this error always carries
    request_id: str | None = None  # the request it answers, set by the boundary (http/boundary.py)

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(ShortLinkError):
    """One or more fields break the rules for input."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldError(field, message)])


class MalformedBody(ShortLinkError):
    status = 400
    title = "Malformed request body"
    slug = "malformed-body"


class BodyTooLarge(ShortLinkError):
    status = 413
    title = "Request body too large"
    slug = "body-too-large"


class UnsupportedMediaType(ShortLinkError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class AliasTaken(ShortLinkError):
    status = 409
    title = "Alias already taken"
    slug = "alias-taken"


class Forbidden(ShortLinkError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class PreviewWithheld(ShortLinkError):
    """A bot or a HEAD asked for a visit-limited link: it is not counted, so it learns nothing."""

    status = 403
    title = "Open the link in a browser"
    slug = "preview-withheld"


class NoPasswordToEnter(ShortLinkError):
    """A password was posted to a link that has none."""

    status = 405
    title = "Method not allowed"
    slug = "no-password"
    headers: ClassVar[dict[str, str]] = {"Allow": "GET, HEAD"}


class LinkNotFound(ShortLinkError):
    status = 404
    title = "Link not found"
    slug = "not-found"


class NotStored(LinkNotFound):
    """No item holds the code at all (not: a link that is not valid yet): its last life may
    have ended (links/catalogue.py)."""


class LinkGone(ShortLinkError):
    """The link exists but can no longer be followed: expired, disabled or used up."""

    status = 410
    TITLES = {"expired": "Link expired", "disabled": "Link disabled", "exhausted": "Visit limit reached"}

    def __init__(self, detail: str, state: str = "expired") -> None:
        super().__init__(detail)
        self.state = state
        self.title = self.TITLES[state]
        self.slug = state


class PasswordRequired(ShortLinkError):
    """A password-protected link: the visitor must POST the password. `challenge`: when the
    link's open lane of guesses is full, the proof of work the next guess needs (links/proofs.py)."""

    status = 401
    title = "Password required"
    slug = "password-required"
    challenge: str | None = None


class WrongPassword(PasswordRequired):
    title = "Wrong password"
    slug = "wrong-password"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after


class TooManyAttempts(ShortLinkError):
    status = 429
    title = "Too many attempts"
    slug = "too-many-attempts"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after


class ProofRequired(TooManyAttempts):
    """The link's open lane of guesses is full: this guess is checked only with a proof of work
    answering `challenge` (links/proofs.py)."""

    title = "Proof of work required"
    slug = "proof-required"

    def __init__(self, detail: str, challenge: str) -> None:
        super().__init__(detail, 1)
        self.challenge = challenge


class StoreUnavailable(ShortLinkError):
    """DynamoDB failed or timed out: the answer is unknown, so the client should retry."""

    status = 503
    title = "Service temporarily unavailable"
    slug = "unavailable"
    retry_after_seconds = 1


class Unexpected(ShortLinkError):
    """Anything that is no ShortLinkError: a bug or an outage nobody foresaw. Its answer says only
    that it happened and which request it was; the stack is in the log under that id."""

    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"the request failed unexpectedly; it has been logged under request id {request_id}")
        self.request_id = request_id


class ConfigError(ShortLinkError):
    status = 500
    title = "Service misconfigured"
    slug = "misconfigured"


class RouteNotFound(ShortLinkError):
    status = 404
    title = "Not found"
    slug = "no-route"
