"""Benchmarks: how fast, how big, how it grows (`python -m embeddings bench [--json]`).

A shared, busy machine makes absolute timings meaningless, so every figure is a ratio to a
floor measured in the same run, the two interleaved so that both see the same load:

    answer overhead  median Engine.ask / median bare SentenceTransformer.encode of the query
    build            building the XQuAD-ar index / bare encode of the same passages in batches
    growth           median ask with N passages (1,000,000) / median ask with the shipped article
    memory           peak RSS of `python -m bot` idle; peak RSS of a process serving N passages
    throughput       questions/s of the bot with 30 chats asking at once, beside the bare
                     encode rate of one process (the ceiling)

The N passages of the growth step are not embedded: their vectors are random unit vectors
and their BM25 documents are shuffled sentences of XQuAD-ar, turned into an index of the
same kinds (FAISS, bm25s with index.py's settings, Passage objects, articles holding the
text) around the real passages of the shipped article, so that the questions keep their
answers. The output says so.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import bm25s
import faiss
import numpy as np
from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer

from . import index as index_module
from .answer import Abstention
from .engine import EXAMPLE_QUESTION, Engine, RetrievalConfig
from .errors import ArticleError, EvalFileError, SanadError
from .evaluate import read_squad
from .index import IndexKey, SearchIndex
from .lexical import Analyzer
from .model import Encoder, load_encoder
from .passages import build_passages, paragraphs
from .sentences import split_sentences
from .settings import PROJECT_ROOT, Settings, read_environment
from .types import Article, Passage, Span

DEFAULT_XQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "xquad.ar.json"
FULL_GROWTH = 1_000_000
QUICK_GROWTH = 20_000
LOAD_CHATS = 30
DENSE_KINDS = ("flat", "ivf", "hnsw")
BOT_TOKEN = "123456789:bench-token_for_the_fake_bot_api"
BOT_START_SECONDS = 300.0

# Questions about the shipped article (written for the benchmark; not the dev set).
QUESTIONS = (
    EXAMPLE_QUESTION,
    "إلى ماذا دعا بوتين دول رابطة الدول المستقلة؟",
    "متى عقد الاجتماع الثامن عشر لرؤساء أجهزة الأمن والاستخبارات؟",
    "ما الأسلحة التي حذر بوتين من وقوعها في أيدي الإرهابيين؟",
    "من أين أطلق صاروخ يارس؟",
    "متى جرى أول تدريبات الردع الاستراتيجي هذا العام؟",
    "ما الذي يشكل تهديدا لبلدان رابطة الدول المستقلة؟",
    "ما الطائرات التي شاركت في تنفيذ المهام خلال التدريبات؟",
)


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One line of the report: a value, its target, and the raw numbers behind it."""

    key: str
    title: str
    value: float | None
    unit: str = ""
    target: float | None = None
    higher_is_better: bool = False
    detail: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        """True/False against the target; None without a target or a value."""
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        """The figure as a person reads it."""
        if self.value is None:
            return f"{self.title:<18} skipped  {self.detail}".rstrip()
        value = f"{self.value:.2f}{self.unit}" if self.value < 100 else f"{self.value:.0f}{self.unit}"
        target = ""
        if self.target is not None:
            sign = "≥" if self.higher_is_better else "≤"
            target = f"  (target {sign} {self.target:g}{self.unit}: {'met' if self.met else 'MISSED'})"
        return f"{self.title:<18} {value}{target}\n{'':<19}{self.detail}"


def skipped(key: str, title: str, why: str) -> Figure:
    """A figure for a step that did not run."""
    return Figure(key, title, None, detail=f"({why})")


