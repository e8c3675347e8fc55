"""Links to one sentence of a web page: URL text fragments (`#:~:text=`), pure functions.

A text fragment (WICG "Text Fragments", https://wicg.github.io/scroll-to-text-fragment/) is
`#:~:text=[prefix-,]textStart[,textEnd][,-suffix]`; a browser that follows the link scrolls
to the first passage of the page that matches and highlights it.

Encoding (the spec's TextDirectiveString grammar): every term is UTF-8 percent-encoded except
ASCII letters, digits and `.`, `_`, `~` — a subset of the spec's TextDirectiveExplicitChar
set, so `-`, `&` and `,` (the directive's own syntax) are always `%2D`, `%26`, `%2C`, and so
are `%`, spaces, quotes and brackets, which chat clients' link detection might otherwise cut.

Matching (`find_fragment_matches`), the spec's "find a range from a text directive" over a
model of the page's rendered text:
- the page is the article text, one block per line (a term never matches across a block
  boundary; the whitespace between a context term and the match may cross blocks), with
  every run of whitespace inside a block collapsed to one space and blocks trimmed — the
  text as rendered, which is what browsers search (spec issue #98);
- comparison at (an approximation of) the UTS #10 primary level: NFKD, combining marks
  (Arabic harakat, Latin accents), format characters (ZWJ, ZWNJ, bidi marks) and tatweel
  dropped, then Unicode case folding; so `أ` matches `ا` and `É` matches `e`;
- word boundaries (UAX #29, approximated): a position is a boundary unless both neighbours
  are word characters (letters, marks, digits, `_`) of a script written with spaces; in
  scripts without spaces (Han, kana, Thai, …) every position is one. This puts a boundary
  in a few places UAX #29 does not (`can't`, `19.5`), never the reverse;
- prefix: word-start bounded, then any whitespace, then textStart (not start bounded);
  textStart and textEnd: word bounded as the spec says (textStart's end is bounded unless
  the directive is exact with a suffix); textEnd is the first match after textStart; suffix:
  after any whitespace, word-end bounded.
Both approximations accept at least what a browser accepts (more folding, more boundaries),
so "exactly one match, our sentence" under this matcher implies the browser's first match
is our sentence, whenever the page shows the sentence as the article text has it.

`text_fragment_url` picks the shortest directive that matches the sentence and only it: the
whole sentence when it has at most SHORT_WORDS words, else its first and last
MIN_TERM_WORDS words (`textStart,textEnd`), one more word on each side until unique; then the whole sentence;
then context terms (up to MAX_CONTEXT_WORDS words before/after). When nothing is unique (the
same sentence twice in the same surroundings) it returns the whole-sentence directive: the
browser then shows an identical sentence, the first one, which reads the same.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

from .types import Span

SHORT_WORDS = 10  # a sentence of at most this many words is linked whole (text=…)
# Terms of fewer words would be unique in the article yet match the page's menus and
# sidebars first; three words each keep textStart,textEnd on the sentence in practice.
MIN_TERM_WORDS = 3
MAX_CONTEXT_WORDS = 5
MAX_URL_CHARS = 2000  # Telegram and browsers take longer URLs badly; past it, the plain page URL
DIRECTIVE_DELIMITER = ":~:"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~")
_HEX = frozenset("0123456789abcdefABCDEF")
_NETLOC_CHARS = _UNRESERVED | frozenset("-%!$&'()*+,;=:@[]")
_TATWEEL = "\u0640"
_BLOCK = "\n"
# Scripts written without spaces between words: every position between two letters may be
# a word boundary there (dictionary segmentation); treating each as one is the lax side.
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x9FFF),  # CJK radicals, kana, CJK ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables (spaced, but UAX #29 users segment them finer)
    (0xF900, 0xFAFF),
    (0x20000, 0x3FFFF),
)


@dataclass(frozen=True)
class TextDirective:
    """The four terms of a text directive, percent-decoded; only `start` is required."""

    start: str
    end: str | None = None
    prefix: str | None = None
    suffix: str | None = None

    def encode(self) -> str:
        """The directive as it goes in a URL: `text=[prefix-,]start[,end][,-suffix]`."""
        parts = [f"{percent_encode(self.prefix)}-"] if self.prefix else []
        parts.append(percent_encode(self.start))
        if self.end:
            parts.append(percent_encode(self.end))
        if self.suffix:
            parts.append(f"-{percent_encode(self.suffix)}")
        return "text=" + ",".join(parts)


def percent_encode(term: str) -> str:
    """`term` UTF-8 percent-encoded, every byte but ASCII letters, digits and `._~` as %XX."""
    return "".join(chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}" for byte in term.encode("utf-8"))


def percent_decode(term: str) -> str:
    """The URL Standard's percent-decode, then UTF-8 (bad bytes as U+FFFD): a `%` not followed
    by two hex digits stays as it is, and `+` is a plus, not a space."""
    raw = term.encode("utf-8")
    out = bytearray()
    index = 0
    while index < len(raw):
        byte = raw[index]
        pair = raw[index + 1 : index + 3].decode("latin-1")
        if byte == ord("%") and len(pair) == 2 and all(c in _HEX for c in pair):
            out.append(int(pair, 16))
            index += 3
        else:
            out.append(byte)
            index += 1
    return out.decode("utf-8", errors="replace")


def parse_text_directive(directive: str) -> TextDirective | None:
    """The spec's "parse a text directive" on one `text=…` directive; None if it is invalid."""
    if not directive.startswith("text="):
        return None
    tokens = directive[len("text=") :].split(",")
    if not 1 <= len(tokens) <= 4 or any(not token for token in tokens):
        return None
    prefix = suffix = None
    if tokens[0].endswith("-"):
        prefix = percent_decode(tokens.pop(0)[:-1])
    if tokens and tokens[-1].startswith("-"):
        suffix = percent_decode(tokens.pop()[1:])
    if len(tokens) not in (1, 2) or any(not term for term in (prefix, suffix) if term is not None):
        return None
    if any(token.startswith("-") or token.endswith("-") for token in tokens):
        return None  # a dash that is not a context marker is not in the grammar
    end = percent_decode(tokens[1]) if len(tokens) == 2 else None
    return TextDirective(start=percent_decode(tokens[0]), end=end, prefix=prefix, suffix=suffix)


