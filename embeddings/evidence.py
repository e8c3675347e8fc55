"""Evidence that a sentence answers a question: one feature vector per candidate.

The candidates are the sentences of the best few passages, and each two adjacent sentences
of a passage that fit in LEAD_SPAN_CHARS (the bold answer may be such a span). For each, the
features say whether it holds the question's focus (its rare content terms, beyond the
question words and the terms its whole article shares), whether the asked-for type of answer
is there (a number for كم, a date for متى, a name for من/ما اسم ...) and whether it stands next
to a focus word, how close it is to the question in the dense space (sentence vectors stored in
the index), and how it compares with the other candidates (margins). `calibration.py` turns them into probabilities.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from .answer_types import AnswerType, AskedType, Pieces, question_type, tokens_near
from .normalize import normalize_arabic, words
from .passages import paragraphs
from .retrieve import Hit
from .types import Article, Span

# Words that frame a question rather than name what it is about (folded, unstemmed).
FRAME_WORDS = frozenset(
    """
    اسم اسمه اسمها عدد نوع سبب مقدار نسبه قيمه طول عمر تاريخ رقم ماذا لماذا كيف متي اين كم من ما
    هو هي هل الذي التي اي ايه قال قالت يسمي تسمي يطلق تم يتم
    """.split()
)
# A term in at least this share of its article's paragraphs is what the article is about,
# not what a question about it asks (e.g. "بوتين" in an article about Putin).
SHARED_TERM_SHARE = 0.4
MIN_PARAGRAPHS_FOR_SHARED = 4
# Stems that agree on their first letters count as the same word: Snowball's Arabic stemmer
# leaves some suffixes on (روس/روسي, فلسطين/فلسطيني).
PREFIX_MATCH = 4
# ... and it leaves some clitics on (لاهداف, والارهاب, واصاب) and takes some letters off
# (وزير → زير), so a term also matches without one leading clitic.
CLITICS = ("وال", "بال", "فال", "كال", "لل", "و", "ف", "ب", "ل", "ك")
MIN_BARE_STEM = 4
# ... but a conjunction و/ف before a three-letter stem is often the stem's own first letter
# (وفوده → فود, الوفود → وفود), so there three letters are enough.
MIN_BARE_STEM_AFTER_CONJUNCTION = 3
CANDIDATE_PASSAGES = 3
# Two adjacent sentences are also a candidate when together they fit in this many characters:
# the answer is often in the sentence next to the one that matches the question ("... وهو
# كذلك الأكبر سناً"), and a bold span this long still reads as one answer.
LEAD_SPAN_CHARS = 300

FEATURES = (
    "sentence_cos",  # cosine of question and sentence
    "passage_cos",  # cosine of question and the sentence's passage
    "sentence_cos_margin",  # sentence cosine minus the best other candidate's
    "passage_rank",  # 0 for the first passage, 1, 2, ...
    "focus_sentence",  # idf-weighted share of the question's focus in the sentence
    "focus_passage",  # ... in the sentence's passage
    "focus_margin",  # focus_sentence minus the best other candidate's
    "focus_unseen",  # share of the focus no passage of the index holds
    "type_expected",  # 1 when the question asks for a number, date, place or name
    "type_present",  # 1 when that type is in the sentence (beyond what the question says)
    "novel",  # share of the sentence's content terms the question does not have
    "overlap",  # idf-weighted share of all the question's terms in the sentence (exact stems)
    "type_match",  # type_expected and type_present
    "log_length",  # log of the sentence's length in characters
    "first",  # 1 for the first sentence of its passage
    "cos_rank",  # rank of the sentence cosine among the candidates (0 best)
    "phrase",  # share of the question's adjacent term pairs found adjacent in the sentence
    "context_focus",  # the best focus share of the sentences next to it in its passage
    "cos_z",  # sentence cosine minus the candidates' mean
    "passage_fused",  # the passage's fused retrieval score (1 for the best)
    "focus_article",  # idf-weighted share of the focus found anywhere in the passage's article
    "missing_max",  # the largest idf of a focus term the article lacks, over the index's largest
    "head",  # 1 when the sentence holds the focus's first term (the head noun: ما اسم *المجلس* الذي ...)
    "pair",  # 1 for two adjacent sentences taken as one candidate
    "type_near",  # 1 when that type stands within ANSWER_REACH words of a focus word (answer_types.tokens_near)
)


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, or two adjacent ones, and its evidence."""

    hit_rank: int  # index of its hit in the ranked hits
    span: Span  # in article offsets, inside the hit's passage
    features: np.ndarray  # in FEATURES order


