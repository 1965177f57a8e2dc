"""Following a short link: which link a request names, whether its rules let this visit
through, where it goes (per-platform target, forwarded query) and how long it may be cached."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..clock import MINUTE, SECOND, to_seconds
from ..errors import (
    LinkGone,
    LinkNotFound,
    NoPasswordToEnter,
    PasswordRequired,
    PreviewWithheld,
    ProofRequired,
    ShortLinkError,
    StoreUnavailable,
    TooManyAttempts,
    WrongPassword,
)
from ..settings import Settings, domain_for_host
from . import proofs
from .cache import Copy, LinkCache
from .codes import looks_like_code
from .counters import pick
from .guards import claim_guess, get_with_guards, guess_window
from .identity import LinkId
from .model import Link
from .passwords import hash_password, retry_delay
from .routing import Visitor, destination_url, has_window
from .store import LinkStore, StaleCopy, Unlock, VisitRefused
from .tickets import claim_order
from .useragent import in_app, is_bot, platform

if TYPE_CHECKING:
    from .catalogue import Catalogue

# Password guesses: each visitor waits 1, 2, 4 … 300 s after each wrong one; a link checks at most
# GUESSES_PER_MINUTE guesses from everyone together (a right one is given back), so many addresses
# gain an attacker no speed. A visitor's back-off is forgotten an hour after it ends.
GUESSES_PER_MINUTE = 20
# Past that lane, guesses with a proof of work (links/proofs.py): a bound on the item's writes.
PROVEN_PER_MINUTE = 600
FORGIVE_AFTER = 60 * MINUTE
FORGET_PER_GUESS = 20
# The User-Agent the stream carries to the statistics (browser, OS, device are parsed there).
MAX_AGENT = 512
# Browsers and proxies may reuse a redirect this long, but never past the link's
# expiry: a visit served from a cache is also a visit the statistics never see.
MAX_REDIRECT_CACHE = MINUTE


def refusal(link: Link, now: int, *, password_given: bool = False) -> ShortLinkError:
    """Why a stored link does not redirect this visit."""
    name = link.id
    state = link.state(now)
    if state == "scheduled":
        return LinkNotFound(f"no link {name}")  # not yet valid: as if it did not exist yet
    if state != "active":
        return LinkGone(f"{name} is {state}", state)
    if link.password_hash is None:
        if password_given:
            return NoPasswordToEnter(f"{name} has no password; follow it with GET")
        # The condition refused an item that looks followable: it must have changed in between
        # (a PATCH). Retrying is right; a 404 would be a lie.
        return StoreUnavailable(f"{name} changed while it was being followed; retry")
    return PasswordRequired("this link is protected by a password")


def country_code(header: str | None) -> str | None:
    """CloudFront-Viewer-Country when it is a country code (upper case), else None."""
    if header and len(header) == 2 and header.isascii() and header.isalpha():
        return header.upper()
    return None


def visit_facts(user_agent: str | None, referer: str | None, request_id: str, now: int,
                country: str | None = None, visitor: str | None = None, network: str | None = None) -> dict[str, Any]:
    """What the redirect records as last_visit: the stream hands it to the statistics.
    `country` is CloudFront-Viewer-Country (sent when CloudFront is in front): kept when it is a code;
    `visitor` is a keyed hash of address and User-Agent (stats/visitors.py), never the address;
    `network` the visitor's /24 or /48, whose country StatsFunction looks up when no header gave one.
    The stream carries `at` in whole epoch seconds, as stored numbers are (stats/stream.py reads it)."""
    facts: dict[str, Any] = {"id": request_id, "at": to_seconds(now), "platform": platform(user_agent), "bot": is_bot(user_agent)}
    if visitor:
        facts["visitor"] = visitor
    code = country_code(country)
    if code:
        facts["country"] = code
    elif network:
        facts["net"] = network
    if user_agent:
        facts["ua"] = user_agent[:MAX_AGENT]
    app = in_app(user_agent)
    if app:
        facts["app"] = app
    try:
        host = urlsplit(referer).hostname if referer else None
    except ValueError:
        host = None
    if host:
        facts["referrer"] = host.lower()[:253]
    return facts


def follow(store: LinkStore, settings: Settings, host: str | None, code: str, now: int, *,
           facts: dict[str, Any] | None, cache: LinkCache | None = None, previewer: bool = False) -> Link:
    """The link host/code leads to, its visit recorded (bots are recorded, not counted); HEAD
    (facts None) only reads. Neither a bot nor a HEAD, which use up no visit, learns where a
    visit-limited link leads; a link-preview fetcher (`previewer`) of a link with a preview gets
    the link, to show the preview (which names no destination).

    A link with max_visits or a password is counted in one conditional UpdateItem of its own
    item that checks every rule (the visit limit is exact). Any other link is read from `cache`
    (or read once and kept there) and its visit goes to one of its visit counters
    (links/counters.py). With VISIT_COUNTERS=0 every visit takes the conditional write."""
    link_id = _link_id(settings, host, code)
    cached = cache if settings.visit_counters else None
    if facts is None:
        # A HEAD counts nothing, so no fence would tell it a copy is stale: it reads the link
        # (and keeps what it read as the copy).
        link = store.get(link_id)
        if cached is not None:
            cached.put(store.table, link, now)
        if link.state(now) != "active" or link.password_hash is not None:
            raise refusal(link, now)
    elif cached is None:
        link = _count_on_link(store, link_id, now, facts, None)
    else:
        link = _count_from_copy(store, settings, link_id, now, facts, cached)
    if link.max_visits is not None and (facts is None or facts["bot"]) and not (previewer and link.preview):
        raise PreviewWithheld(f"{link_id} counts its visits: open it in a browser")
    return link


def _count_from_copy(store: LinkStore, settings: Settings, link_id: LinkId, now: int, facts: dict[str, Any],
                     cache: LinkCache) -> Link:
    """Follow the instance's copy of the link. A copy older than the link's last PATCH or DELETE
    is refused by its counter's fence: the link is read again (strongly: the change has
    returned) and followed once more from that."""
    link = _read(store, link_id, now, cache)
    for fresh in (False, True):
        if link.state(now) != "active" or link.password_hash is not None:
            raise refusal(link, now)
        try:
            if facts["bot"] or link.max_visits is None:
                store.count_visit(link, pick(settings.visit_counters), now, facts, count=not facts["bot"])
                return link
            if link.ticketed:
                return _claim_ticket(store, settings, link, now, facts, cache)
            return _count_on_link(store, link_id, now, facts, cache)
        except StaleCopy:
            if fresh:
                break
            cache.forget(store.table, link_id)  # deleted: no copy is left behind
            link = store.get(link_id)
            cache.put(store.table, link, now)
    raise StoreUnavailable(f"{link_id} changed again while it was being followed; retry")


def _claim_ticket(store: LinkStore, settings: Settings, link: Link, now: int, facts: dict[str, Any], cache: LinkCache) -> Link:
    """A ticketed link's visit (links/tickets.py): a ticket from its counters in random order,
    skipping those this copy found empty; when none holds one, the copy answers "used up" until
    the link changes, with no write."""
    kept = cache.copy(store.table, link.id)
    copy = kept if kept is not None and kept.link is link else Copy(now, link)
    if not copy.used_up:
        assert link.max_visits is not None
        for counter in claim_order(link.max_visits, settings.visit_counters):
            if counter in copy.empty:
                continue
            if store.claim_ticket(link, counter, now, facts):
                return link
            copy.empty.add(counter)
        copy.used_up = True
    raise LinkGone(f"{link.id} is exhausted", "exhausted")


def _count_on_link(store: LinkStore, link_id: LinkId, now: int, facts: dict[str, Any], cache: LinkCache | None) -> Link:
    """The visit in one conditional write of the link's item, which checks every rule."""
    try:
        return store.visit(link_id, now, facts, count=not facts["bot"])
    except VisitRefused as refused:
        if cache is not None:
            cache.put(store.table, refused.link, now)
        raise refusal(refused.link, now) from None


