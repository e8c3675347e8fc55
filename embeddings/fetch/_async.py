"""The async fetcher, for the bot's event loop: `fetch_url_async` drives the helpers of
`_hops.py` with httpx.AsyncClient.

The DNS check and the decoding run in threads, and `asyncio.timeout` holds the whole fetch,
DNS included, to the policy's deadline.
"""

from __future__ import annotations

import asyncio

import httpx

from ._addresses import HostCheck, check_host
from ._hops import HEADERS, Hops, timeout_error
from ._policy import FetchedPage, FetchPolicy


def new_async_client() -> httpx.AsyncClient:
    """An async client set up for `fetch_url_async`: no redirects, no proxies from the environment."""
    return httpx.AsyncClient(headers=HEADERS, follow_redirects=False, trust_env=False)


async def fetch_url_async(
    url: str,
    policy: FetchPolicy | None = None,
    *,
    check: HostCheck = check_host,
    client: httpx.AsyncClient | None = None,
) -> FetchedPage:
    """Fetch `url` under `policy` (default: `FetchPolicy()`); raise FetchError on any refusal.

    `check(host, allow_private)` judges the host of every hop; `client` may be one the
    application opened at start-up with `new_async_client()`.
    """
    policy = policy or FetchPolicy()
    try:
        async with asyncio.timeout(policy.timeout):
            if client is None:
                async with new_async_client() as own:
                    return await _fetch(own, url, policy, check)
            return await _fetch(client, url, policy, check)
    except TimeoutError as exc:
        raise timeout_error(url, policy) from exc


async def _fetch(client: httpx.AsyncClient, url: str, policy: FetchPolicy, check: HostCheck) -> FetchedPage:
    hops = Hops(url, policy, check)
    with hops.translating():
        while True:
            await asyncio.to_thread(hops.check_target)
            request = client.stream("GET", hops.target, timeout=hops.request_timeout(), follow_redirects=False)
            async with request as response:
                if not hops.follow(response):
                    return await _read(response, hops)


async def _read(response: httpx.Response, hops: Hops) -> FetchedPage:
    body = hops.new_body()
    async for chunk in response.aiter_bytes():
        body.add(chunk)
    return await asyncio.to_thread(body.page, response)
