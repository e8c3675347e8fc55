"""Follow-ups without the model: which questions refer back, when a turn is leaned on, what a
turn keeps, and how the vectors are mixed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddings import Settings, SettingsError
from embeddings.conversation import (
    MAX_TOPIC_CHARS,
    FollowUp,
    Lead,
    Turn,
    answer_in_turn,
    follow_up,
    mix_queries,
    next_turn,
    reference,
    resolved_question,
)
from embeddings.lexical import Analyzer
from embeddings.types import Answer, Article, Quote, Scores, Span

TERMS = Analyzer().terms
CHAT = 42
PREVIOUS = Turn(CHAT, "من قاد تدريبات قوات الردع؟", "من قاد تدريبات قوات الردع؟", 1_000.0, "", "a", 0, 40, 5, 30)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("ولماذا؟", "explicit"),
        ("ومتى حدث ذلك؟", "explicit"),
        ("ومن قال ذلك؟", "explicit"),
        ("وكم عددها؟", "explicit"),
        ("ومن يهرّبها؟", "explicit"),
        ("وماذا قال فيه؟", "explicit"),
        ("ومن أي طراز هي؟", "explicit"),
        ("ومن أين أطلق الأول؟", "weak"),  # opens with و, two terms of its own, no anaphor
        ("وبقيادة من؟", "weak"),
        ("ما اسم وزير الدفاع الروسي؟", "none"),
        ("وما اسم وزير الدفاع الروسي؟", "none"),  # three terms of its own: self-contained
        ("ما هي الصواريخ التي أطلقت خلال تدريبات الردع؟", "none"),  # هي after ما is the copula
        ("ما الذي أكدته إصابة الصواريخ لأهدافها؟", "none"),  # -ها within a self-contained question
        ("من هو بوتين؟", "none"),
        ("ما عاصمة فرنسا؟", "none"),
        ("", "none"),
    ],
)
def test_which_questions_refer_back(question: str, kind: str) -> None:
    assert reference(question, TERMS) == kind


def test_a_follow_up_leans_on_a_recent_turn_of_the_same_focus_only() -> None:
    def lean(question: str = "ومتى حدث ذلك؟", previous: Turn | None = PREVIOUS, **options: object) -> object:
        values: dict[str, object] = {"now": 1_060.0, "focus": "", "window": 600.0, **options}
        return follow_up(question, previous, terms_of=TERMS, **values)  # type: ignore[arg-type]

    leaned = lean()
    assert leaned == FollowUp(PREVIOUS.topic, Lead("a", 0, 40, Span(5, 30)), explicit=True)
    assert lean(previous=None) is None
    assert lean(now=1_000.0 + 601) is None  # too old
    assert lean(now=999.0) is None  # a clock that went back
    assert lean(window=0.0) is None  # switched off
    assert lean(focus="chat/3") is None  # the chat's focus changed since
    assert lean("ما اسم وزير الدفاع الروسي؟") is None  # self-contained
    weak = lean("ومن أين أطلق الأول؟")
    assert isinstance(weak, FollowUp) and not weak.explicit


def _answer(question: str, kind: str, quotes: tuple[Quote, ...] = ()) -> Answer:
    return Answer(question, kind == "answer", quotes if kind != "not_found" else (), kind)  # type: ignore[arg-type]


def test_a_weak_follow_up_answered_alone_is_not_pulled_towards_the_previous_turn() -> None:
    asked: list[tuple[str, FollowUp | None]] = []
    weak = FollowUp("topic", None, explicit=False)

    def ask(question: str, leaned: FollowUp | None) -> Answer:
        asked.append((question, leaned))
        return _answer(question, "answer" if leaned is None else "closest")

    assert answer_in_turn(ask, "ومن أعلن التدريبات؟", weak) == (_answer("ومن أعلن التدريبات؟", "answer"), None)
    assert asked == [("ومن أعلن التدريبات؟", None)]

    def unanswered_alone(question: str, leaned: FollowUp | None) -> Answer:
        return _answer(question, "not_found" if leaned is None else "closest")

    answer, used = answer_in_turn(unanswered_alone, "ومن أين أطلق الأول؟", weak)
    assert answer.kind == "closest" and used == weak
    explicit = FollowUp("topic")
    asked.clear()
    assert answer_in_turn(ask, "ولماذا؟", explicit)[1] == explicit and asked == [("ولماذا؟", explicit)]


def _quote(article: Article, start: int, end: int, highlight: Span) -> Quote:
    return Quote(article.id, article.title, article.source, 1, start, end, article.text[start:end], highlight, SCORES)


SCORES = Scores(1.0, 0.9, 3.0)
ARTICLE = Article("a", "عنوان", "file.txt", "جملة أولى هنا. جملة ثانية هناك.\nفقرة أخرى.")


def test_a_turn_keeps_the_lead_and_chains_the_questions_it_leaned_on() -> None:
    quote = _quote(ARTICLE, 0, 31, Span(15, 31))
    first = next_turn(CHAT, "السؤال الأول؟", 5.0, "chat/1", _answer("السؤال الأول؟", "answer", (quote,)), None)
    assert first == Turn(CHAT, "السؤال الأول؟", "السؤال الأول؟", 5.0, "chat/1", "a", 0, 31, 15, 31)
    assert first.prior is not None and first.prior.sentence_text({"a": ARTICLE}) == "جملة ثانية هناك."
    assert first.prior.sentence_text({}) == ""  # its article is not in this collection
    leaned = FollowUp(first.topic, first.prior)
    second = next_turn(CHAT, "ولماذا؟", 9.0, "chat/1", _answer("ولماذا؟", "not_found"), leaned)
    assert second.topic == "ولماذا؟ السؤال الأول؟" and second.prior is None
    long = FollowUp("سؤال " * 400)
    assert len(next_turn(CHAT, "ومتى؟", 9.0, "", _answer("ومتى؟", "not_found"), long).topic) == MAX_TOPIC_CHARS


def test_the_resolved_question_asks_for_its_own_type_with_its_own_terms_first() -> None:
    question = resolved_question("ومتى جرى ذلك؟", "من قاد تدريبات قوات الردع؟", TERMS)
    assert question.kind == "date" and question.text == "ومتى جرى ذلك؟"
    own = TERMS("جرى")
    assert question.focus[: len(own)] == tuple(own) and set(TERMS("تدريبات الردع")) <= set(question.focus)


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4), st.floats(0, 2))
def test_mixed_queries_stay_unit_vectors(values: list[float], weight: float) -> None:
    own = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    other = np.array(values, dtype=np.float32)
    norm = float(np.linalg.norm(other))
    other = other / norm if norm > 1e-3 else own
    mixed = mix_queries(own, [other], [weight])
    assert mixed.shape == own.shape and float(np.linalg.norm(mixed)) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(("raw", "seconds"), [("", 600), ("0", 0), ("90", 90)])
def test_the_follow_up_window_is_a_setting(raw: str, seconds: int) -> None:
    assert Settings.from_env({"SANAD_FOLLOW_UP_SECONDS": raw}).follow_up_seconds == seconds


def test_a_bad_follow_up_window_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="SANAD_FOLLOW_UP_SECONDS='ten'"):
        Settings.from_env({"SANAD_FOLLOW_UP_SECONDS": "ten"})