@dataclass(frozen=True)
class BenchOptions:
    """What to run and how long: the full run, or `quick` for CI (small corpora, few repeats)."""

    quick: bool = False
    skip_growth: bool = False
    skip_bot: bool = False
    growth_passages: int = FULL_GROWTH
    dense_kinds: tuple[str, ...] = ("flat", "ivf")
    repeats: int = 3
    build_repeats: int = 2
    build_paragraphs: int | None = None  # None: every XQuAD-ar paragraph
    xquad: Path = DEFAULT_XQUAD
    waves: int = 2
    seed: int = 20250917

    def __post_init__(self) -> None:
        unknown = [k for k in self.dense_kinds if k not in DENSE_KINDS]
        if unknown or not self.dense_kinds:
            raise ValueError(f"dense index kinds {unknown or '(none)'} are not among {DENSE_KINDS}")
        if min(self.growth_passages, self.repeats, self.build_repeats, self.waves) < 1:
            raise ValueError("growth passages, repeats, build repeats and waves must be at least 1")


# --- timing -------------------------------------------------------------------------------------


def _median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000.0


def interleaved(calls: Mapping[str, Callable[[str], object]], items: Sequence[str], repeats: int) -> dict[str, list]:
    """Seconds per call of each function on each item, alternating which goes first, after one
    untimed warm-up round; both sides of a ratio thus see the same machine load."""
    for item in items:
        for call in calls.values():
            call(item)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_number in range(repeats):
        for item in items:
            order = list(calls.items())
            for name, call in order if round_number % 2 == 0 else reversed(order):
                start = time.perf_counter()
                call(item)
                samples[name].append(time.perf_counter() - start)
    return samples


def bare_encode(encoder: Encoder, prompt: str | None) -> Callable[[Sequence[str]], object]:
    """The floor: sentence-transformers' own `encode` with its defaults (batches of 32) and the
    model's prompt, nothing of Sanad around it. It stays put when Sanad's settings change, so a
    ratio below 1 is a real gain over the plain call."""
    model: Any = encoder.model
    return lambda texts: model.encode(list(texts), prompt_name=prompt)


# --- 1. answer overhead ---------------------------------------------------------------------------


def measure_answer_overhead(engine: Engine, questions: Sequence[str], repeats: int) -> Figure:
    """Median Engine.ask over median bare encode of the same questions."""
    bare = bare_encode(engine.encoder, engine.encoder.query_prompt)
    samples = interleaved({"ask": engine.ask, "encode": lambda q: bare([q])}, questions, repeats)
    ask, encode = _median_ms(samples["ask"]), _median_ms(samples["encode"])
    return Figure(
        "answer_overhead",
        "answer overhead",
        ask / encode,
        "x",
        1.5,
        detail=f"ask {ask:.1f} ms / bare encode {encode:.1f} ms (medians of {len(samples['ask'])}, "
        f"{len(engine.index)} passages)",
        raw={"ask_ms": ask, "encode_ms": encode, "samples": len(samples["ask"])},
    )


# --- 2. build -------------------------------------------------------------------------------------


def measure_build(encoder: Encoder, articles: Sequence[Article], repeats: int) -> Figure:
    """Building the index of `articles` over a bare batched encode of the same passages, after
    an untimed warm-up. Repeats alternate which goes first (encode, build, build, encode, ...),
    so that a load that rises or falls steadily over these minutes weighs on both sums alike."""
    config = RetrievalConfig()
    texts = _passage_texts(articles, config)
    bare_call = bare_encode(encoder, encoder.passage_prompt)
    bare_call(texts[:2])
    encoder.encode_passages(texts[:2])
    steps = [
        ("encode", lambda: bare_call(texts)),
        ("build", lambda: Engine.from_articles(articles, encoder, config=config, abstention=None)),
    ]
    times: dict[str, list[float]] = {"build": [], "encode": []}
    for round_number in range(repeats):
        for name, call in steps if round_number % 2 == 0 else reversed(steps):
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    built, bare = statistics.mean(times["build"]), statistics.mean(times["encode"])
    return Figure(
        "build_ratio",
        "build",
        built / bare,
        "x",
        1.15,
        detail=f"build {built:.1f} s / bare encode {bare:.1f} s ({len(texts)} passages of {len(articles)} XQuAD-ar "
        f"articles; {f'means of {repeats}, run encode-build-build-encode' if repeats > 1 else 'one each'})",
        raw={"build_s": built, "encode_s": bare, "passages": len(texts), "runs": times},
    )


