"""The core's own figures: answer overhead and build ratio, each against the bare model."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from embeddings import EXAMPLE_QUESTION, Article, Engine, EvalFileError, RetrievalConfig
from embeddings.batching import BatchingEncoder, QueryBatching
from embeddings.evaluate import read_squad
from embeddings.model import Encoder
from embeddings.passages import build_passages

from .measure import bare_encode, interleaved, median_ms
from .report import Figure

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


def measure_answer_overhead(engine: Engine, questions: Sequence[str], repeats: int) -> Figure:
    """Median Engine.ask over median bare encode of the same questions."""
    bare = bare_encode(engine.encoder, "query")
    samples = interleaved({"ask": engine.ask, "encode": lambda q: bare([q])}, questions, repeats)
    ask, encode = median_ms(samples["ask"]), median_ms(samples["encode"])
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


def measure_lone_question(engine: Engine, questions: Sequence[str], repeats: int, batching: QueryBatching) -> Figure:
    """Engine.ask of a question asked alone with questions batched (as the bot asks) over the
    same without batching: the median of the ratios of interleaved pairs (same question, same
    moment), so that a load changing between pairs cancels out; twice `repeats` rounds."""
    batched = replace(engine, encoder=BatchingEncoder(engine.encoder, batching))
    samples = interleaved({"batched": batched.ask, "direct": engine.ask}, questions, 2 * repeats)
    ratios = [b / d for b, d in zip(samples["batched"], samples["direct"], strict=True)]
    alone, direct = median_ms(samples["batched"]), median_ms(samples["direct"])
    return Figure(
        "lone_question_ratio",
        "lone question",
        statistics.median(ratios),
        "x",
        1.1,
        detail=f"ask through the batcher (cap {batching.cap}, window {batching.window * 1000:.0f} ms) / straight to "
        f"the model, median of {len(ratios)} interleaved pairs; medians {alone:.1f} / {direct:.1f} ms",
        raw={"batched_ms": alone, "direct_ms": direct, "pairs": len(ratios), "ratio_of_medians": alone / direct},
    )


def measure_build(encoder: Encoder, articles: Sequence[Article], repeats: int) -> Figure:
    """Building the index of `articles` over a bare batched encode of the same passages, after
    an untimed warm-up. Repeats alternate which goes first (encode, build, build, encode, ...),
    so that a load that rises or falls steadily over these minutes weighs on both sums alike."""
    config = RetrievalConfig()
    texts = passage_texts(articles, config)
    bare_call = bare_encode(encoder, "passage")
    bare_call(texts[:2])
    encoder.encode_passages(texts[:2])
    steps: list[tuple[str, Callable[[], object]]] = [
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


def passage_texts(articles: Sequence[Article], config: RetrievalConfig) -> list[str]:
    """The text of every passage the index would cut from the articles, in index order."""
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
