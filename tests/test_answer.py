"""Answers: every quote is a verbatim slice of its article with the answering sentence inside,
quotes never overlap, at most k of them, and an unusable question gets a clear error."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import Engine, QuestionError, RetrievalConfig
from embeddings.calibration import load_calibration
from embeddings.evidence import FEATURES, LEAD_SPAN_CHARS, EvidenceSources, candidates, read_question
from embeddings.passages import Chunking, paragraphs
from embeddings.retrieve import retrieve
from embeddings.types import Answer, Article

if TYPE_CHECKING:
    from fake_encoder import FakeEncoder

SECOND_ARTICLE = Article(
    id="second",
    title="مقال ثان",
    source="test",
    text=(
        "افتتح المعرض الدولي للكتاب أبوابه صباح اليوم. وشارك فيه أكثر من خمسمئة ناشر من ثلاثين دولة. "
        "وقال مدير المعرض إن عدد الزوار تجاوز مئة ألف في اليوم الأول. وتستمر الفعاليات عشرة أيام.\n"
        "\n"
        "وفي سياق آخر، ارتفعت أسعار النفط بنسبة 19.5 في المئة خلال الربع الثالث. "
        "وعزا المحللون ذلك إلى خفض الإنتاج. وتوقعوا أن تستقر الأسعار مطلع العام المقبل.\n"
    ),
)
# Small windows, so that passages overlap and the "no overlapping quotes" rule has work to do.
SMALL_WINDOWS = RetrievalConfig(chunking=Chunking(max_chars=160, overlap=1))


@pytest.fixture(scope="module")
def fake_engine(shipped_article: Article, fake_encoder_class: type[FakeEncoder]) -> Engine:
    """An engine that never abstains, over the seed article and a second one, with a fake model."""
    return Engine.from_articles(
        [shipped_article, SECOND_ARTICLE], fake_encoder_class(), config=SMALL_WINDOWS, abstention=None
    )


@pytest.fixture(scope="module")
def question_words(shipped_article: Article) -> list[str]:
    return [*sorted(set(shipped_article.text.split() + SECOND_ARTICLE.text.split())), "باريس", "minister", "؟"]


def paragraph_number(text: str, offset: int) -> int:
    return next(n for n, span in enumerate(paragraphs(text), start=1) if span.start <= offset < span.end)


def check_quotes(engine: Engine, answer: Answer, k: int, retrieval_order: bool = True) -> None:
    articles = {a.id: a for a in engine.articles}
    assert answer.found == bool(answer.quotes)
    assert len(answer.quotes) <= k
    for quote in answer.quotes:
        article = articles[quote.article_id]
        assert quote.text == article.text[quote.start : quote.end]
        assert quote.start <= quote.highlight.start < quote.highlight.end <= quote.end
        assert quote.highlight_text == article.text[quote.highlight.start : quote.highlight.end]
        assert quote.highlight_text == quote.highlight_text.strip()
        assert (quote.title, quote.source) == (article.title, article.source)
        assert quote.paragraph == paragraph_number(article.text, quote.start)
    for a, b in itertools.combinations(answer.quotes, 2):
        assert a.article_id != b.article_id or a.end <= b.start or b.end <= a.start
    fused = [q.scores.fused for q in answer.quotes]
    # with a ranker, the lead's passage comes first and the others keep their order
    assert fused[1:] == sorted(fused[1:], reverse=True) if not retrieval_order else fused == sorted(fused, reverse=True)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), k=st.integers(1, 6))
def test_quotes_are_verbatim_distinct_and_at_most_k(
    fake_engine: Engine, question_words: list[str], data: st.DataObject, k: int
) -> None:
    question = " ".join(data.draw(st.lists(st.sampled_from(question_words), min_size=1, max_size=10)))
    answer = fake_engine.ask(question, k=k)
    assert answer.question == question
    assert answer.found
    check_quotes(fake_engine, answer, k)


def test_k_defaults_to_top_k(shipped_article: Article, fake_encoder: FakeEncoder) -> None:
    engine = Engine.from_articles([shipped_article], fake_encoder, abstention=None, top_k=2)
    assert len(engine.ask("بوتين").quotes) == 2
    assert len(engine.ask("بوتين", k=5).quotes) == 5


def test_the_highlight_is_the_sentence_sharing_the_question_words(fake_encoder: FakeEncoder) -> None:
    article = Article(
        id="one",
        title="t",
        source="s",
        text="افتتح المعرض أبوابه صباح اليوم. وارتفعت أسعار النفط بنسبة كبيرة. وتستمر الفعاليات عشرة أيام.",
    )
    engine = Engine.from_articles([article], fake_encoder, abstention=None)
    answer = engine.ask("كم ارتفعت أسعار النفط؟")
    assert answer.quotes[0].highlight_text == "وارتفعت أسعار النفط بنسبة كبيرة."


def test_question_matches_spellings_without_hamza_or_harakat(fake_encoder: FakeEncoder) -> None:
    article = Article(
        id="one",
        title="t",
        source="s",
        text="افتتح المعرض أبوابه صباح اليوم. وَأَعْلَنَتْ الإدارة إلغاء الرحلات إلى أوروبا. وتستمر الفعاليات.",
    )
    engine = Engine.from_articles([article], fake_encoder, abstention=None)
    answer = engine.ask("اعلنت الادارة الغاء الرحلات الي اوروبا")
    assert answer.quotes[0].highlight_text.startswith("وَأَعْلَنَتْ الإدارة")


@pytest.mark.parametrize("question", ["", " ", "\n\t  \n"], ids=["empty", "space", "whitespace"])
def test_empty_question_raises_question_error_with_an_example(fake_engine: Engine, question: str) -> None:
    with pytest.raises(QuestionError, match="the question is empty") as info:
        fake_engine.ask(question)
    assert "؟" in str(info.value)  # the message shows an example question


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_raises_question_error(fake_engine: Engine, k: int) -> None:
    with pytest.raises(QuestionError, match=f"k={k}"):
        fake_engine.ask("بوتين", k=k)


def test_engine_that_abstains_gives_no_quotes(shipped_article: Article, fake_encoder: FakeEncoder) -> None:
    # Random vectors give cosines near 0, far below the default model's calibrated floor.
    engine = Engine.from_articles([shipped_article], fake_encoder)
    answer = engine.ask("ما اسم وزير الدفاع الروسي؟")
    assert (answer.question, answer.kind, answer.found, answer.quotes) == (
        "ما اسم وزير الدفاع الروسي؟",
        "not_found",
        False,
        (),
    )


@pytest.fixture(scope="module")
def ranking_engine(shipped_article: Article, fake_encoder_class: type[FakeEncoder]) -> Engine:
    """An engine whose lead comes from the default calibration's ranker (decision switched
    off), over the seed article and a second one, with a fake model."""
    calibration = load_calibration("default").always_answering()
    return Engine.from_articles([shipped_article, SECOND_ARTICLE], fake_encoder_class(), abstention=calibration)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_bold_span_is_one_sentence_or_two_adjacent_ones_within_the_cap(
    ranking_engine: Engine, question_words: list[str], data: st.DataObject
) -> None:
    question = " ".join(data.draw(st.lists(st.sampled_from(question_words), min_size=1, max_size=10)))
    answer = ranking_engine.ask(question)
    check_quotes(ranking_engine, answer, 3, retrieval_order=False)
    passages = {(p.article_id, p.start, p.end): p for p in ranking_engine.index.passages}
    for quote in answer.quotes:
        sentences = passages[(quote.article_id, quote.start, quote.end)].sentences
        starts, ends = [s.start for s in sentences], [s.end for s in sentences]
        first, last = starts.index(quote.highlight.start), ends.index(quote.highlight.end)
        assert last - first in (0, 1)  # whole sentences: one, or two adjacent ones
        assert last == first or quote.highlight.end - quote.highlight.start <= LEAD_SPAN_CHARS


def test_two_adjacent_sentences_are_a_candidate_only_within_the_cap(
    shipped_article: Article, fake_encoder: FakeEncoder
) -> None:
    engine = Engine.from_articles([shipped_article, SECOND_ARTICLE], fake_encoder, abstention=None)
    hits = retrieve(engine.index, fake_encoder.encode_queries(["المعرض"])[0], ["معرض"], engine.config.fusion)
    sources = EvidenceSources(
        engine.collection.articles, engine.index.sentence_vectors, engine.analyzer.terms, engine.index.idf,
        engine.index.is_unseen,
    )  # fmt: skip
    found = candidates(read_question("المعرض", engine.analyzer.terms), fake_encoder.encode_queries(["المعرض"])[0],
                       hits, sources)  # fmt: skip
    pair = FEATURES.index("pair")
    assert any(c.features[pair] for c in found) and any(not c.features[pair] for c in found)
    for c in found:
        passage = hits[c.hit_rank].passage
        inside = [s for s in passage.sentences if c.span.start <= s.start and s.end <= c.span.end]
        assert len(inside) == (2 if c.features[pair] else 1)
        assert (c.span.start, c.span.end) == (inside[0].start, inside[-1].end)
        assert not c.features[pair] or c.span.end - c.span.start <= LEAD_SPAN_CHARS
    passage_pairs = sum(
        b.end - a.start <= LEAD_SPAN_CHARS
        for p in {hits[c.hit_rank].passage for c in found}
        for a, b in itertools.pairwise(p.sentences)
    )
    assert sum(bool(c.features[pair]) for c in found) == passage_pairs
