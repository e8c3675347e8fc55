"""The commands on the bot's chats (their store: SANAD_DATABASE, or PostgreSQL when
SANAD_DATABASE_URL is set): `chats`, `feedback export`, and the `--chat ID` side of `list`,
`remove` and `ask` (cli.py parses them and calls these).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ArticleError, ArticleNotFoundError
from .indexed_library import IndexedLibrary
from .settings import Settings, parse_positive_int

if TYPE_CHECKING:
    from .chats import ChatCollections
    from .store import ChatStore, StoredArticle

# The chats' store, its collections and the feedback writer are imported inside the commands:
# building the CLI's parser (every command, a cold `ask` included) must not load them.

CHATS_HINT = "see the chats with: python -m embeddings chats"


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _open_store(settings: Settings) -> ChatStore:
    """The chats' store (PostgreSQL when SANAD_DATABASE_URL is set); an error, not a new
    empty file, when the SQLite one does not exist yet."""
    from .store import open_chat_store

    if settings.database_url is None and not settings.database.is_file():
        raise ArticleError(f"no chats' database at {settings.database} yet; set SANAD_DATABASE, or run the bot first")
    return open_chat_store(settings)


def _chat_article_json(stored: StoredArticle) -> dict[str, object]:
    return {
        "number": stored.number,
        "title": stored.title,
        "source": stored.source,
        "added": stored.added,
        "checksum": stored.checksum,
    }


def cmd_chats(args: argparse.Namespace, settings: Settings) -> int:
    """Print each chat the bot knows: id, its own articles, last activity (UTC)."""
    store = _open_store(settings)
    try:
        chats = store.chats()
    finally:
        store.close()
    if args.json:
        rows = [{"chat": c.chat_id, "articles": c.articles, "last_active": _when(c.last_active)} for c in chats]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for chat in chats:
        print("\t".join((str(chat.chat_id), str(chat.articles), _when(chat.last_active))))
    return 0


def cmd_feedback_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the 👍/👎 presses (since --since) as JSONL to --out or stdout."""
    from .feedback import write_feedback

    store = _open_store(settings)
    try:
        presses = store.feedback(since=args.since)
    finally:
        store.close()
    if args.out is None:
        write_feedback(presses, sys.stdout)
        return 0
    out = Path(args.out)
    try:
        with out.open("w", encoding="utf-8") as file:
            count = write_feedback(presses, file)
    except OSError as exc:
        raise ArticleError(f"cannot write {out}: {exc.strerror or exc}; give another --out FILE") from exc
    _err(f"Wrote {count} press(es) to {out}")
    return 0


def since_date(raw: str) -> float:
    """An argparse type: an ISO 8601 date or date-time (UTC unless it says otherwise), as
    seconds since the epoch."""
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date; give e.g. 2026-12-01 or 2026-12-01T09:30") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def list_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Print one chat's own articles (`list --chat`): number, date added, title, source."""
    store = _open_store(settings)
    try:
        articles = store.articles(args.chat)
    finally:
        store.close()
    if args.json:
        print(json.dumps([_chat_article_json(a) for a in articles], ensure_ascii=False, indent=2))
        return 0
    if not articles:
        _err(f"Chat {args.chat} has no articles of its own; {CHATS_HINT}")
    for stored in articles:
        print("\t".join((str(stored.number), stored.added, stored.title, stored.source or "-")))
    return 0


@contextmanager
def opened_chats(settings: Settings) -> Iterator[ChatCollections]:
    """The chats' collections beside the shared library (both closed after the block)."""
    from .chats import ChatCollections

    store = _open_store(settings)
    try:
        library = IndexedLibrary.open(settings, log=_err, progress=True)
    except BaseException:
        store.close()
        raise
    chats = ChatCollections(store, library, settings.chats_dir)
    try:
        yield chats
    finally:
        chats.close()
        library.close()


def remove_from_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Remove one of a chat's own articles by its number (`remove --chat`)."""
    number = parse_positive_int(args.id)
    store = _open_store(settings)
    found = store.article(args.chat, number) if number is not None else None
    store.close()
    if number is None or found is None:  # fails before the model loads
        hint = f"see its articles with: python -m embeddings list --chat {args.chat}"
        raise ArticleNotFoundError(f"chat {args.chat} has no article number {args.id!r}; {hint}")
    with opened_chats(settings) as chats:
        stored = chats.forget(args.chat, number)
    print(f"removed {stored.number} from chat {args.chat}: {stored.title}")
    return 0
