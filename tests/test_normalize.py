"""Arabic folding for matching: spellings a reader treats as one word fold to one form;
the text shown to the reader keeps its original characters."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from embeddings import Engine
from embeddings.lexical import Analyzer
from embeddings.model import Encoder
from embeddings.normalize import normalize_arabic, words
from embeddings.types import Article

HARAKAT = "\u064e\u064f\u0650\u0651\u0652\u064b\u064c\u064d"


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        pytest.param("وَزِيرُ الدِّفَاعِ", "وزير الدفاع", id="harakat-and-shadda"),
        pytest.param("نموذجًا", "نموذجا", id="tanwin"),
        pytest.param("يُذكر", "يذكر", id="damma"),
        pytest.param("بـــوتـيـن", "بوتين", id="tatweel"),
        pytest.param("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله", id="alef-forms"),
        pytest.param("على مستوى", "علي مستوي", id="alef-maqsura"),
        pytest.param("فارسی", "فارسي", id="persian-ya"),
        pytest.param("رئيس مؤتمر", "رييس موتمر", id="hamza-seats"),
        pytest.param("الطاقة الحيوية", "الطاقه الحيويه", id="ta-marbuta"),
        pytest.param("٢٩ سبتمبر", "29 سبتمبر", id="arabic-indic-digits"),
        pytest.param("۱۹۵ صاروخا", "195 صاروخا", id="persian-digits"),
        pytest.param("\u200fبوتين\u200e", "بوتين", id="directional-marks"),
        pytest.param("\u202bبوتين\u202c \u2067روسيا\u2069", "بوتين روسيا", id="bidi-embedding-and-isolate"),
        pytest.param("بو\u200cتين\u200b\ufeff", "بوتين", id="zero-width"),
        pytest.param("Tu-95MS", "tu-95ms", id="latin-case"),
    ],
)
def test_folding_removes_spelling_variation(raw: str, folded: str) -> None:
    assert normalize_arabic(raw) == folded


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("شويجو", "شُوَيْجُو"),
        ("الأمن", "الامن"),
        ("19 فبراير", "١٩ فبراير"),
        ("الحيوية", "الحيويه"),
        ("إلى", "الي"),
    ],
)
def test_variant_spellings_fold_to_the_same_text(one: str, other: str) -> None:
    assert normalize_arabic(one) == normalize_arabic(other)


def test_folding_keeps_letters_that_differ() -> None:
    assert normalize_arabic("سلام") != normalize_arabic("ظلام")
    assert normalize_arabic("كتب") == "كتب"


_FOLDABLE = st.one_of(
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),  # Arabic block: letters, marks, digits
    st.characters(min_codepoint=0xFE70, max_codepoint=0xFEFF),  # Arabic presentation forms
    st.sampled_from(list("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u061c\u202b\u202c\u2067\u2069\u0640")),
    st.sampled_from(list(" \n.,؟!٠١٢۳۴abcXYZ\u0301")),
)


@given(st.text(_FOLDABLE))
@example("\u0610\u200b\u0618")  # two Arabic marks split by a zero-width space
@example("e\u200b\u0301")  # a letter and a combining accent split by a zero-width space
def test_folding_is_idempotent(text: str) -> None:
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


@given(st.text(_FOLDABLE))
def test_folded_text_has_no_marks_tatweel_or_invisible_characters(text: str) -> None:
    folded = normalize_arabic(text)
    assert not set(folded) & set(HARAKAT + "\u0640\u200b\u200c\u200d\u200e\u200f\ufeff\u202b\u2067")


def test_numbers_with_decimal_point_stay_one_word() -> None:
    assert words(normalize_arabic("بلغ ١٩.٥ مليون و 3,200 طن")) == ["بلغ", "19.5", "مليون", "و", "3,200", "طن"]


def test_analyzer_matches_diacritised_and_plain_spellings() -> None:
    analyzer = Analyzer()
    assert analyzer.terms("وَزِيرُ الدِّفَاعِ الرُّوسِيُّ") == analyzer.terms("وزير الدفاع الروسي")


@given(st.lists(st.text(alphabet="وزير الدفاع قال شويغو ١٩ abc Ministers", max_size=40), min_size=1, max_size=30))
def test_analyzer_remembering_recent_texts_gives_what_a_fresh_one_gives(texts: list[str]) -> None:
    remembering, fresh = Analyzer(remember=4), Analyzer(remember=0)
    for text in texts + texts[::-1]:  # again, some remembered, some forgotten
        got = remembering.terms(text)
        assert got == fresh.terms(text)
        got.append("changed by the caller")  # a caller's list is its own: the memory is not touched
        assert remembering.terms(text) == fresh.terms(text)


DIACRITISED = Article(
    id="diacritics",
    title="مقال مشكول",
    source="test",
    text=(
        "افتتح المعرض الدولي للكتاب أبوابه صباح اليوم في العاصمة.\n"
        "وَقَالَ وَزِيرُ الدِّفَاعِ الرُّوسِيُّ سِيرْجِي شُويْغُو إِنَّ التَّدْرِيبَاتِ اكْتَمَلَتْ بِنَجَاحٍ.\n"
        "وتوقعت الأرصاد الجوية أمطارا غزيرة على المناطق الساحلية نهاية الأسبوع.\n"
    ),
)


def test_quote_keeps_the_harakat_of_the_article(real_encoder: Encoder) -> None:
    engine = Engine.from_articles([DIACRITISED], real_encoder)
    answer = engine.ask("ماذا قال وزير الدفاع الروسي عن التدريبات؟")
    assert answer.found
    quote = answer.quotes[0]
    assert quote.text == DIACRITISED.text[quote.start : quote.end]
    assert quote.highlight_text.startswith("وَقَالَ وَزِيرُ الدِّفَاعِ")
    assert set(quote.highlight_text) & set(HARAKAT)