def _passage_texts(articles: Sequence[Article], config: RetrievalConfig) -> list[str]:
    texts = {a.id: a.text for a in articles}
    return [texts[p.article_id][p.start : p.end] for p in build_passages(articles, config.chunking)]


def xquad_articles(path: Path, paragraphs_wanted: int | None) -> list[Article]:
    """The articles of the XQuAD-ar file, cut to the first `paragraphs_wanted` paragraphs."""
    if not path.is_file():
        raise EvalFileError(f"the XQuAD-ar file {path} does not exist; pass its path with --xquad FILE.json")
    articles = list(read_squad(path).articles)
    if paragraphs_wanted is None:
        return articles
    out: list[Article] = []
    left = paragraphs_wanted
    for article in articles:
        if left <= 0:
            break
        lines = article.text.split("\n")[:left]
        left -= len(lines)
        out.append(replace(article, text="\n".join(lines)))
    return out


# --- memory ---------------------------------------------------------------------------------------


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024.0
    return values


def reset_peak_rss() -> bool:
    """Start a new peak-RSS measurement for this process (Linux `clear_refs` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- 3. growth: the synthetic corpus ----------------------------------------------------------------


@dataclass(frozen=True)
class SentencePool:
    """Real sentences and their BM25 terms, as ids into `vocab`; synthetic passages are drawn from it."""

    texts: tuple[str, ...]
    term_ids: np.ndarray  # all sentences' term ids, concatenated
    offsets: np.ndarray  # sentence i's ids are term_ids[offsets[i]:offsets[i + 1]]
    vocab: dict[str, int]

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def sentence_pool(articles: Sequence[Article], analyzer: Analyzer, vocab: dict[str, int] | None = None) -> SentencePool:
    """Every distinct sentence of the articles with its terms (the vocabulary grows as needed)."""
    vocab = dict(vocab or {})
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
                ids.extend(vocab.setdefault(t, len(vocab)) for t in analyzer.terms(sentence))
                offsets.append(len(ids))
    return SentencePool(tuple(texts), np.asarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64), vocab)


@dataclass
class SyntheticCorpus:
    """Passages (with their articles) and BM25 documents as term ids: doc i's terms are
    tokens[token_offsets[i]:token_offsets[i + 1]]."""

    articles: list[Article]
    passages: list[Passage]
    tokens: np.ndarray
    token_offsets: np.ndarray
    vocab: dict[str, int]


PASSAGES_PER_ARTICLE = 100


def synthetic_corpus(
    real: Sequence[Article], real_passages: Sequence[Passage], pool: SentencePool, analyzer: Analyzer, n: int, seed: int
) -> SyntheticCorpus:
    """`n` passages: the real passages first (ids as given), then shuffled pool sentences, 3-7
    to a paragraph and 100 paragraphs to an article."""
    rng = np.random.default_rng(seed)
    vocab = dict(pool.vocab)
    texts = {a.id: a.text for a in real}
    real_terms = [
        np.asarray([vocab.setdefault(t, len(vocab)) for t in analyzer.terms(texts[p.article_id][p.start : p.end])])
        for p in real_passages
    ]
    fake = max(0, n - len(real_passages))
    per_passage = rng.integers(3, 8, size=fake)
    sentences = rng.integers(0, len(pool.texts), size=int(per_passage.sum()))
    articles, passages = _synthetic_passages(pool.texts, sentences, per_passage, first_id=len(real_passages))
    fake_tokens, fake_lengths = _gather_terms(pool, sentences, per_passage)
    lengths = np.concatenate([[len(t) for t in real_terms], fake_lengths]).astype(np.int64)
    tokens = np.concatenate([*real_terms, fake_tokens]).astype(np.int32)
    return SyntheticCorpus(
        articles=[*real, *articles],
        passages=[*real_passages, *passages],
        tokens=tokens,
        token_offsets=np.concatenate([[0], np.cumsum(lengths)]),
        vocab=vocab,
    )


def _gather_terms(pool: SentencePool, sentences: np.ndarray, per_passage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The term ids of each synthetic passage (its sentences' terms, concatenated), vectorised."""
    lengths = pool.lengths()[sentences]
    total = int(lengths.sum())
    starts = np.repeat(pool.offsets[:-1][sentences], lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    tokens = pool.term_ids[starts + (np.arange(total) - first)]
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


def synthetic_bm25(corpus: SyntheticCorpus) -> bm25s.BM25:
    """The bm25s index (index.py's settings) that `bm25s.BM25().index(terms)` would build from
    the corpus, computed with whole-array numpy instead of bm25s's per-document loop (which
    takes minutes at 1,000,000 passages); tests/test_bench.py checks they score alike."""
    bm25 = bm25s.BM25()
    if bm25.method in ("bm25l", "bm25+"):
        raise ValueError(f"the synthetic BM25 builder does not support bm25s method {bm25.method!r}")
    n_docs, n_vocab = len(corpus.token_offsets) - 1, len(corpus.vocab)
    doc_lengths = np.diff(corpus.token_offsets)
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), doc_lengths)
    pairs, tf = np.unique(corpus.tokens.astype(np.int64) * n_docs + docs, return_counts=True)  # column-major
    terms, doc_of_pair = pairs // n_docs, pairs % n_docs
    doc_freq = np.bincount(terms, minlength=n_vocab)
    idf_of = np.vectorize(_select_idf_scorer(bm25.idf_method or bm25.method), otypes=[np.float64])
    idf = np.zeros(n_vocab, dtype=bm25.dtype)
    seen = doc_freq > 0
    idf[seen] = idf_of(doc_freq[seen], N=n_docs)
    tfc = _select_tfc_scorer(bm25.method)(
        tf_array=tf.astype(bm25.dtype),
        l_d=doc_lengths[doc_of_pair],
        l_avg=doc_lengths.mean(),
        k1=bm25.k1,
        b=bm25.b,
        delta=bm25.delta,
    )
    bm25.scores = {
        "data": (idf[terms] * tfc).astype(bm25.dtype),
        "indices": doc_of_pair.astype(bm25.int_dtype),
        "indptr": np.concatenate([[0], np.cumsum(doc_freq)]).astype(np.int64),
        "num_docs": n_docs,
    }
    bm25.nonoccurrence_array = None
    bm25.vocab_dict = {**corpus.vocab, "": n_vocab}
    bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
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


