"""Each chat's own articles: stored in a `ChatStore`, indexed per chat, answered per chat.

A chat (private or group) owns a collection of its own articles. Its index is derived data
in its own folder (`<chats_dir>/chat<id>/index`), checked against the stored articles when
loaded and rebuilt when missing or stale. Loaded chats are kept in a bounded LRU; a chat's
engines hold only its own articles and the shared library's, never another chat's, so
answering never reads another chat's passages.

What a chat can be answered from:
- its focus, when it has one (the article it added last, or one picked in /sources): a
  collection of that one article;
- "everything it can see": its own articles and the shared library's, one collection
  built in memory from the vectors already embedded (its index and the library's lend them).

Adding and forgetting take the chat's lock: the row is stored, then the index rebuilt and
saved; when the index cannot be updated the row is deleted again. Forgetting deletes the
rows first, then rewrites the index (or deletes the chat's folder with its last article),
so nothing of a forgotten article stays on disk.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .articles import first_line_title, one_paragraph_per_line
from .collection import Collection
from .conversation import FOLLOW_UP_SECONDS, answer_in_turn, follow_up, next_turn
from .engine import Engine
from .errors import ArticleError, ArticleNotFoundError, IndexStaleError, IndexStateError, LimitError
from .index import IndexKey, SearchIndex
from .index_files import load_index, read_index, save_index
from .indexed_library import IndexedLibrary
from .library import is_url
from .settings import Settings
from .store.base import ChatState, ChatStore, StoredArticle, own_article_id, own_article_number
from .store.choose import open_chat_store
from .types import Answer, Article, text_checksum

HOUR = 3600.0
FORGET_HINT = "forget one with /forget ID (the ids are in /sources), or all with /forget all"


@dataclass(frozen=True)
class ChatLimits:
    """How much a chat and a user may add (settings SANAD_ARTICLES_PER_CHAT, SANAD_ADDS_PER_HOUR)."""

    articles_per_chat: int = 20
    adds_per_hour: int = 10


@dataclass(frozen=True)
class ChatAnswer:
    """An answer for a chat, the focused article it was limited to (None: everything), and
    whether it was resolved as a follow-up of the chat's previous question."""

    answer: Answer
    focus: Article | None
    follow_up: bool = False


@dataclass
class _LoadedChat:
    """A chat's collections in memory: its own, and those built from it on demand."""

    own: Collection
    visible: Collection | None = None  # own + shared, built over `visible_shared`
    visible_shared: Collection | None = None
    focused: dict[tuple[str, str], Collection] = field(default_factory=dict)  # (id, checksum) -> collection


