"""Configuration read from the environment that template.yaml (or the devserver) sets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cache

from .clock import DAY, zone_named
from .errors import ConfigError
from .instance import kept

# The validity periods a link may be given (a duration in milliseconds; None: permanent, so the
# item carries no expires_at and TTL never removes it).
PRESETS: dict[str, int | None] = {
    "1d": DAY,
    "7d": 7 * DAY,
    "30d": 30 * DAY,
    "90d": 90 * DAY,
    "180d": 180 * DAY,
    "365d": 365 * DAY,
    "permanent": None,
}


@dataclass(frozen=True)
class Settings:
    links_table: str
    short_domains: tuple[str, ...]  # host names, with a port where one is named (127.0.0.1:3000)
    default_validity: str
    public_shortening: bool
    blocked_hosts: tuple[str, ...]  # host names (their subdomains too), addresses or networks (10.0.0.0/8)
    stats_table: str
    stats_retention_days: int
    search_table: str = ""
    keys_table: str = ""  # the managed API keys (keys/store.py)
    usage_plan_id: str = ""  # the API's usage plan, which meters each managed key (AWS; none locally)
    stats_time_zone: str = "UTC"
    visitor_pepper: str = ""  # the key of the redirect's visitor hash (stats/visitors.py)
    admin_key_ids: tuple[str, ...] = ()  # API key ids of the operators (AdminApiKeyIds)
    visit_counters: int = 16  # per plain link (links/counters.py); 0: every visit on the link's own item
    link_cache_seconds: int = 60  # how long the redirect follows its copy of a link (links/cache.py)
    in_app_default: str = "redirect"  # or "guide": links that set no in_app (InAppDefault)
    plain_http: frozenset[str] = field(default_factory=frozenset)  # short domains served without TLS

    @property
    def default_domain(self) -> str:
        return self.short_domains[0]

    def time_zone(self) -> tzinfo:
        """STATS_TIME_ZONE as a zone: a name the IANA database does not know is a ConfigError
        naming it (checked where statistics need it; the redirect has no zone database)."""
        zone = zone_named(self.stats_time_zone)
        if zone is None:
            raise ConfigError(f"STATS_TIME_ZONE {self.stats_time_zone!r} is not an IANA time zone (such as Asia/Shanghai or UTC)")
        return zone

    @property
    def own_hosts(self) -> tuple[str, ...]:
        """The short domains' host names (a domain may carry a port: 127.0.0.1:3000)."""
        return tuple(d.rsplit(":", 1)[0] if not d.endswith("]") else d for d in self.short_domains)

    def short_url(self, domain: str, code: str) -> str:
        """The short URL of a code on one of the short domains: https, unless SHORT_DOMAINS names
        the domain as http:// (a server without TLS, such as the devserver)."""
        return f"{'http' if domain in self.plain_http else 'https'}://{domain}/{code}"

    def require_stats_table(self) -> str:
        if not self.stats_table:
            raise ConfigError("environment variable STATS_TABLE is not set (template.yaml sets it)")
        return self.stats_table

    def require_keys_table(self) -> str:
        if not self.keys_table:
            raise ConfigError("environment variable KEYS_TABLE is not set (template.yaml sets it)")
        return self.keys_table

    def require_search_table(self) -> str:
        if not self.search_table:
            raise ConfigError("environment variable SEARCH_TABLE is not set (template.yaml sets it)")
        return self.search_table


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set (template.yaml sets it)")
    return value


def _host_list(raw: str) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def _domains(raw: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """SHORT_DOMAINS: host names (with a port if needed), each optionally written with its scheme;
    https unless it says http://. Returns the domains and those served over plain http."""
    domains, plain = [], set()
    for entry in _host_list(raw):
        scheme, separator, host = entry.partition("://")
        if not separator:
            scheme, host = "https", entry
        if scheme not in ("http", "https") or not host or "/" in host:
            raise ConfigError(f"SHORT_DOMAINS: {entry!r} is no domain (write s.example.com, or http://host:port)")
        domains.append(host)
        if scheme == "http":
            plain.add(host)
    if not domains:
        raise ConfigError("SHORT_DOMAINS names no domain")
    return tuple(domains), frozenset(plain)


@kept
@cache
def load_settings() -> Settings:
    """Read once per instance; called at the first request, not at import."""
    domains, plain_http = _domains(_required("SHORT_DOMAINS"))
    default_validity = os.environ.get("DEFAULT_VALIDITY", "30d").strip()
    if default_validity not in PRESETS:
        raise ConfigError(f"DEFAULT_VALIDITY {default_validity!r} is not one of {', '.join(PRESETS)}")
    return Settings(
        links_table=_required("LINKS_TABLE"),
        short_domains=domains,
        plain_http=plain_http,
        default_validity=default_validity,
        public_shortening=os.environ.get("PUBLIC_SHORTENING", "true").strip().lower() == "true",
        blocked_hosts=_host_list(os.environ.get("BLOCKED_HOSTS", "")),
        stats_table=os.environ.get("STATS_TABLE", "").strip(),
        search_table=os.environ.get("SEARCH_TABLE", "").strip(),
        keys_table=os.environ.get("KEYS_TABLE", "").strip(),
        usage_plan_id=os.environ.get("USAGE_PLAN_ID", "").strip(),
        stats_retention_days=_whole("STATS_RETENTION_DAYS", 90, 1, 36500),
        stats_time_zone=os.environ.get("STATS_TIME_ZONE", "").strip() or "UTC",
        visitor_pepper=os.environ.get("VISITOR_PEPPER", ""),
        admin_key_ids=tuple(k.strip() for k in os.environ.get("ADMIN_API_KEY_IDS", "").split(",") if k.strip()),
        visit_counters=_whole("VISIT_COUNTERS", 16, 0, 99),  # a PATCH's transaction: the link and its counters, <= 100
        link_cache_seconds=_whole("LINK_CACHE_SECONDS", 60, 0, 300),
        in_app_default=_one_of("IN_APP_DEFAULT", "redirect", ("redirect", "guide")),
    )


def _one_of(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value


def checked_settings() -> Settings:
    """The settings with every value checked, the time zone too: what a local server checks at
    its start, so that a bad value stops it with one line naming the value."""
    settings = load_settings()
    settings.time_zone()
    return settings


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))) or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def domain_for_host(settings: Settings, host: str | None) -> str:
    """The short domain a request came in on; API Gateway's own host means the default.
    A short domain may name its port (127.0.0.1:3000); otherwise any port matches."""
    full = (host or "").strip().lower()
    if full in settings.short_domains:
        return full
    name = full.split(":", 1)[0].rstrip(".")
    return name if name in settings.short_domains else settings.default_domain