def _match_key(term: str) -> str:
    return term[:PREFIX_MATCH] if not term[:1].isdigit() else term


def _bare_stem(term: str) -> str:
    """The stem without one leading clitic (and an article after it), or the stem itself."""
    for clitic in CLITICS:
        if term.startswith(clitic):
            rest = term[len(clitic) :]
            rest = rest[2:] if rest.startswith("ال") and len(rest) - 2 >= MIN_BARE_STEM else rest
            if len(rest) >= (MIN_BARE_STEM_AFTER_CONJUNCTION if clitic in ("و", "ف") else MIN_BARE_STEM):
                return rest
    return term


def _keys(term: str) -> frozenset[str]:
    """The match keys of a term: of its stem, and of its stem without a leading clitic."""
    return frozenset((_match_key(term), _match_key(_bare_stem(term))))


def _all_keys(terms: Sequence[str]) -> set[str]:
    return {key for t in terms for key in _keys(t)}


@dataclass(frozen=True)
class ArticleTerms:
    """What the evidence needs of one article's terms (by match key)."""

    shares: Mapping[str, float]  # share of its paragraphs holding each key (empty: too few paragraphs)
    keys: frozenset[str]  # every key of the article


def article_terms(text: str, terms_of: Callable[[str], list[str]]) -> ArticleTerms:
    """The match keys of an article's text and the share of its paragraphs holding each."""
    spans = list(paragraphs(text))
    counts: Counter[str] = Counter()
    for span in spans:
        counts.update(_all_keys(terms_of(text[span.start : span.end])))
    shares = {} if len(spans) < MIN_PARAGRAPHS_FOR_SHARED else {t: n / len(spans) for t, n in counts.items()}
    return ArticleTerms(shares, frozenset(_all_keys(terms_of(text))))


class ArticleTermsCache:
    """Each article's ArticleTerms, computed once: owned by a collection (whose articles do not
    change), so it is dropped with it. Safe from several threads (a race computes twice)."""

    def __init__(self) -> None:
        self._by_article: dict[str, ArticleTerms] = {}

    def get(self, article: Article, terms_of: Callable[[str], list[str]]) -> ArticleTerms:
        """The article's terms, from the cache or computed now."""
        found = self._by_article.get(article.id)
        if found is None:
            found = self._by_article[article.id] = article_terms(article.text, terms_of)
        return found


@dataclass(frozen=True)
class Question:
    """What the evidence needs to know of the question."""

    text: str
    terms: tuple[str, ...]  # stemmed content terms
    kind: AnswerType
    focus: tuple[str, ...]  # content terms that are not question frame words


def read_question(text: str, terms_of: Callable[[str], list[str]]) -> Question:
    """The question's terms, focus terms and expected answer type."""
    folded = normalize_arabic(text)
    kept = " ".join(w for w in words(folded) if w not in FRAME_WORDS and not _framed(w))
    focus = tuple(dict.fromkeys(terms_of(kept)))
    return Question(text=text, terms=tuple(terms_of(text)), kind=question_type(text), focus=focus)


def _framed(word: str) -> bool:
    # the frame words with a clitic: "واسم", "وما"
    return len(word) > 2 and word[0] in "وف" and word[1:] in FRAME_WORDS


