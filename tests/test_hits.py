"""Retrieval's hits, made when first read: whatever order they are read in (a few first, as
the answer reads them, or all, or by slices), each is its passage from the table with its
scores, in the fused order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.passage_table import PassageTable
from embeddings.retrieve import HIT_CHUNK, Hit, Hits
from embeddings.types import Passage, Scores, Span

PASSAGES = [Passage(i, f"a{i // 7}", i % 7 + 1, 10 * i, 10 * i + 9, (Span(10 * i, 10 * i + 4),)) for i in range(60)]


@settings(max_examples=100, deadline=None)
@given(
    ids=st.lists(st.integers(0, len(PASSAGES) - 1), max_size=3 * HIT_CHUNK + 3, unique=True),
    reads=st.lists(st.integers(-40, 40), max_size=12),
)
def test_hits_read_in_any_order_are_their_passages_with_their_scores(ids: list[int], reads: list[int]) -> None:
    scores = np.arange(3 * len(ids), dtype=np.float64).reshape(-1, 3) / 7
    hits = Hits(PassageTable.of(PASSAGES), np.array(ids, dtype=np.int64), scores)
    expected = [Hit(PASSAGES[i], Scores(*row)) for i, row in zip(ids, scores.tolist(), strict=True)]
    for read in reads:
        if -len(ids) <= read < len(ids):
            assert hits[read] == expected[read]
    assert hits[1:-1] == expected[1:-1]
    assert list(hits) == expected and len(hits) == len(ids)
