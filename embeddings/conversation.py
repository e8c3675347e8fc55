"""Follow-up questions: a short question that refers back leans on the chat's previous turn.

"ومتى حدث ذلك؟", "ومن قال ذلك؟", "ولماذا؟", "وكم عددها؟" say too little on their own. When a
chat asks one within `window` seconds of its previous question (SANAD_FOLLOW_UP_SECONDS), about
the same focus, it is resolved with that turn (`Engine.ask(..., follow_up=...)`):

- retrieval runs with the previous question's terms added, and the previous question's vector
  (`TOPIC_WEIGHT`) and the vector of the sentence its answer led with (`LEAD_WEIGHT`: what
  "ذلك" or "-ها" points at, the previous answer as a prior) mixed into the question's own;
- the evidence reads the question's own answer type (متى → a date, من → a name) and its own
  words first, then the previous question's, as the focus. The decision (answer / closest /
  not found) is the calibrated one, on the resolved question; the quotes stay verbatim.

Which questions refer back (`reference`): *explicitly*, one with no content term of its own
(ولماذا؟), or with an anaphor (ذلك, هذا, فيه, منها, a pronoun after the question word) and at most
`MAX_ANAPHOR_TERMS` terms, or a pronoun suffix (يهربها, مصدرها) and at most `MAX_FOLLOW_UP_TERMS`;
*weakly*, one that opens with و/ف and has at most `MAX_FOLLOW_UP_TERMS` terms — asked alone
first, and kept alone when that is an `answer` (`answer_in_turn`), since "ومن أعلن التدريبات؟"
may well be a new question. Anything else is self-contained and never pulled towards the
previous question.

Pure functions and frozen values: the store keeps each chat's latest `Turn`
(`ChatStore.last_turn`), `ChatCollections.ask` joins the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .answer_types import question_type
from .evidence import FRAME_WORDS, Question
from .lexical import ARABIC_STOPWORDS
from .normalize import normalize_arabic, words
from .types import Answer, Article, Span

FOLLOW_UP_SECONDS = 600  # a follow-up leans on a question at most this old (SANAD_FOLLOW_UP_SECONDS)
# At most this many content terms of its own, with a weak cue (an opening و/ف) or a pronoun suffix.
MAX_FOLLOW_UP_TERMS = 2
MAX_ANAPHOR_TERMS = 3  # ... with an anaphor word (ذلك, منها), one more
# The previous question's vector, weighted against the question's own (then normalised).
TOPIC_WEIGHT = 1.0
# The previous answer's bold sentence in that mix (what "ذلك" or "-ها" points at): with it, the dev
# follow-ups reach 8 of 8, without it 7 (README, Quality).
LEAD_WEIGHT = 0.5
MAX_TOPIC_CHARS = 600  # the questions a chain of follow-ups leans on, newest first, cut here

# Demonstratives and time anaphors (folded as normalize_arabic folds them).
ANAPHORS = frozenset(
    """
    ذلك ذاك هذا هذه هذان هاتان تلك هؤلاء اولئك هناك هنالك حينها حينذاك وقتها انذاك عندها بعدها قبلها
    """.split()
)
# Prepositions and adverbs that take a pronoun suffix pointing back: فيه, منها, عنهم, لها ...
_PRONOUN_HOSTS = "في من عن ل ب الي علي مع بين عند حول ضد لدي خلال بعد قبل منذ"
PRONOUN_SUFFIXES = ("هما", "هم", "هن", "ها", "ه")
ANAPHORS_WITH_SUFFIX = frozenset(h + s for h in _PRONOUN_HOSTS.split() for s in PRONOUN_SUFFIXES)
_OBJECT_SUFFIXES = ("هما", "هم", "هن", "ها")  # on any word: يهربها, مصدرها (a bare -ه is too common)
_MIN_HOST = 3  # letters before an object suffix
_CONJUNCTIONS = "وف"
Reference = Literal["none", "weak", "explicit"]
Ask = Callable[[str, "FollowUp | None"], Answer]  # an engine's ask(question, follow_up=...)
# The words that ask (folded), beside the stop words.
PRONOUNS = frozenset("هو هي هم هما هن".split())
QUESTION_WORDS = frozenset("ماذا لماذا كيف متي اين كم من ما هو هي هل الذي التي اي ايه".split())


@dataclass(frozen=True)
class Turn:
    """A question a chat asked and what the answer led with; what the next follow-up leans on."""

    chat_id: int
    question: str  # as asked
    topic: str  # the question(s) a follow-up of this turn leans on: this one, then what it leaned on
    asked: float  # seconds since the epoch
    focus: str  # the focused article's id when asked, "" for everything the chat sees
    article_id: str = ""  # the lead quote's article ("" when nothing was quoted)
    start: int = 0  # the lead quote's passage, offsets into that article
    end: int = 0
    sentence_start: int = 0  # its bold sentence
    sentence_end: int = 0

    @property
    def prior(self) -> Lead | None:
        """The passage and sentence the answer led with, if it quoted one."""
        if not self.article_id:
            return None
        return Lead(self.article_id, self.start, self.end, Span(self.sentence_start, self.sentence_end))


@dataclass(frozen=True)
class Lead:
    """The passage an answer led with (its article and offsets) and its bold sentence."""

    article_id: str
    start: int
    end: int
    sentence: Span

    def sentence_text(self, articles: Mapping[str, Article]) -> str:
        """The bold sentence's text, if its article is among `articles` (else "")."""
        article = articles.get(self.article_id)
        if article is None or not 0 <= self.sentence.start < self.sentence.end <= len(article.text):
            return ""
        return article.text[self.sentence.start : self.sentence.end]


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up question leans on: the previous question(s) and the passage answered."""

    topic: str
    prior: Lead | None = None
    explicit: bool = True  # the question refers back by its words (an anaphor, nothing of its own)


def _bare(word: str) -> str:
    """The word without one leading و or ف (when something is left)."""
    return word[1:] if word[:1] in _CONJUNCTIONS and len(word) > 2 else word


def _is_function(word: str) -> bool:
    return any(w in ARABIC_STOPWORDS or w in FRAME_WORDS or w in ANAPHORS for w in (word, _bare(word)))


def _points_back(words_: Sequence[str], at: int) -> bool:
    """A demonstrative (ذلك), a preposition with a pronoun (فيه, منها), or a pronoun that is not
    the copula after a question word (ومن أي طراز *هي*, not ما *هي* الصواريخ)."""
    word = words_[at]
    if any(w in ANAPHORS or w in ANAPHORS_WITH_SUFFIX for w in (word, _bare(word))):
        return True
    return word in PRONOUNS and at > 0 and _bare(words_[at - 1]) not in QUESTION_WORDS


def _has_object_suffix(word: str) -> bool:
    """A pronoun suffix on a word (يهربها, مصدرها): a reference, or a word of the question's own."""
    return any(word.endswith(s) and len(_bare(word)) - len(s) >= _MIN_HOST for s in _OBJECT_SUFFIXES)


