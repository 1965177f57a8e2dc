"""Rules for the long URLs that links point to."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import quote, urlsplit

from ..errors import InvalidInput
from .limits import URL

MAX_URL_LENGTH = URL.max_length or 0
_SCHEME = re.compile(r"(?i)^(https?)://")
_FORBIDDEN_CHARS = re.compile(r"[\s\x00-\x1f\x7f\\]")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Characters left alone when non-ASCII text is percent-encoded: every printable
# ASCII character, so an existing %XX escape or reserved delimiter never changes.
_KEEP_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


def _fail(message: str) -> InvalidInput:
    return InvalidInput.single("url", message)


def _ascii_host(host: str) -> str:
    """Lower-case, IDN to punycode, and a syntax check of each label."""
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _fail("has an invalid IPv6 address") from None
        return host.lower()
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _fail("has an invalid host name") from None
    labels = ascii_host.split(".")
    if not ascii_host or not all(_LABEL.match(label) for label in labels):
        raise _fail("has an invalid host name")
    return ascii_host


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

    Normalizing lower-cases scheme and host, turns IDN hosts into punycode and
    percent-encodes non-ASCII characters (as browsers do) so the stored URL can be
    sent as a Location header. Nothing else of what the user typed is changed.
    """
    url = raw.strip()
    if not url:
        raise _fail("must not be empty")
    if _FORBIDDEN_CHARS.search(url):
        raise _fail("must not contain whitespace, control characters or backslashes")
    match = _SCHEME.match(url)
    if not match:
        raise _fail("must start with http:// or https://")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 address
        raise _fail("has an invalid host") from None
    netloc = parts.netloc
    if "@" in netloc:
        raise _fail("must not contain a user name or password before the host")
    try:
        port = parts.port
    except ValueError:
        raise _fail("has an invalid port") from None
    host_text = netloc.rsplit(":", 1)[0] if port is not None or netloc.endswith(":") else netloc
    if not host_text:
        raise _fail("must name a host")
    host = _ascii_host(host_text)
    if is_own_host(host, own_domains):
        raise _fail("must not point to one of this service's own short domains")
    if host_matches(host, blocked_hosts):
        raise _fail(f"points to a blocked host ({host})")
    new_netloc = host if port is None else f"{host}:{port}"
    rest = url[match.end() + len(netloc):]
    normalized = match.group(1).lower() + "://" + new_netloc + quote(rest, safe=_KEEP_ASCII)
    URL.check("url", normalized)
    return normalized
