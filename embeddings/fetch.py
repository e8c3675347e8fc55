"""Fetching a web page for an article, safely, with httpx.

What a fetch accepts (the `FetchPolicy`): http and https URLs only; every hop's host must
resolve to public addresses only (unless `allow_private`), checked again on the connection
actually made; redirects are followed by hand, at most `max_redirects`; one deadline for the
whole fetch; a body cap enforced while streaming; only HTML or plain text. The body is decoded
with the charset of the Content-Type header, else its byte-order mark, else the page's
<meta> charset, else a guess (UTF-8, then charset_normalizer).

The decisions are helpers shared with the async fetcher of the bot (`bot/fetch.py`):
`Hops` (checks each hop, says where a redirect leads, turns httpx errors into ours),
`BodyBuffer` (counts the bytes), `decode_body`, `check_host`. `fetch_url` is the sync loop
around them; neither loop holds a decision of its own.

Every refusal is a `FetchError` (`errors.py` draws the tree) with a stable `reason` code
(the bot translates by it) and an English message naming the URL: `URLRefusedError` when
the policy refuses it, `FetchFailedError` when the network or the server failed.

DNS rebinding: the host of every hop is resolved and every address checked before the
request. httpx then resolves the name again to connect, so a DNS server answering a public
address to us and a private one to httpx could slip through; to narrow that window the peer
address of the connection actually made is checked as soon as the headers arrive, before the
body is read. What remains: the request itself (a GET without body) has reached the private
address by then. Connecting to the checked address ourselves would need a custom transport.
Proxies from the environment are ignored (`trust_env=False`): through a proxy the address
checks would check nothing.
"""

from __future__ import annotations

import codecs
import email.message
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import charset_normalizer
import httpx

from .errors import FetchError, FetchFailedError, SettingsError, URLRefusedError

Kind = Literal["html", "text", "markdown"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HostCheck = Callable[[str, bool], object]

ALLOWED_TYPES: dict[str, Kind] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "markdown",
}
HEADERS = {
    "User-Agent": "Mozilla/5.0 (compatible; Sanad article reader)",
    "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
    "Accept-Language": "ar,en;q=0.8",
}
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
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
_META_SCAN_BYTES = 4096


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of one fetch; the defaults are the ones the bot uses."""

    timeout: float = 15.0  # seconds for the whole fetch, redirects included
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False  # allow loopback, private, link-local... (tests, intranets)

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise SettingsError(f"FetchPolicy.timeout must be a positive number of seconds, not {self.timeout!r}.")
        if self.max_bytes < 1:
            raise SettingsError(f"FetchPolicy.max_bytes must be at least 1, not {self.max_bytes!r}.")
        if self.max_redirects < 0:
            raise SettingsError(f"FetchPolicy.max_redirects must be 0 or more, not {self.max_redirects!r}.")


@dataclass(frozen=True)
class FetchedPage:
    """A fetched page: the final URL (after redirects), its media type and decoded text."""

    url: str
    content_type: str  # media type without parameters, e.g. "text/html"; "" when not sent
    text: str

    @property
    def kind(self) -> Kind:
        """How to extract the article: from the media type, else sniffed from the text."""
        if self.content_type in ALLOWED_TYPES:
            return ALLOWED_TYPES[self.content_type]
        head = self.text[:512].lstrip().lower()
        return "html" if head.startswith(("<!doctype html", "<html")) else "text"


# --- URLs and addresses -------------------------------------------------------------------


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


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_host(host: str, allow_private: bool = False) -> list[IPAddress]:
    """Resolve `host` and refuse it if any of its addresses is not public, unless `allow_private`."""
    addresses = resolve_host(host)
    if not allow_private:
        for address in addresses:
            kind = address_kind(address)
            if kind:
                raise _private_address_error(host, address, kind)
    return addresses


def _private_address_error(host: str, address: IPAddress, kind: str) -> URLRefusedError:
    named = f"its host {host}" if _ip_literal(host) is not None else f"its host {host} resolves to {address}, which"
    detail = f"{named} is a {kind} address; only public addresses are fetched ({PRIVATE_HINT})."
    return URLRefusedError(host, "private_address", detail)


def _host(url: httpx.URL) -> str:
    """The host as it goes to the resolver: IDNA-encoded, no brackets around IPv6."""
    return url.raw_host.decode("ascii")


# --- one fetch, hop by hop ---------------------------------------------------------------


def timeout_error(url: str, policy: FetchPolicy) -> FetchFailedError:
    """The refusal for a fetch that did not finish in time."""
    return FetchFailedError(url, "timeout", f"the page did not arrive within {policy.timeout:g} seconds.")


def too_large_error(url: str, policy: FetchPolicy, size: int | None = None) -> URLRefusedError:
    """The refusal for a body over the cap (`size`: the length the server announced)."""
    said = f"the server announces {size:,} bytes, more than" if size else "the page is longer than"
    return URLRefusedError(url, "too_large", f"{said} the {policy.max_bytes:,} bytes we read.")


class Deadline:
    """The time left for a whole fetch, started on construction."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self._end - self._clock()

    def check(self, url: str, policy: FetchPolicy) -> None:
        """Raise the timeout refusal once the deadline has passed."""
        if self.remaining() <= 0:
            raise timeout_error(url, policy)