def text_directives(url_or_fragment: str) -> list[TextDirective]:
    """The valid text directives of a URL (or of a bare fragment), in order."""
    fragment = url_or_fragment.partition("#")[2] if "#" in url_or_fragment else url_or_fragment
    _, delimiter, directives = fragment.partition(DIRECTIVE_DELIMITER)
    if not delimiter:
        return []
    parsed = (parse_text_directive(directive) for directive in directives.split("&"))
    return [directive for directive in parsed if directive is not None]


def find_fragment_matches(url_or_fragment: str, text: str) -> list[Span]:
    """Every passage of `text` the URL's text directives can match, as spans of `text`.

    For each directive, every candidate start (a textStart match, after its prefix if any)
    paired with its first valid end, in document order; a browser picks the first of each
    directive's list. See the module docstring for the rules.
    """
    page = _page(text)
    return [span for directive in text_directives(url_or_fragment) for span in page.matches(directive)]


def text_fragment_url(url: str, context_text: str, sentence: Span, *, max_chars: int = MAX_URL_CHARS) -> str | None:
    """A link to `url` that opens at `context_text[sentence.start:sentence.end]` and highlights it.

    `context_text` is the article's text as the page shows it. The URL's own fragment is
    replaced, its query kept. None when `url` is not an http(s) URL a chat can link to; the
    plain page URL when the fragment URL would exceed `max_chars`.
    """
    base = link_base(url)
    if base is None:
        return None
    directive = best_directive(context_text, sentence)
    if directive is None:
        return base if len(base) <= max_chars else None
    link = f"{base}#{DIRECTIVE_DELIMITER}{directive.encode()}"
    if len(link) <= max_chars:
        return link
    return base if len(base) <= max_chars else None


