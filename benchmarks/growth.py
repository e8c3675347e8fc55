"""Growth: ask latency and memory with a million (synthetic) passages, per dense index kind.

The index index.py builds for that many passages (`new_dense_index`: IVF-PQ with exact
re-ranking above its flat limit) is built, saved and loaded back memory-mapped, as a real saved
index is served, and gives the figures: latency against the shipped article, peak RSS while
answering (the model's, the articles' and the index's shares apart), and how often it finds the
exact nearest passage. Every kind of `options.dense_kinds` it did not build is measured beside
it (flat, exact search: how much the approximate index saves, and how often it changes the
answer).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from embeddings import Article, Collection, Engine, Passage
from embeddings.dense_index import is_exact, new_dense_index
from embeddings.index import IndexKey, SearchIndex
from embeddings.index_files import load_index, save_index

from .corpus import TermDocuments, sentence_pool, synthetic_bm25, synthetic_corpus, unit_vectors
from .measure import interleaved, mapped_mb, median_ms, reset_peak_rss, rss_mb
from .options import DENSE_KINDS, BenchOptions
from .report import Figure

INDEX_PY = "index.py"  # the results of index.py's own index, beside those of each other kind
RECALL_QUERIES = 200  # perturbed stand-in vectors, half at cosine 0.9 to their passage, half at 0.8
PERTURBED_COSINES = (0.9, 0.8)


def measure_growth(
    small: Engine, pool_articles: Sequence[Article], options: BenchOptions, questions: Sequence[str]
) -> list[Figure]:
    """Ask latency with `options.growth_passages` passages over that with the shipped article,
    for index.py's dense index (saved, then loaded mapped) and each other kind; the peak RSS of
    serving index.py's; and the share of queries whose exact nearest passage it finds."""
    before = rss_mb()
    start = time.perf_counter()
    pool = sentence_pool(pool_articles, small.analyzer)
    corpus = synthetic_corpus(
        small.articles, small.index.passages, pool, small.analyzer, options.growth_passages, options.seed
    )
    articles, passages, documents = corpus.articles, corpus.passages, corpus.documents
    del corpus, pool
    real_vectors = _real_vectors(small)
    gc.collect()
    corpus_s = time.perf_counter() - start
    peak_fresh = reset_peak_rss()  # the stand-ins' own making is not what a real index costs
    key = IndexKey(small.encoder.name, small.encoder.dim, small.config.chunking, tuple((a.id, "") for a in articles))
    with tempfile.TemporaryDirectory(prefix="sanad-bench-growth-") as folder:
        saved = Path(folder) / "index"
        built = _build_and_save(key, passages, documents, real_vectors, options, saved)
        del passages, documents
        gc.collect()
        built["build_peak_mb"] = rss_mb()["VmHWM"]
        untrimmed = rss_mb()["VmRSS"]
        _return_freed_heap()  # what building left: a process serving a saved index never built it
        reset_peak_rss()
        memory = {"before": before["VmRSS"], "articles": _text_mb(articles), "at_load": rss_mb()["VmRSS"]}
        memory["build_leftover"] = untrimmed - memory["at_load"]
        loaded = load_index(saved, key)
        stand_in = _StandIn(articles, loaded, real_vectors)
        results = {INDEX_PY: {**built, **_growth_with(loaded, small, stand_in, options, questions)}}
        results[INDEX_PY]["mapped_mb"] = mapped_mb(saved)  # of the index's own share, the mapped files' pages
        memory |= {"held": results[INDEX_PY]["held_mb"], "peak": results[INDEX_PY]["peak_mb"]}
        recall = _exact_recall(loaded, small, stand_in, questions, options.seed)
        for kind in options.dense_kinds:
            if kind not in results and kind != results[INDEX_PY]["kind"]:  # index.py's own kind: measured already
                results[kind] = _compare_kind(kind, small, stand_in, options, questions)
                gc.collect()
    return _growth_figures(options.growth_passages, results, memory, recall, peak_fresh, corpus_s, len(small.index))


@dataclass(frozen=True)
class _StandIn:
    """What every dense kind is measured over: the synthetic articles, index.py's index of
    their passages as loaded (passages, BM25, sentence vectors), and the vectors of the real
    passages among them (rows 0, 1, ...)."""

    articles: list[Article]
    index: SearchIndex
    real_vectors: np.ndarray


def _stand_in_vectors(count: int, real_vectors: np.ndarray, seed: int) -> np.ndarray:
    vectors = unit_vectors(count, real_vectors.shape[1], seed)
    vectors[: len(real_vectors)] = real_vectors
    return vectors


