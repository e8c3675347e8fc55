"""Turning a fetched page or an uploaded file into an article's title and text.

HTML goes through trafilatura: the main text without navigation, footer or comments, and the
title from its metadata, else the page's <title>. Plain text and markdown are kept as they
are (markdown's title is its first `# ` heading). In every case the text comes out with one
paragraph per line, as the core splits paragraphs on newlines, and it must be mostly Arabic
or Latin letters.

Refusals are `ExtractError` with a stable `reason`: "empty", "not_text", "file_type",
"too_large", "garbage" (random bytes, mojibake or a binary file:
garbage.py). Extracting a big page is CPU work: the bot runs it in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import Document

from .articles import first_line_title, one_paragraph_per_line
from .errors import ExtractError
from .fetch import FetchedPage, FetchPolicy, Kind, decode_body
from .garbage import garbage_reason
from .script import letter_share

DOCUMENT_KINDS: dict[str, Kind] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
MIN_LETTER_SHARE = 0.5  # of the characters that are not spaces
_MEDIA_TYPES: dict[Kind, str] = {"html": "text/html", "text": "text/plain", "markdown": "text/markdown"}


@dataclass(frozen=True)
class ExtractedArticle:
    """An article's title and its text, one paragraph per line."""

    title: str
    text: str


def extract_article(
    page_or_text: FetchedPage | str, *, kind: Kind | None = None, source: str | None = None
) -> ExtractedArticle:
    """The title and text of a fetched page, or of a decoded string of the given `kind`.

    For a `FetchedPage`, `kind` and `source` default to the page's own; for a string both
    are required (`source` names it in error messages). Raises ExtractError when the text
    is empty or not mostly Arabic or Latin letters.
    """
    if isinstance(page_or_text, FetchedPage):
        kind, source = kind or page_or_text.kind, source or page_or_text.url
        raw = page_or_text.text
    else:
        raw = page_or_text
    if kind not in _MEDIA_TYPES or source is None:
        raise ValueError(f"extract_article needs kind= one of {sorted(_MEDIA_TYPES)} (got {kind!r}) and source=")
    title, body = _title_and_body(raw, kind)
    text = one_paragraph_per_line(body)
    check_letters(text, source)
    reason = garbage_reason(text)
    if reason is not None:
        raise ExtractError(source, "garbage", f"{reason}.")
    return ExtractedArticle(title=" ".join(title.split()) or first_line_title(text), text=text)


def decode_document(data: bytes, filename: str, *, max_bytes: int = FetchPolicy.max_bytes) -> ExtractedArticle:
    """The article in an uploaded .txt, .md or .html file, decoded as a fetched page would be."""
    suffix = PurePath(filename).suffix.lower()
    kind = DOCUMENT_KINDS.get(suffix)
    if kind is None:
        found = f"a {suffix} file" if suffix else "a file without extension"
        raise ExtractError(filename, "file_type", f"only .txt, .md and .html files can be added, not {found}.")
    if len(data) > max_bytes:
        raise ExtractError(filename, "too_large", f"it has {len(data):,} bytes, more than the {max_bytes:,} we read.")
    text = decode_body(data, _MEDIA_TYPES[kind])
    return extract_article(text, kind=kind, source=filename)


def check_letters(text: str, source: str) -> None:
    """Refuse an empty text, or one whose visible characters are mostly not Arabic or Latin letters."""
    if not text.strip():
        raise ExtractError(source, "empty", "no article text was found in it.")
    share = letter_share(text)
    if share < MIN_LETTER_SHARE:
        detail = (
            f"only {share:.0%} of its characters are Arabic or Latin letters, "
            f"and an article needs at least {MIN_LETTER_SHARE:.0%}."
        )
        raise ExtractError(source, "not_text", detail)


def _title_and_body(raw: str, kind: Kind) -> tuple[str, str]:
    if kind == "html":
        return _html(raw)
    if kind == "markdown":
        return _markdown_title(raw), raw
    return "", raw


def _html(html: str) -> tuple[str, str]:
    """Title and main text of an HTML page, by trafilatura."""
    document = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    if not isinstance(document, Document):  # None: nothing found (a dict only comes with as_dict=True)
        return _html_title(html), ""
    return document.title or _html_title(html), document.text or ""


def _html_title(html: str) -> str:
    try:
        return lxml.html.document_fromstring(html).findtext(".//title") or ""
    except (lxml.etree.ParserError, ValueError):
        return ""


def _markdown_title(text: str) -> str:
    for line in text.splitlines():
        if line.lstrip().startswith("# "):
            return line.lstrip()[2:].strip(" #")
    return ""