def content_words(question: str, *, frame: bool = False) -> list[str]:
    """The question's folded words that name something: no question or function words, no
    anaphors (ذلك, فيه, منها); with `frame`, the frame words that are not question words are
    kept (قال, عدد, سبب: in a follow-up they are what is new)."""
    found = words(normalize_arabic(question))
    dropped = _is_asking if frame else _is_function
    return [w for w in found if not dropped(w) and _bare(w) not in ANAPHORS_WITH_SUFFIX and w not in _NOISE]


def _is_asking(word: str) -> bool:
    return any(w in ARABIC_STOPWORDS or w in QUESTION_WORDS or w in ANAPHORS for w in (word, _bare(word)))


_NOISE = ANAPHORS_WITH_SUFFIX | frozenset(_CONJUNCTIONS)


def reference(question: str, terms_of: Callable[[str], list[str]]) -> Reference:
    """How the question refers back: `explicit` (nothing of its own, or an anaphor and few terms),
    `weak` (it opens with و/ف and has few terms), or `none` (see the module)."""
    folded = words(normalize_arabic(question))
    if not folded:
        return "none"
    own = len(set(terms_of(" ".join(content_words(question)))))
    pointed = any(_points_back(folded, at) for at in range(len(folded)))
    suffixed = any(map(_has_object_suffix, folded))
    if own == 0 or (pointed and own <= MAX_ANAPHOR_TERMS) or (suffixed and own <= MAX_FOLLOW_UP_TERMS):
        return "explicit"
    opens = folded[0][:1] in _CONJUNCTIONS and len(folded[0]) > 2 and folded[0] not in ARABIC_STOPWORDS
    return "weak" if opens and own <= MAX_FOLLOW_UP_TERMS else "none"


def follow_up(
    question: str,
    previous: Turn | None,
    *,
    now: float,
    focus: str,
    window: float,
    terms_of: Callable[[str], list[str]],
) -> FollowUp | None:
    """What `question` leans on: the previous turn when it is recent (≤ `window` seconds), about
    the same focus, and the question refers back; None when it stands alone."""
    if previous is None or window <= 0 or not 0 <= now - previous.asked <= window or previous.focus != focus:
        return None
    refers = reference(question, terms_of)
    if refers == "none":
        return None
    return FollowUp(previous.topic, previous.prior, explicit=refers == "explicit")


def answer_in_turn(ask: Ask, question: str, leaned: FollowUp | None) -> tuple[Answer, FollowUp | None]:
    """The answer to `question` and the follow-up it was resolved with (None: alone). A question
    that refers back only weakly (an opening و, few terms) is first asked alone: when that is
    an `answer`, it was a new question, and it is not pulled towards the previous one."""
    if leaned is not None and not leaned.explicit:
        alone = ask(question, None)
        if alone.kind == "answer":
            return alone, None
    return ask(question, leaned), leaned


def next_turn(chat_id: int, question: str, asked: float, focus: str, answer: Answer, leaned: FollowUp | None) -> Turn:
    """The turn to keep after answering `question` (resolved with `leaned`, if it was)."""
    topic = question if leaned is None else f"{question} {leaned.topic}"[:MAX_TOPIC_CHARS]
    lead = answer.quotes[0] if answer.quotes else None
    if lead is None:
        return Turn(chat_id, question, topic, asked, focus)
    span = lead.highlight
    return Turn(chat_id, question, topic, asked, focus, lead.article_id, lead.start, lead.end, span.start, span.end)


def resolved_question(question: str, topic: str, terms_of: Callable[[str], list[str]]) -> Question:
    """The question as the evidence reads a follow-up: its own answer type, its own content
    terms first, then the topic's."""
    own = list(dict.fromkeys(terms_of(" ".join(content_words(question, frame=True)))))
    leaned = [t for t in dict.fromkeys(terms_of(" ".join(content_words(topic)))) if t not in own]
    return Question(
        text=question,
        terms=tuple([*own, *terms_of(topic)]),
        kind=question_type(question),
        focus=(*own, *leaned),
    )


def mix_queries(own: np.ndarray, others: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The question's vector with the others mixed in by weight, normalised (all unit length)."""
    mixed = own.astype(np.float32).copy()
    for vector, weight in zip(others, weights, strict=True):
        mixed += np.float32(weight) * vector.astype(np.float32)
    norm = float(np.linalg.norm(mixed))
    return mixed / norm if norm > 0 else own