def _build_and_save(
    key: IndexKey,
    passages: Sequence[Passage],
    documents: TermDocuments,
    real_vectors: np.ndarray,
    options: BenchOptions,
    folder: Path,
) -> dict[str, Any]:
    """Index the stand-in as build_index would (BM25, index.py's dense index, the float
    vectors beside a compressed one) and save it; the index in memory is then let go."""
    start = time.perf_counter()
    bm25 = synthetic_bm25(documents)
    bm25_s = time.perf_counter() - start
    vectors = _stand_in_vectors(len(passages), real_vectors, options.seed)
    start = time.perf_counter()
    dense = new_dense_index(vectors, options.flat_max)
    dense_s = time.perf_counter() - start
    exact = None if is_exact(dense) else vectors
    save_index(SearchIndex(key, passages, dense, bm25, None, exact), folder)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    return {"bm25_build_s": bm25_s, "dense_build_s": dense_s, "files_mb": _file_groups(files)}


def _file_groups(sizes: Mapping[str, int]) -> dict[str, float]:
    """MB on disk of each part of a saved index (vectors.faiss, vectors.npy, bm25, passages, ...)."""
    groups: dict[str, float] = {}
    for name, size in sizes.items():
        group = name.split("/")[0]
        groups[group] = groups.get(group, 0.0) + size / 2**20
    return {k: round(v, 1) for k, v in sorted(groups.items())}


def _return_freed_heap() -> None:
    """Give the C heap's freed pages back to the kernel (glibc `malloc_trim`; nothing elsewhere):
    the build's gigabytes of temporary arrays, freed, stay in the process otherwise."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _text_mb(articles: Sequence[Article]) -> float:
    """What the articles' text takes as Python strings (2 bytes a character for Arabic)."""
    return sum(sys.getsizeof(a.text) for a in articles) / 2**20


def comparison_index(kind: str, vectors: np.ndarray) -> faiss.Index:
    """A FAISS inner-product index of `kind` over the vectors (ids = rows), able to reconstruct:
    flat, exact search; hnsw, HNSW-Flat with 32 links and efSearch 64."""
    dim = vectors.shape[1]
    if kind == "flat":
        index: faiss.Index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 64
    else:
        raise ValueError(f"dense index kind {kind!r} is not one of {DENSE_KINDS}")
    index.add(vectors)
    return index


def index_kind(index: faiss.Index) -> str:
    """flat, ivf-pq, ivf or hnsw: which kind of FAISS index this is."""
    if isinstance(index, faiss.IndexIVFPQ):
        return "ivf-pq"
    return "ivf" if isinstance(index, faiss.IndexIVF) else "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def _growth_with(
    index: SearchIndex, small: Engine, stand_in: _StandIn, options: BenchOptions, questions: Sequence[str]
) -> dict[str, Any]:
    """Time asks over `index` against the small engine, and read the RSS while it is alive."""
    big = _engine_over(small, stand_in, index)
    samples = interleaved({"small": small.ask, "big": big.ask}, questions, options.repeats)
    memory = rss_mb()  # while the index is alive
    return {
        "ratio": median_ms(samples["big"]) / median_ms(samples["small"]),
        "big_ms": median_ms(samples["big"]),
        "small_ms": median_ms(samples["small"]),
        "dense_agreement": _dense_agreement(small, big, questions),
        "first_quotes": [_first_quote(big, q) for q in questions],
        "shipped_quotes": [_first_quote(small, q) for q in questions],
        "kind": index_kind(index.dense),
        "held_mb": memory["VmRSS"],
        "peak_mb": memory["VmHWM"],
    }


def _compare_kind(
    kind: str, small: Engine, stand_in: _StandIn, options: BenchOptions, questions: Sequence[str]
) -> dict[str, Any]:
    """Build the dense index of `kind` over the stand-in's vectors (in memory) and time it."""
    start = time.perf_counter()
    dense = comparison_index(kind, _stand_in_vectors(len(stand_in.index), stand_in.real_vectors, options.seed))
    built_s = time.perf_counter() - start
    measured = _growth_with(stand_in.index.with_dense(dense), small, stand_in, options, questions)
    return {"dense_build_s": built_s, **measured}


