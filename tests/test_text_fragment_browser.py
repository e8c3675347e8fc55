"""A real browser follows our sentence links: headless Chromium scrolls to the sentence and
highlights it, and nothing else.

The shipped article is served as a right-to-left page (a <p> per paragraph, far apart so that
the page must scroll) from a thread on 127.0.0.1. Chromium is driven over the DevTools protocol
on a pipe (`--remote-debugging-pipe`: fds 3 and 4, NUL-terminated JSON; no port, no extra
package). The page styles `::target-text` (the text-fragment highlight) magenta; after the
load the test reads `scrollY` and the sentence's on-screen rectangle (a DOM Range), takes a
screenshot and finds the magenta pixels: they must be there, and all inside the sentence's
rectangle. Skipped when `chromium` is not installed (.ci/run installs it when run as root).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import select
import shutil
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from embeddings import Span, text_fragment_url
from embeddings.sentences import split_sentences
from embeddings.text_fragment import best_directive

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "chromium is not installed (apt-get install -y chromium, as .ci/run does as root): the browser test is skipped",
        allow_module_level=True,
    )

ARTICLE = Path(__file__).resolve().parent.parent / "data" / "articles" / "putin-cis-critical-infrastructure.ar.txt"
# The article, then two short paragraphs ending in the same sentence: a link to one of those
# needs a context term (the words before it) to tell it from the other.
TEXT = ARTICLE.read_text(encoding="utf-8").rstrip("\n") + (
    "\nالخبر الأول من موسكو. انتهى التقرير.\nالخبر الثاني من كييف. انتهى التقرير.\n"
)
SCREENSHOT = Path("/tmp/sanad-text-fragment.png")
HIGHLIGHT = (255, 0, 255)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=800,600",
    "--force-device-scale-factor=1",
    "--remote-debugging-pipe",
]
TIMEOUT = 30.0


def page_html(text: str) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.split("\n") if line.strip())
    style = (
        "body { font: 20px/1.6 sans-serif; margin: 2em; } p { margin: 0 0 300px; }"
        f" ::target-text {{ background-color: rgb{HIGHLIGHT}; color: black; }}"
    )
    return (
        f'<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>مقال</title>'
        f"<style>{style}</style></head><body>\n{paragraphs}</body></html>"
    ).encode()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The article page on 127.0.0.1, served from a thread; yields its URL."""
    body = page_html(TEXT)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/news/putin.html?lang=ar"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Browser:
    """Headless Chromium and a DevTools-protocol session with one page, over a pipe."""

    def __init__(self, user_data_dir: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def as_fds_3_and_4() -> None:  # in the child: Chromium reads fd 3, writes fd 4
            reader, writer = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        self.process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            preexec_fn=as_fds_3_and_4,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False) -> dict[str, Any]:
        """Send one command and wait for its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def wait_event(self, method: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._receive(deadline))
        self.events.clear()

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, EOFError, RuntimeError):
            self.call("Browser.close")  # a browser already gone is closed enough
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()  # our own child, by its handle
            self.process.wait(10)
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))  # a fresh profile each run
    try:
        yield chromium
    finally:
        chromium.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width, height, channels = 8, b"", 0, 0, 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, chunk = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                row[x] = (row[x] + left) & 0xFF
            elif kind == 2:
                row[x] = (row[x] + up) & 0xFF
            elif kind == 3:
                row[x] = (row[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                row[x] = (row[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(row))
        previous = row
    return width, channels, rows


def highlighted_box(png: bytes) -> tuple[int, tuple[int, int, int, int] | None]:
    """How many pixels have the highlight colour, and their bounding box (left, top, right, bottom)."""
    width, channels, rows = png_pixels(png)
    count, box = 0, None
    for y, row in enumerate(rows):
        for x in range(width):
            if tuple(row[x * channels : x * channels + 3]) == HIGHLIGHT:
                count += 1
                left, top, right, bottom = box or (x, y, x, y)
                box = (min(left, x), min(top, y), max(right, x), max(bottom, y))
    return count, box


SENTENCE_RECT = """(() => {
  const node = document.querySelectorAll('p')[%d].firstChild;
  const range = document.createRange();
  range.setStart(node, %d);
  range.setEnd(node, %d);
  const r = range.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, text: range.toString(),
          scrollY: window.scrollY, height: window.innerHeight, width: window.innerWidth};
})()"""


def directive_kind(sentence: Span) -> str:
    directive = best_directive(TEXT, sentence)
    assert directive is not None
    if directive.prefix or directive.suffix:
        return "context"
    return "exact" if directive.end is None else "range"


def late_sentence(kind: str) -> Span:
    """The last sentence of the page linked as a whole (`exact`), by its ends (`range`) or
    with context terms (`context`)."""
    for sentence in reversed(split_sentences(TEXT)):
        if directive_kind(sentence) == kind:
            return sentence
    raise AssertionError(f"no {kind} sentence in the page")


def sentence_rect_script(sentence: Span) -> str:
    """JavaScript for the sentence's on-screen rectangle: its <p> and its offsets there."""
    line_start = TEXT.rfind("\n", 0, sentence.start) + 1
    paragraph = sum(1 for line in TEXT[:line_start].split("\n") if line.strip())
    assert TEXT[line_start : sentence.end].isascii() or all(ord(c) <= 0xFFFF for c in TEXT)  # UTF-16 offsets
    return SENTENCE_RECT % (paragraph, sentence.start - line_start, sentence.end - line_start)


@pytest.mark.parametrize("kind", ["range", "exact", "context"])
def test_chromium_scrolls_to_the_sentence_and_highlights_only_it(browser: Browser, site: str, kind: str) -> None:
    sentence = late_sentence(kind)
    url = text_fragment_url(site, TEXT, sentence)
    assert url is not None and ":~:text=" in url
    browser.call("Page.navigate", {"url": "about:blank"}, session=True)
    browser.wait_event("Page.loadEventFired")
    browser.call("Page.navigate", {"url": url}, session=True)
    browser.wait_event("Page.loadEventFired")
    deadline = time.monotonic() + 10
    while not browser.evaluate("window.scrollY") and time.monotonic() < deadline:
        time.sleep(0.1)  # the text fragment is scrolled to after the load, asynchronously
    rect = browser.evaluate(sentence_rect_script(sentence))
    assert rect is not None and rect["text"] == TEXT[sentence.start : sentence.end]
    # Scrolled down the page, with the whole sentence on screen (the spec centres the range).
    assert rect["scrollY"] > 1000
    assert 0 <= rect["top"] < rect["bottom"] <= rect["height"]
    centre = (rect["top"] + rect["bottom"]) / 2
    assert abs(centre - rect["height"] / 2) < rect["height"] / 4
    png = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"])
    SCREENSHOT.with_name(f"{SCREENSHOT.stem}-{kind}.png").write_bytes(png)
    count, box = highlighted_box(png)
    # The highlight is there, and only over the sentence (1 px of anti-aliasing allowed).
    assert count > 1000 and box is not None
    left, top, right, bottom = box
    assert rect["left"] - 1 <= left and right <= rect["right"] + 1
    assert rect["top"] - 1 <= top and bottom <= rect["bottom"] + 1
    print(f"{kind}: scrollY={rect['scrollY']} sentence rect={rect} highlighted px={count} box={box}")