class ChatCollections:
    """The chats' own collections over one store, beside the shared library. Thread-safe."""

    def __init__(
        self,
        store: ChatStore,
        library: IndexedLibrary,
        folder: Path,
        *,
        limits: ChatLimits | None = None,
        max_loaded: int = 32,
        follow_up_seconds: float = FOLLOW_UP_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.library = library
        self.folder = folder
        self.limits = limits or ChatLimits()
        self.max_loaded = max_loaded
        self.follow_up_seconds = follow_up_seconds
        self._clock = clock
        self._loaded: OrderedDict[int, _LoadedChat] = OrderedDict()
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, library: IndexedLibrary) -> ChatCollections:
        """The chats of the settings' store (PostgreSQL at `database_url` when set, else the
        SQLite file `database`) with their indexes in `chats_dir`, beside `library`."""
        limits = ChatLimits(settings.articles_per_chat, settings.adds_per_hour)
        store = open_chat_store(settings)
        return cls(
            store,
            library,
            settings.chats_dir,
            limits=limits,
            max_loaded=settings.loaded_chats,
            follow_up_seconds=settings.follow_up_seconds,
        )

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # --- reading ---------------------------------------------------------------------------

    def index_dir(self, chat_id: int) -> Path:
        """The folder of the chat's index (derived data, rebuilt when missing)."""
        return self.chat_dir(chat_id) / "index"

    def chat_dir(self, chat_id: int) -> Path:
        """The chat's own folder; it exists only while the chat has articles."""
        return self.folder / f"chat{chat_id}"

    def own_articles(self, chat_id: int) -> list[StoredArticle]:
        """The chat's own articles, by number."""
        return self.store.articles(chat_id)

    def shared_articles(self) -> tuple[Article, ...]:
        """The shared library's articles."""
        return self.library.articles

    def visible_article(self, chat_id: int, article_id: str) -> Article | None:
        """The article with this collection id if the chat can see it (its own, or shared)."""
        number = own_article_number(article_id)
        if number is not None:
            stored = self.store.article(chat_id, number)
            return stored.article() if stored is not None else None
        return next((a for a in self.library.articles if a.id == article_id), None)

    def focus(self, chat_id: int) -> Article | None:
        """The chat's focused article, if it has one it can still see."""
        focused = self.store.focus(chat_id)
        return self.visible_article(chat_id, focused) if focused else None

    def set_focus(self, chat_id: int, article_id: str | None) -> Article | None:
        """Focus the chat on an article it can see (None: on everything); returns it."""
        article = None if article_id is None else self.visible_article(chat_id, article_id)
        if article_id is not None and article is None:
            raise ArticleNotFoundError(f"chat {chat_id} has no article {article_id!r}; {FORGET_HINT}")
        self.store.set_focus(chat_id, article_id)
        return article

    def touch(self, chat_id: int) -> None:
        """Note activity in the chat (what `python -m embeddings chats` shows)."""
        self.store.touch(chat_id, self._clock())

    def own_collection(self, chat_id: int) -> Collection:
        """The chat's own collection (its articles and index), loaded if it was not."""
        with self._chat_lock(chat_id):
            return self._load(chat_id, self.library.engine).own

    def loaded_chats(self) -> tuple[int, ...]:
        """The chats whose collections are in memory, least recently used first."""
        with self._guard:
            return tuple(self._loaded)

    # --- answering -------------------------------------------------------------------------

    def ask(
        self,
        chat_id: int,
        question: str,
        *,
        everything: bool = False,
        touch: bool = True,
        k: int | None = None,
        converse: bool = True,
    ) -> ChatAnswer:
        """The answer from the chat's focus (unless `everything`), else from all it can see,
        with up to `k` quotes (default: the engine's top_k); `touch` notes the chat's activity.
        With `converse`, a follow-up question leans on the chat's previous one (same focus,
        within `follow_up_seconds`), and the question is kept as the chat's latest turn. The
        store is read once before answering and written once after. Slow (CPU): call it from
        a worker thread."""
        state = self.store.chat_state(chat_id)
        focus = None if everything else self._focused(chat_id, state)
        engine = self._engine(chat_id, focus, state.article_keys)
        now = self._clock()
        active = now if touch else None
        if not converse:
            answer = engine.ask(question, k=k)
            if touch:
                self.store.record_question(chat_id, active=active, turn=None)
            return ChatAnswer(answer, focus)
        focus_id = focus.id if focus is not None else ""
        leaned = follow_up(
            question,
            state.turn,
            now=now,
            focus=focus_id,
            window=self.follow_up_seconds,
            terms_of=engine.analyzer.terms,
        )
        answer, used = answer_in_turn(lambda q, f: engine.ask(q, k=k, follow_up=f), question, leaned)
        turn = next_turn(chat_id, question, now, focus_id, answer, used)
        self.store.record_question(chat_id, active=active, turn=turn)
        return ChatAnswer(answer, focus, follow_up=used is not None)

    def _focused(self, chat_id: int, state: ChatState) -> Article | None:
        """The chat's focused article as the state read it, if the chat can still see it."""
        if state.focus is None:
            return None
        if own_article_number(state.focus) is not None:
            return state.focused.article() if state.focused is not None else None
        return next((a for a in self.library.articles if a.id == state.focus), None)

    def _engine(self, chat_id: int, focus: Article | None, keys: tuple[tuple[int, str], ...]) -> Engine:
        shared = self.library.engine
        if focus is None and not keys:
            self._drop(chat_id)  # loaded before its articles went (forgotten by another process)
            return shared  # nothing of its own: the shared library, as before
        with self._chat_lock(chat_id):
            loaded = self._load(chat_id, shared, keys)
            if focus is not None:
                key = (focus.id, focus.checksum)
                if key not in loaded.focused:
                    loaded.focused[key] = shared.build([focus], also=[loaded.own.index])
                return shared.with_collection(loaded.focused[key])
            if loaded.visible is None or loaded.visible_shared is not shared.collection:
                articles = [*loaded.own.article_list(), *shared.articles]
                loaded.visible = shared.build(articles, also=[loaded.own.index])
                loaded.visible_shared = shared.collection
            return shared.with_collection(loaded.visible)

    # --- writing -----------------------------------------------------------------------------

    def find(self, chat_id: int, *, text: str | None = None, source: str | None = None) -> StoredArticle | None:
        """The chat's article with the same text (once tidied) or URL, if any."""
        checksum = text_checksum(one_paragraph_per_line(text)) if text is not None else None
        url = source if source is not None and is_url(source) else None
        if checksum is None and url is None:
            return None
        return self.store.find_article(chat_id, checksum=checksum, source=url)

    def check_can_add(self, chat_id: int, user_id: int) -> None:
        """Raise LimitError when the chat is full or the user added too much this hour."""
        allowed = self.limits.articles_per_chat
        if self.store.count_articles(chat_id) >= allowed:
            raise LimitError("articles_per_chat", allowed, f"chat {chat_id} has {allowed} articles; {FORGET_HINT}")
        allowed = self.limits.adds_per_hour
        if self.store.adds_since(user_id, self._clock() - HOUR) >= allowed:
            raise LimitError("adds_per_hour", allowed, f"user {user_id} added {allowed} articles in the last hour")

    def add(self, chat_id: int, user_id: int, text: str, title: str, source: str) -> tuple[StoredArticle, bool]:
        """Store an article in the chat's collection, index it, and focus the chat on it;
        returns (article, True), or (the stored one, False) when the chat has it already.
        Raises LimitError (nothing stored). Slow (CPU): call it from a worker thread."""
        text = one_paragraph_per_line(text)
        if not text:
            raise ArticleError(f"the article from {source or 'the message'} has no text")
        with self._chat_lock(chat_id):
            existing = self.find(chat_id, text=text, source=source)
            if existing is not None:
                self.store.set_focus(chat_id, existing.article().id)
                return existing, False
            self.check_can_add(chat_id, user_id)
            title = " ".join(title.split()) or first_line_title(text)
            added = datetime.now(UTC).isoformat(timespec="seconds")
            stored = self.store.add_article(chat_id, title, source, text, added)
            try:
                self._reindex(chat_id)
            except BaseException:
                self.store.delete_article(chat_id, stored.number)
                self._drop(chat_id)
                raise
            self.store.record_add(user_id, self._clock())
            self.store.set_focus(chat_id, stored.article().id)
            return stored, True

    def forget(self, chat_id: int, number: int) -> StoredArticle:
        """Delete one of the chat's articles: its row, its vectors, its passages. An id that
        is not one of the chat's own raises ArticleNotFoundError."""
        with self._chat_lock(chat_id):
            stored = self.store.delete_article(chat_id, number)
            if stored is None:
                raise ArticleNotFoundError(f"chat {chat_id} has no article number {number}; {FORGET_HINT}")
            try:
                self._reindex(chat_id)
            except BaseException:
                self._delete_folder(chat_id)  # derived data: rebuilt from the rows when next needed
                raise
            return stored

    def forget_all(self, chat_id: int) -> int:
        """Delete everything of the chat: articles, focus, buttons, index folder; returns how
        many articles were deleted."""
        with self._chat_lock(chat_id):
            count = self.store.delete_owner(chat_id)
            self._delete_folder(chat_id)
            return count

    # --- the loaded chats ----------------------------------------------------------------------

    def _chat_lock(self, chat_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(chat_id, threading.Lock())

    def _load(self, chat_id: int, shared: Engine, keys: tuple[tuple[int, str], ...] | None = None) -> _LoadedChat:
        """The chat's collections (loaded or rebuilt from the store; call with its lock held). A
        loaded chat whose articles changed in the store meanwhile (another process, e.g. the
        CLI's `remove --chat`) is loaded again. `keys`: its articles' keys, if just read."""
        keys = tuple(self.store.article_keys(chat_id)) if keys is None else keys
        stored = tuple((own_article_id(number), checksum) for number, checksum in keys)
        with self._guard:
            loaded = self._loaded.get(chat_id)
            if loaded is not None and loaded.own.index.key.articles == stored:
                self._loaded.move_to_end(chat_id)
                return loaded
            self._loaded.pop(chat_id, None)
        articles = [stored.article() for stored in self.store.articles(chat_id)]
        loaded = _LoadedChat(self._own_collection(chat_id, shared, articles))
        self._keep(chat_id, loaded)
        return loaded

    def _own_collection(self, chat_id: int, shared: Engine, articles: list[Article]) -> Collection:
        folder = self.index_dir(chat_id)
        if not articles:
            return shared.build([])
        key = IndexKey.of(shared.encoder, shared.config.chunking, articles)
        try:
            return Collection.of(load_index(folder, key), articles)
        except IndexStateError as exc:
            previous = _readable(folder) if isinstance(exc, IndexStaleError) else None
            collection = shared.build(articles, also=[previous] if previous is not None else [])
            save_index(collection.index, folder)
            return collection

    def _reindex(self, chat_id: int) -> None:
        """Rebuild the chat's index from its stored articles (reusing its vectors), save it or
        delete the folder when no article is left, then keep the new collection loaded."""
        shared = self.library.engine
        articles = [stored.article() for stored in self.store.articles(chat_id)]
        with self._guard:
            before = self._loaded.get(chat_id)
        lenders = [before.own.index] if before is not None else []
        if not articles:
            self._delete_folder(chat_id)
            self._drop(chat_id)
            return
        if before is None and self.index_dir(chat_id).is_dir():
            lenders = [index for index in [_readable(self.index_dir(chat_id))] if index is not None]
        own = shared.build(articles, also=lenders)
        save_index(own.index, self.index_dir(chat_id))
        self._keep(chat_id, _LoadedChat(own))

    def _keep(self, chat_id: int, loaded: _LoadedChat) -> None:
        with self._guard:
            self._loaded[chat_id] = loaded
            self._loaded.move_to_end(chat_id)
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)

    def _drop(self, chat_id: int) -> None:
        with self._guard:
            self._loaded.pop(chat_id, None)

    def _delete_folder(self, chat_id: int) -> None:
        self._drop(chat_id)
        shutil.rmtree(self.chat_dir(chat_id), ignore_errors=True)


def _readable(folder: Path) -> SearchIndex | None:
    """The index in `folder` whatever it was built from, to lend its vectors; None if unreadable."""
    try:
        return read_index(folder)
    except IndexStateError:
        return None
