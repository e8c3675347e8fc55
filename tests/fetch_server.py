"""A small HTTP server on 127.0.0.1 for the fetch and extraction tests.

It serves an Arabic news page (UTF-8 and windows-1256), redirect chains, oversized, slow,
binary and empty answers. `serve()` starts it in a daemon thread; `ROUTES` maps each path
to the handler method that answers it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TITLE = "افتتاح محطة جديدة لتحلية مياه البحر على الساحل الجنوبي"

PARAGRAPHS = (
    (
        "افتتحت وزارة المياه والري صباح الأحد محطة جديدة لتحلية مياه البحر على الساحل الجنوبي، "
        "بطاقة إنتاجية تبلغ مئة وخمسين ألف متر مكعب يومياً."
    ),
    (
        "وقال وزير المياه في كلمة خلال حفل الافتتاح إن المشروع سيغطي احتياجات أكثر من نصف مليون "
        "نسمة من مياه الشرب، وسيخفف الضغط على المياه الجوفية التي تراجع منسوبها في السنوات الأخيرة."
    ),
    ("وبلغت تكلفة المحطة نحو ثلاثمئة مليون دولار، موّلها تحالف من المصارف المحلية والدولية، واستغرق بناؤها ثلاث سنوات."),
    (
        "وأوضح مدير المشروع أن المحطة تعمل بالطاقة الشمسية بنسبة أربعين في المئة، وهو ما يقلل "
        "انبعاثات الكربون ويخفض كلفة إنتاج المتر المكعب الواحد."
    ),
    (
        "من جهتهم، رحّب سكان المنطقة بالمشروع، مؤكدين أن انقطاع المياه في فصل الصيف كان يشكل "
        "معاناة يومية للأسر والمزارعين على حد سواء."
    ),
    (
        "ومن المتوقع أن تبدأ المرحلة الثانية من المشروع مطلع العام المقبل، لترتفع الطاقة "
        "الإنتاجية إلى ثلاثمئة ألف متر مكعب يومياً بحلول عام 2027."
    ),
)

NAV_WORDS = ("الرئيسية", "اقتصاد", "رياضة", "جميع الحقوق محفوظة")


def article_html(meta: str = '<meta charset="utf-8">') -> str:
    """The news page: a head with `meta`, navigation, the article and a footer."""
    paragraphs = "\n".join(f"      <p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
  <head>
    {meta}
    <title>{TITLE} | صحيفة الأنباء</title>
  </head>
  <body>
    <nav><ul>
      <li><a href="/">الرئيسية</a></li><li><a href="/politics">سياسة</a></li>
      <li><a href="/economy">اقتصاد</a></li><li><a href="/sport">رياضة</a></li>
    </ul></nav>
    <main><article>
      <h1>{TITLE}</h1>
{paragraphs}
    </article></main>
    <footer><p>جميع الحقوق محفوظة © 2024 صحيفة الأنباء</p>
      <a href="/privacy">سياسة الخصوصية</a></footer>
  </body>
</html>
"""


CP1256_META = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
PAGE_UTF8 = article_html().encode("utf-8")
PAGE_CP1256 = article_html(CP1256_META).encode("cp1256")
PAGE_CP1256_BARE = article_html(meta="").encode("cp1256")
BIG = 6_000_000
CHUNK = 64 * 1024
STREAM_LIMIT = 200_000_000  # what /big-stream would send to a client that reads it all


