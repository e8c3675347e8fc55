"""The benchmark's steps, in order, each giving its figures (None where the options skip it)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from embeddings import ArticleError, IndexedLibrary, Settings
from embeddings.batching import batching_of
from embeddings.model import Encoder, load_encoder
from embeddings.settings import TORCH_BACKEND

from .backends import measure_backends
from .bot_load import measure_bot
from .chat_add import measure_chat_memory
from .cold import measure_cold_ask
from .core import (
    QUESTIONS,
    measure_answer_overhead,
    measure_build,
    measure_lone_question,
    passage_texts,
    xquad_articles,
)
from .growth_process import measure_growth_apart
from .options import BenchOptions
from .postgres import import_shipped, measure_postgres_answer, postgres_server
from .replicas import measure_replicas
from .report import Figure, skipped

Progress = Callable[[str], None]


def run_bench(settings: Settings, options: BenchOptions, progress: Progress) -> list[Figure]:
    """Every step in order; a step skipped by the options gives a figure of None. The index is
    built in a temporary folder, so the project's own is never touched. The in-process steps
    run sentence-transformers on torch (their floor is its bare `encode`); the cold ask, the
    growth step and the bot run the settings' backend (SANAD_BACKEND, the default unless set)
    over its own index, each in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="sanad-bench-index-") as folder:
        served = replace(settings, index_dir=Path(folder) / "index-served")
        settings = replace(settings, index_dir=Path(folder) / "index", backend=TORCH_BACKEND)
        progress("loading the model…")
        encoder = load_encoder(settings.model, settings.model_cache, TORCH_BACKEND)
        progress("indexing the shipped article (as the bot does)…")
        shared = IndexedLibrary.open(settings, encoder=encoder, log=lambda _: None)
        small = shared.engine
        if not small.articles:
            raise ArticleError(f"no articles in {settings.articles_dir}; the benchmark asks about the shipped one")
        questions = QUESTIONS[:3] if options.quick else QUESTIONS
        progress("1/5 answer overhead…")
        overhead = measure_answer_overhead(small, questions, options.repeats)
        figures = [overhead, measure_lone_question(small, questions, options.repeats, batching_of(settings))]
        xquad = xquad_articles(options.xquad, options.build_paragraphs)
        progress("backends: a question and passages on torch, onnx and onnx-int8…")
        passages = passage_texts(xquad, small.config)
        backends = measure_backends(served, encoder, questions, passages, options.repeats)
        figures.append(backends)
        progress(f"cold ask ({served.backend}): {options.cold_runs} fresh `python -m embeddings ask` processes…")
        IndexedLibrary.open(served, log=lambda _: None).close()  # the served backend's index, built beforehand
        figures.append(measure_cold_ask(served, options.cold_runs))
        progress("2/5 build…")
        figures.append(measure_build(encoder, xquad, options.build_repeats))
        if options.skip_growth:
            figures += [skipped("growth_ratio", "growth", "--skip-growth"), skipped("index_1m_rss_mb", "index RSS", "")]
            figures += [skipped("index_1m_exact_recall", "exact nearest", "")]
        else:
            progress(f"3/5 growth to {options.growth_passages:,} passages ({served.backend}, a process of its own)…")
            figures += measure_growth_apart(served, options)
        progress("chats: memory per loaded chat…")
        figures.append(measure_chat_memory(shared, xquad))
        if options.skip_bot:
            figures += [skipped("bot_rss_mb", "bot RSS", "--skip-bot"), skipped("questions_per_s", "bot", "")]
            figures += [skipped("throughput_share", "bot throughput", "")]
            figures += [skipped("link_ready_s", "link → ready", ""), skipped("link_ready_long_s", "link → ready", "")]
        else:
            progress("4-5/5 the bot: memory and throughput, then link → ready…")
            links = (small.articles[0], xquad, options.repeats + 2)
            # the bot's ceiling: 1 / the served backend's own encode of one question, timed around each wave
            served_encoder = encoder if served.backend == TORCH_BACKEND else _served_encoder(served)
            figures += measure_bot(served, QUESTIONS, options.waves, served_encoder.encode_queries, links)
        if options.skip_replicas:
            figures += [skipped("postgres_answer_ratio", "PostgreSQL answer", "--skip-replicas")]
            figures += [skipped("replicas_qps", "replicas", ""), skipped("replica_rss_mb", "replica RSS", "")]
        else:
            figures += _measure_postgres(settings, served, shared, questions, options, progress)
    return figures


def _served_encoder(served: Settings) -> Encoder:
    """The served backend's model, as the bot loads it (its bare `encode_queries` is the bot's ceiling)."""
    return load_encoder(served.model, served.model_cache, served.backend, served.server_encoder_threads)


def _measure_postgres(
    settings: Settings,
    served: Settings,
    shared: IndexedLibrary,
    questions: Sequence[str],
    options: BenchOptions,
    progress: Progress,
) -> list[Figure]:
    """PostgreSQL mode on one pgserver: answer latency beside the embedded store (in this
    process, on `shared`'s model), then 1 and 2 replicas on the served backend, as the bot runs
    (each embeds the shipped article once for its backend and stores those vectors)."""
    progress("PostgreSQL (pgserver): answer latency beside the embedded store…")
    with postgres_server() as url:
        import_shipped(settings, url, shared)
        figures = [measure_postgres_answer(settings, shared, url, questions, options.repeats)]
        progress("PostgreSQL: 1 and 2 bot replicas in webhook mode…")
        figures += measure_replicas(served, url, QUESTIONS, options.waves)
    return figures
