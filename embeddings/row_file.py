"""Rows of a saved float32 `.npy` matrix, read from the file when asked for, never held.

A memory-mapped file would do the same with less code, but every page it touches stays in
the process's resident set, and Linux maps 64 KB around each page fault ("fault-around"):
re-ranking 100 candidates scattered over 1,000,000 vectors touches 6 MB a question, and
after a few hundred questions the whole 1.5 GB file is counted as the process's memory.
Read with `pread`, the rows come from the page cache (shared, and given back under memory
pressure) and the process holds only what it copied.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

_FLOAT32 = np.dtype(np.float32)


class RowFile:
    """The rows of a 2-D float32 `.npy` file: `rows[i:j]`, `rows[ids]`, `len(rows)`, `rows.shape`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(handle)
            self._offset = handle.tell()
        if dtype != _FLOAT32 or fortran or len(shape) != 2:
            raise ValueError(f"{path} holds {dtype} of shape {shape}, not rows of float32")
        if path.stat().st_size != self._offset + shape[0] * shape[1] * _FLOAT32.itemsize:
            raise ValueError(f"{path} is not as long as its header says")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self._row_bytes = self.shape[1] * _FLOAT32.itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, item: slice | np.ndarray) -> np.ndarray:
        if isinstance(item, slice):
            start, stop, step = item.indices(len(self))
            if step != 1:
                raise ValueError("rows of a RowFile are read in steps of 1")
            return self._run(start, max(start, stop))
        ids = np.asarray(item, dtype=np.int64)
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(self)):
            raise IndexError(f"rows {ids.min()}..{ids.max()} of {len(self)}")
        if not len(ids):
            return np.zeros((0, self.shape[1]), dtype=np.float32)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        # runs of consecutive rows are read in one call (an article's passages, a passage's sentences),
        # each straight into its place in one buffer: no array made per run, no copy
        breaks = np.flatnonzero(np.diff(sorted_ids) != 1) + 1
        firsts = np.concatenate([[0], breaks]).astype(np.int64)
        lasts = np.append(breaks, len(ids)).astype(np.int64)
        rows = np.empty((len(ids), self.shape[1]), dtype=np.float32)
        buffer = rows.data.cast("B")
        size = self._row_bytes
        for first, last, row in zip(firsts.tolist(), lasts.tolist(), sorted_ids[firsts].tolist(), strict=True):
            wanted = (last - first) * size
            if os.preadv(self._fd, [buffer[first * size : last * size]], self._offset + row * size) != wanted:
                raise OSError(f"{self.path} ended early (rows {row}..{row + last - first})")
        out = np.empty_like(rows)
        out[order] = rows
        return out

    def _run(self, start: int, stop: int) -> np.ndarray:
        size = (stop - start) * self._row_bytes
        data = os.pread(self._fd, size, self._offset + start * self._row_bytes)
        if len(data) != size:
            raise OSError(f"{self.path} ended early (rows {start}..{stop})")
        return np.frombuffer(data, dtype=np.float32).reshape(stop - start, self.shape[1])
