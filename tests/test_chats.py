"""Per-chat collections with the fake encoder: isolation, focus, limits, LRU, forgetting, restarts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fake_encoder import FakeEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings import (
    ArticleNotFoundError,
    ChatCollections,
    ChatLimits,
    IndexedLibrary,
    LimitError,
    Settings,
    SettingsError,
    looks_like_article,
)
from embeddings.indexed_library import FolderLibrary
from embeddings.store import SQLiteChatStore

A, B, USER = 11, 22, 500
ALPHA = "تفتتح المدينة حديقة النخيل الكبرى يوم الجمعة.\nتضم الحديقة ثلاثة آلاف نخلة من أصناف نادرة.\n"
BETA = "أعلن النادي تعاقده مع مدرب جديد للفريق الأول.\nيمتد العقد أربعة مواسم رياضية كاملة.\n"


@pytest.fixture
def library(articles_copy: Path, tmp_path: Path, fake_encoder: FakeEncoder) -> FolderLibrary:
    """The shipped library, never abstaining (the fake encoder's cosines are not calibrated)."""
    settings = Settings(articles_dir=articles_copy, index_dir=tmp_path / "index")
    opened = FolderLibrary.open_folder(settings, encoder=fake_encoder)
    return FolderLibrary(opened.library, opened.index_dir, replace(opened.engine, abstention=None))


def open_chats(library: IndexedLibrary, folder: Path, **options: object) -> ChatCollections:
    limits = options.pop("limits", ChatLimits())
    assert isinstance(limits, ChatLimits)
    return ChatCollections(SQLiteChatStore(folder / "sanad.db"), library, folder / "chats", limits=limits, **options)  # type: ignore[arg-type]


@pytest.fixture
def chats(library: IndexedLibrary, tmp_path: Path) -> ChatCollections:
    return open_chats(library, tmp_path)


def quoted_ids(chats: ChatCollections, chat: int, question: str, everything: bool = True) -> set[str]:
    return {q.article_id for q in chats.ask(chat, question, everything=everything).answer.quotes}


def test_a_chat_is_answered_from_its_own_article_and_another_chat_never_is(chats: ChatCollections) -> None:
    stored, added = chats.add(A, USER, ALPHA, "حديقة النخيل", "https://example.com/palms")
    assert added and stored.number == 1
    chats_a = chats.ask(A, "حديقة النخيل نخلة", everything=True)
    assert any(q.article_id == "chat/1" for q in chats_a.answer.quotes)
    for chat in (B, -B):
        for everything in (True, False):
            assert "chat/1" not in quoted_ids(chats, chat, "حديقة النخيل نخلة", everything)
    assert chats.loaded_chats() == (A,)  # B was answered from the shared library alone


def test_adding_focuses_the_chat_and_the_answer_names_the_focus(chats: ChatCollections) -> None:
    chats.add(A, USER, ALPHA, "حديقة النخيل", "https://example.com/palms")
    chats.add(A, USER, BETA, "المدرب الجديد", "https://example.com/coach")
    answer = chats.ask(A, "النادي مدرب العقد")
    assert answer.focus is not None and answer.focus.id == "chat/2"
    assert {q.article_id for q in answer.answer.quotes} <= {"chat/2"}
    chats.set_focus(A, "chat/1")
    assert chats.ask(A, "النادي مدرب العقد").focus == chats.visible_article(A, "chat/1")


def test_focus_on_another_chats_article_is_refused(chats: ChatCollections) -> None:
    chats.add(A, USER, ALPHA, "حديقة النخيل", "https://example.com/palms")
    with pytest.raises(ArticleNotFoundError):
        chats.set_focus(B, "chat/1")
    assert chats.focus(B) is None


def test_the_same_article_twice_is_not_stored_again(chats: ChatCollections) -> None:
    first, _ = chats.add(A, USER, ALPHA, "حديقة النخيل", "https://example.com/palms")
    again, added = chats.add(A, USER, ALPHA.replace("\n", "\n\n"), "نسخة", "pasted")
    assert not added and again.number == first.number and len(chats.own_articles(A)) == 1
    other, added = chats.add(B, USER, ALPHA, "حديقة النخيل", "https://example.com/palms")
    assert added and other.owner == B  # another chat's copy is its own


def test_limits_refuse_and_say_which(library: IndexedLibrary, tmp_path: Path) -> None:
    chats = open_chats(library, tmp_path, limits=ChatLimits(articles_per_chat=1, adds_per_hour=2))
    chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
    with pytest.raises(LimitError) as full:
        chats.add(A, USER, BETA, "المدرب", "b")
    assert full.value.limit == "articles_per_chat" and full.value.allowed == 1
    chats.add(B, USER, BETA, "المدرب", "b")
    with pytest.raises(LimitError) as hourly:
        chats.add(-B, USER, ALPHA, "حديقة", "c")
    assert hourly.value.limit == "adds_per_hour" and chats.own_articles(-B) == []


def test_forget_leaves_nothing_on_disk(chats: ChatCollections) -> None:
    chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
    chats.add(A, USER, BETA, "المدرب", "b")
    chats.forget(A, 1)
    manifest = (chats.index_dir(A) / "manifest.json").read_text(encoding="utf-8")
    assert "chat/1" not in manifest and "chat/2" in manifest
    assert [p.name for p in chats.chat_dir(A).iterdir()] == ["index"]  # no old index left beside it
    chats.forget(A, 2)
    assert not chats.chat_dir(A).exists() and chats.own_articles(A) == []
    with pytest.raises(ArticleNotFoundError):
        chats.forget(A, 2)


def test_forget_all_and_other_chats_ids(chats: ChatCollections) -> None:
    chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
    chats.add(B, USER, BETA, "المدرب", "b")
    with pytest.raises(ArticleNotFoundError):
        chats.forget(B, 2)  # no such number in B
    assert chats.forget_all(A) == 1
    assert not chats.chat_dir(A).exists() and chats.focus(A) is None and len(chats.own_articles(B)) == 1
    again, _ = chats.add(A, USER, BETA, "المدرب", "b")
    assert again.number == 1  # the counter went with everything else (README, Ids)


def test_a_failed_index_update_rolls_back_the_row(library: IndexedLibrary, tmp_path: Path) -> None:
    chats = open_chats(library, tmp_path)
    (tmp_path / "chats").write_text("a file where the chats' folder should be", encoding="utf-8")
    with pytest.raises(OSError):
        chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
    assert chats.own_articles(A) == [] and chats.store.adds_since(USER, 0.0) == 0


def test_loaded_chats_are_bounded_least_recently_used_first(library: IndexedLibrary, tmp_path: Path) -> None:
    chats = open_chats(library, tmp_path, max_loaded=2)
    for chat in (1, 2, 3):
        chats.add(chat, USER + chat, ALPHA, "حديقة النخيل", "a")
    assert chats.loaded_chats() == (2, 3)
    chats.ask(2, "حديقة")
    assert chats.loaded_chats() == (3, 2)
    chats.ask(1, "حديقة")
    assert chats.loaded_chats() == (2, 1)


def test_restart_loads_the_index_without_embedding(library: FolderLibrary, tmp_path: Path) -> None:
    chats = open_chats(library, tmp_path)
    chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
    chats.close()
    encoder = FakeEncoder()
    shared = FolderLibrary(library.library, library.index_dir, replace(library.engine, encoder=encoder))
    again = open_chats(shared, tmp_path)
    answer = again.ask(A, "حديقة النخيل نخلة")
    assert answer.focus is not None and answer.focus.id == "chat/1" and encoder.embedded == []
    assert again.ask(A, "حديقة النخيل نخلة", everything=True).answer.question and encoder.embedded == []


def test_a_missing_index_is_rebuilt_from_the_rows(library: IndexedLibrary, tmp_path: Path) -> None:
    chats = open_chats(library, tmp_path)
    chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
    chats.close()
    for path in sorted(chats.index_dir(A).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    again = open_chats(library, tmp_path)
    assert "chat/1" in quoted_ids(again, A, "حديقة النخيل نخلة") and (again.index_dir(A) / "manifest.json").is_file()


def test_chat_settings_have_defaults_and_are_read_from_the_environment(tmp_path: Path) -> None:
    defaults = Settings.from_env({})
    assert (defaults.articles_per_chat, defaults.adds_per_hour, defaults.loaded_chats) == (20, 10, 32)
    assert defaults.database.name == "sanad.db" and defaults.chats_dir.name == "chats"
    env = {
        "SANAD_ARTICLES_PER_CHAT": "5",
        "SANAD_ADDS_PER_HOUR": "3",
        "SANAD_LOADED_CHATS": "2",
        "SANAD_DATABASE": str(tmp_path / "x.db"),
        "SANAD_CHATS_DIR": str(tmp_path / "c"),
    }
    read = Settings.from_env({**env, "SANAD_MAX_ARTICLE_BYTES": "1000", "SANAD_ALLOW_PRIVATE_URLS": "true"})
    assert (read.articles_per_chat, read.adds_per_hour, read.loaded_chats) == (5, 3, 2)
    assert read.fetch_policy().max_bytes == 1000 and read.fetch_policy().allow_private
    assert defaults.fetch_policy().max_bytes == 5_000_000 and not defaults.fetch_policy().allow_private
    assert (read.database, read.chats_dir) == (tmp_path / "x.db", tmp_path / "c")


@pytest.mark.parametrize(
    "name", ["SANAD_ARTICLES_PER_CHAT", "SANAD_ADDS_PER_HOUR", "SANAD_LOADED_CHATS", "SANAD_MAX_ARTICLE_BYTES"]
)
def test_chat_limits_must_be_positive(name: str) -> None:
    with pytest.raises(SettingsError, match=rf"{name}='0' is not a positive whole number"):
        Settings.from_env({name: "0"})


@pytest.mark.parametrize(
    ("text", "article"),
    [
        ("ما اسم وزير الدفاع الروسي؟", False),
        (ALPHA * 6, True),  # 12 statements, > 400 characters
        ("ما اسم وزير الدفاع الروسي؟ " * 30, False),  # long, but only questions
        ("كلمة " * 120, False),  # long, one sentence
    ],
    ids=["question", "article", "many-questions", "one-sentence"],
)
def test_a_pasted_text_is_an_article_only_when_long_with_statements(text: str, article: bool) -> None:
    assert looks_like_article(text) is article


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(sorted(set(ALPHA.split()))), min_size=1, max_size=12), st.booleans())
def test_whatever_chat_b_asks_it_is_never_answered_from_chat_a(
    chats: ChatCollections, words: list[str], everything: bool
) -> None:
    if not chats.own_articles(A):
        chats.add(A, USER, ALPHA, "حديقة النخيل", "a")
        chats.add(B, USER + 1, BETA, "المدرب", "b")
    answer = chats.ask(B, " ".join(words), everything=everything).answer
    assert all(q.text not in ALPHA for q in answer.quotes)
    assert {q.article_id for q in answer.quotes} <= {"chat/1", *(a.id for a in chats.shared_articles())}
    assert all(q.text in BETA or q.article_id != "chat/1" for q in answer.quotes)


