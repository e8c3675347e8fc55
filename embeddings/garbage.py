"""Is a decoded text language at all? Refusing random bytes, mojibake and binary files.

The letter share of extract.py lets through bytes that a single-byte charset (windows-1256)
decodes into Arabic letters mixed with symbols. Real text, whatever its topic, has three
traits that such noise lacks, and each is checked on its own:

- no control, private-use, unassigned or replacement characters (a binary file has NULs);
- its space-separated tokens are words: letters of one script (Arabic with its marks, or
  Latin), or numbers, joined at most by a hyphen, dot, apostrophe or slash — noise puts
  symbols inside its "words";
- Arabic letter frequencies as Arabic has them: UTF-8 Arabic misread as windows-1256 comes
  out as alternating ط/ظ (about half of its letters; Arabic has ~2 %), and misread as
  Latin-1 as runs of Ø/Ù/Ã.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_BAD_CHARACTERS = (
    0.01  # real XQuAD-ar text has up to 0.3 %; control, private-use, unassigned, U+FFFD: of all characters
)
MIN_WORDLIKE = 0.75  # share of the visible characters in tokens shaped like words
MAX_TA_ZA = 0.12  # ط and ظ among Arabic letters (real text: ~0.02; cp1256 mojibake: ~0.5)
MAX_MOJIBAKE_LATIN = 0.15  # Ã Â Ø Ù Ð and the like among Latin letters (mojibake of UTF-8)
_MOJIBAKE_LEADS = frozenset("ÃÂØÙÐÑÞßâ")
_JOINERS = re.compile(r"[-‐‑–.'’/_:,،٫٬]")
_EDGE = "\"'«»“”‘’()[]{}<>.,;:!?؟،؛…-–—*•·/\\|%#@&+=~^`"


@dataclass(frozen=True)
class TextShape:
    """The measurements the check compares with its limits."""

    bad_characters: float
    wordlike: float
    ta_za: float
    mojibake_latin: float


def _bad(ch: str) -> bool:
    if ch in "\n\t\r":
        return False
    return ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs")


def _script(ch: str) -> str | None:
    code = ord(ch)
    if ch.isdigit():
        return "digit"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFEFF:
        return "arabic" if ch.isalpha() or unicodedata.category(ch) == "Mn" or ch == "\u0640" else None
    if ch.isalpha() and (code <= 0x024F or 0x1E00 <= code <= 0x1EFF):
        return "latin"
    if unicodedata.category(ch) == "Mn":
        return "mark"
    return None


def _wordlike(token: str) -> bool:
    """A token of letters of one script or a number, in parts joined by -, ., ', / ..."""
    core = token.strip(_EDGE)
    if not core:
        return True  # punctuation alone is not noise
    for part in _JOINERS.split(core):
        if not part:
            continue
        scripts = {_script(ch) for ch in part} - {"mark"}
        if None in scripts or len(scripts - {"digit"}) > 1:
            return False
    return True


def measure(text: str) -> TextShape:
    """The shape of `text` (see the module docstring)."""
    total = max(len(text), 1)
    bad = sum(map(_bad, text)) / total
    tokens = text.split()
    visible = sum(len(t) for t in tokens)
    wordlike = sum(len(t) for t in tokens if _wordlike(t)) / visible if visible else 1.0
    arabic = [ch for ch in text if _script(ch) == "arabic" and ch.isalpha()]
    ta_za = sum(ch in "طظ" for ch in arabic) / len(arabic) if len(arabic) >= 20 else 0.0
    latin = [ch for ch in text if _script(ch) == "latin"]
    mojibake = sum(ch in _MOJIBAKE_LEADS for ch in latin) / len(latin) if len(latin) >= 20 else 0.0
    return TextShape(bad, wordlike, ta_za, mojibake)


def garbage_reason(text: str) -> str | None:
    """Why `text` is not language (an English sentence), or None when it reads as text."""
    shape = measure(text)
    if shape.bad_characters > MAX_BAD_CHARACTERS:
        return (
            f"{shape.bad_characters:.1%} of its characters are control, private-use or undecodable "
            "characters, as in a binary file (an image or a PDF renamed?)"
        )
    if shape.ta_za > MAX_TA_ZA or shape.mojibake_latin > MAX_MOJIBAKE_LATIN:
        return "its letters are those of text decoded with the wrong character set (mojibake)"
    if shape.wordlike < MIN_WORDLIKE:
        return (
            f"only {shape.wordlike:.0%} of it is in words (letters of one script, or numbers), "
            f"and text has at least {MIN_WORDLIKE:.0%}; it looks like random bytes"
        )
    return None
