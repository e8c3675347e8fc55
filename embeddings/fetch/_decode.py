"""Charsets: turning the bytes of a page into text.

The charset of the Content-Type header, else the byte-order mark, else (HTML) the page's
<meta> charset, else a guess: UTF-8, then charset_normalizer, then Windows-1256.
"""

from __future__ import annotations

import codecs
import email.message
import re
from collections.abc import Iterator

import charset_normalizer

from ._policy import media_type

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
_META_SCAN_BYTES = 4096


def decode_body(data: bytes, content_type: str = "") -> str:
    """Decode a page: the header's charset, else a byte-order mark, else (HTML) the <meta>
    charset, else UTF-8, else charset_normalizer's guess.

    A declared charset that does not decode the bytes is skipped. The header comes before
    the BOM (browsers put the BOM first): the server's word is what we were told.
    """
    for encoding in _declared_encodings(data, content_type):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return _guess(data)


def _declared_encodings(data: bytes, content_type: str) -> Iterator[str]:
    message = email.message.Message()
    message["content-type"] = content_type
    header = message.get_content_charset()
    if header:
        yield _codec(header)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            yield encoding
    if media_type(content_type) not in ("text/plain", "text/markdown"):
        match = _META_CHARSET.search(data[:_META_SCAN_BYTES])
        if match:
            label = match.group(1).decode("ascii")
            yield "utf-8" if label.lower().startswith("utf-16") else _codec(label)


def _codec(label: str) -> str:
    """Python's codec for a charset label; UTF-8 drops a leading byte-order mark."""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return label
    return "utf-8-sig" if name == "utf-8" else name


def _guess(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("cp1256", errors="replace")