def _read(store: LinkStore, link_id: LinkId, now: int, cache: LinkCache | None) -> Link:
    """The link from the cache, or read (and kept there)."""
    if cache is None:
        return store.get(link_id)
    link = cache.get(store.table, link_id, now)
    if link is None:
        link = store.read_copy(link_id)
        cache.put(store.table, link, now)
    return link


@dataclass(frozen=True)
class Guess:
    """One password guess: the password, who sends it (their address) and, past the link's open
    lane, the proof of work it carries (links/proofs.py): the challenge it answers and the nonce."""

    password: str
    address: str
    challenge: str = ""
    nonce: str = ""


def unlock(store: LinkStore, settings: Settings, host: str | None, code: str, now: int, *,
           facts: dict[str, Any], guess: Guess) -> Link:
    """POST /{code} with a password. The link is read first (no hashing for a link that needs
    none); then the right to check one guess is claimed atomically (per visitor, one guess per
    back-off; per link, at most GUESSES_PER_MINUTE, past which a guess needs a proof of work);
    only then is the guess hashed and compared; a right one is followed like a GET, forgiving
    the visitor's back-off. Back-offs end to the millisecond: a window of whole seconds could
    close a few milliseconds after it opened."""
    link_id = _link_id(settings, host, code)
    link, guards = get_with_guards(store, link_id)
    if link.state(now) != "active" or link.password_hash is None:
        raise refusal(link, now, password_given=True)
    key = visitor_key(link_id, guess.address)
    guard = guards.get(key)
    if guard is not None and guard.at > now:
        raise TooManyAttempts("too many wrong passwords from here; wait before trying again", _seconds_until(guard.at, now))
    wrong = guard.n if guard else 0
    ceiling = GUESSES_PER_MINUTE
    if link.guess_window == guess_window(now) and link.guess_count >= GUESSES_PER_MINUTE:
        if not proofs.holds(settings.visitor_pepper, link_id, key, wrong, now, guess.challenge, guess.nonce):
            raise ProofRequired("this link is getting many guesses: prove some work to guess now (or wait a minute)",
                                proofs.challenge(settings.visitor_pepper, link_id, key, wrong, now))
        ceiling = PROVEN_PER_MINUTE
    delay = retry_delay(wrong + 1)
    forget = [k for k, g in guards.items() if k != key and g.at + FORGIVE_AFTER < now][:FORGET_PER_GUESS]
    if not claim_guess(store, link, key, guard, now, retry_at=now + delay, ceiling=ceiling, forget=forget):
        raise TooManyAttempts("another guess is being checked; wait before trying again", 1)
    candidate = hash_password(guess.password, link_id)
    if not hmac.compare_digest(candidate, link.password_hash):
        raise WrongPassword("the password is not right", _seconds_until(now + delay, now))
    try:
        return store.visit(link_id, now, facts, count=not facts["bot"], password=Unlock(candidate, key))
    except VisitRefused as refused:
        raise refusal(refused.link, now, password_given=True) from None


