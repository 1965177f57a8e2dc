"""Rules for the long URLs that links point to."""

from __future__ import annotations

import ipaddress
import re
import socket

from ..errors import InvalidInput
from .limits import URL

MAX_URL_LENGTH = URL.max_length or 0
# a scheme the service takes, with or without its slashes (https:/example.com is what a browser opens)
_SCHEME = re.compile(r"(?i)^https?:")
# DNS's limits for a name (RFC 1035 2.3.4)
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63


def _fail(message: str) -> InvalidInput:
    return InvalidInput.single("url", message)


def resolvable(host: str) -> bool:
    """Within DNS's limits for a name (an address always is): browsers accept longer names and
    empty labels (foo..example), but no resolver can look them up."""
    return len(host) <= MAX_HOST_LENGTH and all(0 < len(label) <= MAX_LABEL_LENGTH for label in host.split("."))


_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$")


def address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host names, however it is spelled: browsers read 2130706433, 0177.0.0.1,
    0x7f.1 and 127.1 as 127.0.0.1, and [::ffff:127.0.0.1] is that address too. None for names."""
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
        return address.ipv4_mapped or address
    if not _NUMERIC_HOST.match(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The addresses a list entry names: a network (10.0.0.0/8, fd00::/8), an address in any
    spelling (::1 or [::1], 2130706433), or none (a host name)."""
    if "/" in entry:
        try:
            return ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            return None
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(entry.strip("[]"))
    except ValueError:
        address = address_of(entry)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return ipaddress.ip_network(address) if address is not None else None


def host_matches(host: str, entries: tuple[str, ...]) -> bool:
    """host is one of the entries, a subdomain of one, the same address however either is
    spelled, or an address in a network an entry names (127.0.0.0/8)."""
    address = address_of(host)
    for entry in entries:
        if host == entry or host.endswith("." + entry):
            return True
        network = _network(entry) if address is not None else None
        if network is not None and address is not None and address.version == network.version and address in network:
            return True
    return False


def is_own_host(host: str, own_domains: tuple[str, ...]) -> bool:
    """One of the service's own hosts (the short domains), however it is spelled."""
    return host_matches(host, own_domains)


def normalize_url(raw: str, own_domains: tuple[str, ...], blocked_hosts: tuple[str, ...]) -> str:
    """Check a long URL and return the form stored and redirected to.

    The URL is parsed as the WHATWG URL Standard says browsers parse it (ada, the parser Node.js
    uses): what a browser opens is accepted and what it refuses is refused, and the stored form
    is the standard's serialisation (host by UTS #46 IDNA, non-transitional: faß.example stays
    xn--fa-hia.example; numeric hosts as dotted addresses; non-ASCII percent-encoded). Then the
    service's policy: http/https only, no user name or password, a host DNS can resolve, not one
    of the short domains, not a blocked host, and the stored form within MAX_URL_LENGTH.
    """
    from ada_url import URL as WhatwgUrl  # here, not at the top: the redirect never parses a URL

    if not raw.strip():
        raise _fail("must not be empty")
    try:
        url = WhatwgUrl(raw)
    except (ValueError, UnicodeError):  # UnicodeError: a lone surrogate, which no URL can hold
        if not _SCHEME.match(raw.lstrip()):
            raise _fail("must start with http:// or https://") from None
        raise _fail("is not a URL a browser can open (WHATWG URL Standard)") from None
    if url.protocol not in ("http:", "https:"):
        raise _fail("must start with http:// or https://")
    if url.username or url.password:
        raise _fail("must not contain a user name or password before the host")
    host = url.hostname.removesuffix(".")  # example.com. is example.com
    if not resolvable(host):
        raise _fail(f"has a host name DNS cannot look up (at most {MAX_HOST_LENGTH} characters, labels of 1 to {MAX_LABEL_LENGTH})")
    if is_own_host(host, own_domains):
        raise _fail("must not point to one of this service's own short domains")
    if host_matches(host, blocked_hosts):
        raise _fail(f"points to a blocked host ({host})")
    stored = url.href
    URL.check("url", stored)
    return stored
