"""Extracting an article's title and text from fetched pages and uploaded files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddings.articles import one_paragraph_per_line
from embeddings.errors import ArticleError, ExtractError, ExtractReason
from embeddings.extract import (
    ExtractedArticle,
    decode_document,
    extract_article,
)
from embeddings.fetch import FetchedPage, FetchPolicy, fetch_url
from embeddings.script import letter_share
from tests.fetch_server import (
    NAV_WORDS,
    PAGE_CP1256,
    PAGE_CP1256_BARE,
    PAGE_UTF8,
    PARAGRAPHS,
    TITLE,
    FetchTestServer,
    serve,
)

LOCAL = FetchPolicy(allow_private=True)
ARTICLE_TEXT = "\n".join((TITLE, *PARAGRAPHS))  # trafilatura keeps the <h1>, as a paragraph


@pytest.fixture(scope="module")
def server() -> Iterator[FetchTestServer]:
    with serve() as running:
        yield running


def refusal(reason: str) -> pytest.RaisesExc[ExtractError]:
    """Expect an ExtractError with this reason code."""
    assert reason in get_args(ExtractReason)
    return pytest.raises(ExtractError, check=lambda error: error.reason == reason)


# --- HTML ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/article", "/cp1256-header", "/cp1256-meta", "/cp1256-undeclared"])
def test_every_encoding_of_the_page_gives_the_same_article(server: FetchTestServer, path: str) -> None:
    article = extract_article(fetch_url(server.base_url + path, LOCAL))
    assert article == ExtractedArticle(title=TITLE, text=ARTICLE_TEXT)


def test_navigation_and_footer_are_left_out(server: FetchTestServer) -> None:
    text = extract_article(fetch_url(f"{server.base_url}/article", LOCAL)).text
    for word in NAV_WORDS:
        assert word not in text


def test_each_paragraph_is_one_line() -> None:
    article = extract_article(PAGE_UTF8.decode(), kind="html", source="page.html")
    assert article.text.split("\n")[1:] == list(PARAGRAPHS)


def test_title_falls_back_to_the_title_element() -> None:
    html = (
        "<html><head><title>عنوان الصفحة</title></head><body><article>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + "</article></body></html>"
    )
    assert extract_article(html, kind="html", source="page.html").title == "عنوان الصفحة"


def test_plain_text_page_is_kept_as_text(server: FetchTestServer) -> None:
    article = extract_article(fetch_url(f"{server.base_url}/plain", LOCAL))
    assert article == ExtractedArticle(title=TITLE, text=ARTICLE_TEXT)


@pytest.mark.parametrize(("path", "reason"), [("/empty", "empty"), ("/empty-html", "empty"), ("/digits", "not_text")])
def test_pages_without_letters_are_refused(server: FetchTestServer, path: str, reason: str) -> None:
    page = fetch_url(server.base_url + path, LOCAL)
    with refusal(reason) as caught:
        extract_article(page)
    assert page.url in str(caught.value)
    assert isinstance(caught.value, ArticleError)


# --- text and markdown --------------------------------------------------------------------


def test_markdown_title_is_its_first_heading() -> None:
    markdown = f"نشرة الصباح\n\n# {TITLE}\n\n\n{PARAGRAPHS[0]}\n\n{PARAGRAPHS[1]}\n"
    article = extract_article(markdown, kind="markdown", source="news.md")
    assert article.title == TITLE
    assert article.text == f"نشرة الصباح\n# {TITLE}\n{PARAGRAPHS[0]}\n{PARAGRAPHS[1]}"


def test_markdown_without_heading_takes_its_first_line() -> None:
    article = extract_article(f"{PARAGRAPHS[2]}\n\n{PARAGRAPHS[3]}", kind="markdown", source="news.md")
    assert article.title == PARAGRAPHS[2][:80].strip()


def test_text_keeps_its_lines_and_drops_blank_ones() -> None:
    text = f"  {TITLE}  \r\n\r\n\r\n{PARAGRAPHS[0]}\t\t\n   \n{PARAGRAPHS[1]}"
    article = extract_article(text, kind="text", source="news.txt")
    assert article == ExtractedArticle(title=TITLE, text="\n".join((TITLE, PARAGRAPHS[0], PARAGRAPHS[1])))


def test_latin_text_is_accepted() -> None:
    text = "The desalination plant opened on Sunday.\nIt produces 150,000 cubic metres a day."
    assert extract_article(text, kind="text", source="en.txt").title == "The desalination plant opened on Sunday."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" \n\n \t\n", "empty"),
        ("123 456 789\n2024-10-05 12:30\n%%% ### ***", "not_text"),
        ("١٢٣ ٤٥٦ ٧٨٩ ، ؛ ؟ 2024", "not_text"),  # Arabic digits and punctuation are not letters
        ("Привет мир, это не тот алфавит", "not_text"),
    ],
    ids=["empty", "blank", "digits", "arabic-digits", "cyrillic"],
)
def test_texts_without_enough_letters_are_refused(text: str, reason: str) -> None:
    with refusal(reason) as caught:
        extract_article(text, kind="text", source="upload.txt")
    assert "upload.txt" in str(caught.value)


def test_harakat_count_as_letters() -> None:
    assert letter_share("مُوَّلَهَا") == 1.0


def test_string_needs_kind_and_source() -> None:
    with pytest.raises(ValueError, match="kind="):
        extract_article("نص", kind="pdf", source="a.pdf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="source="):
        extract_article("نص", kind="text")


def test_page_kind_and_source_come_from_the_page() -> None:
    page = FetchedPage(url="https://news.example/a", content_type="text/plain", text=f"{TITLE}\n{PARAGRAPHS[0]}")
    assert extract_article(page) == ExtractedArticle(title=TITLE, text=page.text)


@given(st.text())
def test_paragraph_lines_are_stripped_and_never_blank(text: str) -> None:
    result = one_paragraph_per_line(text)
    for line in result.split("\n") if result else []:
        assert line and line == line.strip()
        assert "  " not in line


# --- uploaded files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (PAGE_UTF8, "article.html"),
        (PAGE_CP1256, "article.HTM"),  # charset in <meta>
        (PAGE_CP1256_BARE, "article.html"),  # undeclared: detected
    ],
)
def test_uploaded_html_gives_the_article(data: bytes, filename: str) -> None:
    assert decode_document(data, filename) == ExtractedArticle(title=TITLE, text=ARTICLE_TEXT)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256", "utf-16"])
def test_uploaded_text_is_decoded(encoding: str) -> None:
    data = "\n\n".join((TITLE, *PARAGRAPHS)).encode(encoding)
    assert decode_document(data, "news.txt") == ExtractedArticle(title=TITLE, text=ARTICLE_TEXT)


def test_uploaded_markdown_takes_its_heading() -> None:
    data = f"# {TITLE}\n\n{PARAGRAPHS[0]}\n".encode("cp1256")
    assert decode_document(data, "news.md").title == TITLE


@pytest.mark.parametrize("filename", ["report.pdf", "report.docx", "README"])
def test_other_file_types_are_refused(filename: str) -> None:
    with refusal("file_type") as caught:
        decode_document(b"%PDF-1.4", filename)
    assert filename in str(caught.value) and ".txt, .md and .html" in str(caught.value)


def test_oversized_upload_is_refused() -> None:
    with refusal("too_large"):
        decode_document(b"a" * 101, "big.txt", max_bytes=100)
