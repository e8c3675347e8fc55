"""Sentence spans over the raw article text.

Spans are character offsets into the original string, so a quote is always a verbatim
slice. A sentence ends at Arabic or Latin end punctuation followed by space, a closing
quote or the end of the text, and at every newline. A full stop between two
non-space characters (19.5, U.S, example.com) never ends a sentence, nor one after a
single letter that is a name's initial (راجيندرا ك. باتشوري, John F. Kennedy): a letter
after a number is a unit or era (1990 م., 1445 هـ.) and still ends one.
"""

from __future__ import annotations

import re

from .types import Span

# End punctuation, then any closing quotes/brackets, where the next character is a
# space or the end of the text. Newlines always end a sentence.
_BOUNDARY = re.compile(r"[.!?؟۔…]+[\"'»”’)\]]*(?=\s|$)|\n")
# One letter (Arabic, with an optional tatweel, or Latin) standing alone before a full stop;
# "(c." is circa. How far back to look for it and for a number before it.
_LONE_LETTER = re.compile(r"(?:^|[\s(])([^\W\d_]ـ?)\.$")
_LOOKBACK = 40


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of `text[start:end]` as spans of `text`, trimmed of surrounding space.

    The spans are in order, do not overlap, contain no newline, and together cover
    every non-space character of the range.
    """
    stop = len(text) if end is None else end
    spans: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, stop):
        if match.group() == "." and _is_initial(text, max(start, match.start() - _LOOKBACK), match.end()):
            continue
        _append_trimmed(text, cursor, match.end(), spans)
        cursor = match.end()
    _append_trimmed(text, cursor, stop, spans)
    return spans


def _is_initial(text: str, lookback: int, end: int) -> bool:
    """True when the full stop ending at `end` follows a lone letter that is not a unit
    after a number (see the module docstring)."""
    window = text[lookback:end]
    found = _LONE_LETTER.search(window)
    if found is None or (found.start(1) == 0 and lookback > 0 and not text[lookback - 1].isspace()):
        return False
    before = window[: found.start(1)].rstrip(" \t(").split()
    return not (before and before[-1][-1:].isdigit())


def _append_trimmed(text: str, start: int, end: int, spans: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append(Span(start, end))