def ended_refusal(catalogue: Catalogue, settings: Settings, host: str | None, code: str, now: int) -> ShortLinkError:
    """Why a code no item holds is refused: 410 while its last life's retention lasts (TTL
    deleted it), else 404. One more request, on this path only."""
    link_id = _link_id(settings, host, code)
    last = catalogue.last_ended(link_id)
    if last is None or last.state(now) == "active":
        return LinkNotFound(f"no link {link_id}")
    return refusal(last, now)


def _seconds_until(moment: int, now: int) -> int:
    """Whole seconds to wait (Retry-After) until a moment: rounded up, at least one."""
    return max(1, -(-(moment - now) // SECOND))


def visitor_key(link_id: LinkId, source_ip: str) -> str:
    """Who is guessing, as the link's item may keep it: a hash of the address, never the address;
    of an IPv6 address its /64, which one subscriber holds whole (a new address from it is no new
    guesser)."""
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        address = None
    guesser = str(ipaddress.ip_network(f"{address}/64", strict=False)) if isinstance(address, ipaddress.IPv6Address) else source_ip
    return hashlib.sha256(f"{link_id.key}|{guesser}".encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _link_id(settings: Settings, host: str | None, code: str) -> LinkId:
    link_id = LinkId(domain_for_host(settings, host), code)
    if not looks_like_code(code):
        raise LinkNotFound(f"no link {link_id}")
    return link_id


def destination(link: Link, visitor: Visitor) -> str:
    """The URL to send this visitor to: the first rule's that holds (links/routing.py: rules, then
    per-platform targets), else the link's url; plus the forwarded query."""
    target = destination_url(link.url, link.rules, link.targets, visitor)
    if not (link.forward_query and visitor.query):
        return target
    parts = urlsplit(target)
    extra = urlencode(visitor.query)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def redirect_cache_control(link: Link, now: int) -> str:
    if link.password_hash is not None or link.max_visits is not None or has_window(link.rules):
        return "no-store"  # every visit must reach the link's rules (a rule's window may open or close)
    lifetime = MAX_REDIRECT_CACHE
    if link.expires_at is not None:
        lifetime = min(lifetime, max(0, link.expires_at - now))
    seconds = lifetime // SECOND
    return f"private, max-age={seconds}" if seconds else "no-store"
