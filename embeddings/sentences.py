"""Sentence spans over the raw article text.

Spans are character offsets into the original string, so a quote is always a verbatim
slice. A sentence ends at Arabic or Latin end punctuation followed by space, a closing
quote or the end of the text, and at every newline. A full stop between two
non-space characters (19.5, U.S, example.com) never ends a sentence.
"""

from __future__ import annotations

import re

from .types import Span

# End punctuation, then any closing quotes/brackets, where the next character is a
# space or the end of the text. Newlines always end a sentence.
_BOUNDARY = re.compile(r"[.!?؟۔…]+[\"'»”’)\]]*(?=\s|$)|\n")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of `text[start:end]` as spans of `text`, trimmed of surrounding space.

    The spans are in order, do not overlap, contain no newline, and together cover
    every non-space character of the range.
    """
    stop = len(text) if end is None else end
    spans: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, stop):
        _append_trimmed(text, cursor, match.end(), spans)
        cursor = match.end()
    _append_trimmed(text, cursor, stop, spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append(Span(start, end))
