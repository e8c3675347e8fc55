"""What kind of answer a question asks for, and whether a sentence holds one.

كم → a number; متى / منذ متى / في أي عام → a date or time; أين → a place; من / ما اسم → a
name. Matching runs on folded text (normalize.py), so digits of both kinds are ASCII and
letter forms are merged. A number, date or name the question itself holds does not count:
the answer must add it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .lexical import ARABIC_STOPWORDS
from .normalize import normalize_arabic, words

AnswerType = Literal["number", "date", "place", "name", "other"]
Pieces = Callable[[str], int]  # how many pieces the model's tokenizer cuts a word into

_CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ف", "ل", "ك")


def _bare(word: str) -> str:
    """The word without one leading clitic and article (folded)."""
    for clitic in _CLITICS:
        if word.startswith(clitic) and len(word) - len(clitic) >= 2:
            return word[len(clitic) :]
    return word


def _folded_set(text: str) -> frozenset[str]:
    return frozenset(normalize_arabic(text).split())


NUMBER_WORDS = _folded_set(
    """
    واحد واحدة اثنان اثنين اثنتان اثنتين ثلاث ثلاثة أربع أربعة خمس خمسة ست ستة سبع سبعة ثمان ثماني ثمانية
    تسع تسعة عشر عشرة عشرون عشرين ثلاثون ثلاثين أربعون أربعين خمسون خمسين ستون ستين سبعون سبعين
    ثمانون ثمانين تسعون تسعين مئة مائة مئتان مئتين مائتين مئات ألف ألفا ألفين آلاف مليون مليونا ملايين
    مليار مليارات بليون نصف ربع ثلث خمس عشرات
    أول الأول الأولى ثاني الثاني ثالث الثالث رابع الرابع خامس الخامس سادس السادس سابع السابع ثامن الثامن
    تاسع التاسع عاشر العاشر المئة بالمئة بالمائة المائة
    """
)
GREGORIAN_MONTHS = _folded_set(
    """
    يناير فبراير مارس أبريل إبريل ابريل مايو يونيو يونيه يوليو يوليه أغسطس اغسطس سبتمبر أكتوبر اكتوبر
    نوفمبر ديسمبر كانون شباط آذار نيسان أيار حزيران تموز آب أيلول تشرين
    """
)
HIJRI_MONTHS = _folded_set("محرم صفر ربيع جمادى رجب شعبان رمضان شوال القعدة الحجة")
TIME_WORDS = _folded_set(
    """
    عام العام عاما سنة السنة سنوات أعوام قرن القرن القرون عقد العقد يوم اليوم أمس غدا أسبوع الأسبوع
    شهر الشهر أشهر ساعة الساعة دقيقة صباح صباحا مساء مساء ليلة فجر ظهر عصر منتصف
    الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة السبت هـ ق.م م.
    الماضي المقبل القادم حاليا مؤخرا حين عندما منذ خلال بعد قبل
    """
)
PLACE_WORDS = _folded_set(
    """
    مدينة مدينه المدينة دولة الدولة بلد بلاد جزيرة منطقة المنطقة إقليم ولاية محافظة قرية عاصمة العاصمة
    شمال جنوب شرق غرب وسط شمالي جنوبي شرقي غربي قرب بالقرب حدود ضفة نهر بحر جبل وادي ساحل قارة
    """
)
PLACE_PREPOSITIONS = _folded_set("في من إلى الى نحو داخل خارج قرب عبر لدى")
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")

_NUMBER_CUES = (
    "كم",
    "بكم",
    "عدد",
    "نسبه",
    "مقدار",
    "مساحه",
    "طول",
    "عمر",
    "رقم",
    "سرعه",
    "وزن",
    "تكلفه",
    "حجم",
    "ارتفاع",
)
# A measure asks for a number with its unit: "ما وزن صاروخ يارس؟" is not answered by "ثلاثة صواريخ".
# Unit stems (folded, compared on how a word starts once a clitic is off).
MEASURE_UNITS = {
    cue: tuple(normalize_arabic(u) for u in units.split())
    for cue, units in (
        ("وزن", "طن أطنان كيلوغرام كيلوجرام كغ كلغ غرام جرام رطل باوند"),
        ("سرعه", "كيلومتر كم ميل ماخ عقدة متر"),
        ("مساحه", "مربع هكتار فدان دونم كم2 كيلومتر"),
        ("طول", "متر أمتار كيلومتر كم ميل أميال قدم أقدام سنتيمتر ملم"),
        ("ارتفاع", "متر أمتار كيلومتر كم ميل أميال قدم أقدام"),
        ("حجم", "لتر مكعب برميل"),
        ("تكلفه", "دولار يورو روبل جنيه ريال درهم دينار ليرة مليون مليار"),
    )
}
# how many words before a number cue its question word may stand (ما هي سرعه, كم تبلغ مساحه)
_CUE_REACH = 2
# how many words from a word of the question's focus the asked-for answer may stand to count
# as "near" it (answer_near)
ANSWER_REACH = 3
_HOW_MANY = ("كم", "بكم", "وكم", "فكم")
_FRAMING = (*_HOW_MANY, "ما", "وما", "فما", "بما", "بم")
_DATE_CUES = ("متي", "تاريخ")
_DATE_PHRASES = ("في اي عام", "في اي سنه", "في اي قرن", "في اي يوم", "في اي شهر", "اي عام", "اي سنه", "اي قرن")
_PLACE_CUES = ("اين",)
_PLACE_PHRASES = ("في اي مدينه", "في اي دوله", "في اي بلد", "اي مدينه", "اي دوله", "اي منطقه")
_NAME_PHRASES = ("ما اسم", "ما هو اسم", "ما هي اسم", "من هو", "من هي", "من هم", "من الذي", "من كان", "من كانت")


def question_type(question: str) -> AnswerType:
    """The type of answer the question asks for (its first cue wins)."""
    folded = normalize_arabic(question)
    tokens = words(folded)
    phrase = " ".join(tokens)
    for kind, phrases in (("date", _DATE_PHRASES), ("place", _PLACE_PHRASES), ("name", _NAME_PHRASES)):
        if any(f" {p} " in f" {phrase} " for p in phrases):
            return kind  # type: ignore[return-value]
    for i, token in enumerate(tokens):
        bare = token[1:] if token[:1] in "وف" and len(token) > 3 else token
        if token in _DATE_CUES or bare in _DATE_CUES:
            return "date"
        if _asks_number(tokens, i, bare):
            return "number"
        if token in _PLACE_CUES or bare in _PLACE_CUES:
            return "place"
    if tokens and tokens[0] in ("من", "ومن", "لمن", "بمن"):
        return "name"
    return "other"


def _asks_number(tokens: list[str], i: int, bare: str) -> bool:
    """True when tokens[i] asks for a number: كم / بكم anywhere, or a number cue (عدد, نسبه,
    وزن ...) that a question word just before frames (ما عدد, ما هي سرعه, كم تبلغ مساحه),
    not one inside the question's topic ("ما السكك التي تغطي مساحه كبيره", "عدد بعض ...")."""
    token = tokens[i]
    if token in _HOW_MANY or bare in _HOW_MANY:
        return True
    if not (token in _NUMBER_CUES or bare in _NUMBER_CUES or _bare(token) in _NUMBER_CUES):
        return False
    return any(t in _FRAMING for t in tokens[max(0, i - _CUE_REACH) : i])


