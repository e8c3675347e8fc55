"""Lazy package exports (PEP 562): a package names what it offers, and each name's module
is imported on first use, so `import embeddings` costs nothing until a name is used.

Why: `python -m embeddings ask` needs the engine and the index, not the page fetcher
(httpx), the article extractor (trafilatura, lxml) or PostgreSQL (psycopg); importing them
all up front cost a cold `ask` about a second. The packages keep an `if TYPE_CHECKING:`
block importing every name, so the type checker sees them as ordinary imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(
    namespace: dict[str, object], exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` of the package whose `globals()` is
    `namespace`: `exports` maps each exported name to the module (relative, e.g. `.chats`)
    it comes from. Packages call it outside `if TYPE_CHECKING:`, so the type checker keeps
    seeing only their real imports (a misspelt name stays an error)."""
    package = str(namespace["__name__"])

    def __getattr__(name: str) -> object:  # noqa: N807 - the name PEP 562 looks up
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value  # later look-ups are plain attribute reads
        return value

    def __dir__() -> list[str]:  # noqa: N807 - the name PEP 562 looks up
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
