"""The index of a set of articles: FAISS vectors, a BM25 index and the passage table.

    vectors       one L2-normalised vector per passage (inner product = cosine): exact
                  search up to 50,000 passages; above, an IVF-PQ index (√n lists, 32
                  probed, dim/16 bytes a vector) whose candidates are re-ranked exactly
                  against the float32 vectors kept beside it
    bm25          bm25s index over stemmed, folded passage terms
    passages      passage offsets into the articles, as columns (passage_table.py)
    sentences     one L2-normalised vector per sentence of each passage, passages in
                  order (the evidence that a sentence answers, answer.py)

Saving and loading the index folder (its manifest, checksums, atomic swap, mapped reads)
is index_files.py's job.

Rebuilding is incremental: `build_index(..., previous=index)` takes the passage and sentence
vectors of every article whose id and checksum the previous index holds, built with the same model and
chunking, and embeds only the others; `previous` may be several indexes (a chat's own and the
shared library's), each lending what it holds. BM25 is cheap and is always rebuilt whole. An index
of no passages (an empty library) has no BM25 index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import bm25s
import faiss
import numpy as np

from .dense_index import is_exact, new_dense_index
from .lexical import Analyzer
from .model import Encoder
from .passage_table import PassageTable
from .passages import Chunking, article_passages
from .row_file import RowFile
from .types import Article, Passage

RERANK = 2  # the RERANK × n best candidates of a compressed index are re-ranked exactly (dense_index.py)


@dataclass(frozen=True)
class IndexKey:
    """What an index was built from; an index built from anything else is stale."""

    model: str
    dim: int
    chunking: Chunking
    articles: tuple[tuple[str, str], ...]  # (article id, text checksum), in index order

    @classmethod
    def of(cls, encoder: Encoder, chunking: Chunking, articles: Sequence[Article]) -> IndexKey:
        return cls(encoder.name, encoder.dim, chunking, tuple((a.id, a.checksum) for a in articles))

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dim": self.dim,
            "chunking": asdict(self.chunking),
            "articles": [{"id": i, "checksum": c} for i, c in self.articles],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexKey:
        return cls(
            model=data["model"],
            dim=int(data["dim"]),
            chunking=Chunking(**data["chunking"]),
            articles=tuple((a["id"], a["checksum"]) for a in data["articles"]),
        )


class SearchIndex:
    """Dense and lexical search over the passages of a set of articles.

    `bm25` is None when no passage has a single term (for example, no articles at all).
    `exact` holds the float vectors when `vectors` is approximate (IVF-PQ above
    FLAT_MAX_PASSAGES): its candidates are re-ranked by their exact inner products, and
    vectors are read back from it, never decoded from the compressed codes."""

    def __init__(
        self,
        key: IndexKey,
        passages: Sequence[Passage],
        vectors: faiss.Index,
        bm25: bm25s.BM25 | None,
        sentence_vectors: np.ndarray | RowFile | None = None,
        exact: np.ndarray | RowFile | None = None,
    ) -> None:
        self.key = key
        self.passages = PassageTable.of(passages)
        self._vectors = vectors
        if exact is not None and exact.shape != (vectors.ntotal, vectors.d):
            raise ValueError(f"{exact.shape[0]} exact vectors for {vectors.ntotal} indexed ones")
        self._exact = exact
        self._sentence_rows = self.passages.sentence_rows
        if sentence_vectors is None:
            sentence_vectors = np.zeros((int(self._sentence_rows[-1]), vectors.d), dtype=np.float32)
        if sentence_vectors.shape != (int(self._sentence_rows[-1]), vectors.d):
            raise ValueError(f"{sentence_vectors.shape[0]} sentence vectors for {self._sentence_rows[-1]} sentences")
        self._sentence_vectors = sentence_vectors
        self._bm25 = bm25
        self._doc_freq = np.diff(np.asarray(bm25.scores["indptr"])) if bm25 is not None else np.zeros(0)
        self._vocab: dict[str, int] = bm25.vocab_dict if bm25 is not None else {}
        self._prefixes: set[str] | None = None

    def __len__(self) -> int:
        return len(self.passages)

    def with_dense(self, vectors: faiss.Index, exact: np.ndarray | RowFile | None = None) -> SearchIndex:
        """The same passages, BM25 and sentence vectors over another dense index of the same
        vectors (to compare kinds of index, or search without re-ranking: `exact=None`)."""
        return SearchIndex(self.key, self.passages, vectors, self._bm25, self._sentence_vectors, exact)

    @property
    def dense(self) -> faiss.Index:
        """The FAISS index searched first (compressed above FLAT_MAX_PASSAGES)."""
        return self._vectors

    @property
    def bm25(self) -> bm25s.BM25 | None:
        """The lexical index (None when no passage has a term)."""
        return self._bm25

    @property
    def exact(self) -> np.ndarray | RowFile | None:
        """The float vectors beside a compressed `dense` index (None beside a flat one)."""
        return self._exact

    @property
    def all_sentence_vectors(self) -> np.ndarray | RowFile:
        """Every sentence's vector, passages in order (`passages.sentence_rows` bounds each passage's)."""
        return self._sentence_vectors

    def dense_search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The `n` passages nearest the query vector: (ids, cosines), best first. Above
        FLAT_MAX_PASSAGES, RERANK × n candidates of the compressed index, re-ranked by their
        exact cosines (the ones returned)."""
        wanted = min(n, len(self)) if self._exact is None else min(RERANK * n, len(self))
        scores, ids = self._vectors.search(query.reshape(1, -1), wanted)
        keep = ids[0] >= 0
        found, approximate = ids[0][keep], scores[0][keep]
        if self._exact is None:
            return found, approximate
        exact = self.dense_scores(query, found)
        order = np.argsort(-exact, kind="stable")[:n]
        return found[order], exact[order]

    def dense_scores(
        self, query: np.ndarray, ids: np.ndarray, known: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """Cosine of the query with the given passages; `known`, the (ids, cosines) `dense_search`
        gave for it: above FLAT_MAX_PASSAGES the exact cosines its re-rank read, not read again."""
        ids = np.asarray(ids, dtype=np.int64)
        if known is None or self._exact is None:  # a flat index's search scores are FAISS's sums: recomputed
            scores: np.ndarray = self._stored(ids) @ query.reshape(-1) if len(ids) else np.zeros(0, np.float32)
            return scores
        cosines = dict(zip(known[0].tolist(), known[1].tolist(), strict=True))
        missing = np.array([i for i in ids.tolist() if i not in cosines], dtype=np.int64)
        cosines.update(zip(missing.tolist(), (self._stored(missing) @ query.reshape(-1)).tolist(), strict=True))
        return np.array([cosines[i] for i in ids.tolist()], dtype=np.float32)

    def _stored(self, ids: np.ndarray) -> np.ndarray:
        """The float vectors of these passages: rows of the exact vectors (read from
        vectors.npy when loaded) or reconstructed by FAISS from a flat index."""
        if self._exact is None:
            return self._vectors.reconstruct_batch(ids)
        return np.asarray(self._exact[ids], dtype=np.float32)

    def lexical_scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query terms (0 where none occurs)."""
        known = [t for t in terms if t in self._vocab]
        if not known or self._bm25 is None:
            return np.zeros(len(self), dtype=np.float32)
        scores: np.ndarray = self._bm25.get_scores(known)
        return scores

    def sentence_vectors(self, passage_id: int) -> np.ndarray:
        """The vectors of one passage's sentences, in order (shape (sentences, dim))."""
        return self._sentence_vectors[self._sentence_rows[passage_id] : self._sentence_rows[passage_id + 1]]

    def article_sentence_vectors(self, article_id: str) -> np.ndarray:
        """The sentence vectors of all of one article's passages, passages in order."""
        ids = self.passages.rows_of(article_id)
        if not len(ids):
            return np.zeros((0, self._vectors.d), dtype=np.float32)
        return np.concatenate([self.sentence_vectors(int(i)) for i in ids])

    def article_passages(self, article_id: str) -> list[Passage]:
        """One article's passages, in order (numbered as in this index)."""
        return [self.passages[int(i)] for i in self.passages.rows_of(article_id)]

    def article_vectors(self, article_id: str) -> np.ndarray:
        """The vectors of one article's passages, in passage order (shape (n, dim))."""
        ids = self.passages.rows_of(article_id)
        if not len(ids):
            return np.zeros((0, self._vectors.d), dtype=np.float32)
        return self._stored(ids)

    def is_unseen(self, term: str) -> bool:
        """True when no passage holds the term, or (for a prefix of a term, as evidence.py
        matches stems) no term of the passages starts with it."""
        if term in self._vocab:
            return False
        if self._prefixes is None:
            self._prefixes = {t[:n] for t in self._vocab for n in range(1, min(len(t), 4) + 1)}
        return term not in self._prefixes

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over the passages. A term no passage
        holds gets the highest value: it is what the question asks about and the
        articles lack, which is exactly what abstention must weigh."""
        column = self._vocab.get(term)
        seen = column is not None and column < len(self._doc_freq)
        df, n = (float(self._doc_freq[column]) if seen else 0.0), float(len(self))
        return float(np.log1p((n - df + 0.5) / (df + 0.5)))


def rows_by_article(passages: Sequence[Passage]) -> dict[str, list[int]]:
    """The passage ids (= rows of the vectors) of each article, in order."""
    rows: dict[str, list[int]] = {}
    for passage in passages:
        rows.setdefault(passage.article_id, []).append(passage.id)
    return rows


def reusable_articles(previous: SearchIndex | None, encoder: Encoder, chunking: Chunking) -> set[tuple[str, str]]:
    """The (article id, checksum) pairs whose vectors `previous` can lend to an index built
    with `encoder` and `chunking`: none if it used another model, dimension or chunking."""
    if previous is None:
        return set()
    key = previous.key
    if (key.model, key.dim, key.chunking) != (encoder.name, encoder.dim, chunking):
        return set()
    return set(key.articles)


def build_index(
    articles: Sequence[Article],
    encoder: Encoder,
    analyzer: Analyzer,
    chunking: Chunking,
    progress: bool = False,
    previous: SearchIndex | Sequence[SearchIndex] | None = None,
) -> SearchIndex:
    """Cut the articles into passages and index them densely and lexically; the vectors of
    articles unchanged since `previous` (same id, text, model and chunking) are reused."""
    texts = {a.id: a.text for a in articles}
    passages = _cut_passages(articles, encoder, chunking, previous)
    passage_texts = [texts[p.article_id][p.start : p.end] for p in passages]
    vectors, sentence_vectors = _vectors(articles, passages, texts, encoder, chunking, previous, progress)
    dense = new_dense_index(vectors)
    key = IndexKey.of(encoder, chunking, articles)
    exact = None if is_exact(dense) else vectors
    return SearchIndex(key, passages, dense, _bm25(passage_texts, analyzer), sentence_vectors, exact)


def _cut_passages(
    articles: Sequence[Article],
    encoder: Encoder,
    chunking: Chunking,
    previous: SearchIndex | Sequence[SearchIndex] | None,
) -> list[Passage]:
    """The passages of `articles`, ids 0..n-1 in article order. Cutting is deterministic, so an
    article that an index of `previous` holds unchanged (same text, model and chunking) keeps
    the passages it has there, renumbered; the others are cut (`article_passages`)."""
    lenders = [previous] if isinstance(previous, SearchIndex) else list(previous or ())
    held = [(lender, reusable_articles(lender, encoder, chunking)) for lender in lenders]
    out: list[Passage] = []
    for article in articles:
        first = len(out)
        lender = next((index for index, keys in held if (article.id, article.checksum) in keys), None)
        if lender is None:
            out.extend(article_passages(article, chunking, first_id=first))
        else:
            out.extend([replace(p, id=first + i) for i, p in enumerate(lender.article_passages(article.id))])
    return out


def lending_index(
    key: IndexKey, passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray
) -> SearchIndex:
    """An index of vectors embedded before (read from PostgreSQL, say), only to lend them to
    `build_index(previous=...)`: exact, without BM25. `passages` are numbered from 0 in order,
    one row of `vectors` each; `sentence_vectors` follow their sentences, passages in order."""
    flat = faiss.IndexFlatIP(key.dim)
    if len(vectors):
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return SearchIndex(key, passages, flat, None, sentence_vectors)


def _vectors(
    articles: Sequence[Article],
    passages: list[Passage],
    texts: dict[str, str],
    encoder: Encoder,
    chunking: Chunking,
    previous: SearchIndex | Sequence[SearchIndex] | None,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One vector per passage and one per sentence of each passage: borrowed from `previous`
    where it can, else embedded, passages and sentences in one call, each distinct text once
    (a one-sentence passage is its sentence)."""
    sentence_rows = np.cumsum([0] + [len(p.sentences) for p in passages])
    vectors = np.zeros((len(passages), encoder.dim), dtype=np.float32)
    sentence_vectors = np.zeros((int(sentence_rows[-1]), encoder.dim), dtype=np.float32)
    lenders = [previous] if isinstance(previous, SearchIndex) else list(previous or ())
    reusable = [(lender, reusable_articles(lender, encoder, chunking)) for lender in lenders]
    rows_of = rows_by_article(passages)
    wanted: dict[str, list[tuple[np.ndarray, int]]] = {}  # text -> the rows it fills
    for article in articles:
        rows = rows_of.get(article.id, [])
        sentence_ids = [r for i in rows for r in range(sentence_rows[i], sentence_rows[i + 1])]
        lender = next((index for index, held in reusable if (article.id, article.checksum) in held), None)
        if lender is not None:
            borrowed, borrowed_sentences = (
                lender.article_vectors(article.id),
                lender.article_sentence_vectors(article.id),
            )
            if len(borrowed) == len(rows) and len(borrowed_sentences) == len(sentence_ids):
                vectors[rows] = borrowed
                sentence_vectors[sentence_ids] = borrowed_sentences
                continue
        text = texts[article.id]
        for i in rows:
            passage = passages[i]
            wanted.setdefault(text[passage.start : passage.end], []).append((vectors, i))
            for row, span in zip(range(sentence_rows[i], sentence_rows[i + 1]), passage.sentences, strict=True):
                wanted.setdefault(text[span.start : span.end], []).append((sentence_vectors, row))
    if wanted:
        embedded = encoder.encode_passages(list(wanted), progress=progress)
        for vector, targets in zip(embedded, wanted.values(), strict=True):
            for table, row in targets:
                table[row] = vector
    return vectors, sentence_vectors


def _bm25(passage_texts: list[str], analyzer: Analyzer) -> bm25s.BM25 | None:
    corpus = [analyzer.terms(t) for t in passage_texts]
    if not any(corpus):
        return None
    lexical = bm25s.BM25()
    lexical.index(corpus, show_progress=False)
    return lexical