def question_measure(question: str) -> str | None:
    """The measure a number question asks for (وزن, سرعه, مساحه ...; see MEASURE_UNITS), or None."""
    tokens = words(normalize_arabic(question))
    for i, token in enumerate(tokens):
        for candidate in (token, _bare(token), token[1:] if token[:1] in "وف" else token):
            if candidate in MEASURE_UNITS and _asks_number(tokens, i, candidate):
                return candidate
    return None


def _has_unit(tokens: list[str], measure: str) -> bool:
    units = MEASURE_UNITS[measure]
    return any(t.startswith(units) or _bare(t).startswith(units) for t in tokens)


def _numbers(tokens: list[str]) -> set[str]:
    return {t for t in tokens if _DIGIT.search(t) or t in NUMBER_WORDS or _bare(t) in NUMBER_WORDS}


def _dates(tokens: list[str], folded: str) -> set[str]:
    found = {t for t in tokens if t in GREGORIAN_MONTHS or _bare(t) in GREGORIAN_MONTHS or t in HIJRI_MONTHS}
    found |= set(_YEAR.findall(folded))
    found |= {t for t in tokens if t in TIME_WORDS or _bare(t) in TIME_WORDS}
    return found


_SUFFIXES = ("هما", "هم", "هن", "ها", "نا", "كم", "ه", "ك", "ي")