class Handler(BaseHTTPRequestHandler):
    """Answers GET requests by looking the path up in `ROUTES`."""

    server: FetchTestServer

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        for pattern, name in ROUTES:
            match = re.fullmatch(pattern, path)
            if match:
                getattr(self, name)(*match.groups())
                return
        self.reply(404, "text/html; charset=utf-8", b"<h1>not found</h1>")

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def reply(self, status: int, content_type: str | None, body: bytes) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def article_utf8(self) -> None:
        self.reply(200, "text/html; charset=utf-8", PAGE_UTF8)

    def article_cp1256_header(self) -> None:
        self.reply(200, "text/html; charset=windows-1256", PAGE_CP1256_BARE)

    def article_cp1256_meta(self) -> None:
        self.reply(200, "text/html", PAGE_CP1256)

    def article_cp1256_undeclared(self) -> None:
        self.reply(200, "text/html", PAGE_CP1256_BARE)

    def plain_text(self) -> None:
        body = "\n\n".join((TITLE, *PARAGRAPHS)).encode("cp1256")
        self.reply(200, "text/plain; charset=windows-1256", body)

    def chain(self, left: str) -> None:
        hops = int(left)
        if hops == 0:
            self.article_utf8()
        else:
            self.redirect(f"/chain/{hops - 1}", status=301 if hops % 2 else 302)

    def to_absolute(self) -> None:
        host, port = self.server.server_address[:2]
        self.redirect(f"http://{host}:{port}/article")

    def to_localhost(self) -> None:
        self.redirect(f"http://localhost:{self.server.server_address[1]}/article")

    def to_ftp(self) -> None:
        self.redirect("ftp://127.0.0.1/article.txt")

    def to_file(self) -> None:
        self.redirect("file:///etc/passwd")

    def no_location(self) -> None:
        self.send_response(302)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def pdf(self) -> None:
        self.reply(200, "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def no_content_type(self) -> None:
        self.reply(200, None, PAGE_UTF8)

    def empty(self) -> None:
        self.reply(200, "text/html; charset=utf-8", b"")

    def empty_html(self) -> None:
        self.reply(200, "text/html; charset=utf-8", b"<html><body><nav></nav></body></html>")

    def digits(self) -> None:
        body = "<html><body><p>" + "12345 67890 -- %%% ### 2024/10/05 ... " * 20 + "</p></body></html>"
        self.reply(200, "text/html; charset=utf-8", body.encode())

    def server_error(self) -> None:
        self.reply(503, "text/html; charset=utf-8", b"<p>busy</p>")

    def big_declared(self) -> None:
        """Announces a huge body, sends a few bytes, then stalls: only an early refusal is fast."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(BIG))
        self.end_headers()
        self.wfile.write(b"<html>")
        self.wfile.flush()
        time.sleep(3)

    def big_stream(self) -> None:
        """An endless body without Content-Length; counts what the client let it send."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        chunk = b"<p>" + b"a" * (CHUNK - 8) + b"</p>\n"
        self.server.stream_sent = 0
        self.server.stream_done.clear()
        try:
            for _ in range(STREAM_LIMIT // CHUNK):
                self.wfile.write(chunk)
                self.server.stream_sent += len(chunk)
        except OSError:
            return
        finally:
            self.server.stream_done.set()

    def slow(self) -> None:
        time.sleep(3)
        self.article_utf8()

    def trickle(self) -> None:
        """Sends one byte every 0.1 s for 5 s: each read is quick, the whole is slow."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        try:
            for _ in range(50):
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return


ROUTES: tuple[tuple[str, str], ...] = (
    (r"/article", "article_utf8"),
    (r"/cp1256-header", "article_cp1256_header"),
    (r"/cp1256-meta", "article_cp1256_meta"),
    (r"/cp1256-undeclared", "article_cp1256_undeclared"),
    (r"/plain", "plain_text"),
    (r"/chain/(\d+)", "chain"),
    (r"/to-absolute", "to_absolute"),
    (r"/to-localhost", "to_localhost"),
    (r"/to-ftp", "to_ftp"),
    (r"/to-file", "to_file"),
    (r"/no-location", "no_location"),
    (r"/pdf", "pdf"),
    (r"/no-content-type", "no_content_type"),
    (r"/empty", "empty"),
    (r"/empty-html", "empty_html"),
    (r"/digits", "digits"),
    (r"/busy", "server_error"),
    (r"/big-declared", "big_declared"),
    (r"/big-stream", "big_stream"),
    (r"/slow", "slow"),
    (r"/trickle", "trickle"),
)


class FetchTestServer(ThreadingHTTPServer):
    """The threaded server, quiet about clients that hang up early."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.stream_sent = 0  # bytes /big-stream managed to send, final once stream_done is set
        self.stream_done = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that stop reading (as the fetcher should) are not errors here."""

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextmanager
def serve() -> Iterator[FetchTestServer]:
    """Run the server on a free port of 127.0.0.1 until the block ends."""
    server = FetchTestServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
