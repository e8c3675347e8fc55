"""The index folder: FAISS vectors, a BM25 index and the passage table, with a manifest.

    index/
      manifest.json   format, model, dimension, chunking, article checksums, file hashes
      vectors.faiss   one L2-normalised vector per passage (inner product = cosine): exact
                      search up to 50,000 passages; above, an IVF-PQ index (√n lists, 32
                      probed, dim/16 bytes a vector) whose candidates are re-ranked exactly
      vectors.npy     above 50,000 passages only: the float32 vectors themselves, mapped, read
                      only for the candidates re-ranked (and for lending to a rebuild)
      bm25/           bm25s index over stemmed, folded passage terms
      passages/       passage offsets into the articles, as columns (passage_table.py)
      sentences.npy   one L2-normalised vector per sentence of each passage, passages in
                      order (the evidence that a sentence answers, answer.py)

Writes are atomic: the folder is written beside the old one and swapped in. Loading
checks the manifest against the articles, model and chunking it is asked for (stale),
and every file against its hash (corrupt, naming the file).

Loading maps the files instead of copying them (FAISS `IO_FLAG_MMAP_IFC`, bm25s `mmap=True`,
`np.load(mmap_mode="r")` for the passage columns), and the float and sentence vectors are read
from their files row by row when asked for (row_file.py: mapped, the rows scattered over a
million vectors would each bring 64 KB into the process's memory): a cold start reads only
the pages a question touches, and the OS shares them between processes. A loaded index is
read-only; files are never changed in place (a save writes a new folder), so a mapping always
sees the files that were checked.

Rebuilding is incremental: `build_index(..., previous=index)` takes the passage and sentence
vectors of every article whose id and checksum the previous index holds, built with the same model and
chunking, and embeds only the others; `previous` may be several indexes (a chat's own and the
shared library's), each lending what it holds. BM25 is cheap and is always rebuilt whole. An index
of no passages (an empty library) has no BM25 folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from .dense_index import is_exact, new_dense_index
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError
from .lexical import Analyzer
from .model import Encoder
from .passage_table import PassageTable
from .passages import Chunking, article_passages
from .row_file import RowFile
from .types import Article, Passage

FORMAT = 3  # 2: sentence vectors; 3: passages as columns, IVF-PQ with exact vectors beside
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
EXACT = "vectors.npy"
PASSAGES = "passages"
SENTENCES = "sentences.npy"
BM25_DIR = "bm25"
REBUILD_HINT = "rebuild it with: python -m embeddings build"

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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _save_rows(vectors: np.ndarray | RowFile, path: Path) -> None:
    """`np.save` of float32 rows, written in blocks through a file (not a mapping, whose
    written pages would count in this process's memory); `vectors` may itself be mapped."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False}
    with path.open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {**header, "shape": vectors.shape})
        for start in range(0, len(vectors), 1 << 16):
            handle.write(np.ascontiguousarray(vectors[start : start + (1 << 16)], dtype=np.float32).tobytes())


