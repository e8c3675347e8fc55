"""From ranked passages to an Answer: quotes, the answering sentence, and its kind.

With a calibration (calibration.py), the candidates of the best passages (each sentence,
and two adjacent sentences as one span) are scored on their evidence (evidence.py): the best
one is the bold text and its passage is quoted first; the calibrated decision says whether
it is an `answer`, only the `closest` the articles say, or `not_found`. Without one, the
passages keep their retrieval order and each highlights the sentence sharing most question
terms (the older rule, kept for engines built without a calibration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .calibration import Calibration, Decision
from .evidence import Candidate, EvidenceSources, Question, candidates, read_question
from .retrieve import Hit
from .text_fragment import text_fragment_url
from .types import Answer, Article, Passage, Quote, Span


@dataclass(frozen=True)
class Abstention:
    """When to say "not found".

    An Arabic question is answered when the best passage's cosine with it reaches
    `confident_dense`, or reaches `min_dense` while the passage holds at least
    `min_coverage` of the question's (idf-weighted) terms. A question in another script
    shares no terms with an Arabic article, and cross-lingual cosines run lower, so it
    is answered when the cosine reaches `cross_script_dense`.
    """

    min_dense: float
    confident_dense: float
    min_coverage: float
    cross_script_dense: float

    def answers(self, dense: float, coverage: float, same_script: bool = True) -> bool:
        """True when evidence of this strength counts as an answer."""
        if not same_script:
            return dense >= self.cross_script_dense
        if dense < self.min_dense:
            return False
        return dense >= self.confident_dense or coverage >= self.min_coverage


def term_coverage(question_terms: Sequence[str], text_terms: set[str], idf: Callable[[str], float]) -> float:
    """Share of the question's idf mass whose terms occur in the text (0..1)."""
    unique = set(question_terms)
    total = sum(idf(t) for t in unique)
    if total <= 0:
        return 0.0
    return sum(idf(t) for t in unique if t in text_terms) / total


def pick_sentence(
    passage: Passage,
    text: str,
    question_terms: Sequence[str],
    terms_of: Callable[[str], list[str]],
    idf: Callable[[str], float],
) -> Span:
    """The sentence of the passage sharing most question terms (idf-weighted); the
    earliest one wins a tie, since news puts the main fact first."""
    best, best_score = passage.sentences[0], 0.0
    for sentence in passage.sentences:
        score = term_coverage(question_terms, set(terms_of(text[sentence.start : sentence.end])), idf)
        if score > best_score + 1e-9:
            best, best_score = sentence, score
    return best


def _overlaps(a: Passage, b: Passage) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


def distinct_hits(hits: Sequence[Hit], k: int) -> list[Hit]:
    """The best `k` hits whose passages do not overlap each other."""
    chosen: list[Hit] = []
    for hit in hits:
        if len(chosen) == k:
            break
        if not any(_overlaps(hit.passage, c.passage) for c in chosen):
            chosen.append(hit)
    return chosen


def make_quote(hit: Hit, article: Article, highlight: Span) -> Quote:
    """A quote of the hit's passage; refuses to build one that is not a verbatim slice."""
    passage = hit.passage
    text = article.text[passage.start : passage.end]
    if not (passage.start <= highlight.start < highlight.end <= passage.end) or not text.strip():
        raise AssertionError(f"quote of passage {passage.id} is not a slice of article {article.id}")
    return Quote(
        article_id=article.id,
        title=article.title,
        source=article.source,
        paragraph=passage.paragraph,
        start=passage.start,
        end=passage.end,
        text=text,
        highlight=highlight,
        scores=hit.scores,
        link=text_fragment_url(article.source, article.text, highlight),
    )


@dataclass(frozen=True)
class Evidence:
    """What the decision saw for one question: the distinct hits and the candidate sentences."""

    hits: tuple[Hit, ...]
    candidates: tuple[Candidate, ...]


def gather_evidence(
    question: str | Question, query: np.ndarray, hits: Sequence[Hit], sources: EvidenceSources, k: int
) -> Evidence:
    """The best `k` distinct hits and the candidate sentences of the first few of them. The
    question is its text, or already read (a follow-up's, resolved with its previous turn)."""
    chosen = distinct_hits(hits, k)
    read = read_question(question, sources.terms_of) if isinstance(question, str) else question
    found = candidates(read, query, chosen, sources)
    return Evidence(tuple(chosen), tuple(found))


def compose_answer(
    question: str,
    hits: Sequence[Hit],
    articles: Mapping[str, Article],
    question_terms: Sequence[str],
    terms_of: Callable[[str], list[str]],
    idf: Callable[[str], float],
    k: int,
    abstention: Calibration | None,
    evidence: Evidence | None = None,
) -> Answer:
    """The answer to `question` from ranked hits.

    With a calibration and the evidence, the lead sentence and the kind come from it; with
    `abstention` None (or no candidates), the top hits are returned as an answer, each with
    the sentence sharing most question terms.
    """
    chosen = list(evidence.hits) if evidence is not None else distinct_hits(hits, k)
    if not chosen:
        return Answer(question=question, found=False)
    quotes: list[Quote] = []
    if abstention is None or evidence is None or not evidence.candidates:
        for hit in chosen:
            article = articles[hit.passage.article_id]
            highlight = pick_sentence(hit.passage, article.text, question_terms, terms_of, idf)
            quotes.append(make_quote(hit, article, highlight))
        return Answer(question=question, found=True, quotes=tuple(quotes))
    decision = abstention.decide(evidence.candidates)
    kind = abstention.kind(decision)
    if kind == "not_found":
        return Answer(question=question, found=False, kind="not_found", confidence=decision.p_answer)
    order = _quote_order(chosen, evidence.candidates, decision)
    for position in order:
        hit = chosen[position]
        article = articles[hit.passage.article_id]
        best = _best_sentence(position, evidence.candidates, decision)
        highlight = best or pick_sentence(hit.passage, article.text, question_terms, terms_of, idf)
        quotes.append(make_quote(hit, article, highlight))
    if kind == "closest":
        # The closest passage only, and never framed as the answer.
        return Answer(
            question=question, found=False, quotes=tuple(quotes[:1]), kind="closest", confidence=decision.p_answer
        )
    return Answer(question=question, found=True, quotes=tuple(quotes), kind="answer", confidence=decision.p_answer)


def _quote_order(chosen: Sequence[Hit], found: Sequence[Candidate], decision: Decision) -> list[int]:
    """The lead sentence's passage first, then the others in retrieval order."""
    lead = found[decision.lead].hit_rank
    return [lead, *(i for i in range(len(chosen)) if i != lead)]


def _best_sentence(position: int, found: Sequence[Candidate], decision: Decision) -> Span | None:
    """The best-scoring candidate span of the hit at `position` (None if it has none)."""
    best: tuple[float, Span] | None = None
    for candidate, score in zip(found, decision.scores, strict=True):
        if candidate.hit_rank == position and (best is None or score > best[0]):
            best = (float(score), candidate.span)
    return best[1] if best else None
