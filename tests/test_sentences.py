"""Sentence spans over the raw text: ordered, trimmed, never across a line, covering every word."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddings.sentences import split_sentences


def sentences_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


_PIECES = st.sampled_from(
    [
        "بوتين",
        "الروسي",
        "وزير",
        "19.5",
        "Tu-95MS",
        "U.S",
        "word",
        "٢٩",
        "«روسيا اليوم»",
        '"قال"',
        "(أ)",
        *list(" \n\t.!?؟…۔،,\"'»”’)]"),
    ]
)
_TEXTS = st.lists(_PIECES, max_size=40).map("".join) | st.text(st.sampled_from(list('ab ب\n.!?؟"»)\t')))


@given(_TEXTS)
def test_spans_are_ordered_trimmed_and_on_one_line(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert not piece[0].isspace() and not piece[-1].isspace()
        assert "\n" not in piece
        previous_end = span.end


@given(_TEXTS)
def test_spans_cover_every_non_space_character(text: str) -> None:
    covered = set()
    for span in split_sentences(text):
        covered.update(range(span.start, span.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@given(_TEXTS, st.data())
def test_spans_of_a_range_stay_inside_it(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = split_sentences(text, start, end)
    assert all(start <= s.start < s.end <= end for s in spans)
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(i in covered for i in range(start, end) if not text[i].isspace())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "ما اسم الوزير؟ إنه سيرجي شويجو! وقد قدم تقريره.",
            ["ما اسم الوزير؟", "إنه سيرجي شويجو!", "وقد قدم تقريره."],
            id="arabic-question-exclamation-full-stop",
        ),
        pytest.param(
            "The minister spoke. Was it long? No!",
            ["The minister spoke.", "Was it long?", "No!"],
            id="latin-punctuation",
        ),
        pytest.param(
            "السطر الأول بلا نقطة\n\n  السطر الثاني  \nالثالث",
            ["السطر الأول بلا نقطة", "السطر الثاني", "الثالث"],
            id="newlines-end-sentences",
        ),
        pytest.param(
            "ارتفع المؤشر 19.5 نقطة اليوم. ثم هبط.",
            ["ارتفع المؤشر 19.5 نقطة اليوم.", "ثم هبط."],
            id="decimal-number",
        ),
        pytest.param(
            'شاركت الطائرات من طراز "Tu-95MS" في تنفيذ المهام. وأطلقت صواريخ كروز.',
            ['شاركت الطائرات من طراز "Tu-95MS" في تنفيذ المهام.', "وأطلقت صواريخ كروز."],
            id="aircraft-model",
        ),
        pytest.param(
            'وقال: "انتهت التدريبات." ثم غادر.',
            ['وقال: "انتهت التدريبات."', "ثم غادر."],
            id="closing-quote-after-full-stop",
        ),
        pytest.param(
            "وقال «انتهى الأمر!» وغادر القاعة.",
            ["وقال «انتهى الأمر!»", "وغادر القاعة."],
            id="closing-guillemet-after-exclamation",
        ),
        pytest.param("انتظروا... ثم تكلم.", ["انتظروا...", "ثم تكلم."], id="ellipsis"),
        pytest.param("موقع example.com يعمل", ["موقع example.com يعمل"], id="dot-inside-a-word"),
        pytest.param(
            "استقال راجيندرا ك. باتشوري في فبراير 2015. وخلفه آخر.",
            ["استقال راجيندرا ك. باتشوري في فبراير 2015.", "وخلفه آخر."],
            id="arabic-initial-inside-a-name",
        ),
        pytest.param(
            "كتب فيلدينج هـ. جاريسون ذلك. Then John F. Kennedy spoke.",
            ["كتب فيلدينج هـ. جاريسون ذلك.", "Then John F. Kennedy spoke."],
            id="initial-with-tatweel-and-latin-initial",
        ),
        pytest.param(
            "ولد عام 1990 م. ثم سافر سنة 1445 هـ. وعاد.",
            ["ولد عام 1990 م.", "ثم سافر سنة 1445 هـ.", "وعاد."],
            id="era-letter-after-a-year-ends-the-sentence",
        ),
        pytest.param("   \n\t  ", [], id="only-space"),
        pytest.param("", [], id="empty"),
    ],
)
def test_sentence_examples(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


def test_spans_point_into_the_original_text() -> None:
    text = "  أولى.   ثانية؟\n"
    spans = split_sentences(text)
    assert [(s.start, s.end) for s in spans] == [(2, 7), (10, 16)]
