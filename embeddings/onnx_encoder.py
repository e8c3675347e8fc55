"""The `Encoder` of a sentence-transformers folder run by onnxruntime, without torch.

Importing sentence-transformers costs 6.4 s and 426 MB; a cold `ask` must start in 3 s and the
idle bot stay under 500 MB. So the ONNX backends run the exported file (onnx_export.py) with an
`onnxruntime.InferenceSession`, tokenise as the folder's own `tokenizer.json` does (`Pieces`:
its normaliser and pre-tokeniser in `tokenizers`, its pieces in sentencepiece), and do what the
folder's modules.json says comes after the transformer, as sentence-transformers does: mean
pooling over the attention mask (1_Pooling), L2 normalisation (Normalize), the prompts of
config_sentence_transformers.json, truncation at sentence_bert_config.json's max_seq_length,
texts sorted by their token count and padded per batch. A test checks the vectors equal
sentence-transformers' on Arabic and English text. A folder whose modules are anything else
is refused with ModelError, naming the file.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError
from .model import PASSAGE_PROMPTS, QUERY_PROMPTS, WordPieceCounts

if TYPE_CHECKING:
    import onnxruntime

_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
QUERY_BATCH_SIZE = 32


class Pieces:
    """The folder's tokenizer at a sixth of the memory: `tokenizers` normalises the text and cuts
    it into words (tokenizer.json's normaliser and pre-tokeniser, without its vocabulary), then
    sentencepiece cuts each word into the vocabulary's pieces (onnx_export.tokenizer_files) —
    the ids of tokenizer.json, special tokens around them, truncated to `max_length`. One
    difference: a special token's text typed into a question (`<s>`) is read as characters."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from sentencepiece import SentencePieceProcessor
        from tokenizers import Tokenizer

        from .onnx_export import tokenizer_files

        pieces, frame = tokenizer_files(folder)
        self._words = Tokenizer.from_file(str(frame))
        self._pieces = SentencePieceProcessor(model_file=str(pieces))
        config = _json(folder / "tokenizer_config.json")
        self._bos, self._eos, self.pad = (
            self._pieces.piece_to_id(str(config[name])) for name in ("cls_token", "sep_token", "pad_token")
        )
        self._max_length = max_length

    def split(self, texts: Sequence[str]) -> list[list[int]]:
        """The pieces of each text (no special tokens), untruncated."""
        normalizer, pre_tokenizer = self._words.normalizer, self._words.pre_tokenizer
        words = [[w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(t))] for t in texts]
        # One thread: sentencepiece's default pool costs more than it saves on a question's
        # words (0.13 against 0.05 ms), and is no faster on a batch of passages on 2 cores.
        flat = self._pieces.encode([w for text in words for w in text], num_threads=1) if any(words) else []
        out, start = [], 0
        for text in words:
            out.append([i for ids in flat[start : start + len(text)] for i in ids])
            start += len(text)
        return out

    def rows(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids of each text as the model reads them: special tokens around, truncated."""
        return [[self._bos, *ids[: self._max_length - 2], self._eos] for ids in self.split(texts)]

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask of the texts, padded to the longest: what the model reads."""
        return self.padded(self.rows(texts))

    def padded(self, rows: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask of `rows` (from `rows`), padded to the longest."""
        width = max(map(len, rows), default=0)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, row in enumerate(rows):
            ids[n, : len(row)], mask[n, : len(row)] = row, 1
        return ids, mask


@dataclass(frozen=True)
class FolderLayout:
    """What a sentence-transformers folder says about running its transformer's output."""

    max_length: int
    lower_case: bool
    normalize: bool
    query_prefix: str
    passage_prefix: str


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path} ({type(exc).__name__}); rebuild the model cache") from exc


def _prefix(prompts: dict[str, str], choices: tuple[str, ...]) -> str:
    return next((prompts[name] for name in choices if name in prompts), "")


def read_layout(folder: Path) -> FolderLayout:
    """The pooling, normalisation, truncation and prompts of the sentence-transformers folder;
    ModelError when its modules are not Transformer → mean Pooling (→ Normalize)."""
    modules = [m.get("type") for m in _json(folder / "modules.json")]
    if modules not in (list(_MODULES), list(_MODULES[:2])):
        raise ModelError(f"{folder / 'modules.json'} lists {modules}; the ONNX backends run {list(_MODULES)} only")
    pooling_path = folder / next(m["path"] for m in _json(folder / "modules.json") if m["type"] == _MODULES[1])
    pooling = _json(pooling_path / "config.json")
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
    if modes != ["pooling_mode_mean_tokens"]:
        raise ModelError(f"{pooling_path / 'config.json'} pools by {modes}; the ONNX backends pool by mean only")
    bert = _json(folder / "sentence_bert_config.json")
    prompts = dict(_json(folder / "config_sentence_transformers.json").get("prompts") or {})
    return FolderLayout(
        max_length=int(bert["max_seq_length"]),
        lower_case=bool(bert.get("do_lower_case", False)),
        normalize=len(modules) == 3,
        query_prefix=_prefix(prompts, QUERY_PROMPTS),
        passage_prefix=_prefix(prompts, PASSAGE_PROMPTS),
    )


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's limit, `taskset`)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def new_session(path: Path, threads: int | None) -> onnxruntime.InferenceSession:
    """An onnxruntime session over `path` on the CPU: `threads` threads (None: every usable
    core) that sleep between operations (spinning threads take the core from the other half of
    the forward pass on a shared 2-core machine, as torch's OpenMP threads did: process.py)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or usable_cores()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its notes on unused initialisers are not ours
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for a damaged file
        raise ModelError(
            f"cannot load {path} ({type(exc).__name__}: {exc}); delete it and it is exported again"
        ) from exc


class OnnxEncoder:
    """The `Encoder` of a sentence-transformers folder over one onnxruntime session (one per
    process: the bot and the CLI load the encoder once). Safe from any thread."""

    def __init__(self, folder: Path, model_file: Path, name: str, threads: int | None = None) -> None:
        self._name = name
        self._layout = read_layout(folder)
        self._session = new_session(model_file, threads)
        self._tokenizer = Pieces(folder, self._layout.max_length)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._dim = int(self._session.get_outputs()[0].shape[-1])
        self._lock = threading.Lock()  # one forward pass at a time: 2 cores, no gain from more
        self._word_pieces = WordPieceCounts(lambda word: len(self._tokenizer.split([word])[0]))

    @property
    def name(self) -> str:
        """The model's name and backend, as the index manifest records them."""
        return self._name

    @property
    def dim(self) -> int:
        """The length of every vector."""
        return self._dim

    @property
    def threads(self) -> int:
        """The threads of one forward pass (SANAD_ENCODER_THREADS)."""
        return int(self._session.get_session_options().intra_op_num_threads)

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        ids, mask = self._tokenizer.padded(rows)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled: np.ndarray = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self._layout.normalize:
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled

    def _encode(self, texts: Sequence[str], prefix: str, batch_size: int) -> np.ndarray:
        prompted = [prefix + (t.lower() if self._layout.lower_case else t) for t in texts]
        out = np.zeros((len(prompted), self._dim), dtype=np.float32)
        tokens = self._tokenizer.rows(prompted)
        # Longest first in batches, padded only to the batch's own longest, as sentence-transformers
        # does; but by token count, not characters: XQuAD-ar's passages and sentences, batched by
        # 8, carry 1.6 % padding instead of 14 %.
        order = sorted(range(len(tokens)), key=lambda i: -len(tokens[i]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._forward([tokens[i] for i in chosen])
        return out

    def word_pieces(self, word: str) -> int:
        """How many pieces the model's tokenizer cuts `word` into (see SentenceTransformerEncoder)."""
        return self._word_pieces(word)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions, shape (len(texts), dim), with the query prompt."""
        return self._encode(texts, self._layout.query_prefix, QUERY_BATCH_SIZE)

    def encode_passages(self, texts: Sequence[str], progress: bool = False, batch_size: int = 8) -> np.ndarray:
        """Vectors of passages, shape (len(texts), dim), with the passage prompt."""
        if not progress:
            return self._encode(texts, self._layout.passage_prefix, batch_size)
        from tqdm import tqdm

        chunks = [texts[i : i + 256] for i in range(0, len(texts), 256)]
        parts = [
            self._encode(c, self._layout.passage_prefix, batch_size) for c in tqdm(chunks, desc="Batches", unit="×256")
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self._dim), dtype=np.float32)