def link_base(url: str) -> str | None:
    """`url` without its fragment, as an ASCII http(s) URL (IRI characters percent-encoded,
    an international host in IDNA), or None if it is not one."""
    url = url.strip()
    if not url or any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme.lower() not in ("http", "https") or not host:
            return None
        netloc = parts.netloc
        _ = parts.port  # raises ValueError on a port that is not a number in range
        if netloc.isascii() and not set(netloc) <= _NETLOC_CHARS:
            return None  # quotes, brackets or spaces in a host: not a URL a chat links
        if not netloc.isascii():
            if parts.username is not None or parts.password is not None:
                return None
            ascii_host = host.encode("idna").decode("ascii")
            netloc = ascii_host if parts.port is None else f"{ascii_host}:{parts.port}"
    except (ValueError, UnicodeError):
        return None
    keep = "/%:@!$&'()*+,;=-._~"
    path = quote(parts.path, safe=keep)
    query = quote(parts.query, safe=keep + "?")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def best_directive(context_text: str, sentence: Span) -> TextDirective | None:
    """The directive `text_fragment_url` uses for the sentence (see the module docstring)."""
    page = _page(context_text)
    target = page.visible(sentence)
    if target is None:
        return None
    start, end = target.start, target.end
    words = context_text[start:end].split()
    whole = TextDirective(" ".join(words))
    candidates: list[TextDirective] = []
    if len(words) <= SHORT_WORDS:
        candidates.append(whole)
    for count in range(max(1, min(MIN_TERM_WORDS, len(words) // 2)), len(words) // 2 + 1):
        candidates.append(TextDirective(" ".join(words[:count]), " ".join(words[-count:])))
    if len(words) > SHORT_WORDS:
        candidates.append(whole)
    for candidate in candidates:
        if page.matches(candidate) == [target]:
            return candidate
    before = _line_words(context_text[:start], last=True)
    after = _line_words(context_text[end:], last=False)
    for count in range(1, MAX_CONTEXT_WORDS + 1):
        prefix = " ".join(before[-count:]) or None
        suffix = " ".join(after[:count]) or None
        if prefix is None and suffix is None:
            break
        candidate = TextDirective(whole.start, prefix=prefix, suffix=suffix)
        if page.matches(candidate) == [target]:
            return candidate
    return whole  # best effort: an identical sentence elsewhere may be the one shown


def _line_words(text: str, *, last: bool) -> list[str]:
    """The words of the nearest non-empty line of `text` at its end (`last`) or start: a
    context term must lie in one block, though the space between it and the match may not."""
    lines = text.split(_BLOCK)
    for line in reversed(lines) if last else lines:
        if line.split():
            return line.split()
    return []


def visible_span(text: str, span: Span) -> Span | None:
    """`span` without the whitespace and ignorable characters (format, marks alone) at its
    ends: the part a match can cover; None if nothing of it is visible."""
    return _page(text).visible(span)


# --- the page model and the search -----------------------------------------------------------


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """One character at (about) the primary collation level: no marks, no case, no tatweel."""
    if char == _TATWEEL:
        return ""
    decomposed = unicodedata.normalize("NFKD", char)
    kept = (c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me", "Cf") and not c.isspace())
    return "".join(kept).casefold()


def _is_word(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in "LMN"


def _no_space_script(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _NO_SPACE_RANGES)


class _Page:
    """The rendered, folded text of a page: blocks joined by "\\n", each character mapped back
    to the span of the original text it came from."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for line_start, line in _lines(text):
            if chars:
                chars.append(_BLOCK)
                starts.append(line_start)
                ends.append(line_start)
            pending_space: int | None = None
            line_has_text = False
            for offset, char in enumerate(line):
                index = line_start + offset
                if char.isspace():
                    if line_has_text and pending_space is None:
                        pending_space = index
                    continue
                folded = _fold_char(char)
                if not folded:
                    if line_has_text and pending_space is None:
                        ends[-1] = index + 1  # an ignorable mark belongs to the letter before it
                    continue
                if pending_space is not None:
                    chars.append(" ")
                    starts.append(pending_space)
                    ends.append(pending_space + 1)
                    pending_space = None
                for piece in folded:
                    chars.append(piece)
                    starts.append(index)
                    ends.append(index + 1)
                line_has_text = True
            if not line_has_text and chars and chars[-1] == _BLOCK:
                chars.pop()  # an empty line makes no block
                starts.pop()
                ends.pop()
        self.text = "".join(chars)
        self._starts = starts
        self._ends = ends

    def visible(self, span: Span) -> Span | None:
        """The smallest span covering the folded characters (not spaces, not block
        boundaries) that came from inside `span`."""
        first = bisect_left(self._starts, span.start)
        last = bisect_left(self._starts, span.end) - 1
        while first <= last and (self.text[first] in (" ", _BLOCK) or self._ends[first] > span.end):
            first += 1
        while last >= first and (self.text[last] in (" ", _BLOCK) or self._ends[last] > span.end):
            last -= 1
        return self.span(first, last + 1) if first <= last else None

    def span(self, start: int, end: int) -> Span:
        """The original span of folded characters [start, end)."""
        return Span(self._starts[start], self._ends[end - 1])

    def boundary(self, position: int) -> bool:
        """Whether a word boundary is at `position` of the folded text."""
        if position <= 0 or position >= len(self.text):
            return True
        before, after = self.text[position - 1], self.text[position]
        if not (_is_word(before) and _is_word(after)):
            return True
        return _no_space_script(before) or _no_space_script(after)

    def skip_space(self, position: int) -> int:
        """The next non-whitespace position (whitespace and block boundaries skipped)."""
        while position < len(self.text) and self.text[position] in (" ", _BLOCK):
            position += 1
        return position

    def occurrences(self, query: str, begin: int, start_bounded: bool, end_bounded: bool) -> list[int]:
        """Start positions of `query` (folded) at or after `begin`, bounded as asked."""
        found: list[int] = []
        if not query:
            return found
        position = self.text.find(query, begin)
        while position != -1:
            end = position + len(query)
            if (not start_bounded or self.boundary(position)) and (not end_bounded or self.boundary(end)):
                found.append(position)
            position = self.text.find(query, position + 1)
        return found

    def matches(self, directive: TextDirective) -> list[Span]:
        """Every range the directive matches, in document order (the first is the browser's)."""
        start_query = _fold_query(directive.start)
        end_query = _fold_query(directive.end) if directive.end is not None else None
        prefix_query = _fold_query(directive.prefix) if directive.prefix is not None else None
        suffix_query = _fold_query(directive.suffix) if directive.suffix is not None else None
        if not start_query or end_query == "" or prefix_query == "" or suffix_query == "":
            return []
        start_end_bounded = end_query is not None or suffix_query is None
        starts: list[int] = []
        if prefix_query is not None:
            for prefix_at in self.occurrences(prefix_query, 0, True, False):
                at = self.skip_space(prefix_at + len(prefix_query))
                if self._matches_at(start_query, at, False, start_end_bounded) and at not in starts:
                    starts.append(at)
        else:
            starts = self.occurrences(start_query, 0, True, start_end_bounded)
        ranges: list[Span] = []
        for at in starts:
            stop = at + len(start_query)
            if end_query is None:
                if suffix_query is None or self._matches_at(suffix_query, self.skip_space(stop), False, True):
                    ranges.append(self.span(at, stop))
                continue
            for end_at in self.occurrences(end_query, stop, True, suffix_query is None):
                end_stop = end_at + len(end_query)
                if suffix_query is None or self._matches_at(suffix_query, self.skip_space(end_stop), False, True):
                    ranges.append(self.span(at, end_stop))
                    break
        return ranges

    def _matches_at(self, query: str, position: int, start_bounded: bool, end_bounded: bool) -> bool:
        if not self.text.startswith(query, position):
            return False
        end = position + len(query)
        return (not start_bounded or self.boundary(position)) and (not end_bounded or self.boundary(end))


@lru_cache(maxsize=8)
def _page(text: str) -> _Page:
    """The page model of `text`, kept for the few articles being quoted (an answer links up to
    three sentences, often of one article; building the model is the costly part)."""
    return _Page(text)


def _fold_query(term: str) -> str:
    """A term folded like the page: whitespace collapsed, ignorables dropped, case folded."""
    return " ".join("".join(_fold_char(c) for c in word) for word in term.split() if any(map(_fold_char, word)))


def _lines(text: str) -> list[tuple[int, str]]:
    """The lines of `text` (the page's blocks) with their start offsets."""
    lines: list[tuple[int, str]] = []
    start = 0
    for line in text.split(_BLOCK):
        lines.append((start, line))
        start += len(line) + 1
    return lines
