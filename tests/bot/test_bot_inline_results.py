"""The inline results the bot builds, without Telegram: whatever the answer (long passages, many
quotes, any kind), its result is one valid message Telegram accepts, titled by its sentence."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import messages
from bot.inline import SHOWN_CHARS, answer_result, hint_result, shortened, single_message
from embeddings import Answer, Quote, Scores, Span
from testkit.inline_results import MAX_RESULT_ID_BYTES, check_inline_answer

_WORD = st.text(alphabet='ابتثجحخدذرزسشصضطظعغفقكلمنهوي<>&"', min_size=1, max_size=12)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=60).map(lambda ws: " ".join(ws) + ".")


@st.composite
def quotes(draw: st.DrawFn, start: int = 0) -> Quote:
    sentences = draw(st.lists(_SENTENCE, min_size=1, max_size=40))
    text = " ".join(sentences)
    lead = draw(st.integers(0, len(sentences) - 1))
    lo = sum(len(s) + 1 for s in sentences[:lead])
    title = draw(st.lists(_WORD, min_size=1, max_size=30).map(" ".join))
    highlight = Span(start + lo, start + lo + len(sentences[lead]))
    return Quote(
        "lib-a", title, "file.txt", draw(st.integers(1, 99)), start, start + len(text), text, highlight, SCORES
    )


SCORES = Scores(1.0, 0.9, 2.0)


def accepted(answer: Answer) -> tuple[str, str, str]:
    """The result as Telegram takes it (through the fake's checks): id, title, visible text."""
    payload = json.loads(json.dumps({"inline_query_id": "q", "results": [answer_result(answer).to_dict()]}))
    [result] = check_inline_answer(payload, known=True).results
    return result.id, result.title, result.plain


@settings(max_examples=60, deadline=None)
@given(st.lists(quotes(), min_size=1, max_size=4), st.sampled_from(["answer", "closest"]))
def test_any_answer_is_one_accepted_message_titled_by_its_sentence(found: list[Quote], kind: str) -> None:
    answer = Answer("سؤال؟", kind == "answer", tuple(found[:1] if kind == "closest" else found), kind)  # type: ignore[arg-type]
    ident, title, plain = accepted(answer)
    assert len(ident.encode("utf-8")) <= MAX_RESULT_ID_BYTES
    lead = " ".join(found[0].highlight_text.split())
    assert title.removeprefix(messages.INLINE_CLOSEST_PREFIX).rstrip("…") in lead
    assert len(title) <= SHOWN_CHARS + len(messages.INLINE_CLOSEST_PREFIX)
    assert found[0].text[:40] in plain or found[0].highlight_text[:40] in plain


def test_a_long_answer_keeps_the_quotes_that_fit_whole() -> None:
    passage = "جملة طويلة عن الموضوع. " * 80  # ~1,900 characters each
    found = tuple(
        Quote("lib-a", "عنوان", "f.txt", n, 0, len(passage), passage, Span(0, 22), SCORES) for n in range(1, 4)
    )
    text = single_message(Answer("سؤال؟", True, found, "answer"))
    assert "الفقرة 1" in text and "الفقرة 3" not in text  # the third would not fit in one message


def test_not_found_and_hint_results_are_accepted() -> None:
    _, title, plain = accepted(Answer("ما عاصمة فرنسا؟", False, (), "not_found"))
    assert title == messages.INLINE_NOT_FOUND_TITLE and plain.startswith("عذرًا")
    hint = json.loads(json.dumps({"inline_query_id": "q", "results": [hint_result().to_dict()]}))
    assert check_inline_answer(hint, known=True).results[0].title == messages.INLINE_HINT_TITLE


def test_shortened_cuts_at_a_word() -> None:
    cut = shortened("كلمة " * 50, 30)
    assert cut == "كلمة " * 5 + "كلمة…" and len(cut) <= 30 and shortened("قصير\nجدا") == "قصير جدا"
