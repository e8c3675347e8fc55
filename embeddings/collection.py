"""A collection: a set of articles and the index built from them, as one immutable value.

The shared library is one collection; later, each chat's own articles are another. Many can
live in one process, all answered by the same engine (one model, one set of answer rules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from .evidence import ArticleTermsCache
from .index import SearchIndex, build_index
from .lexical import Analyzer
from .model import Encoder
from .passages import Chunking
from .types import Article


@dataclass(frozen=True)
class Collection:
    """Articles and their index, always together: a question is answered from one collection,
    never from an index of some articles and the texts of others."""

    index: SearchIndex
    articles: Mapping[str, Article]
    # each article's terms for the evidence, computed on first use (evidence.py)
    terms: ArticleTermsCache = field(default_factory=ArticleTermsCache, compare=False, repr=False)

    @classmethod
    def of(cls, index: SearchIndex, articles: Sequence[Article]) -> Collection:
        """The collection of an index and the articles it was built from."""
        return cls(index, MappingProxyType({a.id: a for a in articles}))

    @classmethod
    def build(
        cls,
        articles: Sequence[Article],
        encoder: Encoder,
        analyzer: Analyzer,
        chunking: Chunking,
        *,
        previous: SearchIndex | Sequence[SearchIndex] | None = None,
        progress: bool = False,
    ) -> Collection:
        """Index `articles` in memory; vectors of articles unchanged since `previous` (one index
        or several) are reused."""
        index = build_index(articles, encoder, analyzer, chunking, progress=progress, previous=previous)
        return cls.of(index, articles)

    def __len__(self) -> int:
        return len(self.index)

    def article_list(self) -> tuple[Article, ...]:
        """The articles, in index order."""
        return tuple(self.articles.values())
