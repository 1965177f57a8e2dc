"""The one place where a failure becomes an answer, for every kind of handler (the API's, the
redirect, the web pages, the stream and the schedule).

A ShortLinkError is a known failure: it carries its status and becomes its problem+json (or, for a
browser following a link, its page). Anything else is a bug or an outage nobody foresaw: it is
logged once, with its stack and the request id, and answered as a 500 problem that names the
request id, never as API Gateway's bare "Internal server error". Every problem carries the
request id, so a user's report leads to the log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ..errors import ShortLinkError, Unexpected

T = TypeVar("T")
LOG = logging.getLogger("shortlink")


class Log(Protocol):
    """What the boundary needs of a logger: the standard library's, or Powertools' Logger."""

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None: ...


def known(error: BaseException, request_id: str, log: Log = LOG, *, log_known: bool = False) -> ShortLinkError:
    """The failure as the ShortLinkError it is, or, for anything else, logged once with its stack
    and turned into Unexpected; either way marked with the request it answers. A known failure
    is logged too with `log_known` (handlers whose answer nobody reads: the stream, the schedule)."""
    if not isinstance(error, ShortLinkError):
        log.error("unhandled %s in request %s", type(error).__name__, request_id, exc_info=error,
                  extra={"request_id": request_id})
        return Unexpected(request_id)
    if log_known:
        log.error("%s in request %s: %s", error.title, request_id, error.detail, extra={"request_id": request_id})
    error.request_id = request_id
    return error


def guarded(run: Callable[[], T], answer: Callable[[ShortLinkError], T], request_id: str, log: Log = LOG, *,
            log_known: bool = False) -> T:
    """run()'s result; if it raises, answer() of the failure (see known())."""
    try:
        return run()
    except Exception as error:  # the boundary: nothing leaves a handler unanswered
        return answer(known(error, request_id, log, log_known=log_known))
