"""The passages of an index as columns of numbers: `Passage` values made only when asked for.

A million `Passage` dataclasses, each with a tuple of `Span`s, take about 1.5 GB of Python
objects; as arrays (article number, paragraph, start, end, and the sentence spans of all the
passages, flat) they take about 70 MB, and a saved table is mapped from its `.npy` files rather
than read. Retrieval asks for the few passages it returns (`table.take(ids)`, one numpy
gather per column for all of them), so the rest are never materialised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from .types import Passage, Span

# The files of a saved table, inside its folder.
COLUMNS = ("article", "paragraph", "bounds", "sentence_rows", "sentences")
ARTICLE_IDS = "article_ids.json"


class PassageTable(Sequence[Passage]):
    """Passages numbered 0..n-1 (passage i has id i), held as arrays:

    - `article_ids`: the distinct article ids; `article[i]` is passage i's position in it
    - `paragraph[i]`, `bounds[i] = (start, end)`
    - `sentences[sentence_rows[i]:sentence_rows[i + 1]]`: passage i's sentence spans, (start, end)
    """

    def __init__(
        self,
        article_ids: Sequence[str],
        article: np.ndarray,
        paragraph: np.ndarray,
        bounds: np.ndarray,
        sentence_rows: np.ndarray,
        sentences: np.ndarray,
    ) -> None:
        n = len(article)
        if not (len(paragraph) == len(bounds) == n and len(sentence_rows) == n + 1):
            raise ValueError(f"passage columns of different lengths ({n} passages)")
        if len(sentences) != int(sentence_rows[-1]):
            raise ValueError(f"{len(sentences)} sentence spans for {int(sentence_rows[-1])} sentences")
        if n and (int(np.min(article)) < 0 or int(np.max(article)) >= len(article_ids)):
            raise ValueError("a passage names an article the table does not hold")
        self.article_ids = tuple(article_ids)
        self.article = article
        self.paragraph = paragraph
        self.bounds = bounds
        self.sentence_rows = sentence_rows
        self.sentences = sentences
        self._number = {a: i for i, a in enumerate(self.article_ids)}
        self._order: np.ndarray | None = None  # passage ids sorted by article, made on first use
        self._starts: np.ndarray | None = None

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> PassageTable:
        """The table of these passages; passage i must have id i."""
        if isinstance(passages, PassageTable):
            return passages
        if any(p.id != i for i, p in enumerate(passages)):
            raise ValueError("passages must be numbered 0, 1, ... in order")
        ids: dict[str, int] = {}
        article = np.fromiter((ids.setdefault(p.article_id, len(ids)) for p in passages), np.int32, len(passages))
        paragraph = np.fromiter((p.paragraph for p in passages), np.int32, len(passages))
        bounds = np.array([(p.start, p.end) for p in passages], dtype=np.int64).reshape(-1, 2)
        counts = np.fromiter((len(p.sentences) for p in passages), np.int64, len(passages))
        spans = np.array([(s.start, s.end) for p in passages for s in p.sentences], dtype=np.int64).reshape(-1, 2)
        return cls(list(ids), article, paragraph, bounds, np.concatenate([[0], np.cumsum(counts)]), spans)

    def __len__(self) -> int:
        return len(self.article)

    @overload
    def __getitem__(self, item: int) -> Passage: ...

    @overload
    def __getitem__(self, item: slice) -> list[Passage]: ...

    def __getitem__(self, item: int | slice) -> Passage | list[Passage]:
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        i = int(item)
        if not -len(self) <= i < len(self):
            raise IndexError(f"passage {i} of {len(self)}")
        i %= len(self)
        first, last = int(self.sentence_rows[i]), int(self.sentence_rows[i + 1])
        spans = tuple(Span(int(a), int(b)) for a, b in self.sentences[first:last].tolist())
        start, end = self.bounds[i].tolist()
        return Passage(i, self.article_ids[int(self.article[i])], int(self.paragraph[i]), start, end, spans)

    def take(self, ids: np.ndarray) -> list[Passage]:
        """The passages with these ids, in that order. Each column is gathered once for all of
        them and turned into Python numbers with `.tolist()`: element by element (`table[i]`),
        ~100 passages cost ~1.8 ms a question at a million passages, most of it numpy scalars."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(self)):
            raise IndexError(f"passages {ids.min()}..{ids.max()} of {len(self)}")
        firsts = np.asarray(self.sentence_rows[ids], dtype=np.int64)
        counts = np.asarray(self.sentence_rows[ids + 1], dtype=np.int64) - firsts
        ends = np.cumsum(counts)
        # the rows of every wanted passage's sentences, flat: firsts[k], firsts[k] + 1, ...
        total = int(ends[-1]) if len(ends) else 0
        rows = np.arange(total, dtype=np.int64) + np.repeat(firsts - (ends - counts), counts)
        spans = [Span(a, b) for a, b in self.sentences[rows].tolist()]
        names = self.article_ids
        return [
            Passage(i, names[a], paragraph, start, end, tuple(spans[stop - count : stop]))
            for i, a, paragraph, (start, end), count, stop in zip(
                ids.tolist(),
                self.article[ids].tolist(),
                self.paragraph[ids].tolist(),
                self.bounds[ids].tolist(),
                counts.tolist(),
                ends.tolist(),
                strict=True,
            )
        ]

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # compared by value, and not immutable to numpy

    def sentence_counts(self) -> np.ndarray:
        """How many sentences each passage has."""
        return np.diff(self.sentence_rows)

    def rows_of(self, article_id: str) -> np.ndarray:
        """The ids of one article's passages, in order (empty for an article it does not hold)."""
        number = self._number.get(article_id)
        if number is None:
            return np.zeros(0, dtype=np.int64)
        if self._order is None or self._starts is None:
            self._order = np.argsort(self.article, kind="stable").astype(np.int64)
            self._starts = np.searchsorted(self.article[self._order], np.arange(len(self.article_ids) + 1))
        return self._order[self._starts[number] : self._starts[number + 1]]

    def save(self, folder: Path) -> None:
        """Write the columns as `.npy` files and the article ids as JSON into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in COLUMNS:
            np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(self, name)), allow_pickle=False)
        (folder / ARTICLE_IDS).write_text(json.dumps(self.article_ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> PassageTable:
        """The table saved in `folder`, its columns mapped (read-only), not read."""
        ids = json.loads((folder / ARTICLE_IDS).read_text(encoding="utf-8"))
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"{folder / ARTICLE_IDS} is not a list of article ids")
        columns = [np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in COLUMNS]
        return cls(ids, *columns)