class BodyBuffer:
    """Collects a response body; refuses it as soon as it passes the byte cap or the deadline."""

    def __init__(self, url: str, policy: FetchPolicy, deadline: Deadline) -> None:
        self._url, self._policy, self._deadline = url, policy, deadline
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        """Keep `chunk`, or raise too_large / timeout (then stop reading the response)."""
        self._size += len(chunk)
        if self._size > self._policy.max_bytes:
            raise too_large_error(self._url, self._policy)
        self._deadline.check(self._url, self._policy)
        self._chunks.append(chunk)

    def page(self, response: httpx.Response) -> FetchedPage:
        """The fetched page: the body decoded with the response's charset (CPU work for big pages)."""
        content_type = response.headers.get("content-type", "")
        text = decode_body(b"".join(self._chunks), content_type)
        return FetchedPage(url=str(response.url), content_type=media_type(content_type), text=text)


class Hops:
    """The state of one fetch across redirects, and the decision at each hop.

    Used the same way by the sync and async loops::

        hops = Hops(url, policy, check)
        with hops.translating():
            while True:
                hops.check_target()              # DNS: in a thread when async
                GET hops.target, timeout=hops.request_timeout(), no redirects
                if not hops.follow(response):    # raises for refused answers
                    body = hops.new_body()
                    body.add(chunk) for each chunk
                    return body.page(response)   # in a thread when async
    """

    def __init__(self, url: str, policy: FetchPolicy, check: HostCheck = check_host) -> None:
        self.url, self.policy, self.check = url, policy, check
        self.deadline = Deadline(policy.timeout)
        self.target = parse_url(url)
        self.redirects = 0

    def check_target(self) -> None:
        """Refuse the current target unless its host passes the address check."""
        self._check(_host(self.target))

    def request_timeout(self) -> httpx.Timeout:
        """The httpx timeout for the next request: what is left of the deadline."""
        self.deadline.check(str(self.target), self.policy)
        return httpx.Timeout(self.deadline.remaining())

    def follow(self, response: httpx.Response) -> bool:
        """True if `response` redirects (the target moves on); False if it is the page to read."""
        self._check_peer(response)
        if response.has_redirect_location:
            self.target = self._redirect_target(response)
            self.redirects += 1
            return True
        _check_status(response)
        _check_content_type(response)
        self._check_length(response)
        return False

    def new_body(self) -> BodyBuffer:
        """A buffer for the body of the current target."""
        return BodyBuffer(str(self.target), self.policy, self.deadline)

    @contextmanager
    def translating(self) -> Iterator[None]:
        """Turn httpx errors into FetchError, once; refusals after a redirect name the URL asked for."""
        try:
            yield
        except FetchError as exc:
            if self.redirects == 0 or exc.via:
                raise
            raise exc.for_url(exc.url, via=self.url) from exc
        except httpx.TimeoutException as exc:
            raise timeout_error(self.url, self.policy) from exc
        except httpx.HTTPError as exc:
            cause = str(exc) or type(exc).__name__
            raise FetchFailedError(self.url, "network", f"the connection failed ({cause}).") from exc

    def _check(self, host: str) -> None:
        try:
            self.check(host, self.policy.allow_private)
        except FetchError as exc:
            raise exc.for_url(str(self.target)) from None

    def _check_peer(self, response: httpx.Response) -> None:
        """Check the address the connection reached (see DNS rebinding above), when httpcore tells it."""
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not self.policy.allow_private:
            self._check(str(peer[0]))

    def _redirect_target(self, response: httpx.Response) -> httpx.URL:
        url, location = str(self.target), response.headers["location"]
        if self.redirects >= self.policy.max_redirects:
            raise URLRefusedError(
                url, "too_many_redirects", f"it redirects more than {self.policy.max_redirects} times."
            )
        try:
            target = self.target.join(location)
        except httpx.InvalidURL as exc:
            raise URLRefusedError(url, "invalid_url", f"it redirects to {location!r}, not a valid URL.") from exc
        try:
            return parse_url(str(target))
        except URLRefusedError as exc:
            raise URLRefusedError(url, exc.reason, f"it redirects to {target}, and {exc.detail}") from exc

    def _check_length(self, response: httpx.Response) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise too_large_error(str(self.target), self.policy, int(declared))


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header, lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _check_status(response: httpx.Response) -> None:
    if not response.is_success:
        detail = f"the server answered {response.status_code} {response.reason_phrase}."
        raise FetchFailedError(str(response.url), "http_status", detail)