def dense_index(kind: str, vectors: np.ndarray, seed: int) -> faiss.Index:
    """A FAISS inner-product index of `kind` over the vectors (ids = rows), able to reconstruct.

    flat: exact (what index.py builds today). ivf: IVF-Flat with √n lists, 16 of them probed,
    trained on at most 64 points a list. hnsw: HNSW-Flat, 32 links, efSearch 64."""
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf":
        nlist = max(1, int(math.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(n, size=min(n, 64 * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = min(16, nlist)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 64
    else:
        raise ValueError(f"dense index kind {kind!r} is not one of {DENSE_KINDS}")
    index.add(vectors)
    if kind == "ivf":
        index.make_direct_map()
    return index


def default_dense_kind() -> str:
    """The kind index.py builds for a large corpus: its `new_dense_index` if it has one
    (the proposed patch), else flat, as build_index has always done."""
    return "auto" if hasattr(index_module, "new_dense_index") else "flat"


def _dense_for(kind: str, vectors: np.ndarray, seed: int) -> faiss.Index:
    if kind == "auto":
        return index_module.new_dense_index(vectors)
    return dense_index(kind, vectors, seed)


# --- 3. growth: the measurement --------------------------------------------------------------------


def measure_growth(
    small: Engine, pool_articles: Sequence[Article], options: BenchOptions, questions: Sequence[str]
) -> list[Figure]:
    """Ask latency with `options.growth_passages` passages over that with the shipped article,
    for each dense index kind; and the peak RSS of serving the first (index.py's) kind."""
    before = rss_mb()
    start = time.perf_counter()
    corpus = _growth_corpus(small, pool_articles, options.growth_passages, options.seed)
    bm25 = synthetic_bm25(corpus)
    corpus.tokens = corpus.token_offsets = np.zeros(0)  # only the index keeps what it needs
    real_vectors = _real_vectors(small)
    gc.collect()
    corpus_s = time.perf_counter() - start
    peak_fresh = reset_peak_rss()  # the stand-ins' own making is not what a real index costs
    results: dict[str, dict[str, Any]] = {}
    memory: dict[str, float] = {}
    for kind in [default_dense_kind(), *options.dense_kinds]:
        if kind in results or (kind == results.get("index.py", {}).get("kind")):
            continue  # index.py's own choice was this kind: measured already
        outcome = _growth_with(kind, small, corpus, bm25, real_vectors, options, questions)
        results["index.py" if kind == "auto" else kind] = outcome
        if not memory:
            memory = {"before": before["VmRSS"], "held": outcome["held_mb"], "peak": outcome["peak_mb"]}
        gc.collect()
    kinds = list(results)
    return _growth_figures(options.growth_passages, kinds, results, memory, peak_fresh, corpus_s, len(small.index))


def _growth_with(
    kind: str,
    small: Engine,
    corpus: SyntheticCorpus,
    bm25: bm25s.BM25,
    real_vectors: np.ndarray,
    options: BenchOptions,
    questions: Sequence[str],
) -> dict[str, Any]:
    """Build the dense index of `kind` over the corpus, then time asks against the small engine."""
    start = time.perf_counter()
    vectors = unit_vectors(len(corpus.passages), small.encoder.dim, options.seed)
    vectors[: len(real_vectors)] = real_vectors
    dense = _dense_for(kind, vectors, options.seed)
    built_s = time.perf_counter() - start
    made = "ivf" if isinstance(dense, faiss.IndexIVF) else "hnsw" if isinstance(dense, faiss.IndexHNSW) else "flat"
    del vectors  # from here on only the index holds them, as after build_index
    big = _engine_over(small, corpus, dense, bm25)
    samples = interleaved({"small": small.ask, "big": big.ask}, questions, options.repeats)
    memory = rss_mb()  # while the index is alive
    return {
        "ratio": _median_ms(samples["big"]) / _median_ms(samples["small"]),
        "big_ms": _median_ms(samples["big"]),
        "small_ms": _median_ms(samples["small"]),
        "dense_build_s": built_s,
        "dense_agreement": _dense_agreement(small, big, questions),
        "first_quotes": [_first_quote(big, q) for q in questions],
        "shipped_quotes": [_first_quote(small, q) for q in questions],
        "kind": made,
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


def _engine_over(small: Engine, corpus: SyntheticCorpus, dense: faiss.Index, bm25: bm25s.BM25) -> Engine:
    config = small.config
    key = IndexKey(small.encoder.name, small.encoder.dim, config.chunking, tuple((a.id, "") for a in corpus.articles))
    index = SearchIndex(key, corpus.passages, dense, bm25)
    abstention: Abstention | None = small.abstention
    return Engine(small.encoder, index, corpus.articles, top_k=small.top_k, abstention=abstention, config=config)


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
    kinds: list[str],
    results: dict[str, dict[str, Any]],
    memory: dict[str, float],
    peak_fresh: bool,
    corpus_s: float,
    small_passages: int,
) -> list[Figure]:
    _compare_answers(results)
    labels = {k: f"index.py's ({r['kind']})" if k == "index.py" else k for k, r in results.items()}
    main = results[kinds[0]]
    by_kind = "".join(f"\n{'':<19}{_kind_line(labels[k], r)}" for k, r in results.items())
    growth = Figure(
        "growth_ratio",
        f"growth ({n:,})",
        main["ratio"],
        "x",
        2.0,
        detail=f"ask {main['big_ms']:.1f} ms with {n:,} passages / {main['small_ms']:.1f} ms with the shipped "
        f"article, {labels[kinds[0]]} index{by_kind}\n{'':<19}SYNTHETIC: {n - small_passages:,} stand-in "
        f"passages (random unit vectors; BM25 documents of shuffled XQuAD-ar sentences) around the "
        f"{small_passages} real ones, made in {corpus_s:.0f} s",
        raw={"passages": n, "dense": labels[kinds[0]], "by_dense": _without_quotes(results), "synthetic": True},
    )
    scope = " from the vectors on" if peak_fresh else " (counted from process start: no clear_refs)"
    size = Figure(
        "index_1m_rss_mb",
        f"index RSS ({n:,})",
        memory["peak"],
        " MB",
        detail=f"peak RSS of this process building the {labels[kinds[0]]} index of {n:,} passages and "
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


# --- 4/5. the bot: memory and throughput through a fake Bot API ---------------------------------


class FakeBotApi:
    """The Bot API methods `python -m bot` calls, on 127.0.0.1: users' messages are queued for
    getUpdates (long poll), the bot's replies are timed per chat."""

    def __init__(self, token: str, max_poll_seconds: float = 1.0) -> None:
        self.token = token
        self.max_poll_seconds = max_poll_seconds
        self.bot_user = {"id": 7000002, "is_bot": True, "first_name": "Sanad", "username": "sanad_bench_bot"}
        self._changed = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.polls = 0
        self.first_reply: dict[int, float] = {}
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeBotApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        """Root URL, the value of TELEGRAM_API_BASE_URL."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def ask(self, questions: Mapping[int, str]) -> float:
        """Each chat sends its question, all at once; returns when (time.monotonic())."""
        now = int(time.time())
        with self._changed:
            for chat, text in questions.items():
                update_id = next(self._ids)
                user = {"id": chat, "is_bot": False, "first_name": f"User {chat}"}
                message = {"message_id": update_id, "date": now, "chat": {**user, "type": "private"}, "from": user}
                self._updates.append({"update_id": update_id, "message": {**message, "text": text}})
            self._changed.notify_all()
            return time.monotonic()

    def wait_until(self, condition: Callable[[], bool], timeout: float, alive: Callable[[], bool]) -> bool:
        """Block until `condition()` holds (True), `alive()` fails or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                if time.monotonic() > deadline or not alive():
                    return False
                self._changed.wait(0.2)
        return True

    def handle(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: (HTTP status, JSON body)."""
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = path[len(prefix) :]
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method == "getMe":
            return 200, {"ok": True, "result": self.bot_user}
        if method in ("sendMessage", "sendDocument", "sendPhoto"):
            return 200, {"ok": True, "result": self._sent(params)}
        return 200, {"ok": True, "result": True}  # deleteWebhook, setMyCommands, sendChatAction, ...

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.max_poll_seconds)
        with self._changed:
            self.polls += 1
            self._changed.notify_all()
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._changed.wait(max(0.0, deadline - time.monotonic()))
            return list(self._updates[:100])

    def _sent(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = int(params.get("chat_id") or 0)
        with self._changed:
            self.first_reply.setdefault(chat, time.monotonic())
            self._changed.notify_all()
        chat_json = {"id": chat, "type": "private", "first_name": f"User {chat}"}
        text = str(params.get("text") or params.get("caption") or "…")
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": chat_json, "text": text}


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
            if self.headers.get("Content-Type", "").startswith("application/json") and body:
                params = json.loads(body)
            else:
                params = dict(parse_qsl(body, keep_blank_values=True))
            self._respond(*api.handle(urlsplit(self.path).path, params))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            self._respond(*api.handle(parts.path, dict(parse_qsl(parts.query))))

        def _respond(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the bot gave up a long poll
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Silent: request lines hold the token."""

    return Handler


def _bot_environment(settings: Settings, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_BASE_URL=api_url,
        SANAD_ARTICLES_DIR=str(settings.articles_dir),
        SANAD_INDEX_DIR=str(settings.index_dir),
        SANAD_MODEL_CACHE=str(settings.model_cache),
        EMBEDDING_MODEL=settings.model,
    )
    return env


@dataclass
class BotRun:
    """`python -m bot` as a child process; stopped by SIGTERM like a service manager would."""

    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def start_bot(settings: Settings, api: FakeBotApi, log: Path) -> BotRun:
    """Start `python -m bot` against the fake API; return once it polls for updates."""
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=PROJECT_ROOT,
            env=_bot_environment(settings, api.url),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    run = BotRun(process, log)
    if not api.wait_until(lambda: api.polls > 0, BOT_START_SECONDS, run.alive):
        run.stop()
        raise SanadError(f"`python -m bot` did not start polling within {BOT_START_SECONDS:.0f} s:\n{run.tail()}")
    return run


def measure_bot(settings: Settings, questions: Sequence[str], waves: int, encode_ms: float) -> list[Figure]:
    """Peak RSS of the idle bot, then questions/s with LOAD_CHATS chats asking at once."""
    with tempfile.TemporaryDirectory(prefix="sanad-bench-bot-") as folder, FakeBotApi(BOT_TOKEN) as api:
        run = start_bot(settings, api, Path(folder) / "bot.log")
        try:
            time.sleep(1.0)  # idle: polling, nothing asked yet
            idle = rss_mb(run.process.pid)
            rates = [_wave(api, run, questions, wave) for wave in range(waves)]
        finally:
            run.stop()
    return _bot_figures(idle, rates, encode_ms, settings)


def _wave(api: FakeBotApi, run: BotRun, questions: Sequence[str], wave: int) -> float:
    chats = {1000 * (wave + 1) + n: questions[n % len(questions)] for n in range(LOAD_CHATS)}
    asked = api.ask(chats)
    if not api.wait_until(lambda: all(c in api.first_reply for c in chats), 300.0, run.alive):
        raise SanadError(f"the bot did not answer all {LOAD_CHATS} chats within 300 s:\n{run.tail()}")
    return len(chats) / (max(api.first_reply[c] for c in chats) - asked)


def _bot_figures(idle: dict[str, float], rates: list[float], encode_ms: float, settings: Settings) -> list[Figure]:
    ceiling = 1000.0 / encode_ms
    qps = statistics.median(rates)
    memory = Figure(
        "bot_rss_mb",
        "bot RSS (idle)",
        idle["VmHWM"],
        " MB",
        1024.0,
        detail=f"peak RSS (VmHWM) of `python -m bot` polling, model {settings.model!r}, shipped article; "
        f"{idle['VmRSS']:.0f} MB resident now",
        raw={"peak_mb": idle["VmHWM"], "rss_mb": idle["VmRSS"]},
    )
    throughput = Figure(
        "questions_per_s",
        "bot throughput",
        qps,
        " q/s",
        detail=f"{LOAD_CHATS} chats at once, first replies, median of {len(rates)} waves "
        f"({', '.join(f'{r:.2f}' for r in rates)}); ceiling {ceiling:.1f} q/s = 1 / bare encode "
        f"{encode_ms:.1f} ms in this process, {qps / ceiling:.0%} of it",
        raw={"waves": rates, "ceiling_qps": ceiling, "of_ceiling": qps / ceiling},
    )
    return [memory, throughput]


# --- the run ------------------------------------------------------------------------------------


Report = Callable[[str], None]


def run_bench(settings: Settings, options: BenchOptions, progress: Report) -> list[Figure]:
    """Every step in order; a step skipped by the options gives a figure of None."""
    with tempfile.TemporaryDirectory(prefix="sanad-bench-index-") as folder:
        settings = replace(settings, index_dir=Path(folder) / "index")
        progress("loading the model…")
        encoder = load_encoder(settings.model, settings.model_cache)
        progress("indexing the shipped article (as the bot does)…")
        small = Engine.open(settings, encoder=encoder, log=lambda _: None)
        if not small.articles:
            raise ArticleError(f"no articles in {settings.articles_dir}; the benchmark asks about the shipped one")
        questions = QUESTIONS[:3] if options.quick else QUESTIONS
        progress("1/5 answer overhead…")
        overhead = measure_answer_overhead(small, questions, options.repeats)
        figures = [overhead]
        progress("2/5 build…")
        xquad = xquad_articles(options.xquad, options.build_paragraphs)
        figures.append(measure_build(encoder, xquad, options.build_repeats))
        if options.skip_growth:
            figures += [skipped("growth_ratio", "growth", "--skip-growth"), skipped("index_1m_rss_mb", "index RSS", "")]
        else:
            progress(f"3/5 growth to {options.growth_passages:,} passages…")
            figures += measure_growth(small, xquad, options, questions)
            gc.collect()
        if options.skip_bot:
            figures += [skipped("bot_rss_mb", "bot RSS", "--skip-bot"), skipped("questions_per_s", "bot", "")]
        else:
            progress("4-5/5 the bot: memory and throughput…")
            figures += measure_bot(settings, QUESTIONS, options.waves, overhead.raw["encode_ms"])
    return figures


def report_json(figures: Sequence[Figure], options: BenchOptions, seconds: float) -> dict[str, Any]:
    """One object: each figure's value under its key, then the raw numbers and the setup."""
    out: dict[str, Any] = {f.key: f.value for f in figures}
    out["raw"] = {f.key: dict(f.raw) for f in figures}
    out["targets"] = {f.key: f.target for f in figures if f.target is not None}
    out["met"] = {f.key: f.met for f in figures if f.target is not None}
    out["setup"] = {
        "quick": options.quick,
        "growth_passages": None if options.skip_growth else options.growth_passages,
        "growth_synthetic": True,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "seconds": round(seconds, 1),
    }
    return out


# --- command line ---------------------------------------------------------------------------------


def options_from(args: argparse.Namespace) -> BenchOptions:
    """The options the parsed arguments ask for; --quick picks the small CI sizes."""
    quick = bool(args.quick)
    growth = args.growth_passages or (QUICK_GROWTH if quick else FULL_GROWTH)
    return BenchOptions(
        quick=quick,
        skip_growth=args.skip_growth,
        skip_bot=args.skip_bot,
        growth_passages=growth,
        dense_kinds=tuple(k.strip() for k in args.dense.split(",") if k.strip()),
        repeats=args.repeats or (1 if quick else 3),
        build_repeats=args.build_repeats or (1 if quick else 2),
        build_paragraphs=args.build_paragraphs or (12 if quick else None),
        xquad=Path(args.xquad),
        waves=1 if quick else 2,
    )


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmark and print the figures (or one JSON object)."""
    try:
        options = options_from(args)
    except ValueError as exc:
        raise SanadError(f"bench: {exc}") from exc
    started = time.perf_counter()
    figures = run_bench(settings, options, lambda text: print(f"bench: {text}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - started
    lines = [
        *(f.line() for f in figures),
        f"({seconds:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
    ]
    if args.json:  # the lines still go to stderr, beside the progress
        print("\n".join(lines), file=sys.stderr, flush=True)
        print(json.dumps(report_json(figures, options, seconds), ensure_ascii=False))
    else:
        print("\n".join(lines))
    return 0


def _positive(raw: str) -> int:
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive whole number")
    return value


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `bench` command to `python -m embeddings` (cli.py calls this)."""
    bench = subparsers.add_parser("bench", help="measure speed, size and growth as ratios to the model's floor")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--quick", action="store_true", help=f"small CI run: {QUICK_GROWTH:,} passages, 1 repeat")
    bench.add_argument("--skip-growth", action="store_true", help="skip the 1,000,000-passage growth step")
    bench.add_argument("--skip-bot", action="store_true", help="skip starting `python -m bot` (memory, throughput)")
    bench.add_argument("--growth-passages", type=_positive, default=None, metavar="N", help="growth corpus size")
    bench.add_argument(
        "--dense", default="flat,ivf", metavar="KINDS", help=f"FAISS index kinds to compare, of {','.join(DENSE_KINDS)}"
    )
    bench.add_argument(
        "--repeats", type=_positive, default=None, metavar="N", help="rounds over the questions (default 3)"
    )
    bench.add_argument(
        "--build-repeats", type=_positive, default=None, metavar="N", help="builds (and bare encodes) to average (2)"
    )
    bench.add_argument(
        "--build-paragraphs", type=_positive, default=None, metavar="N", help="XQuAD-ar paragraphs (default all)"
    )
    bench.add_argument("--xquad", default=str(DEFAULT_XQUAD), metavar="FILE.json", help="the XQuAD-ar file")
    bench.set_defaults(run=cmd_bench)
    return bench


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m embeddings.bench`: the bench command on its own; returns the exit code."""
    top = argparse.ArgumentParser(prog="python -m embeddings")
    register(top.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = top.parse_args(["bench", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.run(args, Settings.from_env(read_environment()))
    except SanadError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
