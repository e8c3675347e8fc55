"""Command line: `python -m embeddings add | list | remove | build | ask | eval | eval-followups | chats | db |
feedback export`.

`list`, `ask` and `remove` take `--chat ID` to look at one chat's own articles (the bot's
per-chat collections: SANAD_DATABASE, or PostgreSQL when SANAD_DATABASE_URL is set) instead
of the shared library; that side of them, `chats` and `feedback export` are in
chat_commands.py. With SANAD_DATABASE_URL set, the shared library is PostgreSQL's too:
`add` and `remove` change its rows (every running replica follows), `list` and `ask` read
them, and `build` has nothing to build. `db upgrade` and `db import` (db_commands.py) manage
PostgreSQL.

The CLI parses, calls the core, formats, and sets the exit code: 0 on success (adding an
article already present included), 2 on a mistake the user can fix (one `error: ...` line
that says how), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import calibrate, db_commands, evaluate_followups
from .answer_output import answer_json, answer_text
from .articles import ARTICLE_SUFFIX, SIDECAR_SUFFIX, article_files, read_articles
from .chat_commands import cmd_chats, cmd_feedback_export, list_chat, opened_chats, remove_from_chat, since_date
from .engine import question_text
from .errors import ArticleError, EvalFileError, ExtractError, SanadError, SettingsError
from .indexed_library import IndexedLibrary
from .library import Library
from .model import load_encoder
from .process import prepare_process
from .settings import Settings, parse_positive_int, read_environment
from .types import Article

if TYPE_CHECKING:
    from .extract import ExtractedArticle
    from .store.shared_library import PostgresLibraryStore

# The modules a command alone needs (the fetcher, the extractor, the chats' store, PostgreSQL,
# the evaluation) are imported inside it: a cold `ask` does not pay for them (README, Benchmarks).


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
        sidecar = path.with_suffix(SIDECAR_SUFFIX)
        if sidecar.is_file():
            shutil.copyfile(sidecar, target.with_suffix(SIDECAR_SUFFIX))
        _err(f"Added {article.id} to {folder}")


@contextmanager
def _shared_articles(settings: Settings) -> Iterator[Library | PostgresLibraryStore]:
    """The shared library's articles to list, get and find: the folder, or PostgreSQL's rows
    when SANAD_DATABASE_URL is set (closed after the block)."""
    if settings.database_url is None:
        yield Library(settings.articles_dir)
        return
    from .store.shared_library import PostgresLibraryStore

    store = PostgresLibraryStore(settings.database_url)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _opened_library(settings: Settings) -> Iterator[IndexedLibrary]:
    """The shared library with its index and the model (closed after the block)."""
    library = IndexedLibrary.open(settings, log=_err, progress=True)
    try:
        yield library
    finally:
        library.close()


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    """(Re)build the index of the articles folder, with a progress bar."""
    if settings.database_url is not None:
        raise SettingsError(
            "build rebuilds the index folder of SANAD_ARTICLES_DIR, and with SANAD_DATABASE_URL set the shared "
            "library is in PostgreSQL: each replica builds its index from the database's vectors at start. Copy "
            "the folder into PostgreSQL with: python -m embeddings db import (or unset SANAD_DATABASE_URL)"
        )
    if args.articles:
        paths = [Path(p) for p in args.articles]
        bad = [str(p) for p in paths if not p.name.endswith(ARTICLE_SUFFIX)]
        if bad:
            raise ArticleError(f"article files must be UTF-8 {ARTICLE_SUFFIX} files: {', '.join(bad)}")
        _copy_into_library(paths, settings.articles_dir)
    articles = read_articles(article_files(settings.articles_dir))
    if not articles:
        raise ArticleError(f"no {ARTICLE_SUFFIX} articles in {settings.articles_dir}; add one, e.g. build FILE.txt")
    from .engine import RetrievalConfig
    from .index import build_index
    from .index_files import save_index
    from .lexical import Analyzer

    _err("Loading the embedding model…")
    encoder = load_encoder(settings.model, settings.model_cache, settings.backend, settings.encoder_threads)
    _err(f"Embedding {len(articles)} article(s)…")
    config = RetrievalConfig()
    index = build_index(articles, encoder, Analyzer(), config.chunking, progress=True)
    save_index(index, settings.index_dir)
    print(f"Built the index: {len(index)} passages from {len(articles)} article(s) in {settings.index_dir}")
    return 0


def _looks_like_url(text: str) -> bool:
    return "://" in text or text.lower().startswith(("http:", "https:"))


def _fetch_article(url: str, settings: Settings) -> tuple[ExtractedArticle, str]:
    """The article at `url` and the URL it was read from (after redirects)."""
    from .extract import extract_article
    from .fetch import fetch_url

    _err(f"Fetching {url}…")
    page = fetch_url(url, settings.fetch_policy())
    return extract_article(page), page.url


def _read_document(path: Path, max_bytes: int) -> tuple[ExtractedArticle, str]:
    """The article in a .txt, .md or .html file, and its file name (the article's source)."""
    from .extract import DOCUMENT_KINDS, decode_document

    if not path.is_file():
        raise ArticleError(f"{path} is not a file; give a .txt, .md or .html file, or an http(s) URL")
    size, limit = path.stat().st_size, max_bytes
    known = path.suffix.lower() in DOCUMENT_KINDS
    if known and size > limit:
        raise ExtractError(path.name, "too_large", f"it has {size:,} bytes, more than the {limit:,} we read.")
    try:
        data = path.read_bytes() if known else b""  # an unknown type is refused before reading
    except OSError as exc:
        raise ArticleError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return decode_document(data, path.name, max_bytes=max_bytes), path.name


def _already(article: Article) -> int:
    print(f"already present: {article.id} ({article.title})")
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add an article from a URL or a file to the library, and index it."""
    given = args.source
    with _shared_articles(settings) as shared:
        if _looks_like_url(given):
            known = shared.find(source=given)
            if known is not None:
                return _already(known)
            extracted, source = _fetch_article(given, settings)
        else:
            extracted, source = _read_document(Path(given).expanduser(), settings.max_article_bytes)
        known = shared.find(text=extracted.text, source=source)
        if known is not None:
            return _already(known)
    title = (args.title or "").strip() or extracted.title
    if settings.database_url is None:
        settings.articles_dir.mkdir(parents=True, exist_ok=True)
    with _opened_library(settings) as indexed:
        article, added = indexed.add_article(extracted.text, title, source)
        if not added:
            return _already(article)
        _report_update(indexed)
    print(f"added {article.id}: {article.title}")
    return 0


def _report_update(library: IndexedLibrary) -> None:
    _err(f"Index updated: {len(library.index)} passages from {len(library.articles)} article(s)")


def _article_json(article: Article) -> dict[str, str]:
    return {
        "id": article.id,
        "title": article.title,
        "source": article.source,
        "added": article.added,
        "checksum": article.checksum,
    }


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the articles of the library (or of one chat): id, date added, title, source."""
    if args.chat is not None:
        return list_chat(args, settings)
    with _shared_articles(settings) as shared:
        articles = shared.list()
        where = shared.folder if isinstance(shared, Library) else f"the shared library at {shared.shown_url}"
    if args.json:
        print(json.dumps([_article_json(a) for a in articles], ensure_ascii=False, indent=2))
        return 0
    if not articles:
        _err(f"No articles in {where}; add one with: python -m embeddings add PATH_OR_URL")
    for article in articles:
        print("\t".join((article.id, article.added or "-", article.title, article.source)))
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Remove an article from the library (or from one chat) and its index."""
    if args.chat is not None:
        return remove_from_chat(args, settings)
    with _shared_articles(settings) as shared:
        shared.get(args.id)  # an unknown id fails before the model loads
    with _opened_library(settings) as library:
        article = library.remove_article(args.id)
        _report_update(library)
    print(f"removed {article.id}: {article.title}")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question from the index (building it first if needed)."""
    question_text(args.question)  # an empty question fails before the model loads
    if args.chat is not None:
        with opened_chats(settings) as chats:
            answer = chats.ask(args.chat, args.question, everything=True, touch=False, converse=False).answer
    else:
        with _opened_library(settings) as library:
            answer = library.ask(args.question, k=args.k)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        print(answer_text(answer))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Index a SQuAD v1.1/v2.0 file's contexts; report retrieval and answer-level figures."""
    from tqdm import tqdm

    from .calibration import load_calibration
    from .engine import Engine
    from .evaluate import RememberingEncoder, evaluate, read_squad

    data = read_squad(Path(args.file))
    _err(f"{len(data.questions)} questions over {len(data.articles)} articles; loading the model…")
    encoder = RememberingEncoder(
        load_encoder(settings.model, settings.model_cache, settings.backend, settings.encoder_threads)
    )
    calibration = load_calibration(settings.model, settings.calibration, settings.backend)
    if settings.abstain_threshold is not None:
        calibration = calibration.with_answer_threshold(settings.abstain_threshold)
    opened = Engine.from_articles(data.articles, encoder, progress=True, abstention=calibration.always_answering())
    engine = replace(opened, abstention=calibration)
    k = max(args.k, 5)
    answerable = sum(q.answerable for q in data.questions)
    with tqdm(total=len(data.questions) + answerable, desc="Asking", unit="q", file=sys.stderr) as bar:
        scores = evaluate(
            lambda q: opened.ask(q, k=k),
            data.questions,
            args.k,
            on_question=bar.update,
            decide=lambda q: engine.ask(q),
        )
    report = {"file": str(args.file), "model": encoder.name, "passages": len(engine.index), "k": args.k, **scores}
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>10}: {value}")
    return 0