def _check_content_type(response: httpx.Response) -> None:
    media = media_type(response.headers.get("content-type", ""))
    if media and media not in ALLOWED_TYPES:
        detail = (
            f"it is {media}, and only HTML and plain-text pages can be added "
            "(save the document as .txt, .md or .html and upload the file instead)."
        )
        raise URLRefusedError(str(response.url), "content_type", detail)


# --- the sync fetcher ---------------------------------------------------------------------


def new_client() -> httpx.Client:
    """An httpx client set up for `fetch_url`: no redirects, no proxies from the environment."""
    return httpx.Client(headers=HEADERS, follow_redirects=False, trust_env=False)


def fetch_url(
    url: str,
    policy: FetchPolicy | None = None,
    *,
    check: HostCheck = check_host,
    client: httpx.Client | None = None,
) -> FetchedPage:
    """Fetch `url` under `policy` (default: `FetchPolicy()`); raise FetchError on any refusal.

    `check(host, allow_private)` judges the host of every hop (tests inject their own);
    `client` may be shared between fetches, made by `new_client()`.

    The deadline is checked before each request and after each chunk, and each request gets
    what is left as its httpx timeout; one blocking network operation (or the DNS lookup,
    which has no timeout) can overrun the deadline by at most that remainder.
    """
    policy = policy or FetchPolicy()
    if client is None:
        with new_client() as own:
            return _fetch(own, url, policy, check)
    return _fetch(client, url, policy, check)


def _fetch(client: httpx.Client, url: str, policy: FetchPolicy, check: HostCheck) -> FetchedPage:
    hops = Hops(url, policy, check)
    with hops.translating():
        while True:
            hops.check_target()
            request = client.stream("GET", hops.target, timeout=hops.request_timeout(), follow_redirects=False)
            with request as response:
                if not hops.follow(response):
                    return _read(response, hops)


def _read(response: httpx.Response, hops: Hops) -> FetchedPage:
    body = hops.new_body()
    for chunk in response.iter_bytes():
        body.add(chunk)
    return body.page(response)


# --- charsets -----------------------------------------------------------------------------


def decode_body(data: bytes, content_type: str = "") -> str:
    """Decode a page: the header's charset, else a byte-order mark, else (HTML) the <meta>
    charset, else UTF-8, else charset_normalizer's guess.

    A declared charset that does not decode the bytes is skipped. The header comes before
    the BOM (browsers put the BOM first): the server's word is what we were told.
    """
    for encoding in _declared_encodings(data, content_type):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return _guess(data)


def _declared_encodings(data: bytes, content_type: str) -> Iterator[str]:
    message = email.message.Message()
    message["content-type"] = content_type
    header = message.get_content_charset()
    if header:
        yield _codec(header)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            yield encoding
    if media_type(content_type) not in ("text/plain", "text/markdown"):
        match = _META_CHARSET.search(data[:_META_SCAN_BYTES])
        if match:
            label = match.group(1).decode("ascii")
            yield "utf-8" if label.lower().startswith("utf-16") else _codec(label)


def _codec(label: str) -> str:
    """Python's codec for a charset label; UTF-8 drops a leading byte-order mark."""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return label
    return "utf-8-sig" if name == "utf-8" else name


def _guess(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("cp1256", errors="replace")
