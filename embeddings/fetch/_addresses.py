"""URLs and the addresses behind them: which URLs are fetched, which hosts are public."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import httpx

from ..errors import FetchFailedError, URLRefusedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HostCheck = Callable[[str, bool], object]  # check(host, allow_private); raises FetchError to refuse

PRIVATE_HINT = "set SANAD_ALLOW_PRIVATE_URLS=true to allow private and local addresses"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_KINDS = (
    ("loopback", "is_loopback"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("unspecified", "is_unspecified"),
    ("reserved", "is_reserved"),
    ("private", "is_private"),
)


def parse_url(url: str) -> httpx.URL:
    """The URL as httpx sees it, refused unless it is http(s) with a host."""
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise URLRefusedError(url, "invalid_url", f"it is not a valid URL ({exc}).") from exc
    if not parsed.scheme:
        detail = "it does not start with http:// or https://; send the full address."
        raise URLRefusedError(url, "scheme", detail)
    if parsed.scheme not in ("http", "https"):
        detail = f"only http and https URLs can be fetched, not {parsed.scheme} ones."
        raise URLRefusedError(url, "scheme", detail)
    if not parsed.raw_host:
        raise URLRefusedError(url, "invalid_url", "the URL has no host name.")
    return parsed


def resolver_host(url: httpx.URL) -> str:
    """The host of `url` as it goes to the resolver: IDNA-encoded, no brackets around IPv6."""
    return url.raw_host.decode("ascii")


def address_kind(address: IPAddress) -> str | None:
    """What makes `address` non-public ("loopback", "private", ...), or None if it is public.

    IPv4 addresses carried inside IPv6 (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 one.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_kind(address.ipv4_mapped)
        if address in _NAT64:
            return address_kind(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        inner = address.sixtofour
        if inner is not None and address_kind(inner) is not None:
            return address_kind(inner)
    for kind, attribute in _KINDS:
        if getattr(address, attribute):
            return kind
    return None if address.is_global else "non-public"


def resolve_host(host: str) -> list[IPAddress]:
    """Every address `host` resolves to (the address itself for an IP literal)."""
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise FetchFailedError(host, "network", f"the host name {host} could not be resolved ({exc}).") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailedError(host, "network", f"the host name {host} resolves to no address.")
    return addresses


def check_host(host: str, allow_private: bool = False) -> list[IPAddress]:
    """Resolve `host` and refuse it if any of its addresses is not public, unless `allow_private`."""
    addresses = resolve_host(host)
    if not allow_private:
        for address in addresses:
            kind = address_kind(address)
            if kind:
                raise _private_address_error(host, address, kind)
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _private_address_error(host: str, address: IPAddress, kind: str) -> URLRefusedError:
    named = f"its host {host}" if _ip_literal(host) is not None else f"its host {host} resolves to {address}, which"
    detail = f"{named} is a {kind} address; only public addresses are fetched ({PRIVATE_HINT})."
    return URLRefusedError(host, "private_address", detail)
