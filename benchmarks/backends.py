"""The encoder backends side by side (SANAD_BACKEND): one question, and a batch of passages,
embedded by each in the same run, interleaved so that every backend sees the same load."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from embeddings import Settings
from embeddings.model import Encoder, load_encoder
from embeddings.settings import BACKENDS, TORCH_BACKEND

from .measure import interleaved, median_ms
from .report import Figure

PASSAGE_BATCH = 8  # the passages of one `encode_passages` batch (model.py's PASSAGE_BATCH_SIZE)


def measure_backends(
    settings: Settings, torch_encoder: Encoder, questions: Sequence[str], passages: Sequence[str], repeats: int
) -> Figure:
    """`query_ms` per backend (median ms of one question's vector, interleaved), the default's as
    the value, against half of torch's; passage ms per backend (a batch of 8, per passage) beside.
    Each runs as the command line runs it: torch and onnxruntime on every core (SANAD_ENCODER_THREADS)."""
    encoders = {
        b: torch_encoder
        if b == TORCH_BACKEND
        else load_encoder(settings.model, settings.model_cache, b, settings.encoder_threads)
        for b in BACKENDS
    }
    query = interleaved({b: _question(e) for b, e in encoders.items()}, questions, repeats)
    batches = {
        str(n): list(passages[i : i + PASSAGE_BATCH]) for n, i in enumerate(range(0, 4 * PASSAGE_BATCH, PASSAGE_BATCH))
    }
    passage = interleaved({b: _batch(e, batches) for b, e in encoders.items()}, list(batches), 1)
    query_ms = {b: round(median_ms(s), 2) for b, s in query.items()}
    passage_ms = {b: round(median_ms(s) / PASSAGE_BATCH, 2) for b, s in passage.items()}
    default, torch_ms = query_ms[settings.backend], query_ms[TORCH_BACKEND]
    return Figure(
        "query_ms",
        f"query ({settings.backend})",
        default,
        " ms",
        round(0.5 * torch_ms, 2),
        detail=f"one question's vector ({settings.encoder_threads or 'all'} onnxruntime threads), medians of "
        f"{len(query[TORCH_BACKEND])}: {', '.join(f'{b} {ms:.1f}' for b, ms in query_ms.items())} ms; "
        f"a passage (batches of {PASSAGE_BATCH}): {', '.join(f'{b} {ms:.1f}' for b, ms in passage_ms.items())} ms; "
        f"target half of torch's",
        raw={"query_ms": query_ms, "passage_ms": passage_ms, "backend": settings.backend},
        values=query_ms,
    )


def _question(encoder: Encoder) -> Callable[[str], object]:
    return lambda question: encoder.encode_queries([question])


def _batch(encoder: Encoder, batches: dict[str, list[str]]) -> Callable[[str], object]:
    return lambda name: encoder.encode_passages(batches[name])
