"""The one fake encoder of the tests: fast, deterministic, and it records what it embeds.

Each word is a hash-seeded random vector and a text is the normalised sum of its words, so
texts sharing words get similar vectors (enough for retrieval mechanics, not for quality).
It implements `embeddings.Encoder`, which the type checker verifies below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from embeddings import Encoder


class FakeEncoder:
    """A bag-of-hashed-words encoder that records every call (to prove "embedded once")."""

    def __init__(self, name: str = "fake-hash", dim: int = 64, fail: bool = False) -> None:
        self.name, self.dim, self.fail = name, dim, fail
        self.passage_calls: list[list[str]] = []
        self.query_calls: list[list[str]] = []

    @property
    def embedded(self) -> list[str]:
        """Every passage text embedded so far."""
        return [text for call in self.passage_calls for text in call]

    def vector(self, text: str) -> np.ndarray:
        """The vector of one text (queries and passages alike), without recording a call."""
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in text.split():
            seed = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:4], "little")
            vector += np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / (np.linalg.norm(vector) or 1.0)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of questions; the call is recorded."""
        self.query_calls.append(list(texts))
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors of passages; the call is recorded (and fails when told to)."""
        if self.fail:
            raise RuntimeError("the fake encoder was told to fail")
        self.passage_calls.append(list(texts))
        return self._encode(texts)


class RecordingEncoder:
    """Another encoder (e.g. the real model), recording the passages it is asked to embed."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.embedded: list[str] = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The inner encoder's question vectors."""
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """The inner encoder's passage vectors; the texts are recorded."""
        self.embedded.extend(texts)
        return self.inner.encode_passages(texts, progress=progress)


def _implements_the_protocol(fake: FakeEncoder, recording: RecordingEncoder) -> tuple[Encoder, Encoder]:
    """Never called: the type checker proves that both fakes are Encoders."""
    return fake, recording
