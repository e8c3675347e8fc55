"""The lexical candidates of retrieval: the ids of the n highest positive BM25 scores, found
from the maxima of groups of scores, are the ids that partitioning every positive score gives
(the way retrieval found them before), ties across the n-th place included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.top_scores import BLOCK, top_positive


def partitioned(scores: np.ndarray, n: int) -> set[int]:
    """What retrieval took before: every positive score partitioned."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= n:
        return set(positive.tolist())
    return set(positive[np.argpartition(-scores[positive], n - 1)[:n]].tolist())


def scores_of(seed: int, count: int, zero_share: float, levels: int) -> np.ndarray:
    """BM25-like float32 scores: a share of zeros, the rest drawn from `levels` distinct values
    (few levels: many ties) or continuous (levels 0)."""
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 1.5, count).astype(np.float32)
    if levels:
        values = rng.choice(rng.gamma(2.0, 1.5, levels), count).astype(np.float32)
    values[rng.random(count) < zero_share] = 0.0
    return values


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(0, 12_000),
    n=st.integers(1, 12),
    zero_share=st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999, 1.0]),
    levels=st.sampled_from([0, 1, 3, 40, 1000]),
)
def test_top_scores_are_those_partitioning_every_positive_score_gives(
    seed: int, count: int, n: int, zero_share: float, levels: int
) -> None:
    scores = scores_of(seed, count, zero_share, levels)
    top = top_positive(scores, n)
    assert len(set(top.tolist())) == len(top) == min(n, int(np.count_nonzero(scores > 0)))
    assert set(top.tolist()) == partitioned(scores, n)


def test_highest_scores_past_the_last_full_row_of_groups_are_found() -> None:
    scores = np.zeros(1_000 * BLOCK + BLOCK - 1, dtype=np.float32)
    scores[:5_000] = np.linspace(0.1, 0.5, 5_000, dtype=np.float32)  # distinct: no tie to fall back on
    scores[-7:] = np.arange(7, 14, dtype=np.float32)  # the very last scores, beyond every group
    assert set(top_positive(scores, 5).tolist()) == set(range(len(scores) - 5, len(scores)))


def test_a_million_scores_give_the_n_highest() -> None:
    scores = scores_of(7, 1_000_000, 0.4, 0)
    expected = set(np.argsort(-scores, kind="stable")[:50].tolist())
    assert set(top_positive(scores, 50).tolist()) == expected
