"""Kept answers: quotes are sliced again only from the text they were cut from, and the
context of a lead sentence is its paragraph and the neighbours, verbatim."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import Engine, keep_answer, lead_context, quote_ref, quoted_text, requote
from embeddings.passages import paragraphs
from embeddings.types import Article, Span

if TYPE_CHECKING:
    from fake_encoder import FakeEncoder

TEXT = "الفقرة الأولى هنا.\nجملة ثانية. وجملة الجواب هنا.\n\nالفقرة الثالثة.\nالفقرة الرابعة والأخيرة."
ARTICLE = Article("a", "عنوان", "https://example.com/news", TEXT)


def test_a_quote_kept_and_sliced_again_is_the_same_quote(fake_encoder_class: type[FakeEncoder]) -> None:
    engine = Engine.from_articles([ARTICLE], fake_encoder_class(), abstention=None)
    answer = engine.ask("ما الجواب؟", k=3)
    kept = keep_answer(5, answer, {"a": ARTICLE.checksum}, shown=1)
    assert kept.chat_id == 5 and kept.kind == "answer" and kept.shown == 1 and len(kept.quotes) == len(answer.quotes)
    assert [requote(ref, ARTICLE) for ref in kept.quotes] == list(answer.quotes)


def test_a_changed_or_missing_article_is_not_quoted_again(fake_encoder_class: type[FakeEncoder]) -> None:
    engine = Engine.from_articles([ARTICLE], fake_encoder_class(), abstention=None)
    [quote, *_] = engine.ask("ما الجواب؟").quotes
    ref = quote_ref(quote, ARTICLE.checksum)
    changed = Article("a", ARTICLE.title, ARTICLE.source, TEXT.replace("الجواب", "السؤال"))
    assert requote(ref, None) is None and requote(ref, changed) is None
    assert requote(ref, Article("b", ARTICLE.title, ARTICLE.source, TEXT)) is None  # another article, same text


def test_feedback_copies_the_passage_and_its_sentence(fake_encoder_class: type[FakeEncoder]) -> None:
    engine = Engine.from_articles([ARTICLE], fake_encoder_class(), abstention=None)
    [quote, *_] = engine.ask("ما الجواب؟").quotes
    copied = quoted_text(quote)
    assert copied.text == TEXT[copied.start : copied.end] and copied.sentence == quote.highlight_text
    assert TEXT[copied.highlight_start : copied.highlight_end] == copied.sentence


def test_context_is_the_paragraph_and_its_neighbours() -> None:
    lead = Span(TEXT.index("وجملة"), TEXT.index("هنا.\n\n") + 4)
    context = lead_context(ARTICLE, lead)
    assert [p.number for p in context.paragraphs] == [1, 2, 3]  # the blank line is no paragraph
    assert [p.text for p in context.paragraphs] == [
        "الفقرة الأولى هنا.",
        "جملة ثانية. وجملة الجواب هنا.",
        "الفقرة الثالثة.",
    ]
    assert [p.number for p in lead_context(ARTICLE, Span(0, 5)).paragraphs] == [1, 2]
    last = TEXT.index("الفقرة الرابعة")
    assert [p.number for p in lead_context(ARTICLE, Span(last, last + 5)).paragraphs] == [3, 4]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="اب ت.\n\u064e", min_size=0, max_size=30), min_size=1, max_size=8), st.data())
def test_context_paragraphs_are_verbatim_and_hold_the_lead(lines: list[str], data: st.DataObject) -> None:
    text = "\n".join(lines)
    spans = list(paragraphs(text))
    if not spans:
        return
    span = data.draw(st.sampled_from(spans))
    start = data.draw(st.integers(span.start, span.end - 1))
    end = data.draw(st.integers(start + 1, span.end))
    context = lead_context(Article("x", "t", "", text), Span(start, end))
    assert all(p.text == text[p.start : p.end] and p.text.strip() for p in context.paragraphs)
    assert any(p.start <= start and end <= p.end for p in context.paragraphs)
    assert 1 <= len(context.paragraphs) <= 3
    numbers = [p.number for p in context.paragraphs]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
