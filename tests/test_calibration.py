"""Calibration: `calibrate` fits a ranker and a decision on a SQuAD file and writes JSON that loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from embeddings.calibrate import collect, fit
from embeddings.calibration import Calibration, calibration_path, load_calibration, read_calibration
from embeddings.errors import CalibrationError
from embeddings.evaluate import read_squad
from embeddings.evidence import FEATURES

if TYPE_CHECKING:
    from tests.conftest import FakeEncoder

SQUAD = {
    "data": [
        {
            "title": f"مقال {n}",
            "paragraphs": [
                {
                    "context": f"افتتح المعرض رقم {n} في المدينة {n}. وحضره {n * 100} زائر. وقال المدير إن المعرض نجح.",
                    "qas": [
                        {"question": f"كم زائرًا حضر المعرض رقم {n}؟", "answers": [{"text": f"{n * 100}"}]},
                        {"question": f"أين افتتح المعرض رقم {n}؟", "answers": [{"text": f"المدينة {n}"}]},
                    ],
                }
            ],
        }
        for n in range(1, 9)
    ]
}


def test_calibrate_on_a_v1_file_writes_a_calibration_that_loads(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    samples = collect(read_squad(path), fake_encoder, folds=2, log=lambda _: None)  # type: ignore[arg-type]
    assert sum(s.answerable for s in samples) == 16 and sum(not s.answerable for s in samples) == 16
    calibration = fit(samples, "fake-hash-encoder", {"file": path.name})
    out = tmp_path / "cal.json"
    out.write_text(json.dumps(calibration.to_json()), encoding="utf-8")
    loaded = read_calibration(out)
    assert loaded == calibration and loaded.features == FEATURES
    assert set(loaded.figures) >= {"answer_rate", "answer_precision", "false_answer_rate"}
    # the answer threshold is judged on out-of-fold probabilities (8 articles: 4 folds)
    assert "out-of-fold" in loaded.data["rule"] and "answer_precision" in loaded.figures["out_of_fold"]
    decision = loaded.decide([_candidate(0), _candidate(1)])
    assert 0.0 <= decision.p_answer <= 1.0 and loaded.kind(decision) in ("answer", "closest", "not_found")


def _candidate(rank: int):
    from embeddings.evidence import Candidate
    from embeddings.types import Span

    return Candidate(rank, Span(0, 1), np.linspace(0, 1, len(FEATURES)))


def test_the_default_model_ships_its_calibration() -> None:
    calibration = load_calibration("default")
    assert isinstance(calibration, Calibration) and calibration_path("default").is_file()
    assert calibration.data["file"] == "xquad.ar.json" and 0 < calibration.answer_threshold < 1


def test_another_model_without_calibration_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    load_calibration("some/other-model")
    assert "run: python -m embeddings calibrate" in caplog.text


def test_a_damaged_calibration_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "cal.json"
    bad.write_text('{"format": 1}', encoding="utf-8")
    with pytest.raises(CalibrationError, match=str(bad)):
        load_calibration("default", bad)


def test_a_focus_term_matches_across_a_clitic_the_stemmer_left_on() -> None:
    # Snowball leaves ل in لأهدافها (→ لاهداف) and و in وأصابت (→ واصاب), but not in أهدافها.
    from embeddings.evidence import _all_keys, _keys
    from embeddings.lexical import Analyzer

    analyzer = Analyzer()
    question = analyzer.terms("ما الذي أكدته إصابة الصواريخ لأهدافها؟")
    sentence = _all_keys(analyzer.terms("وأصابت جميع الصواريخ أهدافها بدقة"))
    assert all(_keys(t) & sentence for t in question if t not in ("اكد",))
    # a short stem is not cut down to a different word (كلام is not لام)
    assert _keys("كلام") == {"كلام"}


def test_a_focus_term_matches_when_the_stemmer_took_a_words_own_first_letter_for_a_conjunction() -> None:
    # Snowball reads the و of وفوده as "and" (→ فود) but keeps it in الوفود (→ وفود).
    from embeddings.evidence import _all_keys, _keys
    from embeddings.lexical import Analyzer

    analyzer = Analyzer()
    (question,) = [t for t in analyzer.terms("رؤساء وفوده") if t != "روساء"]
    assert _keys(question) & _all_keys(analyzer.terms("متحدثا إلى رؤساء الوفود"))
    # other clitics still need four letters left: كلام is not لام, بحر is not حر
    assert _keys("بحار") == {"بحار"}


def test_the_asked_for_answer_counts_as_near_when_it_stands_next_to_a_focus_word() -> None:
    from embeddings.answer_types import answer_found, answer_near

    question = "ما اسم وزير الدفاع الروسي؟"
    focus = {"وزير", "الدفاع", "الروسي"}
    close = "وتلقى الرئيس تقريرا من وزير الدفاع الروسي سيرجي شويجو عن سير التدريبات"
    far = "وقال وزير الدفاع الروسي في تقريره إن التدريبات جرت بنجاح، بحسب قناة يوتيوب الشهيرة بين المشاهدين"
    assert answer_near(answer_found("name", close, question), close, focus.__contains__)
    found_far = answer_found("name", far, question)
    assert found_far and not answer_near(found_far, far, focus.__contains__)
    number = "كم صاروخا أطلق؟"
    assert answer_near(answer_found("number", "أطلق 12 صاروخا", number), "أطلق 12 صاروخا", {"صاروخا"}.__contains__)
    assert not answer_near(set(), "أطلق 12 صاروخا", {"صاروخا"}.__contains__)


def test_a_measure_question_wants_a_number_with_its_unit() -> None:
    from embeddings.answer_types import has_answer_type, question_measure

    weight = "ما وزن صاروخ يارس؟"
    assert question_measure(weight) == "وزن"
    assert not has_answer_type("number", "أطلقت ثلاثة صواريخ يارس", weight)
    assert has_answer_type("number", "يبلغ وزنه 47 طنا", weight)
    assert has_answer_type("number", "تبلغ مساحتها 1762 كيلومترا مربعا", "كم تبلغ مساحة القاعدة؟")
    assert question_measure("كم عدد الجنود؟") is None
    assert has_answer_type("number", "شارك 300 جندي", "كم عدد الجنود؟")


@pytest.mark.parametrize(
    ("question", "kind", "measure"),
    [
        ("ما عدد الجنود؟", "number", None),
        ("ما هي سرعة الصاروخ؟", "number", "سرعه"),
        ("كم تبلغ مساحة القاعدة؟", "number", "مساحه"),
        ("وكم صاروخا أطلق؟", "number", None),
        # a number word inside the topic does not ask for a number
        ("ما السكك الحديدية التي تغطي مساحة كبيرة من المدينة؟", "other", None),
        ("عدد بعض الشركات الكبيرة.", "other", None),
        ("من سجل أعلى عدد من الأهداف هذا الموسم؟", "name", None),
    ],
)
def test_a_number_cue_asks_for_a_number_only_after_a_question_word(
    question: str, kind: str, measure: str | None
) -> None:
    from embeddings.answer_types import question_measure, question_type

    assert (question_type(question), question_measure(question)) == (kind, measure)
