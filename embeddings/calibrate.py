"""`python -m embeddings calibrate FILE.json`: fit the ranker and the decision on a SQuAD file.

Answerable questions are asked of an index of all the file's articles. Unanswerable ones are
the file's `is_impossible` questions (SQuAD v2.0) and, for a file without any (v1.1), every
question asked twice more:

- of an index without its own article (off topic: the articles are cut into folds, and each
  fold's questions are asked of the others), which teaches `not_found`;
- of an index of all the articles with its own paragraph removed (near topic: the article is
  there, the fact is not; paragraphs are cut into folds by position), which teaches that an
  on-topic passage is not an answer — `closest`. A question whose gold answer is still in
  its article elsewhere stays answerable.

Every text is embedded once (the encoder remembers), so a fold costs a BM25 rebuild, not an
embedding. See calibration.py for the models.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .answer import gather_evidence
from .calibration import Calibration, Linear, calibration_path, decision_features
from .engine import Engine, question_text
from .evaluate import EvalQuestion, EvalSet, RememberingEncoder, read_squad
from .evidence import FEATURES, ArticleTermsCache, EvidenceSources
from .index import SearchIndex, build_index
from .lexical import Analyzer
from .model import Encoder, load_encoder
from .retrieve import retrieve
from .settings import Settings
from .types import Article

FOLDS = 4
CANDIDATE_HITS = 5
TARGET_PRECISION = 0.85  # of the answers to answerable questions, the share holding the answer
MAX_FALSE_ANSWERS = 0.10  # of the unanswerable questions, the share answered anyway
L2 = 1e-3


@dataclass(frozen=True)
class Sample:
    """One question's candidates: features (n, len(FEATURES)), which hold a gold answer, and
    whether the question is answerable from the index it was asked of."""

    features: np.ndarray
    holds: np.ndarray
    answerable: bool
    on_topic: bool | None = None  # None: as answerable (a near-topic question is on topic, not answerable)
    group: int = 0  # its article (or, for an is_impossible question, its position): folds keep a group together

    @property
    def topical(self) -> bool:
        return self.answerable if self.on_topic is None else self.on_topic


def _samples(
    index: SearchIndex,
    articles: Sequence[Article],
    questions: Sequence[EvalQuestion],
    vectors: dict[str, np.ndarray],
    answerable: bool | None,
    analyzer: Analyzer,
    engine: Engine,
    by_position: bool = False,
) -> list[Sample]:
    """The samples of these questions asked of `index`; answerable None: near topic (answerable
    when a gold answer is still in its article's indexed text). Each sample's group is its
    question's article, or with `by_position` its position in `questions`."""
    by_id = {a.id: a for a in articles}
    cache = ArticleTermsCache()  # these articles' terms (an article id may hold other text elsewhere)
    pieces = getattr(engine.encoder, "word_pieces", None)
    out = []
    for position, q in enumerate(questions):
        group = position if by_position else q.article
        text = question_text(q.question)
        hits = retrieve(index, vectors[text], analyzer.terms(text), engine.config.fusion)
        sources = EvidenceSources(
            by_id, index.sentence_vectors, analyzer.terms, index.idf, index.is_unseen, pieces=pieces, cache=cache
        )
        evidence = gather_evidence(text, vectors[text], hits, sources, CANDIDATE_HITS)
        if not evidence.candidates:
            continue
        spans = [(by_id[evidence.hits[c.hit_rank].passage.article_id], c.span) for c in evidence.candidates]
        holds = np.array([any(g and g in a.text[s.start : s.end] for g in q.answers) for a, s in spans])
        features = np.stack([c.features for c in evidence.candidates])
        if answerable is None:
            still = any(g and g in articles[q.article].text for g in q.answers)
            out.append(Sample(features, holds, still, on_topic=True, group=group))
        else:
            out.append(Sample(features, holds, answerable, group=group))
    return out


def collect(data: EvalSet, encoder: Encoder, folds: int = FOLDS, log: Callable[[str], None] = print) -> list[Sample]:
    """The samples of every question of `data` (see the module docstring)."""
    encoder = RememberingEncoder(encoder)
    engine = Engine.from_articles(data.articles, encoder, abstention=None, progress=True)
    analyzer = engine.analyzer
    texts = sorted({question_text(q.question) for q in data.questions})
    log(f"Embedding {len(texts)} questions…")
    vectors = dict(zip(texts, encoder.encode_queries(texts), strict=True))
    answerable = [q for q in data.questions if q.answerable]
    impossible = [q for q in data.questions if not q.answerable]
    samples = _samples(engine.index, data.articles, answerable, vectors, True, analyzer, engine)
    samples += _samples(engine.index, data.articles, impossible, vectors, False, analyzer, engine, by_position=True)
    if impossible:
        return samples
    for fold in range(folds):
        held = {i for i in range(len(data.articles)) if i % folds == fold}
        kept = [a for i, a in enumerate(data.articles) if i not in held]
        index = build_index(kept, encoder, analyzer, engine.config.chunking, previous=engine.index)
        asked = [q for q in data.questions if q.article in held]
        log(f"Fold {fold + 1}/{folds}: {len(asked)} questions asked without their {len(held)} article(s)")
        samples += _samples(index, kept, asked, vectors, False, analyzer, engine)
    for fold in range(folds):
        without = [_without_paragraphs(a, fold, folds) for a in data.articles]
        index = build_index(without, encoder, analyzer, engine.config.chunking)
        asked = [
            q for q in data.questions if q.paragraph % folds == fold and without[q.article] != data.articles[q.article]
        ]
        log(f"Paragraph fold {fold + 1}/{folds}: {len(asked)} questions asked without their own paragraph")
        samples += _samples(index, without, asked, vectors, None, analyzer, engine)
    return samples


def _without_paragraphs(article: Article, fold: int, folds: int) -> Article:
    """The article without its paragraphs number fold, fold + folds, ... (0-based); unchanged
    when that would leave nothing."""
    lines = article.text.split("\n")
    kept = [line for number, line in enumerate(lines) if number % folds != fold]
    if not kept or len(kept) == len(lines):
        return article
    return Article(article.id, article.title, article.source, "\n".join(kept), article.added)


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def fit_ranker(samples: Sequence[Sample], iterations: int = 3000, rate: float = 0.5) -> Linear:
    """A conditional logit: maximise, per question, the softmax share of the candidates that
    hold a gold answer (questions with none are skipped)."""
    used = [s for s in samples if s.answerable and s.holds.any()]
    x = np.vstack([s.features for s in used])
    y = np.concatenate([s.holds for s in used]).astype(np.float64)
    starts = np.cumsum([0] + [len(s.holds) for s in used])[:-1]
    group = np.repeat(np.arange(len(used)), [len(s.holds) for s in used])
    mean, scale = _standardise(x)
    z = (x - mean) / scale
    w, velocity = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for _ in range(iterations):
        s = z @ w
        s = s - np.maximum.reduceat(s, starts)[group]
        e = np.exp(s)
        p = e / np.add.reduceat(e, starts)[group]
        py = p * y
        q = py / np.add.reduceat(py, starts)[group]
        grad = -(z.T @ (q - p)) / len(used) + 2 * L2 * w
        velocity = 0.9 * velocity - rate * grad
        w = w + velocity
    return Linear(tuple(mean), tuple(scale), tuple(w))


def fit_logistic(x: np.ndarray, y: np.ndarray, iterations: int = 100) -> Linear:
    """L2-regularised logistic regression by Newton's method, on standardised features."""
    mean, scale = _standardise(x)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.r_[np.ones(z.shape[1] - 1), 0.0] * L2
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -40, 40)))
        grad = z.T @ (p - y) / len(y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z / len(y) + np.diag(penalty)
        step = np.linalg.solve(hessian, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return Linear(tuple(mean), tuple(scale), tuple(w[:-1]), float(w[-1]))


def _decision_rows(ranker: Linear, samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray]:
    rows, correct = [], []
    for s in samples:
        scores = ranker.score(s.features)
        lead = int(np.argmax(scores))
        rows.append(decision_features(s.features[lead], scores, lead))
        correct.append(bool(s.answerable and s.holds[lead]))
    return np.array(rows), np.array(correct, dtype=np.float64)


def figures_at(p_answer: np.ndarray, p_topic: np.ndarray, correct: np.ndarray, answerable: np.ndarray,
               answer_threshold: float, closest_threshold: float) -> dict[str, float]:  # fmt: skip
    """The answer-level figures (as `eval` reports them) of these thresholds on these samples."""
    answered = p_answer >= answer_threshold
    closest = ~answered & (p_topic >= closest_threshold)
    a, u = answerable, ~answerable
    return {
        "answer_rate": round(float(answered[a].mean()), 4) if a.any() else 0.0,
        "answer_precision": round(float(correct[a & answered].mean()), 4) if (a & answered).any() else 0.0,
        "closest_rate": round(float(closest[a].mean()), 4) if a.any() else 0.0,
        "false_answer_rate": round(float(answered[u].mean()), 4) if u.any() else 0.0,
        "unanswerable_closest_rate": round(float(closest[u].mean()), 4) if u.any() else 0.0,
        "headline@1": round(float(correct[a].mean()), 4) if a.any() else 0.0,
    }


def _fit_models(samples: Sequence[Sample]) -> tuple[Linear, Linear, Linear, np.ndarray, np.ndarray]:
    """The ranker, the answer and topic models, and the decision rows and labels they saw."""
    ranker = fit_ranker(samples)
    x, correct = _decision_rows(ranker, samples)
    answer = fit_logistic(x, correct)
    topic = fit_logistic(x, np.array([s.topical for s in samples], dtype=np.float64))
    return ranker, answer, topic, x, correct


def out_of_fold(samples: Sequence[Sample], folds: int = FOLDS) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """P(answer), P(topic) and whether the lead holds a gold answer for every sample, each
    predicted by models fitted on the other folds (samples of one group stay in one fold);
    None when there are too few groups, or a fold leaves no answerable question to fit on."""
    groups = sorted({s.group for s in samples})
    if len(groups) < folds:
        return None
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    p_answer, p_topic, correct = np.zeros(len(samples)), np.zeros(len(samples)), np.zeros(len(samples))
    for fold in range(folds):
        held = [i for i, s in enumerate(samples) if fold_of[s.group] == fold]
        train = [s for s in samples if fold_of[s.group] != fold]
        if not any(s.answerable and s.holds.any() for s in train):
            return None
        ranker, answer, topic, _, _ = _fit_models(train)
        x, right = _decision_rows(ranker, [samples[i] for i in held])
        p_answer[held], p_topic[held], correct[held] = answer.probability(x), topic.probability(x), right
    return p_answer, p_topic, correct


def fit(samples: Sequence[Sample], model: str, data: dict[str, Any], folds: int = FOLDS) -> Calibration:
    """The calibration fitted on the samples. The answer threshold is the lowest at which the
    answers hold the gold answer for TARGET_PRECISION of the answerable questions and at most
    MAX_FALSE_ANSWERS of the unanswerable ones are answered, judged on out-of-fold
    probabilities (folds by article): in-sample ones flatter the fit and give too low a
    threshold for questions it has not seen."""
    ranker, answer, topic, x, correct = _fit_models(samples)
    answerable = np.array([s.answerable for s in samples])
    p_answer, p_topic = answer.probability(x), topic.probability(x)
    held_out = out_of_fold(samples, folds)
    judged = held_out or (p_answer, p_topic, correct)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    closest_threshold = 0.5
    ok = [t for t in grid if _meets(figures_at(*judged, answerable, t, closest_threshold))]
    answer_threshold = float(min(ok)) if ok else 0.5
    # closest: the topic threshold that best separates answerable from unanswerable among
    # the questions not answered (Youden's J)
    rest = p_answer < answer_threshold
    if rest.any() and answerable[rest].any() and (~answerable[rest]).any():
        closest_threshold = float(max(grid, key=lambda t: _youden(p_topic[rest], answerable[rest], t)))
    figures: dict[str, Any] = figures_at(p_answer, p_topic, correct, answerable, answer_threshold, closest_threshold)
    if held_out is not None:
        figures["out_of_fold"] = figures_at(*held_out, answerable, answer_threshold, closest_threshold)
    judged_on = "these data (too few articles for folds)"
    if held_out is not None:
        judged_on = f"out-of-fold probabilities ({folds} folds by article)"
    data = {
        **data,
        "answerable": int(answerable.sum()),
        "unanswerable": int((~answerable).sum()),
        "rule": f"lowest answer threshold with precision >= {TARGET_PRECISION} and false answers <= "
        f"{MAX_FALSE_ANSWERS} on {judged_on}; closest threshold by Youden's J",
    }
    return Calibration(model, ranker, answer, topic, answer_threshold, closest_threshold, FEATURES, data, figures)


def _meets(figures: dict[str, float]) -> bool:
    return figures["answer_precision"] >= TARGET_PRECISION and figures["false_answer_rate"] <= MAX_FALSE_ANSWERS


def _youden(p: np.ndarray, positive: np.ndarray, t: float) -> float:
    return float((p[positive] >= t).mean() - (p[~positive] >= t).mean())


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    """Fit the decision on a SQuAD file and write the calibration JSON."""
    path = Path(args.file)
    data = read_squad(path)
    print(f"{len(data.questions)} questions over {len(data.articles)} articles; loading the model…", file=sys.stderr)
    encoder = load_encoder(settings.model, settings.model_cache, settings.backend, settings.encoder_threads)
    samples = collect(data, encoder, args.folds, log=lambda m: print(m, file=sys.stderr, flush=True))
    impossible = sum(not q.answerable for q in data.questions)
    folds = f"leave-article-out and leave-paragraph-out, {args.folds} folds each"
    used = {
        "file": path.name,
        "questions": len(data.questions),
        "articles": len(data.articles),
        "unanswerable_from": "is_impossible questions" if impossible else folds,
        "backend": settings.backend,
        "fitted": datetime.date.today().isoformat(),
    }
    calibration = fit(samples, settings.model, used, args.folds)
    out = Path(args.out) if args.out else calibration_path(settings.model, settings.backend)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(calibration.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"out": str(out), **calibration.figures}))
    print(f"Use it with: SANAD_CALIBRATION={out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `calibrate` command to the CLI's subcommands."""
    cal = sub.add_parser("calibrate", help="fit the answer / closest / not-found decision on a SQuAD v1.1 or v2.0 file")
    cal.add_argument("file", metavar="FILE.json", help="SQuAD v1.1 or v2.0 JSON, e.g. ../shared/eval/xquad.ar.json")
    cal.add_argument("--out", metavar="PATH", help="where to write it (default: the model's packaged calibration)")
    cal.add_argument("--folds", type=int, default=FOLDS, help=f"leave-article-out folds for v1.1 files ({FOLDS})")
    cal.set_defaults(run=cmd_calibrate)
