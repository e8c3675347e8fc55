"""Fetching pages: the sync and async fetchers against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from typing import get_args

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from embeddings.errors import (
    ArticleError,
    FetchError,
    FetchFailedError,
    FetchReason,
    SettingsError,
    URLRefusedError,
)
from embeddings.fetch import (
    FetchedPage,
    FetchPolicy,
    address_kind,
    check_host,
    decode_body,
    fetch_url,
    fetch_url_async,
    parse_url,
    resolve_host,
)
from tests.fetch_server import (
    CP1256_META,
    PAGE_CP1256,
    PAGE_UTF8,
    STREAM_LIMIT,
    TITLE,
    FetchTestServer,
    article_html,
    serve,
)

LOCAL = FetchPolicy(allow_private=True)  # the test server is on 127.0.0.1
FAST = FetchPolicy(timeout=1.0, allow_private=True)
Fetch = Callable[..., FetchedPage]


def fetch_async(url: str, policy: FetchPolicy | None = None, **options: object) -> FetchedPage:
    """The async fetcher, driven to completion."""
    return asyncio.run(fetch_url_async(url, policy, **options))  # type: ignore[arg-type]


both_fetchers = pytest.mark.parametrize("fetch", [fetch_url, fetch_async], ids=["sync", "async"])


@pytest.fixture(scope="module")
def server() -> Iterator[FetchTestServer]:
    with serve() as running:
        yield running


def refusal(fetch: Fetch, url: str, policy: FetchPolicy = LOCAL, **options: object) -> FetchError:
    """The FetchError raised by fetching `url`, after checking its message names the URL."""
    with pytest.raises(FetchError) as caught:
        fetch(url, policy, **options)
    assert url in str(caught.value)
    assert caught.value.reason in get_args(FetchReason)
    return caught.value


def pretend_loopback_is_public(host: str, allow_private: bool) -> object:
    """A host check that treats 127.0.0.1 as a public address and judges every other host as usual."""
    if host == "127.0.0.1":
        return [ipaddress.ip_address(host)]
    return check_host(host, allow_private)


# --- success and charsets -----------------------------------------------------------------


@both_fetchers
def test_utf8_page_is_fetched_and_decoded(fetch: Fetch, server: FetchTestServer) -> None:
    page = fetch(f"{server.base_url}/article", LOCAL)
    assert page == FetchedPage(url=f"{server.base_url}/article", content_type="text/html", text=article_html())
    assert page.kind == "html"


@both_fetchers
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/cp1256-header", article_html(meta="")),
        ("/cp1256-meta", article_html(CP1256_META)),
        ("/cp1256-undeclared", article_html(meta="")),
    ],
    ids=["header-charset", "meta-charset", "detected"],
)
def test_windows_1256_page_is_decoded(fetch: Fetch, server: FetchTestServer, path: str, expected: str) -> None:
    assert fetch(server.base_url + path, LOCAL).text == expected


def test_plain_text_page_keeps_its_kind(server: FetchTestServer) -> None:
    page = fetch_url(f"{server.base_url}/plain", LOCAL)
    assert (page.content_type, page.kind) == ("text/plain", "text")
    assert page.text.startswith(TITLE)


def test_page_without_content_type_is_sniffed_as_html(server: FetchTestServer) -> None:
    page = fetch_url(f"{server.base_url}/no-content-type", LOCAL)
    assert (page.content_type, page.kind) == ("", "html")


# --- redirects ----------------------------------------------------------------------------


@both_fetchers
@pytest.mark.parametrize("hops", [1, 3, 5])
def test_redirects_up_to_the_limit_are_followed(fetch: Fetch, server: FetchTestServer, hops: int) -> None:
    page = fetch(f"{server.base_url}/chain/{hops}", LOCAL)
    assert page.url == f"{server.base_url}/chain/0"
    assert TITLE in page.text


@both_fetchers
def test_six_redirects_are_refused(fetch: Fetch, server: FetchTestServer) -> None:
    error = refusal(fetch, f"{server.base_url}/chain/6")
    assert isinstance(error, URLRefusedError)
    assert error.reason == "too_many_redirects"
    assert error.via == f"{server.base_url}/chain/6"
    assert "more than 5" in str(error)


def test_redirect_limit_follows_the_policy(server: FetchTestServer) -> None:
    error = refusal(fetch_url, f"{server.base_url}/chain/1", FetchPolicy(max_redirects=0, allow_private=True))
    assert error.reason == "too_many_redirects"
    assert error.via is None


def test_absolute_redirect_is_followed(server: FetchTestServer) -> None:
    assert fetch_url(f"{server.base_url}/to-absolute", LOCAL).url == f"{server.base_url}/article"


@both_fetchers
@pytest.mark.parametrize("path", ["/to-ftp", "/to-file"])
def test_redirect_to_another_scheme_is_refused(fetch: Fetch, server: FetchTestServer, path: str) -> None:
    error = refusal(fetch, server.base_url + path)
    assert error.reason == "scheme"
    assert "redirects to" in str(error)


def test_redirect_without_location_is_a_status_error(server: FetchTestServer) -> None:
    error = refusal(fetch_url, f"{server.base_url}/no-location")
    assert (type(error), error.reason) == (FetchFailedError, "http_status")
    assert "302" in str(error)


# --- private addresses --------------------------------------------------------------------


@both_fetchers
def test_loopback_is_refused_by_default(fetch: Fetch, server: FetchTestServer) -> None:
    error = refusal(fetch, f"{server.base_url}/article", FetchPolicy())
    assert isinstance(error, URLRefusedError)
    assert isinstance(error, ArticleError)
    assert error.reason == "private_address"
    assert "127.0.0.1 is a loopback address" in str(error)
    assert "SANAD_ALLOW_PRIVATE_URLS" in str(error)


def test_loopback_is_refused_without_a_policy(server: FetchTestServer) -> None:
    with pytest.raises(URLRefusedError, match="loopback"):
        fetch_url(f"{server.base_url}/article")


@both_fetchers
def test_injected_check_decides_each_host(fetch: Fetch, server: FetchTestServer) -> None:
    page = fetch(f"{server.base_url}/article", FetchPolicy(), check=pretend_loopback_is_public)
    assert TITLE in page.text


@both_fetchers
def test_redirect_from_public_host_to_private_one_is_refused(fetch: Fetch, server: FetchTestServer) -> None:
    start = f"{server.base_url}/to-localhost"
    with pytest.raises(URLRefusedError) as caught:
        fetch(start, FetchPolicy(), check=pretend_loopback_is_public)
    error = caught.value
    assert error.reason == "private_address"
    assert error.url == f"http://localhost:{server.server_address[1]}/article"
    assert error.via == start
    assert "localhost resolves to" in str(error) and start in str(error)


@both_fetchers
def test_connection_reaching_a_private_address_is_refused(fetch: Fetch, server: FetchTestServer) -> None:
    """The DNS-rebinding guard: the name passed the check, but the connection reached 127.0.0.1."""

    def localhost_is_public(host: str, allow_private: bool) -> object:
        return [] if host == "localhost" else check_host(host, allow_private)

    url = f"http://localhost:{server.server_address[1]}/article"
    error = refusal(fetch, url, FetchPolicy(), check=localhost_is_public)
    assert error.reason == "private_address"
    assert "127.0.0.1 is a loopback address" in str(error)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("100.64.0.1", "non-public"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind
    with pytest.raises(URLRefusedError, match=f"{address} is a {kind} address") as caught:
        check_host(address)
    assert caught.value.reason == "private_address"


@pytest.mark.parametrize(
    "address", ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert check_host(address) == [ipaddress.ip_address(address)]


def test_private_addresses_pass_when_allowed() -> None:
    assert check_host("10.0.0.1", allow_private=True) == [ipaddress.ip_address("10.0.0.1")]


def test_host_names_are_judged_by_every_address() -> None:
    with pytest.raises(URLRefusedError, match=r"localhost resolves to .* a loopback address"):
        check_host("localhost")


def test_unresolvable_host_is_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(FetchFailedError, match=r"news.example could not be resolved") as caught:
        resolve_host("news.example")
    assert caught.value.reason == "network"


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/a.txt", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("www.example.com/news", "scheme"),
        ("http://", "invalid_url"),
        ("http://[::1/", "invalid_url"),
    ],
)
def test_only_http_urls_with_a_host_are_accepted(url: str, reason: str) -> None:
    with pytest.raises(URLRefusedError) as caught:
        parse_url(url)
    assert caught.value.reason == reason
    assert url in str(caught.value)


@both_fetchers
def test_bad_url_is_refused_before_any_connection(fetch: Fetch) -> None:
    assert refusal(fetch, "ftp://example.com/a.txt", FetchPolicy()).reason == "scheme"


# --- what the server answers --------------------------------------------------------------


@both_fetchers
def test_declared_oversized_body_is_refused_before_reading(fetch: Fetch, server: FetchTestServer) -> None:
    started = time.monotonic()
    error = refusal(fetch, f"{server.base_url}/big-declared", FetchPolicy(timeout=10, allow_private=True))
    assert error.reason == "too_large"
    assert "6,000,000 bytes" in str(error)
    assert time.monotonic() - started < 1.5  # the server stalls 3 s after its headers


@both_fetchers
def test_streamed_oversized_body_stops_at_the_cap(fetch: Fetch, server: FetchTestServer) -> None:
    error = refusal(fetch, f"{server.base_url}/big-stream")
    assert (type(error), error.reason) == (URLRefusedError, "too_large")
    assert server.stream_done.wait(5)
    assert server.stream_sent < STREAM_LIMIT // 4  # it stopped reading, it did not drain the body


def test_byte_cap_follows_the_policy(server: FetchTestServer) -> None:
    small = FetchPolicy(max_bytes=1000, allow_private=True)
    assert refusal(fetch_url, f"{server.base_url}/article", small).reason == "too_large"


@both_fetchers
def test_pdf_is_refused_by_content_type(fetch: Fetch, server: FetchTestServer) -> None:
    error = refusal(fetch, f"{server.base_url}/pdf")
    assert error.reason == "content_type"
    assert "application/pdf" in str(error)


@pytest.mark.parametrize(("path", "status"), [("/missing", "404"), ("/busy", "503")])
def test_error_status_is_refused(server: FetchTestServer, path: str, status: str) -> None:
    error = refusal(fetch_url, server.base_url + path)
    assert (type(error), error.reason) == (FetchFailedError, "http_status")
    assert status in str(error)


@both_fetchers
@pytest.mark.parametrize("path", ["/slow", "/trickle"], ids=["slow-headers", "slow-body"])
def test_whole_fetch_is_held_to_the_timeout(fetch: Fetch, server: FetchTestServer, path: str) -> None:
    started = time.monotonic()
    error = refusal(fetch, server.base_url + path, FAST)
    assert (type(error), error.reason) == (FetchFailedError, "timeout")
    assert time.monotonic() - started < 2.0


@both_fetchers
def test_closed_port_is_a_network_error(fetch: Fetch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = refusal(fetch, f"http://127.0.0.1:{port}/", LOCAL)
    assert (type(error), error.reason) == (FetchFailedError, "network")


def test_empty_page_is_fetched_as_empty_text(server: FetchTestServer) -> None:
    assert fetch_url(f"{server.base_url}/empty", LOCAL).text == ""


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"max_bytes": 0}, {"max_redirects": -1}],
    ids=["timeout", "bytes", "redirects"],
)
def test_policy_refuses_unusable_limits(options: dict[str, float]) -> None:
    with pytest.raises(SettingsError, match="FetchPolicy"):
        FetchPolicy(**options)  # type: ignore[arg-type]


# --- charset decoding ---------------------------------------------------------------------


def test_header_charset_wins_over_meta() -> None:
    assert decode_body(PAGE_CP1256, "text/html; charset=windows-1256") == article_html(CP1256_META)


def test_meta_charset_is_used_without_header_charset() -> None:
    assert decode_body(PAGE_CP1256, "text/html") == article_html(CP1256_META)


def test_wrong_header_charset_falls_back_to_meta() -> None:
    assert decode_body(PAGE_CP1256, "text/html; charset=utf-8") == article_html(CP1256_META)


def test_unknown_charset_label_is_skipped() -> None:
    assert decode_body(PAGE_UTF8, "text/html; charset=x-no-such-charset") == article_html()


def test_byte_order_mark_is_honoured_and_dropped() -> None:
    text = "خبر عاجل"
    assert decode_body(b"\xef\xbb\xbf" + text.encode("utf-8"), "text/plain") == text
    assert decode_body(text.encode("utf-16"), "") == text


def test_meta_charset_is_ignored_in_plain_text() -> None:
    data = '<meta charset="windows-1256"> خبر'.encode()
    assert decode_body(data, "text/plain") == data.decode("utf-8")


@given(st.text())
def test_utf8_with_its_header_decodes_back(text: str) -> None:
    assume(not text.startswith("\ufeff"))  # a leading U+FEFF is a byte-order mark, dropped
    assert decode_body(text.encode("utf-8"), "text/html; charset=utf-8") == text


@given(st.text(st.characters(codec="cp1256")))
def test_cp1256_with_its_header_decodes_back(text: str) -> None:
    assert decode_body(text.encode("cp1256"), "text/html; charset=windows-1256") == text
