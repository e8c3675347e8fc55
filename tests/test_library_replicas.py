"""The shared library in PostgreSQL, held by several replicas on one database (the run's real
PostgreSQL): what one adds or removes, the others answer from within seconds, without
embedding anything; a replica that started late, or lost its listening connection, catches up
from the change numbers. The fake encoder records every passage embedded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import psycopg
import pytest
from fake_encoder import FakeEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polling import wait_until
from postgres_server import PostgresServer

from embeddings import Article, ArticleNotFoundError, IndexedLibrary, Settings
from embeddings.index import build_index
from embeddings.indexed_library import FolderLibrary
from embeddings.lexical import Analyzer
from embeddings.passages import Chunking, build_passages
from embeddings.replica import ReplicatedLibrary
from embeddings.store.shared_library import ArticleVectors, PostgresLibraryStore, VectorSpace

WATER = (
    "افتتحت وزارة المياه محطة جديدة لتحلية مياه البحر على الساحل الجنوبي بطاقة مئة وخمسين ألف متر مكعب يومياً.\n"
    "وقال وزير المياه إن المشروع سيغطي احتياجات أكثر من نصف مليون نسمة من مياه الشرب.\n"
    "وبلغت تكلفة المحطة نحو ثلاثمئة مليون دولار، واستغرق بناؤها ثلاث سنوات."
)
PALMS = (
    "تفتتح المدينة حديقة النخيل الكبرى يوم الجمعة بعد أعوام من العمل.\n"
    "تضم الحديقة ثلاثة آلاف نخلة من أصناف نادرة جلبت من واحات بعيدة."
)
COACH = "أعلن النادي تعاقده مع مدرب جديد للفريق الأول.\nيمتد العقد أربعة مواسم رياضية كاملة مع خيار التمديد."
WATER_QUESTION = "كم بلغت تكلفة محطة تحلية مياه البحر"
PALMS_QUESTION = "كم نخلة تضم حديقة النخيل"
WITHIN = 2.0  # seconds: a change on one replica is answered by another within this

Open = Callable[..., tuple[ReplicatedLibrary, FakeEncoder]]


def ids(library: IndexedLibrary) -> list[str]:
    return [a.id for a in library.articles]


def quoted(library: IndexedLibrary, question: str) -> list[str]:
    """The articles the replica quotes for `question`, best first (never abstaining: the fake
    encoder's cosines are not calibrated)."""
    return [q.article_id for q in replace(library.engine, abstention=None).ask(question).quotes]


def same_vectors(one: IndexedLibrary, other: IndexedLibrary, article_id: str) -> bool:
    """Both hold the same passage and sentence vectors for the article."""
    first, second = one.index, other.index
    return np.array_equal(first.article_vectors(article_id), second.article_vectors(article_id)) and np.array_equal(
        first.article_sentence_vectors(article_id), second.article_sentence_vectors(article_id)
    )


@pytest.fixture
def open_replica(postgres_url: str) -> Iterator[Open]:
    """Open a replica of the test's database with its own fake encoder (following its changes
    unless `follow=False`); all are closed afterwards."""
    opened: list[ReplicatedLibrary] = []

    def open_one(follow: bool = True, encoder: FakeEncoder | None = None) -> tuple[ReplicatedLibrary, FakeEncoder]:
        encoder = encoder or FakeEncoder()
        library = IndexedLibrary.open(Settings(database_url=postgres_url), encoder=encoder, log=lambda _: None)
        assert isinstance(library, ReplicatedLibrary)
        opened.append(library)
        if follow:
            library.start_sync()
        return library, encoder

    yield open_one
    for library in opened:
        library.close()


def test_an_article_added_on_one_replica_is_answered_by_another_within_two_seconds(open_replica: Open) -> None:
    a, a_encoder = open_replica()
    b, b_encoder = open_replica()
    assert wait_until(lambda: b.sync_status().listening, WITHIN)
    article, added = a.add_article(WATER, "محطة تحلية", "https://example.com/news/water")
    assert added and ids(a) == [article.id]  # the writer answers from it as soon as add returns
    assert wait_until(lambda: ids(b) == [article.id], WITHIN)
    assert quoted(b, WATER_QUESTION)[0] == article.id
    assert b_encoder.embedded == []  # B read the vectors; it embedded nothing
    assert a_encoder.embedded and len(a_encoder.embedded) == len(set(a_encoder.embedded))  # A: each text once
    status = b.sync_status()
    assert (status.applied_seq, status.lag, status.changes_applied) == (1, 0, 1) and status.notifications >= 1
    assert status.last_delay_seconds is not None and a.sync_status().last_delay_seconds is not None
    assert same_vectors(b, a, article.id)  # as A embedded them


def test_a_removal_on_one_replica_propagates_to_the_others(open_replica: Open) -> None:
    a, _ = open_replica()
    b, b_encoder = open_replica()
    water, _ = a.add_article(WATER, "محطة تحلية", "water.txt")
    palms, _ = a.add_article(PALMS, "حديقة النخيل", "palms.txt")
    assert wait_until(lambda: sorted(ids(b)) == sorted([water.id, palms.id]), WITHIN)
    assert b.remove_article(palms.id) == palms
    assert ids(b) == [water.id]
    assert wait_until(lambda: ids(a) == [water.id], WITHIN)
    assert palms.id not in quoted(a, PALMS_QUESTION)
    assert a.find_article(text=PALMS) is None and b_encoder.embedded == []
    with pytest.raises(ArticleNotFoundError, match="python -m embeddings list"):
        a.remove_article(palms.id)


def test_changes_applied_one_by_one_give_the_index_a_fresh_start_builds(open_replica: Open) -> None:
    following, _ = open_replica()
    writer, _ = open_replica(follow=False)
    water, _ = writer.add_article(WATER, "water", "https://example.com/water")
    palms, _ = writer.add_article(PALMS, "palms", "https://example.com/palms")
    following.catch_up()
    writer.remove_article(water.id)
    writer.add_article(COACH, "coach", "https://example.com/coach")
    writer.add_article(WATER + "\nوستبدأ المحطة العمل في الصيف.", "water again", "https://example.com/water2")
    following.catch_up()
    fresh, _ = open_replica(follow=False)
    assert ids(following) == ids(fresh) and following.index.passages == fresh.index.passages
    terms = Analyzer().terms(f"{WATER_QUESTION} {PALMS_QUESTION} مدرب الصيف")
    assert np.allclose(following.index.lexical_scores(terms), fresh.index.lexical_scores(terms))
    assert all(same_vectors(following, fresh, article_id) for article_id in ids(fresh))
    assert palms.id in ids(following) and water.id not in ids(following)


def test_a_replica_started_after_the_changes_catches_up_without_embedding(open_replica: Open) -> None:
    a, _ = open_replica(follow=False)
    for text, title in ((WATER, "محطة"), (PALMS, "حديقة"), (COACH, "مدرب")):
        a.add_article(text, title, f"{title}.txt")
    a.remove_article(a.find_article(text=COACH).id)  # type: ignore[union-attr]
    late, late_encoder = open_replica(follow=False)  # opened from the rows: changes 1-4 in its index
    assert ids(late) == ids(a) and late.sync_status().applied_seq == 4
    assert all(same_vectors(late, a, article_id) for article_id in ids(a))
    coach, _ = a.add_article(COACH, "مدرب", "coach.txt")  # while `late` does not listen yet
    late.start_sync()  # it catches up from change 4 as soon as it listens
    assert wait_until(lambda: coach.id in ids(late), WITHIN)
    assert ids(late) == ids(a) and late_encoder.embedded == []


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def test_a_replica_whose_listening_connection_is_killed_reconnects_and_catches_up(
    open_replica: Open, postgres_server: PostgresServer, postgres_url: str
) -> None:
    a, _ = open_replica(follow=False)
    b, b_encoder = open_replica()
    assert wait_until(lambda: b.listener_backend_pid() is not None, WITHIN)
    killed = b.listener_backend_pid()
    name = _database(postgres_url)
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        # Nobody may connect while A adds: B cannot be listening, so it must miss the notification.
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(%s)", (killed,))
            assert wait_until(lambda: not b.sync_status().listening, WITHIN)
            article, _ = a.add_article(WATER, "محطة تحلية", "water.txt")  # on a connection A's pool holds
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert wait_until(lambda: ids(b) == [article.id], 15.0)  # the listener backs off up to 5 s
    status = b.sync_status()
    assert status.reconnects >= 1 and status.listening and b.listener_backend_pid() != killed
    assert status.applied_seq == 1 and status.notifications == 0  # caught up by number, not told
    assert quoted(b, WATER_QUESTION)[0] == article.id and b_encoder.embedded == []


def test_replicas_writing_at_once_lose_no_change(open_replica: Open) -> None:
    replicas = [open_replica()[0], open_replica()[0]]
    start = threading.Barrier(2)

    def add_five(i: int) -> None:
        start.wait()
        for n in range(5):
            replicas[i].add_article(f"{PALMS}\nالخبر رقم {n} من النسخة {i}.", f"خبر {i}-{n}", f"news-{i}-{n}.txt")

    threads = [threading.Thread(target=add_five, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wait_until(lambda: all(r.sync_status().applied_seq == 10 for r in replicas), WITHIN)
    assert len(ids(replicas[0])) == 10 and ids(replicas[0]) == ids(replicas[1])


def test_the_same_article_added_on_two_replicas_at_once_is_stored_once(open_replica: Open) -> None:
    replicas = [open_replica()[0], open_replica()[0]]
    start = threading.Barrier(2)
    results: list[tuple[str, bool]] = []

    def add(i: int) -> None:
        start.wait()
        article, added = replicas[i].add_article(WATER, "محطة", "https://example.com/water")
        results.append((article.id, added))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(added for _, added in results) == [False, True] and len({i for i, _ in results}) == 1
    assert wait_until(lambda: all(len(r.articles) == 1 for r in replicas), WITHIN)


def test_a_replica_of_another_model_embeds_once_and_stores_its_vectors(open_replica: Open) -> None:
    a, _ = open_replica(encoder=FakeEncoder("fake-a", dim=64))
    article, _ = a.add_article(WATER, "محطة", "water.txt")
    other = FakeEncoder("fake-b", dim=32)
    b, _ = open_replica(encoder=other)  # no vectors of fake-b in the database yet: embedded
    assert ids(b) == [article.id] and other.embedded
    again = FakeEncoder("fake-b", dim=32)
    c, _ = open_replica(encoder=again)  # B stored them
    assert ids(c) == [article.id] and again.embedded == []
    assert np.array_equal(c.index.article_vectors(article.id), b.index.article_vectors(article.id))


def test_the_store_lists_finds_and_numbers_changes(open_replica: Open, postgres_url: str) -> None:
    a, _ = open_replica(follow=False)
    article, _ = a.add_article(WATER + "\n\n", "  محطة   تحلية ", "https://Example.com/news/water/")
    store = PostgresLibraryStore(postgres_url)
    try:
        assert store.list() == [article] and store.get(article.id) == article and article.title == "محطة تحلية"
        assert store.find(text=WATER.replace("\n", "\n\n")) == article  # tidied before comparing
        assert store.find(source="https://example.com/news/water") == article
        assert store.find(text="نص آخر", source="https://example.com/other") is None
        assert a.add_article(WATER, "again", "elsewhere.txt") == (article, False)
        assert store.head() == 1  # a duplicate is no change
        a.remove_article(article.id)
        assert store.head() == 2 and store.list() == []
    finally:
        store.close()


def test_without_the_url_the_library_is_the_folders_and_follows_nothing(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    library = IndexedLibrary.open(
        Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index"),
        encoder=FakeEncoder(),
        log=lambda _: None,
    )
    assert isinstance(library, FolderLibrary) and library.sync_status() is None
    library.start_sync()
    library.add_article(WATER, "محطة", "water.txt")
    library.close()
    assert len(list((tmp_path / "articles").glob("*.txt"))) == 1 and (tmp_path / "index" / "manifest.json").is_file()


_WORD = st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي", min_size=1, max_size=8)
_SENTENCE = st.builds(
    lambda words, end: " ".join(words) + end, st.lists(_WORD, min_size=1, max_size=9), st.sampled_from(".؟!")
)
_ARTICLE = st.lists(st.lists(_SENTENCE, min_size=1, max_size=7).map(" ".join), min_size=1, max_size=4).map("\n".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_ARTICLE)
def test_passages_sentences_and_vectors_come_back_from_the_database_as_written(postgres_url: str, text: str) -> None:
    chunking = Chunking(max_chars=60, overlap=1)  # long paragraphs: overlapping windows share a sentence
    encoder = FakeEncoder()
    store = PostgresLibraryStore(postgres_url)
    try:
        space = store.space(VectorSpace(encoder.name, encoder.dim, chunking))
        draft = build_index([Article("draft", "t", "s", text)], encoder, Analyzer(), chunking)
        article, added = store.add(text, "عنوان", "s.txt", ArticleVectors.of(draft, "draft"), space)
        held = store.state(space).vectors[article.id]
    finally:
        store.close()
    if not added:
        return  # the same text drawn twice: stored once
    cut = build_passages([article], chunking)
    assert held.passages == tuple(cut)  # offsets, paragraphs, sentence spans, in order
    assert np.array_equal(held.vectors, draft.article_vectors("draft"))
    assert np.array_equal(held.sentence_vectors, draft.article_sentence_vectors("draft"))
    for passage in held.passages:
        assert all(passage.start <= s.start < s.end <= passage.end for s in passage.sentences)
