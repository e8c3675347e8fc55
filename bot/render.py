"""Answers and article lists as Telegram HTML messages: pure functions, no I/O.

An answer leads with its answering sentence (bold, «…») and its citation, once; the
supporting passages follow as collapsed (expandable) quotes, each cited short: an article's
title the first time, then only "الفقرة 9". The quotes "المزيد" brings and the context
"السياق" shows are laid out the same way. Nothing is shown that is not a slice of an
article's text, except our labels and the article's title.

A reply is built as sections of blocks of styled runs, then packed into messages whose
visible text (what Telegram counts after parsing the HTML, in UTF-16 code units) fits the
limit. Messages break between sections; a section too long for a message of its own is cut
at a sentence, else a word, boundary, its tags closed before the cut and reopened after it,
and every continuation starts with an Arabic label so that Telegram lays it out right to left.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from embeddings import Answer, Article, ArticleError, Context, ExtractError, FetchError, Quote, Span

from . import messages

MESSAGE_LIMIT = 4096  # Telegram's limit on a message's visible text, in UTF-16 code units
SHOWN_CHARS = 300  # a title or source inserted in a short reply is cut there
MAX_LINK_CHARS = 2000  # a longer link URL is dropped, the citation left as plain text
_MIN_LIMIT = 100
_BLOCK_GAP = "\n"
_SECTION_GAP = "\n\n"
_SENTENCE_END = re.compile(r"[.!?؟…؛;:\n]+[\"'»)\]]*\s+")
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class _Run:
    """A stretch of text with one style."""

    text: str
    bold: bool = False
    code: bool = False  # monospace: an id Telegram copies with a tap
    link: str | None = None  # an http(s) URL the text links to (not visible, not counted)


@dataclass(frozen=True)
class _Block:
    """A line or a quoted passage, made of runs."""

    runs: tuple[_Run, ...]
    quote: bool = False
    expandable: bool = True  # a quote shown collapsed, opened with a tap

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class _Section:
    """Blocks kept in one message when they fit; `continued` heads a piece of it that does not."""

    blocks: tuple[_Block, ...]
    continued: _Block


def utf16_length(text: str) -> int:
    """Length of `text` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def to_plain(message: str) -> str:
    """The visible text of one of our HTML messages: tags dropped, entities unescaped."""
    return html.unescape(_TAG.sub("", message))


def render_answer(answer: Answer, limit: int = MESSAGE_LIMIT, *, named: str | None = None) -> list[str]:
    """Telegram HTML messages for an answer, by its kind: `answer` — the answering sentence
    and its citation, its passage when that says more, then the other passages, collapsed;
    `closest` — a plain statement that no sentence answers, then the closest passage as such
    (nothing bold, no answer label); `not_found` — the apology, quoting nothing. `named`: the
    id of an article whose title the reader sees already (the focus): cited by paragraph only."""
    _check_limit(limit)
    if answer.kind == "closest" and answer.quotes:
        intro = _Block((_Run(messages.CLOSEST_INTRO),))
        sections = [_Section((intro,), intro)]
        cited = {named}
        for quote in answer.quotes:
            sections.append(_closest_section(quote, quote.article_id not in cited))
            cited.add(quote.article_id)
        return _render(sections, limit)
    if not answer.found or not answer.quotes:
        return [messages.NOT_FOUND]
    lead, *others = answer.quotes
    sections = [_lead_section(lead, lead.article_id != named)]
    sections += _support_sections(others, {named, lead.article_id})
    return _render(sections, limit)