def _real_vectors(small: Engine) -> np.ndarray:
    """The vectors of the shipped article's passages (embedded again: the index keeps them private)."""
    texts = {a.id: a.text for a in small.articles}
    passages = small.index.passages
    if not passages:
        return np.zeros((0, small.encoder.dim), dtype=np.float32)
    return small.encoder.encode_passages([texts[p.article_id][p.start : p.end] for p in passages])


def _engine_over(small: Engine, stand_in: _StandIn, index: SearchIndex) -> Engine:
    """An engine like `small` (model, settings, abstention) over the synthetic corpus."""
    return small.with_collection(Collection.of(index, stand_in.articles))


def _exact_recall(
    index: SearchIndex, small: Engine, stand_in: _StandIn, questions: Sequence[str], seed: int
) -> dict[str, Any]:
    """How often the dense search finds the exact nearest passage (by a full scan of the float
    vectors), with its re-ranking and without (the compressed index's own first), for the
    questions and for stand-in vectors perturbed to a known cosine with their passage."""
    vectors = _stand_in_vectors(len(index), stand_in.real_vectors, seed)
    rng = np.random.default_rng(seed + 1)
    rows = rng.choice(len(index), RECALL_QUERIES, replace=False)
    groups = {"questions": small.encoder.encode_queries(list(questions))}
    for share, cosine in zip(np.array_split(rows, len(PERTURBED_COSINES)), PERTURBED_COSINES, strict=True):
        groups[f"cos {cosine}"] = _perturbed(vectors[share], cosine, rng)
    raw = index.with_dense(index.dense)  # the same FAISS index, its own order, no re-ranking
    k = small.config.fusion.candidates  # as retrieval asks: its first is what fusion sees first
    out: dict[str, Any] = {}
    for name, queries in groups.items():
        truth = _exact_nearest(vectors, queries)
        hit = [int(index.dense_search(q, k)[0][0]) == t for q, t in zip(queries, truth, strict=True)]
        first = [int(raw.dense_search(q, k)[0][0]) == t for q, t in zip(queries, truth, strict=True)]
        out[name] = {"queries": len(queries), "reranked": float(np.mean(hit)), "unranked": float(np.mean(first))}
    perturbed = [out[f"cos {c}"] for c in PERTURBED_COSINES]
    count = sum(g["queries"] for g in out.values())
    out["all"] = {key: sum(g[key] * g["queries"] for g in out.values()) / count for key in ("reranked", "unranked")} | {
        "queries": count,
        "perturbed_reranked": float(np.mean([g["reranked"] for g in perturbed])),
    }
    return out


