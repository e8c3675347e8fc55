"""From ranked passages to an Answer: quotes, the answering sentence, abstention."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .retrieve import Hit
from .script import is_arabic_script
from .types import Answer, Article, Passage, Quote, Scores, Span


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
        scores=Scores(fused=hit.fused, dense=hit.dense, lexical=hit.lexical),
    )


def compose_answer(
    question: str,
    hits: Sequence[Hit],
    articles: Mapping[str, Article],
    question_terms: Sequence[str],
    terms_of: Callable[[str], list[str]],
    idf: Callable[[str], float],
    k: int,
    abstention: Abstention | None,
) -> Answer:
    """The answer to `question` from ranked hits; abstains when evidence is weak.

    With `abstention` None, the top hits are always returned (used by evaluation).
    """
    chosen = distinct_hits(hits, k)
    if not chosen:
        return Answer(question=question, found=False)
    if abstention is not None:
        top = chosen[0]
        article = articles[top.passage.article_id]
        coverage = term_coverage(question_terms, set(terms_of(article.text[top.passage.start : top.passage.end])), idf)
        if not abstention.answers(max(h.dense for h in chosen), coverage, is_arabic_script(question)):
            return Answer(question=question, found=False)
    quotes = []
    for hit in chosen:
        article = articles[hit.passage.article_id]
        highlight = pick_sentence(hit.passage, article.text, question_terms, terms_of, idf)
        quotes.append(make_quote(hit, article, highlight))
    return Answer(question=question, found=True, quotes=tuple(quotes))
