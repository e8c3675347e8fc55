"""The benchmarks: their pieces on small inputs, and the small (CI) run of the whole command.

No test asserts a timing: on a shared machine they mean nothing alone. The whole-command
test only checks that every figure is there and positive, so the command never rots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import pytest

from benchmarks import chat_add, cli, cold, corpus, growth, growth_process, measure, options, postgres, report
from benchmarks.bot_load import BOT_TOKEN
from embeddings.lexical import Analyzer
from embeddings.passages import Chunking, build_passages
from embeddings.types import Article
from testkit.fake_telegram import FakeTelegram

PROJECT_ROOT = Path(__file__).resolve().parent.parent
XQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "xquad.ar.json"
JSON_KEYS = (
    "answer_overhead",
    "cold_ask_s",
    "build_ratio",
    "growth_ratio",
    "bot_rss_mb",
    "index_1m_rss_mb",
    "questions_per_s",
    "throughput_share",
    "lone_question_ratio",
    "link_ready_s",
    "link_ready_long_s",
    "postgres_answer_ratio",
    "replica_rss_mb",
)

SOURCE = Article(
    "source",
    "مصدر",
    "test",
    "دعا الرئيس إلى حماية البنية التحتية الحيوية. وقال إن التهديدات معقدة.\n"
    "أطلقت الطائرات صواريخ كروز جوا. وأصابت جميع الصواريخ أهدافها بدقة!\n"
    "جرى أول هذه التدريبات في 19 فبراير الماضي. وشاركت قوات الردع الاستراتيجي.",
)
REAL = Article("real", "حقيقي", "test", "وزير الدفاع الروسي هو سيرجي شويجو.")


def _corpus(n: int) -> corpus.SyntheticCorpus:
    analyzer = Analyzer()
    real_passages = build_passages([REAL], Chunking())
    pool = corpus.sentence_pool([SOURCE], analyzer)
    return corpus.synthetic_corpus([REAL], real_passages, pool, analyzer, n, seed=7)


def _doc_terms(documents: corpus.TermDocuments) -> list[list[str]]:
    words = {i: t for t, i in documents.vocab.items()}
    return [[words[i] for i in document] for document in documents]


def test_the_parser_takes_every_flag() -> None:
    flags = ["--json", "--quick", "--skip-growth", "--skip-bot", "--skip-replicas", "--dense", "flat"]
    args = cli.parser().parse_args(flags)
    assert (args.json, args.quick, args.skip_growth, args.skip_bot, args.skip_replicas) == (True,) * 5
    bench_options = cli.options_from(args)
    assert bench_options.quick and bench_options.growth_passages == options.QUICK_GROWTH
    assert bench_options.skip_replicas and not cli.options_from(cli.parser().parse_args([])).skip_replicas
    assert bench_options.dense_kinds == ("flat",)


@pytest.mark.parametrize(
    ("flags", "growth_passages", "repeats"),
    [([], options.FULL_GROWTH, 3), (["--quick"], options.QUICK_GROWTH, 1), (["--growth-passages", "5_000"], 5000, 3)],
)
def test_options_follow_the_flags(flags: list[str], growth_passages: int, repeats: int) -> None:
    bench_options = cli.options_from(cli.parser().parse_args(flags))
    assert (bench_options.growth_passages, bench_options.repeats) == (growth_passages, repeats)


def test_the_growth_process_gets_the_options_it_was_given() -> None:
    given = cli.options_from(cli.parser().parse_args(["--quick", "--dense", "flat,hnsw", "--xquad", "/x/q.json"]))
    sent = json.loads(json.dumps(growth_process.options_to_json(given)))
    assert growth_process.options_from_json(sent) == given


def test_unknown_dense_index_kind_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="flat"):
        options.BenchOptions(dense_kinds=("lsh",))
    with pytest.raises(options.BenchmarkError, match="hnsw"):
        cli.options_from(cli.parser().parse_args(["--dense", "ivf"]))


def test_synthetic_passages_are_sentences_of_their_articles() -> None:
    made = _corpus(250)
    articles = {a.id: a for a in made.articles}
    assert [p.id for p in made.passages] == list(range(250))
    assert made.passages[0].article_id == "real"
    for passage in made.passages[1:]:
        text = articles[passage.article_id].text
        assert text[passage.start : passage.end] == " ".join(text[s.start : s.end] for s in passage.sentences)
        assert all(text[s.start : s.end] in SOURCE.text for s in passage.sentences)
        assert 3 <= len(passage.sentences) <= 7


def test_term_documents_give_each_document_as_a_list_of_ints() -> None:
    documents = corpus.TermDocuments(np.array([4, 5, 6, 7], dtype=np.int32), np.array([0, 1, 1, 4]), {})
    assert len(documents) == 3
    assert list(documents) == [[4], [], [5, 6, 7]] == documents[:]
    assert documents[-1] == [5, 6, 7] and type(documents[0][0]) is int
    with pytest.raises(IndexError):
        documents[3]


def test_synthetic_bm25_scores_as_bm25s_indexing_the_same_terms() -> None:
    made_corpus = _corpus(400)
    expected = bm25s.BM25()
    expected.index(_doc_terms(made_corpus.documents), show_progress=False)
    made = corpus.synthetic_bm25(made_corpus.documents)
    terms = [t for t in made_corpus.documents.vocab if t]
    real_only = Analyzer().terms("شويجو")
    for query in ([terms[0]], terms[1:4], [terms[5], terms[5], terms[-1]], real_only):
        scores = made.get_scores(query)
        assert scores.max() > 0
        np.testing.assert_allclose(scores, expected.get_scores(query), rtol=1e-5)
    assert "" not in made_corpus.documents.vocab  # bm25s added its empty term to a copy


def test_unit_vectors_are_normalised_and_reproducible() -> None:
    vectors = corpus.unit_vectors(1000, 16, seed=3, chunk=300)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, corpus.unit_vectors(1000, 16, seed=3, chunk=300))


@pytest.mark.parametrize("kind", options.DENSE_KINDS)
def test_every_dense_index_kind_finds_a_stored_vector_and_gives_it_back(kind: str) -> None:
    vectors = corpus.unit_vectors(3000, 32, seed=5)
    index = growth.comparison_index(kind, vectors)
    assert growth.index_kind(index) == kind
    _, ids = index.search(vectors[[42]], 5)
    assert ids[0][0] == 42
    np.testing.assert_allclose(index.reconstruct_batch(np.array([42, 7], dtype=np.int64)), vectors[[42, 7]])


def test_interleaved_alternates_which_call_goes_first() -> None:
    calls: list[str] = []
    first, second = (lambda q: calls.append("a" + q)), (lambda q: calls.append("b" + q))
    samples = measure.interleaved({"a": first, "b": second}, ["1"], 2)
    assert calls == ["a1", "b1", "a1", "b1", "b1", "a1"]  # warm-up, then a first, then b first
    assert {name: len(times) for name, times in samples.items()} == {"a": 2, "b": 2}


def test_figure_says_whether_its_target_is_met() -> None:
    met = report.Figure("x", "overhead", 1.2, "x", 1.5, detail="ask 1 ms")
    missed = report.Figure("q", "throughput", 3.0, " q/s", 5.0, higher_is_better=True)
    assert met.met and "met" in met.line() and "ask 1 ms" in met.line()
    assert missed.met is False and "MISSED" in missed.line()
    assert "skipped" in report.skipped("growth_ratio", "growth", "--skip-growth").line()


def test_json_report_holds_every_figure_under_its_key() -> None:
    figures = [report.Figure(k, k, 1.0) for k in JSON_KEYS[:3]] + [report.skipped(k, k, "") for k in JSON_KEYS[3:]]
    made = report.report_json(figures, options.BenchOptions(quick=True), seconds=1.0)
    assert all(key in made for key in JSON_KEYS)
    assert made["bot_rss_mb"] is None and made["answer_overhead"] == 1.0
    json.dumps(made)


def test_a_figure_of_several_values_gives_them_all_in_the_json() -> None:
    per_count = report.Figure("replicas_qps", "replicas", 1.5, "x", values={"1": 10.0, "2": 15.0})
    made = report.report_json([per_count, report.skipped("other", "other", "")], options.BenchOptions(), seconds=1.0)
    assert made["replicas_qps"] == {"1": 10.0, "2": 15.0} and made["other"] is None
    assert "1.50x" in per_count.line()


def _call(fake: FakeTelegram, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps(params or {}).encode("utf-8")
    request = urllib.request.Request(
        f"{fake.url}/bot{fake.token}/{method}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_fake_bot_api_hands_out_a_batch_of_questions_and_times_the_replies() -> None:
    """What the bot-load step relies on: one getUpdates sees every chat's question, and each
    chat's replies are kept with the time they arrived."""
    with FakeTelegram(BOT_TOKEN, max_poll_seconds=0.1) as fake:
        assert _call(fake, "getMe")["result"]["is_bot"]
        asked = fake.send_texts({11: "سؤال", 12: "سؤال آخر"})
        updates = _call(fake, "getUpdates", {"offset": 0, "timeout": 1})["result"]
        assert [u["message"]["chat"]["id"] for u in updates] == [11, 12]
        assert _call(fake, "getUpdates", {"offset": updates[-1]["update_id"] + 1, "timeout": 0})["result"] == []
        sent = _call(fake, "sendMessage", {"chat_id": 11, "text": "جواب"})["result"]
        replies = fake.messages_by_chat([11, 12])
        assert sent["chat"]["id"] == 11 and [r.plain for r in replies[11]] == ["جواب"] and replies[12] == []
        assert replies[11][0].at >= asked
        assert _call(fake, "setMyCommands", {"commands": []})["ok"]


