"""Which script a text is written in: the Unicode blocks of Arabic and Latin letters.

`letter_share` tells whether a page holds article text at all (extraction refuses one that is
mostly not Arabic or Latin letters); `is_arabic_script` tells whether a question is Arabic
(answering holds a question in another script to a cross-lingual threshold).
"""

from __future__ import annotations

import unicodedata

Block = tuple[int, int]  # first and last code point, inclusive

ARABIC_BLOCKS: tuple[Block, ...] = (
    (0x0600, 0x06FF),  # Arabic
    (0x0750, 0x077F),  # Arabic Supplement
    (0x08A0, 0x08FF),  # Arabic Extended-A
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
)
LATIN_BLOCKS: tuple[Block, ...] = (
    (0x0041, 0x024F),  # Basic Latin letters to Latin Extended-B
    (0x1E00, 0x1EFF),  # Latin Extended Additional
)


def in_blocks(ch: str, blocks: tuple[Block, ...]) -> bool:
    """True when the character `ch` lies in one of `blocks`."""
    code = ord(ch)
    return any(low <= code <= high for low, high in blocks)


def is_arabic_letter(ch: str) -> bool:
    """True for an Arabic letter, or a mark written on one (harakat, shadda...)."""
    return in_blocks(ch, ARABIC_BLOCKS) and (ch.isalpha() or unicodedata.category(ch) == "Mn")


def is_latin_letter(ch: str) -> bool:
    """True for a Latin letter, accented ones included."""
    return ch.isalpha() and in_blocks(ch, LATIN_BLOCKS)


def letter_share(text: str) -> float:
    """The share of the characters that are not spaces which are Arabic or Latin letters."""
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return 0.0
    return sum(1 for ch in visible if is_arabic_letter(ch) or is_latin_letter(ch)) / len(visible)


def is_arabic_script(text: str) -> bool:
    """True when most letters of `text` are Arabic (or it has no letters at all)."""
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(1 for ch in letters if in_blocks(ch, ARABIC_BLOCKS))
    return not letters or arabic * 2 >= len(letters)
