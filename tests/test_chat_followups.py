"""Follow-ups per chat with the real model: `ChatCollections.ask` leans on the chat's own previous
question only — not another chat's, not after the window, not across a change of focus — and
the turn survives a restart (it is in the store)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from embeddings import ChatCollections, IndexedLibrary, Settings
from embeddings.model import Encoder
from embeddings.store import SQLiteChatStore

ARTICLES_DIR = Path(__file__).resolve().parent.parent / "data" / "articles"
A, B, USER = 31, 32, 900
FIRST = "ماذا قال بوتين عن السوق السوداء للأسلحة؟"
THEN, MUST = "ومن يهرّبها؟", "الجماعات الإجرامية العابرة للحدود"
OWN = "أعلنت البلدية افتتاح مكتبة عامة جديدة في وسط المدينة.\nتضم المكتبة عشرين ألف كتاب في العلوم والآداب.\n"


@pytest.fixture(scope="module")
def library(real_encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> IndexedLibrary:
    settings = Settings(articles_dir=ARTICLES_DIR, index_dir=tmp_path_factory.mktemp("followups") / "index")
    return IndexedLibrary.open(settings, encoder=real_encoder, log=logging.getLogger("tests.followups").info)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def open_chats(library: IndexedLibrary, folder: Path, clock: Clock, window: float = 600) -> ChatCollections:
    store = SQLiteChatStore(folder / "sanad.db")
    return ChatCollections(store, library, folder / "chats", follow_up_seconds=window, clock=clock)


def quotes_must(chats: ChatCollections, chat: int, question: str) -> tuple[bool, bool]:
    result = chats.ask(chat, question)
    answer = result.answer
    return result.follow_up, answer.kind != "not_found" and any(MUST in q.text for q in answer.quotes)


def test_a_follow_up_leans_on_its_own_chats_previous_question_only(library: IndexedLibrary, tmp_path: Path) -> None:
    clock = Clock()
    chats = open_chats(library, tmp_path, clock)
    assert not chats.ask(A, FIRST).follow_up
    clock.now += 30
    assert quotes_must(chats, B, THEN) == (False, False)  # B never asked the first question
    assert quotes_must(chats, A, THEN) == (True, True)
    assert chats.store.last_turn(A) is not None and chats.store.last_turn(A).question == THEN  # type: ignore[union-attr]
    chats.close()


def test_a_follow_up_after_the_window_stands_alone(library: IndexedLibrary, tmp_path: Path) -> None:
    clock = Clock()
    chats = open_chats(library, tmp_path, clock, window=600)
    chats.ask(A, FIRST)
    clock.now += 601
    assert quotes_must(chats, A, THEN) == (False, False)
    chats.close()
    off = open_chats(library, tmp_path, clock, window=0)
    off.ask(A, FIRST)
    assert quotes_must(off, A, THEN) == (False, False)  # SANAD_FOLLOW_UP_SECONDS=0: never
    off.close()


def test_a_change_of_focus_ends_the_conversation(library: IndexedLibrary, tmp_path: Path) -> None:
    clock = Clock()
    chats = open_chats(library, tmp_path, clock)
    chats.ask(A, FIRST)
    stored, _ = chats.add(A, USER, OWN, "مكتبة عامة", "https://example.com/library")
    assert chats.focus(A) is not None and chats.focus(A).id == stored.article().id  # type: ignore[union-attr]
    follow = chats.ask(A, THEN)
    assert not follow.follow_up and all(q.article_id == stored.article().id for q in follow.answer.quotes)
    chats.close()


def test_the_previous_question_survives_a_restart(library: IndexedLibrary, tmp_path: Path) -> None:
    clock = Clock()
    chats = open_chats(library, tmp_path, clock)
    chats.ask(A, FIRST)
    chats.close()
    clock.now += 10
    again = open_chats(library, tmp_path, clock)
    assert quotes_must(again, A, THEN) == (True, True)
    again.close()


def test_forgetting_the_article_a_turn_is_about_forgets_the_turn(library: IndexedLibrary, tmp_path: Path) -> None:
    clock = Clock()
    chats = open_chats(library, tmp_path, clock)
    stored, _ = chats.add(A, USER, OWN, "مكتبة عامة", "https://example.com/library")
    chats.ask(A, "كم كتابا تضم المكتبة العامة الجديدة؟")
    assert chats.store.last_turn(A) is not None
    chats.forget(A, stored.number)
    assert chats.store.last_turn(A) is None
    chats.close()
