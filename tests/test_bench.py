"""The benchmark: its pieces on small inputs, and the small (CI) run of the whole command.

No test asserts a timing: on a shared machine they mean nothing alone. The whole-command
test only checks that every figure is there and positive, so the command never rots.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import bm25s
import numpy as np
import pytest

from embeddings import bench
from embeddings.lexical import Analyzer
from embeddings.passages import Chunking, build_passages
from embeddings.types import Article

PROJECT_ROOT = Path(__file__).resolve().parent.parent
XQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "xquad.ar.json"
JSON_KEYS = ("answer_overhead", "build_ratio", "growth_ratio", "bot_rss_mb", "index_1m_rss_mb", "questions_per_s")

SOURCE = Article(
    "source",
    "مصدر",
    "test",
    "دعا الرئيس إلى حماية البنية التحتية الحيوية. وقال إن التهديدات معقدة.\n"
    "أطلقت الطائرات صواريخ كروز جوا. وأصابت جميع الصواريخ أهدافها بدقة!\n"
    "جرى أول هذه التدريبات في 19 فبراير الماضي. وشاركت قوات الردع الاستراتيجي.",
)
REAL = Article("real", "حقيقي", "test", "وزير الدفاع الروسي هو سيرجي شويجو.")


def _corpus(n: int) -> bench.SyntheticCorpus:
    analyzer = Analyzer()
    real_passages = build_passages([REAL], Chunking())
    pool = bench.sentence_pool([SOURCE], analyzer)
    return bench.synthetic_corpus([REAL], real_passages, pool, analyzer, n, seed=7)


def _doc_terms(corpus: bench.SyntheticCorpus) -> list[list[str]]:
    words = {i: t for t, i in corpus.vocab.items()}
    edges = corpus.token_offsets
    return [[words[int(i)] for i in corpus.tokens[edges[d] : edges[d + 1]]] for d in range(len(edges) - 1)]


def test_register_adds_the_bench_command_with_its_flags() -> None:
    top = argparse.ArgumentParser()
    bench.register(top.add_subparsers(dest="command"))
    args = top.parse_args(["bench", "--json", "--quick", "--skip-growth", "--skip-bot", "--dense", "flat"])
    assert args.run is bench.cmd_bench
    assert (args.json, args.quick, args.skip_growth, args.skip_bot) == (True, True, True, True)
    options = bench.options_from(args)
    assert options.quick and options.growth_passages == bench.QUICK_GROWTH and options.dense_kinds == ("flat",)


@pytest.mark.parametrize(
    ("flags", "growth", "repeats"),
    [([], bench.FULL_GROWTH, 3), (["--quick"], bench.QUICK_GROWTH, 1), (["--growth-passages", "5_000"], 5000, 3)],
)
def test_options_follow_the_flags(flags: list[str], growth: int, repeats: int) -> None:
    top = argparse.ArgumentParser()
    bench.register(top.add_subparsers(dest="command"))
    options = bench.options_from(top.parse_args(["bench", *flags]))
    assert (options.growth_passages, options.repeats) == (growth, repeats)


def test_unknown_dense_index_kind_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="flat"):
        bench.BenchOptions(dense_kinds=("lsh",))


def test_synthetic_passages_are_sentences_of_their_articles() -> None:
    corpus = _corpus(250)
    articles = {a.id: a for a in corpus.articles}
    assert [p.id for p in corpus.passages] == list(range(250))
    assert corpus.passages[0].article_id == "real"
    for passage in corpus.passages[1:]:
        text = articles[passage.article_id].text
        assert text[passage.start : passage.end] == " ".join(text[s.start : s.end] for s in passage.sentences)
        assert all(text[s.start : s.end] in SOURCE.text for s in passage.sentences)
        assert 3 <= len(passage.sentences) <= 7


def test_synthetic_bm25_scores_as_bm25s_indexing_the_same_terms() -> None:
    corpus = _corpus(400)
    expected = bm25s.BM25()
    expected.index(_doc_terms(corpus), show_progress=False)
    made = bench.synthetic_bm25(corpus)
    terms = [t for t in corpus.vocab if t]
    real_only = Analyzer().terms("شويجو")
    for query in ([terms[0]], terms[1:4], [terms[5], terms[5], terms[-1]], real_only):
        scores = made.get_scores(query)
        assert scores.max() > 0
        np.testing.assert_allclose(scores, expected.get_scores(query), rtol=1e-5)


def test_unit_vectors_are_normalised_and_reproducible() -> None:
    vectors = bench.unit_vectors(1000, 16, seed=3, chunk=300)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, bench.unit_vectors(1000, 16, seed=3, chunk=300))


@pytest.mark.parametrize("kind", bench.DENSE_KINDS)
def test_every_dense_index_kind_finds_a_stored_vector_and_gives_it_back(kind: str) -> None:
    vectors = bench.unit_vectors(3000, 32, seed=5)
    index = bench.dense_index(kind, vectors, seed=5)
    _, ids = index.search(vectors[[42]], 5)
    assert ids[0][0] == 42
    np.testing.assert_allclose(index.reconstruct_batch(np.array([42, 7], dtype=np.int64)), vectors[[42, 7]])


def test_interleaved_alternates_which_call_goes_first() -> None:
    calls: list[str] = []
    samples = bench.interleaved({"a": lambda q: calls.append("a" + q), "b": lambda q: calls.append("b" + q)}, ["1"], 2)
    assert calls == ["a1", "b1", "a1", "b1", "b1", "a1"]  # warm-up, then a first, then b first
    assert {name: len(times) for name, times in samples.items()} == {"a": 2, "b": 2}


def test_figure_says_whether_its_target_is_met() -> None:
    met = bench.Figure("x", "overhead", 1.2, "x", 1.5, detail="ask 1 ms")
    missed = bench.Figure("q", "throughput", 3.0, " q/s", 5.0, higher_is_better=True)
    assert met.met and "met" in met.line() and "ask 1 ms" in met.line()
    assert missed.met is False and "MISSED" in missed.line()
    assert "skipped" in bench.skipped("growth_ratio", "growth", "--skip-growth").line()


def test_json_report_holds_every_figure_under_its_key() -> None:
    figures = [bench.Figure(k, k, 1.0) for k in JSON_KEYS[:3]] + [bench.skipped(k, k, "") for k in JSON_KEYS[3:]]
    report = bench.report_json(figures, bench.BenchOptions(quick=True), seconds=1.0)
    assert all(key in report for key in JSON_KEYS)
    assert report["bot_rss_mb"] is None and report["answer_overhead"] == 1.0
    json.dumps(report)


def _call(api: bench.FakeBotApi, method: str, params: dict | None = None) -> dict:
    body = json.dumps(params or {}).encode("utf-8")
    request = urllib.request.Request(
        f"{api.url}/bot{api.token}/{method}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_fake_bot_api_hands_out_questions_and_times_the_replies() -> None:
    with bench.FakeBotApi(bench.BOT_TOKEN, max_poll_seconds=0.1) as api:
        assert _call(api, "getMe")["result"]["is_bot"]
        asked = api.ask({11: "سؤال", 12: "سؤال آخر"})
        updates = _call(api, "getUpdates", {"offset": 0, "timeout": 1})["result"]
        assert [u["message"]["chat"]["id"] for u in updates] == [11, 12]
        assert _call(api, "getUpdates", {"offset": updates[-1]["update_id"] + 1, "timeout": 0})["result"] == []
        sent = _call(api, "sendMessage", {"chat_id": 11, "text": "جواب"})["result"]
        assert sent["chat"]["id"] == 11 and api.first_reply[11] >= asked
        assert _call(api, "setMyCommands", {"commands": "[]"})["ok"]


def test_rss_is_read_from_proc() -> None:
    memory = bench.rss_mb()
    assert memory["VmHWM"] >= memory["VmRSS"] > 0


@pytest.mark.skipif(not XQUAD.is_file(), reason=f"needs {XQUAD}")
def test_quick_bench_reports_every_figure_as_a_positive_number() -> None:
    """The CI run: 20,000 synthetic passages, one repeat, the real model and the real bot."""
    run = subprocess.run(
        [sys.executable, "-m", "embeddings", "bench", "--quick", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert {key: report[key] > 0 for key in JSON_KEYS} == dict.fromkeys(JSON_KEYS, True)
    assert report["raw"]["growth_ratio"]["synthetic"] is True
    assert report["setup"]["growth_passages"] == bench.QUICK_GROWTH
