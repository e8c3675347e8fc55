"""Arabic folding for matching. Display always keeps the original characters.

Folding removes what varies between spellings of the same word (diacritics, tatweel,
bidi and zero-width marks), merges letter forms writers use interchangeably (alef with
hamza or madda, alef maqsura and ya, ta marbuta and ha), and turns Arabic-Indic and
Persian digits into ASCII digits, so "٢٩ سبتمبر" matches "29 سبتمبر".
"""

from __future__ import annotations

import re
import unicodedata

_REMOVE = (
    [chr(c) for c in range(0x0610, 0x061B)]  # small marks above/below (honorifics, small harakat)
    + [chr(c) for c in range(0x064B, 0x0660)]  # harakat, tanwin, shadda, sukun, small marks
    + ["\u0670", "\u0640"]  # superscript alef, tatweel
    + [chr(c) for c in range(0x06D6, 0x06EE)]  # Quranic annotation marks
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]  # zero-width characters
    + ["\u200e", "\u200f", "\u061c"]  # directional marks
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings and overrides
    + [chr(c) for c in range(0x2066, 0x206A)]  # bidi isolates
)
_REPLACE = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ى": "ي",
    "ی": "ي",
    "ئ": "ي",
    "ؤ": "و",
    "ة": "ه",
    "ک": "ك",
}
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
_DROP = str.maketrans(dict.fromkeys(_REMOVE, None))
_FOLD = str.maketrans({**_REPLACE, **_DIGITS})
_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)


def normalize_arabic(text: str) -> str:
    """Fold `text` for matching: marks dropped, NFKC, case, Arabic letter forms, digits.

    Marks go first, so that NFKC sees the letters they separated side by side (folding
    twice gives the same result as folding once); NFKC runs again after case folding,
    whose output is not always in normal form.
    """
    dropped = unicodedata.normalize("NFKC", text.translate(_DROP)).translate(_DROP)
    return unicodedata.normalize("NFKC", dropped.casefold()).translate(_FOLD)


def words(text: str) -> list[str]:
    """The word tokens of already-normalised text (numbers like 19.5 stay whole)."""
    return _WORD.findall(text)
