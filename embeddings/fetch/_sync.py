"""The sync fetcher: `fetch_url` drives the helpers of `_hops.py` with httpx.Client."""

from __future__ import annotations

import httpx

from ._addresses import HostCheck, check_host
from ._hops import HEADERS, Hops
from ._policy import FetchedPage, FetchPolicy


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