def save_index(index: SearchIndex, folder: Path) -> None:
    """Write the index to `folder` atomically (readers see the old or the new one)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-new-", dir=folder.parent))
    try:
        faiss.write_index(index._vectors, str(work / VECTORS))
        if index._bm25 is not None:
            index._bm25.save(str(work / BM25_DIR), show_progress=False)
        index.passages.save(work / PASSAGES)
        if index._exact is not None:
            _save_rows(index._exact, work / EXACT)
        _save_rows(index._sentence_vectors, work / SENTENCES)
        files = {str(p.relative_to(work)): _sha256(p) for p in _data_files(work)}
        manifest = {"format": FORMAT, **index.key.to_json(), "passages": len(index), "files": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _swap_in(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _swap_in(new: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
        folder.rename(old / folder.name)
    new.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        if folder.is_dir() and any(folder.iterdir()):
            raise IndexCorruptError(f"{path} is missing, so the index in {folder} cannot be trusted; {REBUILD_HINT}")
        raise IndexMissingError(f"no index in {folder} yet; build it with: python -m embeddings build")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexStaleError(f"{path} is of index format {manifest.get('format')}, not {FORMAT}; {REBUILD_HINT}")
        IndexKey.from_json(manifest)
        dict(manifest["files"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexCorruptError(f"{path} is damaged ({type(exc).__name__}); {REBUILD_HINT}") from exc
    return manifest


def _check_files(folder: Path, files: dict[str, str]) -> None:
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing from the index; {REBUILD_HINT}")
        if _sha256(path) != digest:
            raise IndexCorruptError(f"{path} is corrupt (its checksum does not match the manifest); {REBUILD_HINT}")


def _stale_reason(found: IndexKey, wanted: IndexKey) -> str | None:
    if found.model != wanted.model or found.dim != wanted.dim:
        return f"it was built with the model {found.model!r}, and the model now is {wanted.model!r}"
    if found.chunking != wanted.chunking:
        return f"it was built with chunking {found.chunking}, and the chunking now is {wanted.chunking}"
    if found.articles != wanted.articles:
        before, now = dict(found.articles), dict(wanted.articles)
        changed = sorted(set(before) ^ set(now) | {i for i in before.keys() & now.keys() if before[i] != now[i]})
        return f"the articles changed since it was built ({', '.join(changed) or 'order'})"
    return None


def load_index(folder: Path, wanted: IndexKey) -> SearchIndex:
    """Load and check the index in `folder`; raise if it is missing, stale or corrupt."""
    manifest = _read_manifest(folder)
    reason = _stale_reason(IndexKey.from_json(manifest), wanted)
    if reason:
        raise IndexStaleError(f"the index in {folder} is out of date: {reason}; {REBUILD_HINT}")
    return _read_checked(folder, manifest)


def read_index(folder: Path) -> SearchIndex:
    """The index in `folder` whatever it was built from (to lend its vectors to a rebuild);
    raises if it is missing, corrupt or of another format."""
    return _read_checked(folder, _read_manifest(folder))


def _read_checked(folder: Path, manifest: dict[str, Any]) -> SearchIndex:
    _check_files(folder, manifest["files"])
    try:
        # IO_FLAG_MMAP_IFC maps the vectors of a flat index and the lists of an IVF one
        # (IO_FLAG_MMAP would still copy a flat index's vectors, FAISS 1.15).
        vectors = faiss.read_index(str(folder / VECTORS), faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError as exc:
        raise IndexCorruptError(f"{folder / VECTORS} cannot be read by FAISS; {REBUILD_HINT}") from exc
    bm25 = _load_bm25(folder / BM25_DIR) if any(name.startswith(f"{BM25_DIR}/") for name in manifest["files"]) else None
    passages = _read_passages(folder / PASSAGES)
    if len(passages) != vectors.ntotal or len(passages) != manifest.get("passages"):
        raise IndexCorruptError(f"{folder / PASSAGES} does not match {folder / VECTORS}; {REBUILD_HINT}")
    exact = _read_exact(folder / EXACT) if EXACT in manifest["files"] else None
    if is_exact(vectors) != (exact is None):
        beside = f"{folder / EXACT} is missing or does not belong beside {folder / VECTORS}"
        raise IndexCorruptError(f"{beside}; {REBUILD_HINT}")
    try:
        sentence_vectors = RowFile(folder / SENTENCES)
        return SearchIndex(IndexKey.from_json(manifest), passages, vectors, bm25, sentence_vectors, exact)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{folder / SENTENCES} does not match {folder / PASSAGES}; {REBUILD_HINT}") from exc


def _read_exact(path: Path) -> RowFile:
    try:
        return RowFile(path)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} cannot be read as vectors; {REBUILD_HINT}") from exc


def _load_bm25(path: Path) -> bm25s.BM25:
    try:
        return bm25s.BM25.load(str(path), mmap=True, show_progress=False)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} cannot be read by bm25s; {REBUILD_HINT}") from exc


def _read_passages(path: Path) -> PassageTable:
    try:
        return PassageTable.load(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is damaged ({type(exc).__name__}); {REBUILD_HINT}") from exc