def cmd_library_split(args: argparse.Namespace, settings: Settings) -> int:
    """Write the library split: even-numbered entries indexed, the odd ones' questions unanswerable."""
    from .evaluate import library_split

    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
        split = library_split(data)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvalFileError(f"{args.file} is not SQuAD JSON: {exc}") from exc
    Path(args.out).write_text(json.dumps(split, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m embeddings`."""
    top = argparse.ArgumentParser(
        prog="python -m embeddings",
        description="Sanad: answer Arabic questions with verbatim, cited quotes from articles.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = sub.add_parser("add", help="add an article from a web page or a .txt/.md/.html file, and index it")
    add.add_argument("source", metavar="PATH_OR_URL", help="an http(s) URL, or a .txt, .md or .html file")
    add.add_argument("--title", help="the article's title (default: the page's or file's own)")
    add.set_defaults(run=cmd_add)
    listing = sub.add_parser("list", help="list the articles: id, date added, title, source")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.add_argument("--chat", type=int, metavar="CHAT", help="list one chat's own articles (numbers) instead")
    listing.set_defaults(run=cmd_list)
    remove = sub.add_parser("remove", help="remove an article (by the id `list` shows) and update the index")
    remove.add_argument("id", metavar="ID", help="the article's id, as `list` prints it (with --chat: its number)")
    remove.add_argument("--chat", type=int, metavar="CHAT", help="remove from one chat's own articles instead")
    remove.set_defaults(run=cmd_remove)
    chats = sub.add_parser("chats", help="list the chats with their own articles: id, articles, last activity")
    chats.add_argument("--json", action="store_true", help="print a JSON list")
    chats.set_defaults(run=cmd_chats)
    build = sub.add_parser("build", help="rebuild the whole index from the stored articles")
    build.add_argument(
        "articles", nargs="*", metavar="ARTICLE", help="UTF-8 .txt files to add to the articles folder first"
    )
    build.set_defaults(run=cmd_build)
    ask = sub.add_parser("ask", help="answer a question with quotes from the articles")
    ask.add_argument("question", help='the question, e.g. "ما اسم وزير الدفاع الروسي؟"')
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("-k", type=positive_int, default=None, help="how many quotes at most (default: SANAD_TOP_K or 3)")
    ask.add_argument(
        "--chat", type=int, metavar="CHAT", help="answer from what this chat sees: its own articles and the library"
    )
    ask.set_defaults(run=cmd_ask)
    ev = sub.add_parser("eval", help="measure retrieval and answer quality on a SQuAD v1.1 or v2.0 file")
    ev.add_argument("file", metavar="FILE.json", help="SQuAD v1.1/v2.0 JSON, e.g. ../shared/eval/xquad.ar.json")
    ev.add_argument("-k", type=positive_int, default=5, help="MRR cut-off (default 5)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(run=cmd_eval)
    split = sub.add_parser("library-split", help="write the library split of a SQuAD file (SQuAD v2.0)")
    split.add_argument("file", metavar="FILE.json", help="SQuAD v1.1 JSON, e.g. ../shared/eval/xquad.ar.json")
    split.add_argument("out", metavar="OUT.json", help="where to write the split")
    split.set_defaults(run=cmd_library_split)
    feedback = sub.add_parser("feedback", help="the 👍/👎 presses under the bot's answers")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    export = feedback_sub.add_parser("export", help="write every press as JSONL (one object a line; see README)")
    export.add_argument(
        "--since", type=since_date, default=0.0, metavar="DATE", help="only presses from then on (UTC ISO date)"
    )
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(run=cmd_feedback_export)
    calibrate.register(sub)
    evaluate_followups.register(sub)
    db_commands.register(sub)
    return top


def positive_int(raw: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = parse_positive_int(raw)
    if value is None:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive whole number")
    return value


def run_command(work: Callable[[], int]) -> int:
    """Run an entry point's work; a mistake the user can fix (SanadError) becomes one
    `error: ...` line and exit code 2, an interruption exit code 130."""
    try:
        return work()
    except SanadError as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    prepare_process()
    return run_command(lambda: args.run(args, Settings.from_env(read_environment())))
