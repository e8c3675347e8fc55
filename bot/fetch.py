"""The async twin of `embeddings.fetch.fetch_url`, for the bot's event loop.

Every decision (URL and address checks, redirects, status, type, size, charset) is taken by
the helpers of `embeddings.fetch`; this module only drives them with httpx.AsyncClient. The
DNS check and the decoding run in threads, and `asyncio.timeout` holds the whole fetch,
DNS included, to the policy's deadline.
"""

from __future__ import annotations

import asyncio

import httpx

from embeddings.fetch import (
    HEADERS,
    FetchedPage,
    FetchPolicy,
    Hops,
    HostCheck,
    check_host,
    timeout_error,
)


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
    application opened in post_init with `new_async_client()`.
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