def _coverage(focus_keys: Sequence[frozenset[str]], weights: Sequence[float], keys: AbstractSet[str]) -> float:
    """The weighted share of the focus terms (given by their match keys) that `keys` holds."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    return sum(w for k, w in zip(focus_keys, weights, strict=True) if k & keys) / total


@dataclass(frozen=True)
class EvidenceSources:
    """What the features are computed from: the collection's articles and, from its index,
    the sentence vectors, idf and the terms no passage holds; the analyzer's terms; the
    model tokenizer's word-piece count (`pieces`, see answer_types.py); and the articles'
    terms, cached by the collection (`cache`; None: computed for this question)."""

    articles: Mapping[str, Article]
    sentence_vectors: Callable[[int], np.ndarray]
    terms_of: Callable[[str], list[str]]
    idf: Callable[[str], float]
    unseen: Callable[[str], bool]
    pieces: Pieces | None = None
    cache: ArticleTermsCache | None = None


def candidates(
    question: Question,
    query: np.ndarray,
    hits: Sequence[Hit],
    sources: EvidenceSources,
    passages: int = CANDIDATE_PASSAGES,
) -> list[Candidate]:
    """The candidates of the first `passages` hits, with their features: every sentence, and
    every two adjacent sentences of a passage that fit in LEAD_SPAN_CHARS."""
    articles, idf, unseen = sources.articles, sources.idf, sources.unseen
    cache = sources.cache or ArticleTermsCache()
    rows: list[_Row] = []
    focus = question.focus or question.terms
    unseen_weight = sum(idf(t) for t in focus if all(unseen(v) for v in (t, _bare_stem(t), *_keys(t))))
    total_weight = sum(idf(t) for t in focus)
    asked = _Asked(
        question,
        focus,
        _all_keys(question.terms),
        set(itertools.pairwise(_match_key(t) for t in question.terms)),
        unseen_weight / total_weight if total_weight > 0 else 0.0,
        _keys(focus[0]) if focus else frozenset(),
        frozenset(_all_keys(focus)),
        tuple(_keys(t) for t in focus),
        AskedType.of(question.kind, question.text),
    )
    for rank, hit in enumerate(hits[:passages]):
        article = articles[hit.passage.article_id]
        rows += _passage_rows(asked, query, rank, hit, article, sources, cache, len(rows))
    table = np.array([r.values for r in rows], dtype=np.float64).reshape(len(rows), len(FEATURES))
    _compare(table, [r.members for r in rows])
    table[:, 12] = table[:, 8] * table[:, 9]
    return [Candidate(r.rank, r.span, table[i]) for i, r in enumerate(rows)]


@dataclass(frozen=True)
class _Asked:
    """What every candidate is compared with: the question and what follows from it."""

    question: Question
    focus: tuple[str, ...]
    keys: set[str]
    pairs: set[tuple[str, str]]
    focus_unseen: float
    head: frozenset[str]
    focus_keys: frozenset[str]
    focus_term_keys: tuple[frozenset[str], ...]  # each focus term's match keys, in focus order
    type: AskedType  # what answer the question asks for, read once

    def near(self, terms_of: Callable[[str], list[str]]) -> Callable[[str], bool]:
        """Whether a word is one of the focus's (for answer_types.tokens_near)."""
        return lambda word: bool(_all_keys(terms_of(word)) & self.focus_keys)


@dataclass(frozen=True)
class _Row:
    rank: int
    span: Span
    members: tuple[int, ...]  # the rows of the sentences it covers (its own, for a sentence)
    values: list[float]


