"""The contract every `ChatStore` keeps, parametrised over the implementations: the embedded
SQLite file and PostgreSQL (a fresh database of the run's one pgserver, see conftest.py).

A new implementation adds itself to `make_store` and must pass the same tests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from embeddings.conversation import Turn
from embeddings.errors import SettingsError
from embeddings.store import (
    SCHEMA_VERSION,
    ChatState,
    ChatStore,
    ChatSummary,
    Feedback,
    KeptAnswer,
    PostgresChatStore,
    QuotedText,
    QuoteRef,
    SQLiteChatStore,
    UpdateClaim,
)
from embeddings.store.sqlite_schema import MIGRATIONS
from embeddings.types import text_checksum

A, B = 1001, -1002003004  # a private chat and a group


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], ChatStore]]:
    """Open a new store (call again: the same data, reopened, as after a restart)."""
    opened: list[ChatStore] = []
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        factory: Callable[[], ChatStore] = lambda: PostgresChatStore(url)  # noqa: E731
    else:
        factory = lambda: SQLiteChatStore(tmp_path / "sanad.db")  # noqa: E731

    def make() -> ChatStore:
        opened.append(factory())
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def add(store: ChatStore, owner: int, text: str, source: str = "https://example.com/a") -> int:
    return store.add_article(owner, f"title of {text[:10]}", source, text, "2026-12-01T09:00:00+00:00").number


def test_articles_are_numbered_per_owner_and_never_reused(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    assert [add(store, A, "one"), add(store, A, "two"), add(store, B, "three")] == [1, 2, 1]
    assert store.delete_article(A, 2) is not None
    assert add(store, A, "four") == 3
    assert [a.number for a in store.articles(A)] == [1, 3] and store.count_articles(A) == 2
    assert store.article_keys(A) == [(1, text_checksum("one")), (3, text_checksum("four"))]


def test_an_owner_never_reads_another_owners_article(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    number = add(store, A, "secret of A")
    assert store.article(B, number) is None and store.articles(B) == []
    assert store.find_article(B, checksum=text_checksum("secret of A")) is None
    assert store.delete_article(B, number) is None and store.article(A, number) is not None


def test_stored_article_round_trips(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    text = "نص المقال.\nفقرة ثانية."
    stored = store.add_article(A, "عنوان", "https://example.com/x", text, "2026-12-01T09:00:00+00:00")
    [again] = store.articles(A)
    assert again == stored and again.checksum == text_checksum("نص المقال.\nفقرة ثانية.")
    assert again.article().id == "chat/1" and again.article().text == stored.text


def test_find_by_checksum_or_source(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    add(store, A, "text one", source="https://example.com/one")
    assert store.find_article(A, checksum=text_checksum("text one")) is not None
    assert store.find_article(A, source="https://example.com/one") is not None
    assert store.find_article(A, checksum=text_checksum("other"), source="https://example.com/two") is None


def test_focus_is_set_cleared_and_dropped_with_its_article(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    number = add(store, A, "focused")
    assert store.focus(A) is None
    store.set_focus(A, f"chat/{number}")
    assert store.focus(A) == f"chat/{number}" and store.focus(B) is None
    store.delete_article(A, number)
    assert store.focus(A) is None
    store.set_focus(A, "shared-id")
    store.set_focus(A, None)
    assert store.focus(A) is None


def test_add_counter_is_a_sliding_window(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    for at in (1000.0, 2000.0, 3000.0):
        store.record_add(7, at)
    store.record_add(8, 3000.0)
    assert store.adds_since(7, 1500.0) == 2 and store.adds_since(7, 0.0) == 3 and store.adds_since(9, 0.0) == 0


def test_actions_belong_to_one_chat_and_tokens_are_random(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    first = store.put_action(A, "forget", "chat/1")
    second = store.put_action(A, "forget", "chat/1")
    action = store.action(first)
    assert first != second and len(first.encode()) <= 32
    assert action is not None and (action.chat_id, action.kind, action.target) == (A, "forget", "chat/1")
    assert store.action("not-a-token") is None
    search = store.put_action(B, "search_all", "", payload="سؤال؟")
    found = store.action(search)
    assert found is not None and found.payload == "سؤال؟" and found.chat_id == B


def test_delete_owner_removes_everything_of_it_only(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    add(store, A, "a1")
    add(store, A, "a2")
    add(store, B, "b1")
    token = store.put_action(A, "focus", "chat/1")
    store.set_focus(A, "chat/1")
    assert store.delete_owner(A) == 2
    assert store.articles(A) == [] and store.focus(A) is None and store.action(token) is None
    assert [c.chat_id for c in store.chats()] == [B] and len(store.articles(B)) == 1


def test_chats_lists_articles_and_last_activity(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    add(store, A, "a1")
    store.touch(A, 5_000_000_000.0)
    store.touch(B, 4_000_000_000.0)
    summary = {c.chat_id: c for c in store.chats()}
    assert summary[A].articles == 1 and summary[A].last_active == 5_000_000_000.0 and summary[B].articles == 0


def test_everything_survives_reopening(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    add(store, A, "kept")
    store.set_focus(A, "chat/1")
    store.record_add(7, 1000.0)
    token = store.put_action(A, "focus", "chat/1")
    store.put_turn(turn(A, "سؤال قبل إعادة التشغيل", focus="chat/1"))
    store.close()
    again = make_store()
    assert [a.text for a in again.articles(A)] == ["kept"] and again.focus(A) == "chat/1"
    assert again.adds_since(7, 0.0) == 1 and again.action(token) is not None
    assert again.last_turn(A) == turn(A, "سؤال قبل إعادة التشغيل", focus="chat/1")
    assert add(again, A, "next") == 2


def test_an_update_is_claimed_until_done_then_never_again(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    assert store.claim_update(501) == UpdateClaim("claimed", 1)
    assert store.claim_update(502) == UpdateClaim("claimed", 1)  # another update: its own claim
    store.finish_update(501, done=True)
    assert store.claim_update(501) == UpdateClaim("done", 0)
    store.close()
    assert make_store().claim_update(501) == UpdateClaim("done", 0)  # remembered across a restart


def test_a_failed_update_is_claimed_again_with_its_attempts_counted(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    assert store.claim_update(601).attempt == 1
    store.finish_update(601, done=False)
    assert store.claim_update(601) == UpdateClaim("claimed", 2)
    store.finish_update(601, done=False)
    other = make_store()
    assert other.claim_update(601) == UpdateClaim("claimed", 3)
    other.finish_update(601, done=True)
    assert store.claim_update(601).state == "done"


def test_the_claim_of_a_closed_store_is_taken_over(make_store: Callable[[], ChatStore]) -> None:
    first = make_store()
    assert first.claim_update(701).state == "claimed"
    first.close()  # as a process that stopped mid-update
    second = make_store()
    assert second.claim_update(701) == UpdateClaim("claimed", 2)
    first_again = make_store()
    second.finish_update(701, done=True)
    assert first_again.claim_update(701).state == "done"


def test_a_reachable_store_says_so(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    assert store.check_reachable(timeout=5) is None
    assert store.try_lead("set-webhook")


# --- kept answers and feedback ----------------------------------------------------------------


def ref(article_id: str, start: int) -> QuoteRef:
    return QuoteRef(article_id, "c" * 64, 1 + start // 100, start, start + 50, start + 10, start + 40, 0.5, 0.8, 2.0)


def kept(chat_id: int, *starts: int, shown: int = 1, article_id: str = "chat/1") -> KeptAnswer:
    quotes = tuple(ref(article_id, start) for start in starts)
    return KeptAnswer(chat_id, "ما السؤال؟", "answer", 0.75, quotes, shown)


def vote(chat_id: int, at: float, article_id: str | None = "chat/1", text: str = "نص الفقرة.") -> Feedback:
    quote = None
    if article_id is not None:
        quote = QuotedText(article_id, "عنوان", "https://example.com/a", 2, 100, 110, 100, 104, text, text[:4])
    kind = "answer" if quote else "not_found"
    return Feedback(chat_id, "up" if quote else "down", at, "ما السؤال؟", kind, 0.5, quote)


def test_a_kept_answer_round_trips_and_only_its_chat_reads_it(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    answer = store.put_answer(kept(A, 0, 100, 200))
    assert answer.id > 0 and answer.created > 0
    assert store.kept_answer(A, answer.id) == answer and answer.quotes[1] == ref("chat/1", 100)
    assert store.kept_answer(B, answer.id) is None and store.take_quotes(B, answer.id, 3) is None
    assert store.kept_answer(A, answer.id + 1000) is None
    assert store.put_answer(kept(A, 0)).id != answer.id


def test_take_quotes_gives_each_quote_once_then_nothing(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    answer = store.put_answer(kept(A, 0, 100, 200, 300, 400, 500, shown=2))
    assert store.take_quotes(A, answer.id, 3) == tuple(ref("chat/1", s) for s in (200, 300, 400))
    store.close()
    again = make_store()  # after a restart the answer goes on where it was
    assert again.take_quotes(A, answer.id, 3) == (ref("chat/1", 500),)
    assert again.take_quotes(A, answer.id, 3) == ()
    stored = again.kept_answer(A, answer.id)
    assert stored is not None and stored.shown == 6


def test_an_action_can_name_a_kept_answer(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    answer = store.put_answer(kept(A, 0))
    token = store.put_action(A, "more", "", answer=answer.id)
    action = store.action(token)
    assert action is not None and (action.kind, action.answer, action.chat_id) == ("more", answer.id, A)
    other = store.action(store.put_action(A, "focus", "chat/1"))
    assert other is not None and other.answer is None


def test_feedback_is_listed_oldest_first_since_a_time(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    for at, chat in ((3000.0, A), (1000.0, B), (2000.0, A)):
        store.add_feedback(vote(chat, at))
    store.add_feedback(vote(B, 4000.0, article_id=None))
    assert [f.at for f in store.feedback()] == [1000.0, 2000.0, 3000.0, 4000.0]
    assert [f.at for f in store.feedback(since=2000.0)] == [2000.0, 3000.0, 4000.0]
    assert store.feedback()[0] == vote(B, 1000.0)
    last = store.feedback()[-1]
    assert last.quote is None and last.kind == "not_found" and last.vote == "down"


def test_forgetting_an_article_unties_kept_answers_from_its_text_and_drops_its_feedback(
    make_store: Callable[[], ChatStore],
) -> None:
    store = make_store()
    first, second = add(store, A, "one"), add(store, A, "two")
    mixed = store.put_answer(KeptAnswer(A, "س", "answer", None, (ref(f"chat/{first}", 0), ref(f"chat/{second}", 0)), 1))
    store.add_feedback(vote(A, 1.0, f"chat/{first}"))
    store.add_feedback(vote(A, 2.0, f"chat/{second}"))
    store.add_feedback(vote(B, 3.0, f"chat/{first}"))
    of_b = store.put_answer(kept(B, 0, article_id=f"chat/{first}"))  # B's own chat/1: another article
    store.delete_article(A, first)
    answer = store.kept_answer(A, mixed.id)
    assert answer is not None and [(q.article_id, q.checksum) for q in answer.quotes] == [
        (f"chat/{first}", ""),  # the rank stays (its button says the article is gone), its text's fingerprint not
        (f"chat/{second}", "c" * 64),
    ]
    other = store.kept_answer(B, of_b.id)
    assert other is not None and other.quotes[0].checksum == "c" * 64
    assert [(f.chat_id, f.quote and f.quote.article_id) for f in store.feedback()] == [
        (A, f"chat/{second}"),
        (B, f"chat/{first}"),
    ]


def test_delete_owner_drops_its_kept_answers_and_feedback(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    answer = store.put_answer(kept(A, 0))
    token = store.put_action(A, "vote_up", "", answer=answer.id)
    store.add_feedback(vote(A, 1.0))
    store.add_feedback(vote(B, 2.0))
    store.delete_owner(A)
    assert store.kept_answer(A, answer.id) is None and store.action(token) is None
    assert [f.chat_id for f in store.feedback()] == [B]


def turn(chat: int, question: str, **fields: object) -> Turn:
    values: dict[str, object] = {"topic": question, "asked": 1_000.0, "focus": "", **fields}
    return Turn(chat, question, **values)  # type: ignore[arg-type]


def test_a_chat_keeps_its_latest_turn_only_and_never_another_chats(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    assert store.last_turn(A) is None
    first = turn(A, "من قاد التدريبات؟", article_id="lib-article", start=10, end=90, sentence_start=20, sentence_end=60)
    store.put_turn(first)
    assert store.last_turn(A) == first and store.last_turn(B) is None
    later = turn(A, "ومتى حدث ذلك؟", topic="ومتى حدث ذلك؟ من قاد التدريبات؟", asked=1_030.5, focus="chat/1")
    store.put_turn(later)
    store.put_turn(turn(B, "سؤال المجموعة"))
    assert store.last_turn(A) == later and store.last_turn(B) == turn(B, "سؤال المجموعة")


def test_a_turn_goes_with_its_article_and_with_its_chat(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    number = add(store, A, "about a turn")
    store.put_turn(turn(A, "سؤال عن مقالي", article_id=f"chat/{number}", start=0, end=12))
    other = add(store, A, "another article")
    store.delete_article(A, other)
    assert store.last_turn(A) is not None  # a turn about another article stays
    store.delete_article(A, number)
    assert store.last_turn(A) is None
    store.put_turn(turn(A, "سؤال وهو مركّز", focus=f"chat/{add(store, A, 'focused')}"))
    store.put_turn(turn(B, "سؤال المجموعة"))
    store.delete_owner(A)
    assert store.last_turn(A) is None and store.last_turn(B) is not None


def test_chat_state_reads_what_a_question_needs_of_that_chat_only(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    assert store.chat_state(A) == ChatState(None, (), None, None)  # a chat never seen
    first, second = add(store, A, "first of mine"), add(store, A, "second of mine")
    add(store, B, "the group's")
    store.set_focus(A, f"chat/{first}")
    store.put_turn(turn(A, "سؤالي", focus=f"chat/{first}"))
    state = store.chat_state(A)
    assert state.focus == f"chat/{first}" and state.turn == turn(A, "سؤالي", focus=f"chat/{first}")
    assert state.article_keys == ((first, text_checksum("first of mine")), (second, text_checksum("second of mine")))
    assert state.focused == store.article(A, first)
    store.set_focus(A, "lib-article")  # a library article: the store does not hold it
    assert store.chat_state(A).focus == "lib-article" and store.chat_state(A).focused is None
    store.set_focus(B, f"chat/{first}")  # B's own number 1 is B's article, never A's
    assert store.chat_state(B).focused == store.article(B, 1) and store.chat_state(B).turn is None


def test_record_question_notes_activity_and_keeps_the_turn_at_once(make_store: Callable[[], ChatStore]) -> None:
    store = make_store()
    store.record_question(A, active=5_000_000_000.0, turn=turn(A, "سؤال أول", asked=5_000_000_000.0))
    store.record_question(A, active=4_000_000_000.0, turn=turn(A, "سؤال ثان", asked=4_000_000_000.0))
    store.record_question(B, active=None, turn=turn(B, "بلا نشاط", asked=3_000_000_000.0))
    store.record_question(B, active=None, turn=turn(B, "ولا هذا", asked=6_000_000_000.0))
    store.record_question(-5, active=2_000_000_000.0, turn=None)
    assert store.last_turn(A) == turn(A, "سؤال ثان", asked=4_000_000_000.0)  # the latest kept, activity never back
    assert store.last_turn(B) == turn(B, "ولا هذا", asked=6_000_000_000.0) and store.last_turn(-5) is None
    assert store.chats() == [
        ChatSummary(B, 0, 3_000_000_000.0),  # activity not noted: the chat's row made at its first turn
        ChatSummary(-5, 0, 2_000_000_000.0),
        ChatSummary(A, 0, 5_000_000_000.0),
    ]


# --- SQLite specifics ------------------------------------------------------------------------


def test_sqlite_brings_a_version_1_database_up_to_date(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "sanad.db")
    db.executescript(f"{MIGRATIONS[0]} PRAGMA user_version = 1;")
    db.execute("INSERT INTO chats (chat_id, last_active) VALUES (?, 0)", (A,))
    db.execute("INSERT INTO actions VALUES ('old-token', ?, 'focus', 'chat/1', '', 1e12)", (A,))
    db.commit()
    db.close()
    store = SQLiteChatStore(tmp_path / "sanad.db")
    old = store.action("old-token")
    assert old is not None and old.kind == "focus" and old.answer is None
    answer = store.put_answer(kept(A, 0))
    assert store.kept_answer(A, answer.id) == answer
    store.close()


def test_sqlite_brings_a_version_1_file_up_to_date(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "sanad.db")
    db.executescript(f"BEGIN; {MIGRATIONS[0]} PRAGMA user_version = 1; COMMIT;")
    db.execute("INSERT INTO chats (chat_id, next_number, last_active) VALUES (?, 2, 0)", (A,))
    db.execute(
        "INSERT INTO articles VALUES (?, 1, 'title', 'file.txt', 'old text', '2026-01-01T00:00:00+00:00', ?)",
        (A, text_checksum("old text")),
    )
    db.commit()
    db.close()
    store = SQLiteChatStore(tmp_path / "sanad.db")
    assert [a.text for a in store.articles(A)] == ["old text"] and store.last_turn(A) is None
    store.put_turn(turn(A, "سؤال بعد الترقية"))
    assert store.last_turn(A) is not None
    store.close()


def test_sqlite_uses_wal_foreign_keys_and_the_schema_version(tmp_path: Path) -> None:
    store = SQLiteChatStore(tmp_path / "sanad.db")
    add(store, A, "x")
    store.close()
    db = sqlite3.connect(tmp_path / "sanad.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "sanad.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SettingsError, match="newer than this Sanad"):
        SQLiteChatStore(tmp_path / "sanad.db")


def test_sqlite_leaves_no_trace_of_a_forgotten_text_in_its_files(tmp_path: Path) -> None:
    store = SQLiteChatStore(tmp_path / "sanad.db")
    marker = "سرّ-لا-يبقى-" * 50
    add(store, A, "kept text " * 50)
    number = add(store, A, marker)
    add(store, B, marker)
    store.add_feedback(vote(A, 1.0, f"chat/{number}", text=marker))
    store.add_feedback(vote(B, 1.0, "chat/1", text=marker))
    store.delete_article(A, number)
    store.delete_owner(B)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("sanad.db")]
    assert files and all(marker[:40].encode() not in p.read_bytes() for p in files)
    assert any(b"kept text" in p.read_bytes() for p in files)
    store.close()
