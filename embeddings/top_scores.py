"""The ids of the highest positive scores of a long array (BM25 over every passage).

At a million passages a question's terms can give ~600,000 of them a positive score: finding
them (`np.flatnonzero`) and partitioning them all took 1-2 ms a question, more than bm25s's
scoring itself. Here the scores are dealt into groups (score i into group i mod groups, each
group BLOCK scores) and each group's maximum is taken first (one pass, as rows of BLOCK ×
groups: an element-wise maximum of contiguous rows, ~16× faster than the maxima of contiguous
blocks); the n-th highest maximum is a score that at least n scores reach (one in each of n
groups), so the n highest scores all lie in the groups whose maximum reaches it, and only
those few groups are read again. The ids given are the same set as partitioning all the
positive scores would give; where that set is not unique (scores tied across the n-th place)
it is that very partition, run as before.
"""

from __future__ import annotations

import numpy as np

BLOCK = 64  # scores a group: 15,625 groups at a million passages, ~100 read again
_MIN_GROUPS = 8  # below (8 × n) groups, partitioning the positive scores is as cheap


def top_positive(scores: np.ndarray, n: int) -> np.ndarray:
    """Ids of the (at most) `n` highest positive scores, in no particular order: every
    positive score when there are `n` or fewer."""
    groups = len(scores) // BLOCK
    if n < 1 or groups < _MIN_GROUPS * n:
        return _partitioned(scores, n)
    maxima = scores[: groups * BLOCK].reshape(BLOCK, groups).max(axis=0)
    floor = np.partition(maxima, groups - n)[groups - n]  # n groups hold a score >= floor
    if floor <= 0:  # fewer than n groups with a positive score: few positive scores
        return _partitioned(scores, n)
    chosen = np.flatnonzero(maxima >= floor)
    ids = (np.arange(BLOCK)[:, None] * groups + chosen).reshape(-1)
    ids = np.concatenate([ids, np.arange(groups * BLOCK, len(scores))])  # the scores past the last full row
    values = scores[ids]
    reach = values >= floor
    ids, values = ids[reach], values[reach]
    nth = np.partition(values, len(values) - n)[len(values) - n]
    top = values >= nth
    if int(np.count_nonzero(top)) != n:  # a tie across the n-th place: let the partition choose, as before
        return _partitioned(scores, n)
    out: np.ndarray = ids[top]
    return out


def _partitioned(scores: np.ndarray, n: int) -> np.ndarray:
    """The positive scores partitioned (every positive score found first)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= n:
        return positive
    out: np.ndarray = positive[np.argpartition(-scores[positive], n - 1)[:n]]
    return out
