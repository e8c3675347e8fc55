"""The fitted decision: which candidate leads, and whether it is an answer.

Two fitted models over the evidence features (evidence.py):

- the *ranker*, a conditional logit over the candidates of one question (its sentences, and
  two adjacent sentences as one span), trained on answerable questions: the candidates
  holding a gold answer against the others; the best-scoring one is bold, and its passage is
  quoted first;
- the *decision*, two logistic models over the lead's features and the ranker's scores:
  P(the lead answers) → `answer` at `answer_threshold`; P(the question is
  about the indexed articles at all) → `closest` at `closest_threshold`; else `not_found`.

A calibration is a small JSON file written by `python -m embeddings calibrate`; the default
model's ships in `embeddings/calibrations/default.json`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CalibrationError
from .evidence import FEATURES, Candidate

CALIBRATION_FORMAT = 1
PACKAGED = Path(__file__).resolve().parent / "calibrations"
DECISION_FEATURES = (*FEATURES, "lead_score", "lead_margin", "lead_share")


@dataclass(frozen=True)
class Linear:
    """A linear score over standardised features: ((x − mean) / scale) · weights + bias."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float = 0.0

    def score(self, x: np.ndarray) -> np.ndarray:
        """The score of each row of `x` (or of one vector)."""
        z = (np.asarray(x, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        scores: np.ndarray = z @ np.asarray(self.weights) + self.bias
        return scores

    def probability(self, x: np.ndarray) -> np.ndarray:
        """The logistic of the score."""
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(self.score(x), -40, 40)))
        return probabilities


@dataclass(frozen=True)
class Decision:
    """How one question is answered: the lead candidate and the two probabilities."""

    lead: int  # index into the candidates
    scores: np.ndarray  # ranker score of every candidate
    p_answer: float
    p_topic: float


@dataclass(frozen=True)
class Calibration:
    """A fitted ranker and decision for one embedding model (see the module docstring)."""

    model: str
    ranker: Linear
    answer: Linear
    topic: Linear
    answer_threshold: float
    closest_threshold: float
    features: tuple[str, ...] = FEATURES
    data: dict[str, Any] = field(default_factory=dict)  # what it was fitted on
    figures: dict[str, Any] = field(default_factory=dict)  # what it reached there

    def decide(self, candidates: Sequence[Candidate]) -> Decision:
        """The lead candidate and the probabilities that it answers / that the question is on topic."""
        table = np.stack([c.features for c in candidates])
        scores = self.ranker.score(table)
        lead = int(np.argmax(scores))
        x = decision_features(table[lead], scores, lead)
        return Decision(lead, scores, float(self.answer.probability(x)), float(self.topic.probability(x)))

    def kind(self, decision: Decision) -> str:
        """answer, closest or not_found for a decision."""
        if decision.p_answer >= self.answer_threshold:
            return "answer"
        if decision.p_topic >= self.closest_threshold:
            return "closest"
        return "not_found"

    def always_answering(self) -> Calibration:
        """The same ranker with the decision switched off (every question gets `answer`)."""
        return replace(self, answer_threshold=-1.0)

    def with_answer_threshold(self, threshold: float) -> Calibration:
        """The same calibration with another `answer` threshold (SANAD_ABSTAIN_THRESHOLD)."""
        return replace(self, answer_threshold=threshold)

    def to_json(self) -> dict[str, Any]:
        """The calibration as a JSON-ready object."""
        return {
            "format": CALIBRATION_FORMAT,
            "model": self.model,
            "features": list(self.features),
            "decision_features": list(DECISION_FEATURES),
            "ranker": asdict(self.ranker),
            "answer": asdict(self.answer),
            "topic": asdict(self.topic),
            "answer_threshold": self.answer_threshold,
            "closest_threshold": self.closest_threshold,
            "data": self.data,
            "figures": self.figures,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        """A calibration from `to_json`'s object; CalibrationError if it does not fit this code."""
        try:
            if data["format"] != CALIBRATION_FORMAT or tuple(data["features"]) != FEATURES:
                raise CalibrationError(
                    "the calibration was made for other features; run: python -m embeddings calibrate FILE.json"
                )
            linear = {name: _linear(data[name]) for name in ("ranker", "answer", "topic")}
            if len(linear["ranker"].weights) != len(FEATURES) or len(linear["answer"].weights) != len(
                DECISION_FEATURES
            ):
                raise CalibrationError("the calibration's weights do not match its features")
            return cls(
                model=str(data["model"]),
                answer_threshold=float(data["answer_threshold"]),
                closest_threshold=float(data["closest_threshold"]),
                data=dict(data.get("data", {})),
                figures=dict(data.get("figures", {})),
                ranker=linear["ranker"],
                answer=linear["answer"],
                topic=linear["topic"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"the calibration is damaged ({type(exc).__name__}: {exc})") from exc


def _linear(data: dict[str, Any]) -> Linear:
    return Linear(
        mean=tuple(map(float, data["mean"])),
        scale=tuple(map(float, data["scale"])),
        weights=tuple(map(float, data["weights"])),
        bias=float(data.get("bias", 0.0)),
    )


def decision_features(lead_features: np.ndarray, scores: np.ndarray, lead: int) -> np.ndarray:
    """The decision's inputs: the lead's features, its ranker score, its margin over the
    runner-up, and its softmax share among the candidates."""
    others = np.delete(scores, lead)
    margin = float(scores[lead] - others.max()) if len(others) else 5.0
    shifted = np.exp(scores - scores.max())
    share = float(shifted[lead] / shifted.sum())
    return np.concatenate([lead_features, [float(scores[lead]), min(margin, 5.0), share]])


def calibration_path(model: str, backend: str = "torch") -> Path:
    """Where the packaged calibration of `model` on `backend` is (it may not exist): each
    backend of the default model has its own (int8 weights shift the cosines), e.g.
    default.json (torch), default-onnx-int8.json."""
    name = "default" if model == "default" else "".join(c if c.isalnum() else "_" for c in model)
    return PACKAGED / (f"{name}.json" if backend == "torch" else f"{name}-{backend}.json")


def read_calibration(path: Path) -> Calibration:
    """The calibration in `path`; CalibrationError naming the file when it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalibrationError(f"calibration file {path} does not exist; check SANAD_CALIBRATION") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"calibration file {path} is not JSON ({type(exc).__name__})") from exc
    try:
        return Calibration.from_json(data)
    except CalibrationError as exc:
        raise CalibrationError(f"{path}: {exc}") from exc


def load_calibration(model: str, path: Path | None = None, backend: str = "torch") -> Calibration:
    """The calibration to use with `model` on `backend`: `path` if given, else the packaged one
    for the model and backend; a model without one gets the default model's on torch, with a
    warning to calibrate."""
    if path is not None:
        calibration = read_calibration(path)
        if calibration.model != model:
            logging.getLogger(__name__).warning(
                "the calibration %s was fitted for model %r, not %r", path, calibration.model, model
            )
        return calibration
    own = calibration_path(model, backend)
    if own.is_file():
        return read_calibration(own)
    logging.getLogger(__name__).warning(
        "no calibration for the model %r on the %s backend: its answers are decided with the default model's, whose "
        "probabilities do not fit it; run: python -m embeddings calibrate FILE.json --out PATH "
        "and set SANAD_CALIBRATION=PATH",
        model,
        backend,
    )
    return read_calibration(calibration_path("default"))