def _stem_for_pieces(word: str) -> str:
    """The word without a one-letter clitic before it or a pronoun after it."""
    if word[:1] in "وبلفك" and len(word) > 4:
        word = word[1:]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _names(tokens: list[str], known: set[str], pieces: Pieces | None) -> set[str]:
    """Pairs of consecutive new words without the article: how names read (سيرغي شويغو).
    With the model's tokenizer, both words must also be cut into pieces (a name is not
    a common word of its vocabulary)."""
    found = set()
    for a, b in itertools.pairwise(tokens):
        if not all(_plausible_name(w, known) for w in (a, b)):
            continue
        if pieces is None or all(pieces(_stem_for_pieces(w)) >= 2 for w in (a, b)):
            found.add(f"{a} {b}")
    latin = {t for t in tokens if t.isascii() and t.isalpha() and len(t) > 2 and t not in known}
    return found | latin


def _plausible_name(word: str, known: set[str]) -> bool:
    return (
        len(word) > 2
        and not word.startswith("ال")
        and word not in ARABIC_STOPWORDS
        and _bare(word) not in known
        and word not in known
        and not _DIGIT.search(word)
    )


def _places(tokens: list[str], known: set[str]) -> set[str]:
    found = {t for t in tokens if (t in PLACE_WORDS or _bare(t) in PLACE_WORDS) and _bare(t) not in known}
    for a, b in itertools.pairwise(tokens):
        if (a in PLACE_PREPOSITIONS and _bare(b) not in known and b not in ARABIC_STOPWORDS and len(b) > 2) or (
            a[:1] in "بف" and a[1:] in PLACE_PREPOSITIONS
        ):
            found.add(b)
    return found


@dataclass(frozen=True)
class AskedType:
    """What a question asks for, read once (its folded words, what it already holds), so that
    each candidate sentence costs only its own words."""

    kind: AnswerType
    q_tokens: list[str]
    q_folded: str
    known: set[str]  # the question's words, with and without a leading clitic
    measure: str | None  # the measure a number question asks for (وزن, سرعه ...)

    @classmethod
    def of(cls, kind: AnswerType, question: str) -> AskedType:
        """The question's side of answer_found, for a question of `kind`."""
        q_folded = normalize_arabic(question)
        q_tokens = words(q_folded)
        known = {_bare(t) for t in q_tokens} | set(q_tokens)
        measure = question_measure(question) if kind == "number" else None
        return cls(kind, q_tokens, q_folded, known, measure)

    def found(self, tokens: list[str], folded: str, pieces: Pieces | None = None) -> set[str]:
        """answer_found for a sentence given as its folded text and that text's words."""
        kind, q_tokens, known = self.kind, self.q_tokens, self.known
        if kind == "other":
            return set()
        if kind == "number":
            if self.measure is not None and not _has_unit(tokens, self.measure):
                return set()
            return _numbers(tokens) - _numbers(q_tokens)
        if kind == "date":
            return _dates(tokens, folded) - _dates(q_tokens, self.q_folded)
        if kind == "place":
            return _places(tokens, known)
        return _names(tokens, known, pieces)


def answer_found(kind: AnswerType, sentence: str, question: str, pieces: Pieces | None = None) -> set[str]:
    """The answers of `kind` the sentence holds that the question does not: folded words (a
    number, a month, a place), years, or two-word names ("سيرجي شويجو"); empty for none."""
    folded = normalize_arabic(sentence)
    return AskedType.of(kind, question).found(words(folded), folded, pieces)


def has_answer_type(kind: AnswerType, sentence: str, question: str, pieces: Pieces | None = None) -> bool:
    """True when the sentence holds an answer of `kind` that the question does not already hold."""
    return bool(answer_found(kind, sentence, question, pieces))


def answer_near(found: set[str], sentence: str, near: Callable[[str], bool], reach: int = ANSWER_REACH) -> bool:
    """True when one of `found` (answer_found's) stands within `reach` words of a word that
    `near` accepts (a word of the question's focus). The asked-for answer stands next to what
    the question names (وزير الدفاع الروسي *سيرجي شويجو*); a number or a name-like pair anywhere
    in a long sentence is as often something else."""
    return tokens_near(found, words(normalize_arabic(sentence)), near, reach)


def tokens_near(found: set[str], tokens: list[str], near: Callable[[str], bool], reach: int = ANSWER_REACH) -> bool:
    """answer_near for a sentence given as its folded words."""
    years = [y for y in found if y.isdigit()]
    for i, token in enumerate(tokens):
        paired = i + 1 < len(tokens) and f"{token} {tokens[i + 1]}" in found
        if not (paired or token in found or any(y in token for y in years)):
            continue
        width = 2 if paired else 1
        around = tokens[max(i - reach, 0) : i] + tokens[i + width : i + width + reach]
        if any(near(w) for w in around):
            return True
    return False