IMPORTTIME_LOG = """import time: self [us] | cumulative | imported package
import time:      3000 |       3000 |     numpy._core
import time:     10000 |      13000 |   numpy
import time:     20000 |      33000 | faiss
import time:      5000 |       5000 | json
import time:     10000 |      10000 |   numpy.linalg
import time:     40000 |      50000 | embeddings.index
"""


def test_import_breakdown_counts_each_top_level_import_once_and_sums_packages() -> None:
    seconds = cold.import_seconds(IMPORTTIME_LOG, top=2)
    assert seconds == {"total": 0.088, "embeddings": 0.04, "numpy": 0.023}


def test_the_cold_ask_is_the_command_a_user_types() -> None:
    assert cold.ask_command()[1:4] == ["-m", "embeddings", "ask"]


def test_rss_is_read_from_proc() -> None:
    memory = measure.rss_mb()
    assert memory["VmHWM"] >= memory["VmRSS"] > 0


def test_cpu_seconds_of_a_process_are_read_from_proc() -> None:
    sum(n * n for n in range(2_000_000))  # some CPU time to read
    assert measure.cpu_seconds(os.getpid()) == pytest.approx(time.process_time(), abs=0.05)


def test_without_pgserver_the_replicas_step_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pgserver.postgres_server", None)  # import fails as if not installed
    with pytest.raises(options.BenchmarkError) as failed, postgres.postgres_server():
        pass
    assert "pip install -e '.[dev]'" in str(failed.value) and "--skip-replicas" in str(failed.value)