def _perturbed(rows: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors at exactly `cosine` to each row, in a random direction orthogonal to it."""
    noise = rng.standard_normal(rows.shape, dtype=np.float32)
    noise -= (noise * rows).sum(axis=1, keepdims=True) * rows
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    out: np.ndarray = (cosine * rows + np.sqrt(1 - cosine**2) * noise).astype(np.float32)
    return out


def _exact_nearest(vectors: np.ndarray, queries: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """The row of `vectors` with the highest inner product with each query (a full scan)."""
    best = np.full(len(queries), -np.inf, dtype=np.float32)
    where = np.zeros(len(queries), dtype=np.int64)
    for start in range(0, len(vectors), block):
        scores = queries @ vectors[start : start + block].T
        top = scores.argmax(axis=1)
        better = scores[np.arange(len(queries)), top] > best
        best[better] = scores[np.arange(len(queries)), top][better]
        where[better] = start + top[better]
    return where


def _first_quote(engine: Engine, question: str) -> tuple[str, int, int] | None:
    """Where the answer's first quote comes from (None: not found)."""
    answer = engine.ask(question)
    quote = answer.quotes[0] if answer.found and answer.quotes else None
    return (quote.article_id, quote.start, quote.end) if quote else None


def _agreement(first: Sequence[object], second: Sequence[object]) -> float:
    return sum(a == b for a, b in zip(first, second, strict=True)) / max(1, len(first))


def _dense_agreement(small: Engine, big: Engine, questions: Sequence[str]) -> float:
    """Share of the real passages among the small engine's dense top-k that the big index's
    dense search also returns: 1.0 for exact search; how much an approximate index misses."""
    k = small.config.fusion.candidates
    found = wanted = 0
    for question in questions:
        query = small.encoder.encode_queries([question])[0]
        truth, _ = small.index.dense_search(query, k)
        got, _ = big.index.dense_search(query, k)
        wanted += len(truth)
        found += len(set(truth.tolist()) & set(got.tolist()))
    return found / wanted if wanted else 1.0


def _growth_figures(
    n: int,
    results: dict[str, dict[str, Any]],
    memory: dict[str, float],
    recall: dict[str, Any],
    peak_fresh: bool,
    corpus_s: float,
    small_passages: int,
) -> list[Figure]:
    _compare_answers(results)
    labels = {k: f"index.py's ({r['kind']})" if k == INDEX_PY else k for k, r in results.items()}
    main = results[INDEX_PY]
    by_kind = "".join(f"\n{'':<19}{_kind_line(labels[k], r)}" for k, r in results.items())
    growth = Figure(
        "growth_ratio",
        f"growth ({n:,})",
        main["ratio"],
        "x",
        1.2,
        detail=f"ask {main['big_ms']:.1f} ms with {n:,} passages / {main['small_ms']:.1f} ms with the shipped "
        f"article, {labels[INDEX_PY]} index saved and loaded mapped{by_kind}\n{'':<19}SYNTHETIC: "
        f"{n - small_passages:,} stand-in passages (random unit vectors; BM25 documents of shuffled XQuAD-ar "
        f"sentences) around the {small_passages} real ones, made in {corpus_s:.0f} s",
        raw={"passages": n, "dense": labels[INDEX_PY], "by_dense": _without_quotes(results), "synthetic": True},
    )
    scope = "from the loaded index on" if peak_fresh else "counted from process start: no clear_refs"
    index_mb = memory["peak"] - memory["at_load"]
    size = Figure(
        "index_1m_rss_mb",
        f"index RSS ({n:,})",
        memory["peak"],
        " MB",
        2000.0,
        detail=f"peak RSS answering over the saved {labels[INDEX_PY]} index of {n:,} passages, loaded mapped "
        f"({scope}), model included: {memory['before']:.0f} MB the process before the step (model, shipped "
        f"article, XQuAD-ar), {memory['at_load'] - memory['before']:.0f} MB more before loading (the stand-in "
        f"articles' text, {memory['articles']:.0f} MB of str), +{index_mb:.0f} MB the index's own (loading and "
        f"answering; of it, resident pages of the mapped files {main['mapped_mb']}); building it peaked at "
        f"{main['build_peak_mb']:.0f} MB ({memory['build_leftover']:.0f} MB of freed heap given back before "
        f"loading); on disk {main['files_mb']}",
        raw={
            "peak_mb": memory["peak"],
            "before_mb": memory["before"],
            "at_load_mb": memory["at_load"],
            "articles_text_mb": memory["articles"],
            "index_mb": index_mb,
            "held_mb": memory["held"],
            "build_peak_mb": main["build_peak_mb"],
            "build_leftover_mb": memory["build_leftover"],
            "files_mb": main["files_mb"],
            "mapped_mb": main["mapped_mb"],
        },
    )
    every = recall["all"]
    groups = ", ".join(
        f"{name} {g['reranked']:.3f} ({g['unranked']:.3f} unranked, {g['queries']})"
        for name, g in recall.items()
        if name != "all"
    )
    exact = Figure(
        "index_1m_exact_recall",
        f"exact nearest ({n:,})",
        every["reranked"],
        "",
        detail=f"share of {every['queries']} queries whose exact nearest passage (full scan) is the dense "
        f"search's first, {labels[INDEX_PY]}: {groups}; the unranked figure is the compressed index's own first",
        raw=recall,
        higher_is_better=True,
    )
    return [growth, size, exact]


def _compare_answers(results: dict[str, dict[str, Any]]) -> None:
    """Add to each kind's results how often its first quote is the exact (flat) index's, and
    how often it is the one given without the stand-ins."""
    exact = next((r["first_quotes"] for r in results.values() if r["kind"] == "flat"), None)
    for r in results.values():
        r["same_as_shipped"] = _agreement(r["first_quotes"], r["shipped_quotes"])
        r["same_as_exact"] = _agreement(r["first_quotes"], exact) if exact is not None else None


def _kind_line(label: str, r: Mapping[str, Any]) -> str:
    exact = "?" if r["same_as_exact"] is None else f"{r['same_as_exact']:.0%}"
    return (
        f"{label}: {r['ratio']:.2f}x, {r['big_ms']:.1f} ms, built in {r['dense_build_s']:.0f} s; real passages "
        f"in its dense top-k {r['dense_agreement']:.0%}; first quote as exact search's {exact}, as without "
        f"the stand-ins {r['same_as_shipped']:.0%}"
    )


def _without_quotes(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {name: v for name, v in r.items() if not name.endswith("_quotes")} for k, r in results.items()}
