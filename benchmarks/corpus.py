"""The synthetic growth corpus: a million passages that look like news, and their indexes.

Passages are 3-7 shuffled sentences of real articles (XQuAD-ar), 100 to an article, after the
real passages of the shipped article, so that its questions keep their answers. Their BM25
index is built by bm25s from term ids; their vectors are random unit vectors (embedding a
million passages would take a day on our machine, and the figure is about search, not
embedding).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import bm25s
import numpy as np
from bm25s.tokenization import Tokenized

from embeddings import Article, Passage, Span
from embeddings.lexical import Analyzer
from embeddings.passages import paragraphs
from embeddings.sentences import split_sentences

PASSAGES_PER_ARTICLE = 100


class TermDocuments(Sequence[list[int]]):
    """Documents as term ids into `vocab`, stored flat: document i is
    tokens[offsets[i]:offsets[i + 1]]. As a sequence it gives each document as a list of ints,
    made when asked for: that is how bm25s reads a corpus of ids, and a million Python lists
    of ~90 ints each would take gigabytes."""

    def __init__(self, tokens: np.ndarray, offsets: np.ndarray, vocab: Mapping[str, int]) -> None:
        self.tokens = tokens
        self.offsets = offsets
        self.vocab = vocab
        self._bounds: list[int] = offsets.tolist()

    def __len__(self) -> int:
        return len(self._bounds) - 1

    @overload
    def __getitem__(self, item: int) -> list[int]: ...

    @overload
    def __getitem__(self, item: slice) -> list[list[int]]: ...

    def __getitem__(self, item: int | slice) -> list[int] | list[list[int]]:
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        if not -len(self) <= item < len(self):
            raise IndexError(f"document {item} of {len(self)}")
        item %= len(self)
        document: list[int] = self.tokens[self._bounds[item] : self._bounds[item + 1]].tolist()
        return document

    def __iter__(self) -> Iterator[list[int]]:
        tokens, bounds = self.tokens, self._bounds
        for start, end in itertools.pairwise(bounds):
            yield tokens[start:end].tolist()

    def lengths(self) -> np.ndarray:
        """How many terms each document has."""
        return np.diff(self.offsets)


@dataclass(frozen=True)
class SentencePool:
    """Real sentences and their BM25 terms; synthetic passages are drawn from it."""

    texts: tuple[str, ...]
    terms: TermDocuments  # sentence i's terms are terms[i]


@dataclass(frozen=True)
class SyntheticCorpus:
    """Passages (with the articles holding their text) and their BM25 documents, in passage order."""

    articles: list[Article]
    passages: list[Passage]
    documents: TermDocuments


def sentence_pool(
    articles: Sequence[Article], analyzer: Analyzer, vocab: Mapping[str, int] | None = None
) -> SentencePool:
    """Every distinct sentence of the articles with its terms (the vocabulary grows as needed)."""
    terms_of: dict[str, int] = dict(vocab or {})
    texts: list[str] = []
    ids: list[int] = []
    offsets = [0]
    seen: set[str] = set()
    for article in articles:
        for para in paragraphs(article.text):
            for span in split_sentences(article.text, para.start, para.end):
                sentence = article.text[span.start : span.end]
                if sentence in seen or "\n" in sentence:
                    continue
                seen.add(sentence)
                texts.append(sentence)
                ids.extend(terms_of.setdefault(t, len(terms_of)) for t in analyzer.terms(sentence))
                offsets.append(len(ids))
    terms = TermDocuments(np.asarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64), terms_of)
    return SentencePool(tuple(texts), terms)


def synthetic_corpus(
    real: Sequence[Article], real_passages: Sequence[Passage], pool: SentencePool, analyzer: Analyzer, n: int, seed: int
) -> SyntheticCorpus:
    """`n` passages: the real passages first (ids as given), then shuffled pool sentences, 3-7
    to a paragraph and 100 paragraphs to an article."""
    rng = np.random.default_rng(seed)
    vocab = dict(pool.terms.vocab)
    texts = {a.id: a.text for a in real}
    real_terms = [
        np.asarray([vocab.setdefault(t, len(vocab)) for t in analyzer.terms(texts[p.article_id][p.start : p.end])])
        for p in real_passages
    ]
    fake = max(0, n - len(real_passages))
    per_passage = rng.integers(3, 8, size=fake)
    sentences = rng.integers(0, len(pool.texts), size=int(per_passage.sum()))
    articles, passages = _synthetic_passages(pool.texts, sentences, per_passage, first_id=len(real_passages))
    fake_tokens, fake_lengths = _gather_terms(pool.terms, sentences, per_passage)
    lengths = np.concatenate([[len(t) for t in real_terms], fake_lengths]).astype(np.int64)
    tokens = np.concatenate([*real_terms, fake_tokens]).astype(np.int32)
    documents = TermDocuments(tokens, np.concatenate([[0], np.cumsum(lengths)]), vocab)
    return SyntheticCorpus([*real, *articles], [*real_passages, *passages], documents)


def _gather_terms(
    terms: TermDocuments, sentences: np.ndarray, per_passage: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The term ids of each synthetic passage (its sentences' terms, concatenated), vectorised:
    a loop over 5,000,000 sentences would take minutes."""
    lengths = terms.lengths()[sentences]
    total = int(lengths.sum())
    starts = np.repeat(terms.offsets[:-1][sentences], lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    tokens = terms.tokens[starts + (np.arange(total) - first)]
    bounds = np.concatenate([[0], np.cumsum(per_passage)[:-1]]).astype(np.int64)
    passage_lengths = np.add.reduceat(lengths, bounds) if len(per_passage) else np.zeros(0, dtype=np.int64)
    return tokens, passage_lengths


def _synthetic_passages(
    pool_texts: Sequence[str], sentences: np.ndarray, per_passage: np.ndarray, first_id: int
) -> tuple[list[Article], list[Passage]]:
    """Articles of 100 paragraphs, each paragraph one passage of whole sentences."""
    articles: list[Article] = []
    passages: list[Passage] = []
    cursor = 0
    counts = per_passage.tolist()
    chosen = sentences.tolist()
    for article_number in range(0, len(counts), PASSAGES_PER_ARTICLE):
        article_id = f"synthetic-{article_number // PASSAGES_PER_ARTICLE:06d}"
        lines: list[str] = []
        offset = 0
        for paragraph, count in enumerate(counts[article_number : article_number + PASSAGES_PER_ARTICLE], start=1):
            parts = [pool_texts[i] for i in chosen[cursor : cursor + count]]
            cursor += count
            spans = []
            start = offset
            for part in parts:
                spans.append(Span(start, start + len(part)))
                start += len(part) + 1
            line = " ".join(parts)
            passage_id = first_id + len(passages)
            passages.append(Passage(passage_id, article_id, paragraph, offset, offset + len(line), tuple(spans)))
            lines.append(line)
            offset += len(line) + 1
        articles.append(Article(article_id, f"synthetic article {article_id}", "bench (synthetic)", "\n".join(lines)))
    return articles, passages


def synthetic_bm25(documents: TermDocuments) -> bm25s.BM25:
    """The bm25s index of the documents with index.py's settings (bm25s's defaults), built by
    bm25s's public `BM25.index` from term ids and their vocabulary (a `Tokenized`), the way it
    would index the same terms as strings. bm25s adds the empty term "" to the vocabulary it
    is given, so it gets a copy."""
    bm25 = bm25s.BM25()
    bm25.index(Tokenized(ids=documents, vocab=dict(documents.vocab)), show_progress=False)
    return bm25


def unit_vectors(n: int, dim: int, seed: int, chunk: int = 65_536) -> np.ndarray:
    """`n` random L2-normalised float32 vectors (made in chunks: no float64 copy of the whole)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out