def test_an_article_removed_by_another_process_is_no_longer_answered(library: IndexedLibrary, tmp_path: Path) -> None:
    bot_side = open_chats(library, tmp_path)
    bot_side.add(A, USER, ALPHA, "حديقة النخيل", "a")
    bot_side.add(A, USER, BETA, "المدرب", "b")
    assert "chat/1" in quoted_ids(bot_side, A, "حديقة النخيل نخلة")  # loaded, in memory
    cli_side = open_chats(library, tmp_path)
    cli_side.forget(A, 1)  # as `python -m embeddings remove --chat` does
    assert quoted_ids(bot_side, A, "حديقة النخيل نخلة") <= {"chat/2", *(a.id for a in library.articles)}
    cli_side.forget(A, 2)
    assert "chat/2" not in quoted_ids(bot_side, A, "النادي مدرب") and bot_side.loaded_chats() == ()


def test_with_postgresql_another_replica_answers_the_chat_from_the_rows(
    library: IndexedLibrary, tmp_path: Path, postgres_url: str
) -> None:
    def replica(name: str) -> ChatCollections:
        settings = Settings(database=tmp_path / "unused.db", database_url=postgres_url, chats_dir=tmp_path / name)
        return ChatCollections.open(settings, library)

    first, second = replica("a"), replica("b")  # one database, an index folder each
    try:
        first.add(A, USER, ALPHA, "حديقة النخيل", "https://example.com/palms")
        assert "chat/1" in quoted_ids(second, A, "حديقة النخيل نخلة")  # its own index, built from the rows
        assert second.focus(A) is not None and "chat/1" not in quoted_ids(second, B, "حديقة النخيل نخلة")
        first.forget(A, 1)
        assert "chat/1" not in quoted_ids(second, A, "حديقة النخيل نخلة")
        assert not (tmp_path / "unused.db").exists()
    finally:
        first.close()
        second.close()
