"""Command line: `python -m embeddings build | ask | eval`.

The CLI parses, calls the core, formats, and sets the exit code: 0 on success, 2 on a
mistake the user can fix (the message says how), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .articles import ARTICLE_SUFFIX, article_files, read_articles
from .engine import Engine, RetrievalConfig
from .errors import ArticleError, SanadError
from .evaluate import evaluate, read_squad
from .index import build_index, save_index
from .lexical import Analyzer
from .model import load_encoder
from .settings import Settings, read_environment
from .types import Answer, Quote


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _copy_into_library(paths: Sequence[Path], folder: Path) -> None:
    """Put article files given to `build` into the articles folder, never overwriting."""
    articles = read_articles(paths)  # validates every file before anything is copied
    folder.mkdir(parents=True, exist_ok=True)
    for path, article in zip(paths, articles, strict=True):
        target = folder / path.name
        if target.resolve() == path.resolve():
            continue
        if target.exists() and target.read_text(encoding="utf-8") != path.read_text(encoding="utf-8"):
            raise ArticleError(f"{target} already exists with other text; rename {path} or remove {target}")
        shutil.copyfile(path, target)
        sidecar = path.with_suffix(".json")
        if sidecar.is_file():
            shutil.copyfile(sidecar, target.with_suffix(".json"))
        _err(f"Added {article.id} to {folder}")


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    """(Re)build the index of the articles folder, with a progress bar."""
    if args.articles:
        paths = [Path(p) for p in args.articles]
        bad = [str(p) for p in paths if not p.name.endswith(ARTICLE_SUFFIX)]
        if bad:
            raise ArticleError(f"article files must be UTF-8 {ARTICLE_SUFFIX} files: {', '.join(bad)}")
        _copy_into_library(paths, settings.articles_dir)
    articles = read_articles(article_files(settings.articles_dir))
    if not articles:
        raise ArticleError(f"no {ARTICLE_SUFFIX} articles in {settings.articles_dir}; add one, e.g. build FILE.txt")
    _err("Loading the embedding model…")
    encoder = load_encoder(settings.model, settings.model_cache)
    _err(f"Embedding {len(articles)} article(s)…")
    config = RetrievalConfig()
    index = build_index(articles, encoder, Analyzer(), config.chunking, progress=True)
    save_index(index, settings.index_dir)
    print(f"Built the index: {len(index)} passages from {len(articles)} article(s) in {settings.index_dir}")
    return 0


def _quote_json(quote: Quote) -> dict:
    return {
        "text": quote.text,
        "highlight": quote.highlight_text,
        "article": quote.article_id,
        "title": quote.title,
        "source": quote.source,
        "paragraph": quote.paragraph,
        "start": quote.start,
        "end": quote.end,
        "highlight_start": quote.highlight.start,
        "highlight_end": quote.highlight.end,
        "scores": {"fused": quote.scores.fused, "dense": quote.scores.dense, "bm25": quote.scores.lexical},
    }


def answer_json(answer: Answer) -> dict:
    """The answer as a JSON-ready object."""
    return {"question": answer.question, "found": answer.found, "quotes": [_quote_json(q) for q in answer.quotes]}


def answer_text(answer: Answer) -> str:
    """The answer as a person reads it in a terminal."""
    if not answer.found:
        return (
            "Not found: the articles do not answer this question.\n"
            "Try other words, or see what the articles cover in data/articles/."
        )
    lines = [f"«{answer.quotes[0].highlight_text}» [1]", ""]
    for n, quote in enumerate(answer.quotes, start=1):
        s = quote.scores
        lines.append(f"[{n}] {quote.title} — paragraph {quote.paragraph}")
        lines.append(f"    score {s.fused:.3f} (cosine {s.dense:.3f}, bm25 {s.lexical:.2f})")
        lines.append(f"    {quote.text}")
        lines.append("")
    return "\n".join(lines).rstrip()


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question from the index (building it first if needed)."""
    engine = Engine.open(settings, log=_err, progress=True)
    answer = engine.ask(args.question, k=args.k)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        print(answer_text(answer))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Index a SQuAD v1.1 file's contexts and report recall@1/3/5 and MRR."""
    from tqdm import tqdm

    data = read_squad(Path(args.file))
    _err(f"{len(data.questions)} questions over {len(data.articles)} articles; loading the model…")
    encoder = load_encoder(settings.model, settings.model_cache)
    engine = Engine.from_articles(data.articles, encoder, progress=True, abstention=None)
    k = max(args.k, 5)
    with tqdm(total=len(data.questions), desc="Asking", unit="q", file=sys.stderr) as bar:
        report = evaluate(lambda q: engine.ask(q, k=k), data.questions, args.k, on_question=bar.update)
    report = {"file": str(args.file), "model": encoder.name, "passages": len(engine.index), "k": args.k, **report}
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>10}: {value}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m embeddings`."""
    top = argparse.ArgumentParser(
        prog="python -m embeddings",
        description="Sanad: answer Arabic questions with verbatim, cited quotes from articles.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = sub.add_parser("build", help="(re)build the index of the articles folder")
    build.add_argument(
        "articles", nargs="*", metavar="ARTICLE", help="UTF-8 .txt files to add to the articles folder first"
    )
    build.set_defaults(run=cmd_build)
    ask = sub.add_parser("ask", help="answer a question with quotes from the articles")
    ask.add_argument("question", help='the question, e.g. "ما اسم وزير الدفاع الروسي؟"')
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("-k", type=_positive, default=None, help="how many quotes at most (default: SANAD_TOP_K or 3)")
    ask.set_defaults(run=cmd_ask)
    ev = sub.add_parser("eval", help="measure recall@1/3/5 and MRR on a SQuAD v1.1 file")
    ev.add_argument("file", metavar="FILE.json", help="SQuAD v1.1 JSON, e.g. ../shared/eval/xquad.ar.json")
    ev.add_argument("-k", type=_positive, default=5, help="MRR cut-off (default 5)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(run=cmd_eval)
    return top


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive whole number")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(read_environment())
        return args.run(args, settings)
    except SanadError as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
