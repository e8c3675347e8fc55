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

from embeddings import Article, Passage
from embeddings.lexical import Analyzer
from embeddings.passage_table import PassageTable
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
    passages: PassageTable  # passage i has id i
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
    articles, passages = _synthetic_passages(pool.texts, sentences, per_passage)
    fake_tokens, fake_lengths = _gather_terms(pool.terms, sentences, per_passage)
    lengths = np.concatenate([[len(t) for t in real_terms], fake_lengths]).astype(np.int64)
    tokens = np.concatenate([*real_terms, fake_tokens]).astype(np.int32)
    documents = TermDocuments(tokens, np.concatenate([[0], np.cumsum(lengths)]), vocab)
    return SyntheticCorpus([*real, *articles], _with_real(real_passages, passages), documents)


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
    pool_texts: Sequence[str], sentences: np.ndarray, per_passage: np.ndarray
) -> tuple[list[Article], PassageTable]:
    """Articles of 100 paragraphs, each paragraph one passage of whole sentences joined by a
    space. The passages are columns (their offsets computed with numpy), never a million
    `Passage` objects: freed, those would leave the process ~1 GB bigger (pymalloc arenas
    pinned by the articles made between them)."""
    count = len(per_passage)
    sentence_len = np.fromiter((len(t) for t in pool_texts), np.int64, len(pool_texts))[sentences]
    first_sentence = np.concatenate([[0], np.cumsum(per_passage)]).astype(np.int64)
    passage_len = np.zeros(count, dtype=np.int64)
    if count:
        passage_len = np.add.reduceat(sentence_len, first_sentence[:-1]) + per_passage - 1
    article = np.arange(count, dtype=np.int64) // PASSAGES_PER_ARTICLE
    passage_start = _restarting_offsets(passage_len + 1, article)
    sentence_start = _restarting_offsets(sentence_len + 1, np.repeat(np.arange(count), per_passage))
    sentence_start += np.repeat(passage_start, per_passage)
    spans = np.stack([sentence_start, sentence_start + sentence_len], axis=1)
    bounds = np.stack([passage_start, passage_start + passage_len], axis=1)
    paragraph = (np.arange(count) % PASSAGES_PER_ARTICLE + 1).astype(np.int32)
    articles = [
        _synthetic_article(number, pool_texts, sentences, per_passage, first_sentence)
        for number in range(-(-count // PASSAGES_PER_ARTICLE))
    ]
    table = PassageTable([a.id for a in articles], article.astype(np.int32), paragraph, bounds, first_sentence, spans)
    return articles, table


def _restarting_offsets(lengths: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Where each item starts when items of the same (consecutive) group follow each other
    and each group starts at 0."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    first = np.searchsorted(group, group, side="left")  # index of each group's first item
    out: np.ndarray = starts - starts[first]
    return out


def _synthetic_article(
    number: int, pool_texts: Sequence[str], sentences: np.ndarray, per_passage: np.ndarray, first: np.ndarray
) -> Article:
    """Synthetic article `number`: its passages' sentences, one paragraph (line) each."""
    begin, end = number * PASSAGES_PER_ARTICLE, min(len(per_passage), (number + 1) * PASSAGES_PER_ARTICLE)
    lines = (" ".join(pool_texts[i] for i in sentences[first[p] : first[p + 1]].tolist()) for p in range(begin, end))
    article_id = f"synthetic-{number:06d}"
    return Article(article_id, f"synthetic article {article_id}", "bench (synthetic)", "\n".join(lines))


def _with_real(real: Sequence[Passage], fake: PassageTable) -> PassageTable:
    """The real passages (ids 0..) followed by the synthetic ones, as one table."""
    head = PassageTable.of(list(real))
    shift = len(head.article_ids)
    return PassageTable(
        [*head.article_ids, *fake.article_ids],
        np.concatenate([head.article, fake.article + shift]).astype(np.int32),
        np.concatenate([head.paragraph, fake.paragraph]).astype(np.int32),
        np.concatenate([head.bounds, fake.bounds]).astype(np.int64),
        np.concatenate([head.sentence_rows[:-1], fake.sentence_rows + head.sentence_rows[-1]]).astype(np.int64),
        np.concatenate([head.sentences, fake.sentences]).astype(np.int64),
    )


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
