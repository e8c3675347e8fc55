"""One fetch, hop by hop: the decisions the sync and async loops share.

`Hops` checks each hop, says where a redirect leads and turns httpx errors into ours;
`Deadline` holds the whole fetch to the policy's timeout; `BodyBuffer` counts the bytes of
the body and decodes it. Neither loop (`_sync.py`, `_async.py`) holds a decision of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from ..errors import FetchError, FetchFailedError, URLRefusedError
from ._addresses import HostCheck, check_host, parse_url, resolver_host
from ._decode import decode_body
from ._policy import ALLOWED_TYPES, FetchedPage, FetchPolicy, media_type

HEADERS = {
    "User-Agent": "Mozilla/5.0 (compatible; Sanad article reader)",
    "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
    "Accept-Language": "ar,en;q=0.8",
}


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
        self._check(resolver_host(self.target))

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
        """Check the address the connection reached (see DNS rebinding in the package's
        docstring), when httpcore tells it."""
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
