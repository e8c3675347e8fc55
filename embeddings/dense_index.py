"""The FAISS index of a set of passage vectors: exact (flat) for the sizes a library and a
chat have, IVF-PQ (compressed, approximate) above FLAT_MAX_PASSAGES, with the float vectors
kept beside it (index.py) to re-rank its candidates exactly."""

from __future__ import annotations

import math

import faiss
import numpy as np

# Exact (flat) search reads every vector for every question: ~0.28 µs a passage on our
# 2-core machine, 280 ms at 1,000,000 passages (5x embedding the question). Up to
# FLAT_MAX_PASSAGES it stays under ~15 ms and exact; above, an IVF-PQ index with √n lists
# probes IVF_PROBES of them (~1 ms at 1,000,000) and holds dim/16 bytes a vector (24 for
# 384 dimensions, 1/64 of float32) in memory; the RERANK × n best of its candidates are
# scored exactly from the float vectors, mapped from vectors.npy. At 1,000,000 random
# vectors the probes, not the codes, decide what is found: 32 probes find the exact
# nearest of a vector perturbed to cosine 0.8 ~0.85 of the time, 16 ~0.65, with 24, 48 or
# 96 code bytes alike; 16-dimensional sub-vectors train ~10x faster than 8-dimensional
# ones in FAISS 1.15 (2 s against 27 s on 10,000 vectors of 384). README, Benchmarks.
FLAT_MAX_PASSAGES = 50_000
IVF_PROBES = 32
_IVF_TRAIN_PER_LIST = 64  # training points per list (FAISS warns below 39)
_PQ_TRAIN_MIN = 256 * 40  # each 8-bit sub-quantizer has 256 centroids
_PQ_BYTES_PER_DIM = 1 / 16
# FAISS encodes a block of vectors with a table of block × 256 × sub-quantizers floats:
# 1.6 GB for 65,536 vectors of 24 codes, 100 MB for 4,096.
_ADD_BLOCK = 4096
_IVF_SAMPLE_SEED = 20250917  # the same vectors always give the same index


def new_dense_index(vectors: np.ndarray, flat_max: int = FLAT_MAX_PASSAGES) -> faiss.Index:
    """The inner-product FAISS index of these vectors (id = row): exact up to `flat_max`
    passages, IVF-PQ above (approximate and compressed: a SearchIndex keeps the float
    vectors beside it to re-rank, see `is_exact`). Trained on a sample, so that a million
    vectors build in minutes."""
    count, dim = vectors.shape
    if count <= flat_max:
        flat = faiss.IndexFlatIP(dim)
        if count:
            flat.add(vectors)
        return flat
    lists = int(math.sqrt(count))
    ivf = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, lists, _pq_bytes(dim), 8, faiss.METRIC_INNER_PRODUCT)
    size = min(count, max(_IVF_TRAIN_PER_LIST * lists, _PQ_TRAIN_MIN))
    sample = np.random.default_rng(_IVF_SAMPLE_SEED).choice(count, size, False)
    ivf.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    for start in range(0, count, _ADD_BLOCK):  # in blocks: a mapped file is never read whole
        ivf.add(np.ascontiguousarray(vectors[start : start + _ADD_BLOCK], dtype=np.float32))
    ivf.nprobe = IVF_PROBES  # saved with the index
    return ivf


def is_exact(dense: faiss.Index) -> bool:
    """True for an index that stores the vectors themselves (flat, IVF-Flat, HNSW-Flat);
    False for one that stores codes (IVF-PQ), beside which the float vectors are kept."""
    return not isinstance(dense, faiss.IndexIVFPQ)


def _pq_bytes(dim: int) -> int:
    """Sub-quantizers (one byte each) for `dim` dimensions: about dim/16, dividing dim."""
    target = max(1, round(dim * _PQ_BYTES_PER_DIM))
    return max(m for m in range(1, target + 1) if dim % m == 0)
