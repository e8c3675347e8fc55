"""Growth: ask latency and memory with a million (synthetic) passages, per dense index kind.

The index index.py builds for that many passages (`new_dense_index`) is measured first and
gives the figures; every kind of `options.dense_kinds` it did not build is measured beside it
(flat, exact search: how much the approximate index saves, and how often it changes the
answer).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import faiss
import numpy as np

from embeddings import Article, Collection, Engine, Passage
from embeddings.index import IndexKey, SearchIndex, new_dense_index

from .corpus import SyntheticCorpus, sentence_pool, synthetic_bm25, synthetic_corpus, unit_vectors
from .measure import interleaved, median_ms, reset_peak_rss, rss_mb
from .options import DENSE_KINDS, BenchOptions
from .report import Figure

INDEX_PY = "index.py"  # the results of index.py's own index, beside those of each other kind


def measure_growth(
    small: Engine, pool_articles: Sequence[Article], options: BenchOptions, questions: Sequence[str]
) -> list[Figure]:
    """Ask latency with `options.growth_passages` passages over that with the shipped article,
    for index.py's dense index and each other kind; and the peak RSS of serving index.py's."""
    before = rss_mb()
    start = time.perf_counter()
    corpus = _growth_corpus(small, pool_articles, options.growth_passages, options.seed)
    bm25 = synthetic_bm25(corpus.documents)
    articles, passages = corpus.articles, corpus.passages
    del corpus  # its BM25 documents: from here on only the index holds what it needs
    real_vectors = _real_vectors(small)
    gc.collect()
    corpus_s = time.perf_counter() - start
    peak_fresh = reset_peak_rss()  # the stand-ins' own making is not what a real index costs
    stand_in = _StandIn(articles, passages, bm25, real_vectors)
    results = {INDEX_PY: _growth_with(None, small, stand_in, options, questions)}
    memory = {"before": before["VmRSS"], "held": results[INDEX_PY]["held_mb"], "peak": results[INDEX_PY]["peak_mb"]}
    gc.collect()
    for kind in options.dense_kinds:
        if kind not in results and kind != results[INDEX_PY]["kind"]:  # index.py's own kind: measured already
            results[kind] = _growth_with(kind, small, stand_in, options, questions)
            gc.collect()
    return _growth_figures(options.growth_passages, results, memory, peak_fresh, corpus_s, len(small.index))


@dataclass(frozen=True)
class _StandIn:
    """What every dense kind is measured over: the synthetic passages, their articles, their
    BM25 index, and the vectors of the real passages among them (rows 0, 1, ...)."""

    articles: list[Article]
    passages: list[Passage]
    bm25: bm25s.BM25
    real_vectors: np.ndarray


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
    """flat, ivf or hnsw: which kind of FAISS index this is."""
    return "ivf" if isinstance(index, faiss.IndexIVF) else "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def _growth_with(
    kind: str | None, small: Engine, stand_in: _StandIn, options: BenchOptions, questions: Sequence[str]
) -> dict[str, Any]:
    """Build the dense index of `kind` (None: index.py's) over the corpus, then time asks
    against the small engine."""
    start = time.perf_counter()
    vectors = unit_vectors(len(stand_in.passages), small.encoder.dim, options.seed)
    vectors[: len(stand_in.real_vectors)] = stand_in.real_vectors
    dense = new_dense_index(vectors) if kind is None else comparison_index(kind, vectors)
    built_s = time.perf_counter() - start
    del vectors  # from here on only the index holds them, as after build_index
    big = _engine_over(small, stand_in, dense)
    samples = interleaved({"small": small.ask, "big": big.ask}, questions, options.repeats)
    memory = rss_mb()  # while the index is alive
    return {
        "ratio": median_ms(samples["big"]) / median_ms(samples["small"]),
        "big_ms": median_ms(samples["big"]),
        "small_ms": median_ms(samples["small"]),
        "dense_build_s": built_s,
        "dense_agreement": _dense_agreement(small, big, questions),
        "first_quotes": [_first_quote(big, q) for q in questions],
        "shipped_quotes": [_first_quote(small, q) for q in questions],
        "kind": index_kind(dense),
        "held_mb": memory["VmRSS"],
        "peak_mb": memory["VmHWM"],
    }


def _growth_corpus(small: Engine, pool_articles: Sequence[Article], n: int, seed: int) -> SyntheticCorpus:
    pool = sentence_pool(pool_articles, small.analyzer)
    return synthetic_corpus(small.articles, small.index.passages, pool, small.analyzer, n, seed)


def _real_vectors(small: Engine) -> np.ndarray:
    """The vectors of the shipped article's passages (embedded again: the index keeps them private)."""
    texts = {a.id: a.text for a in small.articles}
    passages = small.index.passages
    if not passages:
        return np.zeros((0, small.encoder.dim), dtype=np.float32)
    return small.encoder.encode_passages([texts[p.article_id][p.start : p.end] for p in passages])


def _engine_over(small: Engine, stand_in: _StandIn, dense: faiss.Index) -> Engine:
    """An engine like `small` (model, settings, abstention) over the synthetic corpus."""
    config = small.config
    articles = stand_in.articles
    key = IndexKey(small.encoder.name, small.encoder.dim, config.chunking, tuple((a.id, "") for a in articles))
    index = SearchIndex(key, stand_in.passages, dense, stand_in.bm25)
    return small.with_collection(Collection.of(index, articles))


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
        2.0,
        detail=f"ask {main['big_ms']:.1f} ms with {n:,} passages / {main['small_ms']:.1f} ms with the shipped "
        f"article, {labels[INDEX_PY]} index{by_kind}\n{'':<19}SYNTHETIC: {n - small_passages:,} stand-in "
        f"passages (random unit vectors; BM25 documents of shuffled XQuAD-ar sentences) around the "
        f"{small_passages} real ones, made in {corpus_s:.0f} s",
        raw={"passages": n, "dense": labels[INDEX_PY], "by_dense": _without_quotes(results), "synthetic": True},
    )
    scope = " from the vectors on" if peak_fresh else " (counted from process start: no clear_refs)"
    size = Figure(
        "index_1m_rss_mb",
        f"index RSS ({n:,})",
        memory["peak"],
        " MB",
        detail=f"peak RSS of this process building the {labels[INDEX_PY]} index of {n:,} passages and "
        f"answering{scope}, model included; {memory['before']:.0f} MB before the step, {memory['held']:.0f} MB "
        f"held with the index (+{memory['held'] - memory['before']:.0f}: vectors, BM25, passages, article text)",
        raw={"peak_mb": memory["peak"], "before_mb": memory["before"], "held_mb": memory["held"]},
    )
    return [growth, size]


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