@pytest.mark.skipif(not XQUAD.is_file(), reason=f"needs the XQuAD-ar file at {XQUAD} (../shared beside the project)")
def test_quick_bench_reports_every_figure_as_a_positive_number() -> None:
    """The CI run: 20,000 synthetic passages, one repeat, the real model and the real bot."""
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    made = json.loads(run.stdout)
    assert {key: made[key] > 0 for key in JSON_KEYS} == dict.fromkeys(JSON_KEYS, True)
    assert set(made["replicas_qps"]) == {"1", "2"} and min(made["replicas_qps"].values()) > 0
    assert made["chat_memory_mb"] >= 0  # an RSS difference: may round to 0 on the quick run's small page
    assert made["raw"]["growth_ratio"]["synthetic"] is True
    # the growth step ran in its own process on the served backend, not in the torch process
    assert made["raw"]["index_1m_rss_mb"]["model_backend"] == made["backend"]
    assert made["setup"]["growth_passages"] == options.QUICK_GROWTH


def test_long_page_reaches_the_words_asked_for_and_is_a_news_page() -> None:
    articles = [Article(f"a{n}", "t", "s", "كلمة " * 100 + "\n" + "أخرى " * 100) for n in range(40)]
    page, words = chat_add.long_page(articles, words=5000)
    assert 5000 <= words < 5100 and page.decode().count("<p>") == 50 and b"<article>" in page