def _passage_rows(
    asked: _Asked, query: np.ndarray, rank: int, hit: Hit, article: Article, sources: EvidenceSources,
    cache: ArticleTermsCache, first_row: int,
) -> list[_Row]:  # fmt: skip
    """The rows of one passage's candidates (its sentences first, numbered from `first_row`)."""
    terms_of, idf, focus, focus_keys = sources.terms_of, sources.idf, asked.focus, asked.focus_term_keys
    known = cache.get(article, terms_of)
    # A term the whole article shares says which article, not which sentence.
    weights = [
        idf(t) * (1.0 - max(known.shares.get(key, 0.0) for key in k)) for t, k in zip(focus, focus_keys, strict=True)
    ]
    if sum(weights) <= 0:
        weights = [idf(t) for t in focus]
    # A focus term the whole article lacks: the article is about something else (the
    # Chinese president, not the Russian one), however close the passage reads.
    plain = [idf(t) for t in focus]
    focus_article = _coverage(focus_keys, plain, known.keys)
    missing = [w for k, w in zip(focus_keys, plain, strict=True) if not k & known.keys]
    missing_max = max(missing, default=0.0) / max(max(plain, default=1.0), 1e-9)
    passage = hit.passage
    focus_passage = _coverage(focus_keys, weights, _all_keys(terms_of(article.text[passage.start : passage.end])))
    rows = []
    near = asked.near(terms_of)
    for members, span, cosine in _units(passage.sentences, sources.sentence_vectors(passage.id), query):
        text = article.text[span.start : span.end]
        sentence_terms = terms_of(text)
        term_keys = [_keys(t) for t in sentence_terms]
        keys: set[str] = set().union(*term_keys)
        pairs = set(itertools.pairwise(_match_key(t) for t in sentence_terms))
        novel = sum(1 for k in term_keys if not k & asked.keys)
        folded = normalize_arabic(text)
        tokens = words(folded)
        found = asked.type.found(tokens, folded, sources.pieces)
        values = [
            cosine,
            hit.scores.dense,
            0.0,
            float(rank),
            _coverage(focus_keys, weights, keys),
            focus_passage,
            0.0,
            asked.focus_unseen,
            float(asked.question.kind != "other"),
            float(bool(found)),
            novel / len(sentence_terms) if sentence_terms else 0.0,
            _exact_overlap(asked.question.terms, set(sentence_terms), idf),
            0.0,
            math.log(max(len(text), 1)),
            float(members[0] == 0),
            0.0,
            sum(pair in pairs for pair in asked.pairs) / len(asked.pairs) if asked.pairs else 0.0,
            0.0,
            0.0,
            hit.scores.fused,
            focus_article,
            missing_max,
            float(bool(asked.head & keys)),
            float(len(members) > 1),
            float(bool(found) and tokens_near(found, tokens, near)),
        ]
        rows.append(_Row(rank, span, tuple(first_row + m for m in members), values))
    # the neighbours' focus: a question often matches the sentence before the answer
    single_focus = [r.values[4] for r in rows if len(r.members) == 1]
    for row in rows:
        ends = (row.members[0] - first_row - 1, row.members[-1] - first_row + 1)
        row.values[17] = max((single_focus[j] for j in ends if 0 <= j < len(single_focus)), default=0.0)
    return rows


def _units(
    sentences: Sequence[Span], vectors: np.ndarray, query: np.ndarray
) -> list[tuple[tuple[int, ...], Span, float]]:
    """Each sentence (its index, span and cosine), then each two adjacent ones that fit in
    LEAD_SPAN_CHARS, with the cosine of their summed vectors (close to embedding the two)."""
    q = query.reshape(-1)
    cosines = vectors @ q if len(vectors) else np.zeros(len(sentences))
    units: list[tuple[tuple[int, ...], Span, float]] = [
        ((i,), span, float(c)) for i, (span, c) in enumerate(zip(sentences, cosines, strict=True))
    ]
    for i, (a, b) in enumerate(itertools.pairwise(sentences)):
        if b.end - a.start <= LEAD_SPAN_CHARS:
            summed = vectors[i] + vectors[i + 1] if len(vectors) else np.zeros_like(q)
            norm = float(np.linalg.norm(summed))
            units.append(((i, i + 1), Span(a.start, b.end), float(summed @ q) / norm if norm > 0 else 0.0))
    return units


def _compare(table: np.ndarray, members: Sequence[tuple[int, ...]]) -> None:
    """Fill the columns that compare candidates (margins, cosine rank and z-score) in place:
    among the single sentences; a pair takes the best of its two sentences' values."""
    single = np.array([len(m) == 1 for m in members], dtype=bool)
    if not single.any():
        return
    for column, target in ((0, 2), (4, 6)):
        table[single, target] = _margins(table[single, column])
    table[single, 15] = np.argsort(np.argsort(-table[single, 0], kind="stable"), kind="stable")
    for i, covered in enumerate(members):
        if len(covered) > 1:
            table[i, 2] = max(table[j, 2] for j in covered)
            table[i, 6] = max(table[j, 6] for j in covered)
            table[i, 15] = min(table[j, 15] for j in covered)
    table[:, 18] = table[:, 0] - table[single, 0].mean()


def _exact_overlap(terms: Sequence[str], keys: set[str], idf: Callable[[str], float]) -> float:
    unique = set(terms)
    total = sum(idf(t) for t in unique)
    return sum(idf(t) for t in unique if t in keys) / total if total > 0 else 0.0


def _margins(values: np.ndarray) -> np.ndarray:
    """Each value minus the best of the others (0 when it is alone)."""
    if len(values) < 2:
        return np.zeros_like(values)
    order = np.argsort(-values)
    best, second = values[order[0]], values[order[1]]
    margins: np.ndarray = np.where(np.arange(len(values)) == order[0], best - second, values - best)
    return margins
