"""Each chat's own articles, measured. Link → "ready" through `python -m bot`: a page served
on 127.0.0.1 is sent as a link in a new
chat, timed from the update until the bot's confirmation ("جاهز: …") arrives: fetching,
extraction, embedding, the chat's index saved and the row stored, all included.

Two pages: the shipped article as plain text, and a news-like HTML page of about
`LONG_PAGE_WORDS` words made of XQuAD-ar paragraphs. Each run is a new chat (a chat that has
the page already answers at once), and the first run of each page is a warm-up, not counted.

Memory per loaded chat, in this process: RSS before and after loading chats that each hold the
long page (one of them embedded, the others' index folders copied: loading, not embedding).
"""

from __future__ import annotations

import gc
import html
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path

from embeddings import Article, ChatCollections, IndexedLibrary, SQLiteChatStore
from testkit.fake_telegram import FakeTelegram, WaitTimeoutError

from .measure import rss_mb
from .options import BenchmarkError
from .report import Figure

LONG_PAGE_WORDS = 5000
READY_SECONDS = 300.0
READY_PREFIX = "جاهز"
MEMORY_QUESTION = "ما عاصمة فرنسا؟"
_chats = count(900_001)


def long_page(articles: Sequence[Article], words: int = LONG_PAGE_WORDS) -> tuple[bytes, int]:
    """An HTML news page of the first paragraphs of `articles` reaching `words` words; (body, words)."""
    paragraphs = _paragraphs(articles, words)
    total = sum(len(p.split()) for p in paragraphs)
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = (
        "<!DOCTYPE html><html lang='ar'><head><meta charset='utf-8'><title>صفحة طويلة</title></head>"
        f"<body><nav><a href='/'>الرئيسية</a></nav><article><h1>صفحة طويلة</h1>\n{body}\n</article></body></html>"
    )
    return page.encode("utf-8"), total


class _Pages(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: dict[str, tuple[str, bytes]]) -> None:
        self.pages = pages
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Pages

    def do_GET(self) -> None:
        content_type, body = self.server.pages.get(self.path, ("text/plain", b""))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def serve_pages(pages: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """Serve `pages` (path → (content type, body)) on 127.0.0.1; yields the base URL."""
    server = _Pages(pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def link_to_ready(fake: FakeTelegram, url: str) -> float:
    """Seconds from sending `url` in a new private chat to the bot's confirmation."""
    chat = next(_chats)
    started = time.monotonic()
    fake.send_text(chat, url)
    try:
        [reply] = fake.wait_for_messages(chat, 1, timeout=READY_SECONDS, settle=0)
    except WaitTimeoutError as exc:
        raise BenchmarkError(f"no confirmation for {url} within {READY_SECONDS:.0f} s") from exc
    if not reply.plain.startswith(READY_PREFIX):
        raise BenchmarkError(f"the bot did not add {url}: {reply.plain[:200]}")
    return reply.at - started


def measure_link_to_ready(fake: FakeTelegram, shipped: Article, xquad: Sequence[Article], repeats: int) -> list[Figure]:
    """Link → ready for the shipped article and for a ~5,000-word page: median of `repeats` after a warm-up."""
    page, words = long_page(xquad)
    pages = {"/shipped": ("text/plain; charset=utf-8", shipped.text.encode("utf-8")), "/long": ("text/html", page)}
    with serve_pages(pages) as base:
        timings = {path: [link_to_ready(fake, base + path) for _ in range(repeats + 1)][1:] for path in pages}
    paragraphs = len(shipped.text.strip().split("\n"))
    return [
        _figure("link_ready_s", "link → ready", timings["/shipped"], f"the shipped article ({paragraphs} paragraphs)"),
        _figure("link_ready_long_s", "link → ready, long", timings["/long"], f"a {words:,}-word HTML page"),
    ]


def _figure(key: str, title: str, times: list[float], what: str) -> Figure:
    median = statistics.median(times)
    runs = ", ".join(f"{t:.2f}" for t in times)
    detail = f"{what} sent as a link to `python -m bot`, until its confirmation; median of {len(times)} ({runs})"
    return Figure(key, title, median, " s", detail=detail, raw={"seconds": times})


def measure_chat_memory(library: IndexedLibrary, articles: Sequence[Article], chats: int = 20) -> Figure:
    """RSS per loaded chat: `chats` chats each holding the long page (embedded once, its index
    folder copied), each loaded by a question to its focus and one to everything it sees."""
    page = "\n".join(_paragraphs(articles, LONG_PAGE_WORDS))
    with tempfile.TemporaryDirectory(prefix="sanad-bench-chats-") as folder:
        store = SQLiteChatStore(Path(folder) / "sanad.db")
        collections = ChatCollections(store, library, Path(folder) / "chats", max_loaded=chats + 1)
        try:
            first, _ = collections.add(0, 0, page, "صفحة طويلة", "benchmark")
            for chat in range(1, chats + 1):
                store.add_article(chat, first.title, first.source, first.text, first.added)
                shutil.copytree(collections.index_dir(0), collections.index_dir(chat))
                store.set_focus(chat, first.article().id)
            gc.collect()
            before = rss_mb()["VmRSS"]
            for chat in range(1, chats + 1):
                collections.ask(chat, MEMORY_QUESTION)
                collections.ask(chat, MEMORY_QUESTION, everything=True)
            gc.collect()
            after = rss_mb()["VmRSS"]
            passages = len(collections.own_collection(0))
        finally:
            collections.close()
    per_chat = max(after - before, 0.0) / chats
    detail = (
        f"{chats} chats loaded (own index, focus, everything), each with a {len(page.split()):,}-word page "
        f"of {passages} passages; RSS {before:.0f} → {after:.0f} MB"
    )
    raw = {"rss_before_mb": before, "rss_after_mb": after, "chats": chats, "passages": passages}
    return Figure("chat_memory_mb", "memory per chat", per_chat, " MB", detail=detail, raw=raw)


def _paragraphs(articles: Sequence[Article], words: int) -> list[str]:
    """The first paragraphs of `articles` reaching `words` words."""
    paragraphs: list[str] = []
    total = 0
    for line in (line for article in articles for line in article.text.split("\n")):
        if total >= words:
            break
        paragraphs.append(line)
        total += len(line.split())
    return paragraphs
