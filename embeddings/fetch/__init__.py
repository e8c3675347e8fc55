"""Fetching a web page for an article, safely, with httpx: `fetch_url` and `fetch_url_async`.

What a fetch accepts (the `FetchPolicy`): http and https URLs only; every hop's host must
resolve to public addresses only (unless `allow_private`), checked again on the connection
actually made; redirects are followed by hand, at most `max_redirects`; one deadline for the
whole fetch; a body cap enforced while streaming; only HTML or plain text. The body is decoded
with the charset of the Content-Type header, else its byte-order mark, else the page's
<meta> charset, else a guess (UTF-8, then charset_normalizer).

    _policy.py     FetchPolicy, FetchedPage, the media types accepted
    _addresses.py  URL parsing, address kinds, DNS resolution, check_host
    _hops.py       the decisions of one fetch, hop by hop: Hops, Deadline, BodyBuffer
    _decode.py     charsets: decode_body
    _sync.py       fetch_url, new_client: the sync loop around the decisions
    _async.py      fetch_url_async, new_async_client: the same loop for asyncio

Neither loop holds a decision of its own. Every refusal is a `FetchError` (`errors.py` draws
the tree) with a stable `reason` code (the bot translates by it) and an English message
naming the URL: `URLRefusedError` when the policy refuses it, `FetchFailedError` when the
network or the server failed.

DNS rebinding: the host of every hop is resolved and every address checked before the
request. httpx then resolves the name again to connect, so a DNS server answering a public
address to us and a private one to httpx could slip through; to narrow that window the peer
address of the connection actually made is checked as soon as the headers arrive, before the
body is read. What remains: the request itself (a GET without body) has reached the private
address by then. Connecting to the checked address ourselves would need a custom transport.
Proxies from the environment are ignored (`trust_env=False`): through a proxy the address
checks would check nothing.

The names are imported on first use (`../_lazy.py`): `FetchPolicy` (the settings need it) never\nloads httpx.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._addresses import PRIVATE_HINT, HostCheck, IPAddress, address_kind, check_host, parse_url, resolve_host
    from ._async import fetch_url_async, new_async_client
    from ._decode import decode_body
    from ._policy import ALLOWED_TYPES, FetchedPage, FetchPolicy, Kind, media_type
    from ._sync import fetch_url, new_client

__all__ = [
    "ALLOWED_TYPES",
    "PRIVATE_HINT",
    "FetchPolicy",
    "FetchedPage",
    "HostCheck",
    "IPAddress",
    "Kind",
    "address_kind",
    "check_host",
    "decode_body",
    "fetch_url",
    "fetch_url_async",
    "media_type",
    "new_async_client",
    "new_client",
    "parse_url",
    "resolve_host",
]

_EXPORTS = {
    "ALLOWED_TYPES": "._policy",
    "PRIVATE_HINT": "._addresses",
    "FetchPolicy": "._policy",
    "FetchedPage": "._policy",
    "HostCheck": "._addresses",
    "IPAddress": "._addresses",
    "Kind": "._policy",
    "address_kind": "._addresses",
    "check_host": "._addresses",
    "decode_body": "._decode",
    "fetch_url": "._sync",
    "fetch_url_async": "._async",
    "media_type": "._policy",
    "new_async_client": "._async",
    "new_client": "._sync",
    "parse_url": "._addresses",
    "resolve_host": "._addresses",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