def render_more(quotes: Sequence[Quote], last: bool, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The next quotes of an answer ("المزيد"), cited short; `last`: none is left after them."""
    _check_limit(limit)
    heading = _Block((_Run(messages.MORE_HEADER),))
    sections = [_Section((heading,), heading), *_support_sections(quotes, set())]
    if last:
        end = _Block((_Run(messages.NO_MORE),))
        sections.append(_Section((end,), end))
    return _render(sections, limit)


def render_context(context: Context, bold: bool, link: str | None = None, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The paragraph around an answer's lead sentence and its neighbours ("السياق"), each
    verbatim; the lead in bold when `bold` (an answer, not a closest passage)."""
    _check_limit(limit)
    link = link if link and utf16_length(link) <= MAX_LINK_CHARS else None
    heading = _Block((_Run(f"{messages.CONTEXT_LABEL}: "), _Run(context.article.title, bold=True, link=link)))
    sections = [_Section((heading,), heading)]
    for paragraph in context.paragraphs:
        label = f"{messages.PARAGRAPH_LABEL} {paragraph.number}"
        passage = _highlighted(paragraph.text, paragraph.start, context.lead if bold else None, expandable=False)
        sections.append(
            _Section(
                (_Block((_Run(f"{label}:"),)), passage),
                _Block((_Run(f"{label} ({messages.CONTINUED_LABEL}):"),)),
            )
        )
    return _render(sections, limit)


def render_sources(articles: Sequence[Article], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Telegram HTML messages listing the indexed articles with their titles and sources."""
    _check_limit(limit)
    if not articles:
        return [messages.NO_ARTICLES]
    heading = _Block((_Run(f"{messages.ARTICLES_LABEL} ({len(articles)}):", bold=True),))
    sections = [_Section((heading,), heading)]
    sections += [_article_section(number, article) for number, article in enumerate(articles, start=1)]
    return _render(sections, limit)


def _check_limit(limit: int) -> None:
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit={limit} is too small for a message; use at least {_MIN_LIMIT}")


def _lead_section(quote: Quote, titled: bool) -> _Section:
    """The answering sentence, its citation, and its passage if that says more than it."""
    answer = _Block((_Run(f"{messages.ANSWER_LABEL}: "), _Run(f"«{quote.highlight_text}»", bold=True)))
    source = _Block((_Run(f"{messages.SOURCE_LABEL}: "), *_citation(quote, titled)))
    blocks = (answer, source, _passage_block(quote)) if _says_more(quote) else (answer, source)
    return _Section(blocks, _Block((_Run(f"{messages.ANSWER_LABEL} ({messages.CONTINUED_LABEL}):"),)))


def _says_more(quote: Quote) -> bool:
    """True when the quote's passage holds more than its answering sentence."""
    return quote.text.strip() != quote.highlight_text.strip()


def _support_sections(quotes: Sequence[Quote], cited: set[str | None]) -> list[_Section]:
    """Supporting passages, collapsed; each article's title cited once (`cited`: already)."""
    sections = []
    for quote in quotes:
        titled = quote.article_id not in cited
        cited.add(quote.article_id)
        runs = (_Run(f"{messages.SOURCE_LABEL}: "), *_citation(quote, True)) if titled else _citation(quote, False)
        continued = _Block((_Run(f"{messages.PARAGRAPH_LABEL} {quote.paragraph} ({messages.CONTINUED_LABEL}):"),))
        sections.append(_Section((_Block(tuple(runs)), _passage_block(quote)), continued))
    return sections


def _closest_section(quote: Quote, titled: bool) -> _Section:
    heading = _Block((_Run(f"{messages.CLOSEST_LABEL}: "), *_citation(quote, titled)))
    continued = _Block((_Run(f"{messages.CLOSEST_LABEL} ({messages.CONTINUED_LABEL}):"),))
    return _Section((heading, _Block((_Run(quote.text),), quote=True, expandable=False)), continued)


def _citation(quote: Quote, titled: bool) -> tuple[_Run, ...]:
    """Title and paragraph (`titled` False: the paragraph only); for an article from a URL, a
    link to the page opened at the quote's sentence (`Quote.link`, a text fragment built by
    the core); none for files or pasted text."""
    link = quote.link if quote.link and utf16_length(quote.link) <= MAX_LINK_CHARS else None
    paragraph = f"{messages.PARAGRAPH_LABEL} {quote.paragraph}"
    if not titled:
        return (_Run(paragraph, link=link),)
    return (_Run(quote.title, bold=True, link=link), _Run(f" — {paragraph}", link=link))


def _passage_block(quote: Quote) -> _Block:
    """The passage verbatim, collapsed, its answering sentence in bold (when it is a part of
    the passage: a passage all in bold reads as shouting)."""
    return _highlighted(quote.text, quote.start, quote.highlight if _says_more(quote) else None, expandable=True)


def _highlighted(text: str, offset: int, highlight: Span | None, expandable: bool) -> _Block:
    """A quote of `text` (at article offset `offset`), the part inside `highlight` in bold."""
    start = min(max(highlight.start - offset, 0), len(text)) if highlight else 0
    end = min(max(highlight.end - offset, start), len(text)) if highlight else 0
    runs = (_Run(text[:start]), _Run(text[start:end], bold=True), _Run(text[end:]))
    return _Block(tuple(run for run in runs if run.text), quote=True, expandable=expandable)


def _article_section(number: int, article: Article) -> _Section:
    runs = [_Run(f"{messages.ARTICLE_LABEL} {number}: "), _Run(article.title, bold=True)]
    if article.source:
        runs.append(_Run(f" — {article.source}"))
    ident = _Block((_Run(f"{messages.ID_LABEL}: "), _Run(article.id, code=True)))
    continued = _Block((_Run(f"{messages.ARTICLE_LABEL} {number} ({messages.CONTINUED_LABEL}):"),))
    return _Section((_Block(tuple(runs)), ident), continued)


def render_added(article: Article, added: bool) -> str:
    """The reply to an /add or an uploaded file: the article added, or the one already present."""
    template = messages.ARTICLE_ADDED if added else messages.ARTICLE_PRESENT
    return template.format(title=_shown(article.title), id=_shown(article.id), source=_shown(article.source))


def render_removed(article: Article) -> str:
    """The reply to /remove: the article removed."""
    return messages.ARTICLE_REMOVED.format(title=_shown(article.title), id=_shown(article.id))


def render_unknown_article(article_id: str) -> str:
    """The reply to /remove with an id no article has."""
    return messages.UNKNOWN_ARTICLE.format(id=_shown(article_id))


def render_refusal(error: ArticleError) -> str:
    """Why an article could not be added, in Arabic, by the error's reason code."""
    if isinstance(error, FetchError):
        return messages.FETCH_REFUSALS.get(error.reason, messages.ARTICLE_REFUSED)
    if isinstance(error, ExtractError):
        return messages.EXTRACT_REFUSALS.get(error.reason, messages.ARTICLE_REFUSED)
    return messages.ARTICLE_REFUSED


def _shown(value: str) -> str:
    """A value for a template: on one line, cut to SHOWN_CHARS, HTML-escaped."""
    value = " ".join(value.split())
    if len(value) > SHOWN_CHARS:
        value = value[: SHOWN_CHARS - 1] + "…"
    return html.escape(value, quote=False)


def _render(sections: list[_Section], limit: int) -> list[str]:
    return [_message_html(message) for message in _pack(sections, limit)]


# --- packing -------------------------------------------------------------------------------


def _block_length(block: _Block) -> int:
    return sum(utf16_length(run.text) for run in block.runs)


def _blocks_length(blocks: Sequence[_Block]) -> int:
    if not blocks:
        return 0
    return sum(map(_block_length, blocks)) + len(_BLOCK_GAP) * (len(blocks) - 1)


def _message_length(sections: Sequence[_Section]) -> int:
    if not sections:
        return 0
    gaps = len(_SECTION_GAP) * (len(sections) - 1)
    return sum(_blocks_length(section.blocks) for section in sections) + gaps


def _pack(sections: Sequence[_Section], limit: int) -> list[list[_Section]]:
    """Sections grouped into messages; a section is cut only if it cannot fit a message alone."""
    packed: list[list[_Section]] = []
    current: list[_Section] = []
    for section in sections:
        if _message_length([*current, section]) <= limit:
            current.append(section)
            continue
        if current:
            packed.append(current)
        pieces = [section] if _message_length([section]) <= limit else _cut_section(section, limit)
        packed.extend([piece] for piece in pieces[:-1])
        current = [pieces[-1]]
    if current:
        packed.append(current)
    return packed


def _cut_section(section: _Section, limit: int) -> list[_Section]:
    """Pieces of a section, each fitting a message; all but the first start with `continued`."""
    pieces: list[list[_Block]] = []
    current: list[_Block] = []
    fresh = [section.continued]
    for block in section.blocks:
        if _blocks_length([*current, block]) <= limit:
            current.append(block)
            continue
        if current != fresh and _blocks_length([*fresh, block]) <= limit:
            pieces.append(current)
            current = [*fresh, block]
            continue
        rest = block
        while _blocks_length([*current, rest]) > limit:
            room = limit - _blocks_length(current) - (len(_BLOCK_GAP) if current else 0)
            if room < limit // 4 and current != fresh:
                pieces.append(current)  # too little room left to be worth filling
                current = list(fresh)
                continue
            head, rest = _cut_block(rest, room)
            pieces.append([*current, head])
            current = list(fresh)
        current.append(rest)
    pieces.append(current)
    return [_Section(tuple(blocks), section.continued) for blocks in pieces if blocks]


def _cut_block(block: _Block, room: int) -> tuple[_Block, _Block]:
    """Split a block so that the head's visible text fits `room` UTF-16 units."""
    text = block.text
    cut = _cut_point(text, room)
    return _slice_block(block, 0, cut), _slice_block(block, cut, len(text))


def _cut_point(text: str, room: int) -> int:
    """Where to cut `text` (a code point index): a sentence end, else a space, else anywhere."""
    fits = _fitting_prefix(text, room)
    floor = fits // 3
    for pattern in (_SENTENCE_END, _SPACE):
        ends = [match.end() for match in pattern.finditer(text, 0, fits) if match.end() <= fits]
        if ends and ends[-1] > floor and ends[-1] < len(text):
            return ends[-1]
    cut = fits
    while cut > 1 and unicodedata.combining(text[cut]):
        cut -= 1  # keep a letter with its diacritics
    return cut


def _fitting_prefix(text: str, room: int) -> int:
    """The largest number of code points of `text` whose UTF-16 length is at most `room`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > room:
            return max(index, 1)
    return len(text)


def _slice_block(block: _Block, start: int, end: int) -> _Block:
    runs: list[_Run] = []
    offset = 0
    for run in block.runs:
        lo, hi = max(start, offset), min(end, offset + len(run.text))
        if lo < hi:
            runs.append(_Run(run.text[lo - offset : hi - offset], run.bold, run.code, run.link))
        offset += len(run.text)
    return _Block(tuple(runs), block.quote, block.expandable)


# --- HTML ------------------------------------------------------------------------------------


def _message_html(sections: Sequence[_Section]) -> str:
    return _SECTION_GAP.join(_BLOCK_GAP.join(map(_block_html, section.blocks)) for section in sections)


def _block_html(block: _Block) -> str:
    pieces: list[str] = []
    for link, runs in groupby(block.runs, key=lambda run: run.link):
        inner = "".join(map(_run_html, runs))
        # One <a> around consecutive runs of one link, so Telegram shows a single link.
        pieces.append(f'<a href="{html.escape(link, quote=True)}">{inner}</a>' if link else inner)
    inner = "".join(pieces)
    if not block.quote:
        return inner
    return f"<blockquote expandable>{inner}</blockquote>" if block.expandable else f"<blockquote>{inner}</blockquote>"


def _run_html(run: _Run) -> str:
    text = html.escape(run.text, quote=False)
    if run.code:
        text = f"<code>{text}</code>"
    return f"<b>{text}</b>" if run.bold else text
