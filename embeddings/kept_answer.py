"""What the buttons under an answer work from: the answer kept as references into article
texts, its quotes sliced again from those texts, and the paragraphs around its lead sentence.

A kept quote names an article and the checksum of the text it was cut from. It is quoted
again only from that very text: an article since removed, forgotten or changed gives None,
so every quote a button shows is still `article.text[start:end]`, and never a slice of some
other text that happens to have the same id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .passages import paragraphs
from .store.base import KeptAnswer, QuotedText, QuoteRef
from .text_fragment import text_fragment_url
from .types import Answer, Article, Quote, Scores, Span


@dataclass(frozen=True)
class ContextParagraph:
    """One paragraph of an article: its number (1-based, as citations count) and its span."""

    number: int
    start: int
    end: int
    text: str  # article.text[start:end]


@dataclass(frozen=True)
class Context:
    """The paragraph holding the lead sentence and its neighbours, in order."""

    article: Article
    paragraphs: tuple[ContextParagraph, ...]
    lead: Span  # the lead sentence, inside one of the paragraphs


def quote_ref(quote: Quote, checksum: str) -> QuoteRef:
    """A quote as a kept answer stores it (`checksum`: of the article text it was cut from)."""
    scores = quote.scores
    return QuoteRef(
        quote.article_id,
        checksum,
        quote.paragraph,
        quote.start,
        quote.end,
        quote.highlight.start,
        quote.highlight.end,
        scores.fused,
        scores.dense,
        scores.lexical,
    )


def keep_answer(chat_id: int, answer: Answer, checksums: Mapping[str, str], shown: int) -> KeptAnswer:
    """The answer as kept for its buttons: every quote in rank order, the first `shown` of
    them counted as shown. A quote whose article's checksum is not in `checksums` (gone
    meanwhile) keeps its rank but will never be quoted again."""
    refs = tuple(quote_ref(q, checksums.get(q.article_id, "")) for q in answer.quotes)
    kind = answer.kind or ("answer" if answer.found else "not_found")
    return KeptAnswer(chat_id, answer.question, kind, answer.confidence, refs, min(shown, len(refs)))


def requote(ref: QuoteRef, article: Article | None) -> Quote | None:
    """The kept quote sliced again from `article`, or None when that is not the text it was
    cut from (the article is gone or changed) or the offsets do not fit it."""
    if article is None or article.id != ref.article_id or article.checksum != ref.checksum:
        return None
    if not (0 <= ref.start <= ref.highlight_start < ref.highlight_end <= ref.end <= len(article.text)):
        return None
    highlight = Span(ref.highlight_start, ref.highlight_end)
    return Quote(
        article_id=article.id,
        title=article.title,
        source=article.source,
        paragraph=ref.paragraph,
        start=ref.start,
        end=ref.end,
        text=article.text[ref.start : ref.end],
        highlight=highlight,
        scores=Scores(ref.fused, ref.dense, ref.lexical),
        link=text_fragment_url(article.source, article.text, highlight),
    )


def quoted_text(quote: Quote) -> QuotedText:
    """What feedback on a quote copies: where it is, its passage and its sentence."""
    return QuotedText(
        quote.article_id,
        quote.title,
        quote.source,
        quote.paragraph,
        quote.start,
        quote.end,
        quote.highlight.start,
        quote.highlight.end,
        quote.text,
        quote.highlight_text,
    )


def lead_context(article: Article, lead: Span, around: int = 1) -> Context:
    """The paragraph holding `lead` with `around` paragraphs before and after it (fewer at
    the article's ends), each a verbatim slice of the article text."""
    spans = list(paragraphs(article.text))
    holding = next((i for i, span in enumerate(spans) if span.start <= lead.start < span.end), None)
    if holding is None:
        raise ValueError(f"the span {lead} is in no paragraph of article {article.id}")
    chosen = range(max(holding - around, 0), min(holding + around + 1, len(spans)))
    shown = tuple(ContextParagraph(i + 1, *_slice(article.text, spans[i])) for i in chosen)
    return Context(article, shown, lead)


def _slice(text: str, span: Span) -> tuple[int, int, str]:
    return span.start, span.end, text[span.start : span.end]
