"""The bot under load: `python -m bot` as a child process against the fake Bot API of testkit.

Its peak RSS is read while it polls with nothing asked; then LOAD_CHATS chats ask at once,
in one batch of updates, and the throughput is the chats over the time to the last chat's
first reply. The bot is started the way a service manager does (environment, SIGTERM).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings import Article, Settings
from embeddings.settings import PROJECT_ROOT
from testkit.fake_telegram import FakeTelegram, WaitTimeoutError

from .chat_add import measure_link_to_ready
from .measure import rss_mb
from .options import BenchmarkError
from .report import Figure

LinkPages = tuple[Article, Sequence[Article], int]  # the shipped article, XQuAD-ar articles, repeats
LOAD_CHATS = 30
BOT_TOKEN = "123456789:bench-token_for_the_fake_bot_api"
BOT_USERNAME = "sanad_bench_bot"
BOT_START_SECONDS = 300.0  # the bot may build the index first
WAVE_SECONDS = 300.0


@dataclass
class BotRun:
    """`python -m bot` as a child process; stopped by SIGTERM like a service manager would."""

    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 30 s."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 15) -> str:
        """The last lines the bot logged (stdout and stderr), for an error message."""
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def bot_environment(settings: Settings, api_url: str, folder: Path) -> dict[str, str]:
    """This process's environment with the bot's settings: the fake API, its token, the
    benchmark's articles, index folder, model and backend, and a chats' store in `folder`."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": api_url,
        "SANAD_ARTICLES_DIR": str(settings.articles_dir),
        "SANAD_INDEX_DIR": str(settings.index_dir),
        "SANAD_MODEL_CACHE": str(settings.model_cache),
        "EMBEDDING_MODEL": settings.model,
        "SANAD_BACKEND": settings.backend,
        "SANAD_DATABASE": str(folder / "sanad.db"),
        "SANAD_CHATS_DIR": str(folder / "chats"),
        "SANAD_ALLOW_PRIVATE_URLS": "true",  # the pages sent as links are served on 127.0.0.1
    }


def start_bot(settings: Settings, fake: FakeTelegram, log: Path) -> BotRun:
    """Start `python -m bot` against the fake API; return once it polls for updates."""
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=PROJECT_ROOT,
            env=bot_environment(settings, fake.url, log.parent),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    run = BotRun(process, log)
    _wait(fake, lambda: bool(fake.calls("getUpdates")) or not run.alive(), BOT_START_SECONDS)
    if not run.alive() or not fake.calls("getUpdates"):
        run.stop()
        raise BenchmarkError(f"`python -m bot` did not start polling within {BOT_START_SECONDS:.0f} s:\n{run.tail()}")
    return run


def measure_bot(
    settings: Settings, questions: Sequence[str], waves: int, encode_ms: float, links: LinkPages | None = None
) -> list[Figure]:
    """Peak RSS of the idle bot, then questions/s with LOAD_CHATS chats asking at once, then
    (given `links`) link → ready for the shipped article and a long page."""
    fake = FakeTelegram(BOT_TOKEN, username=BOT_USERNAME)
    with tempfile.TemporaryDirectory(prefix="sanad-bench-bot-") as folder, fake:
        run = start_bot(settings, fake, Path(folder) / "bot.log")
        try:
            time.sleep(1.0)  # idle: polling, nothing asked yet
            idle = rss_mb(run.process.pid)
            rates = [_wave(fake, run, questions, wave) for wave in range(waves)]
            added = measure_link_to_ready(fake, *links) if links is not None else []
        finally:
            run.stop()
    return [*_bot_figures(idle, rates, encode_ms, settings), *added]


def _wave(fake: FakeTelegram, run: BotRun, questions: Sequence[str], wave: int) -> float:
    """Questions per second for LOAD_CHATS new chats asking at the same moment."""
    chats = {1000 * (wave + 1) + n: questions[n % len(questions)] for n in range(LOAD_CHATS)}

    def answered() -> bool:
        return all(fake.messages_by_chat(chats).values())

    asked = fake.send_texts(chats)
    _wait(fake, lambda: answered() or not run.alive(), WAVE_SECONDS)
    if not answered():
        raise BenchmarkError(
            f"the bot did not answer all {LOAD_CHATS} chats within {WAVE_SECONDS:.0f} s:\n{run.tail()}"
        )
    last_first_reply = max(replies[0].at for replies in fake.messages_by_chat(chats).values())
    return len(chats) / (last_first_reply - asked)


def _wait(fake: FakeTelegram, condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition` held within `seconds`; the caller says what failed, with the bot's log."""
    try:
        fake.wait_until(condition, seconds)
    except WaitTimeoutError:
        return False
    return True


def _bot_figures(idle: dict[str, float], rates: list[float], encode_ms: float, settings: Settings) -> list[Figure]:
    ceiling = 1000.0 / encode_ms
    qps = statistics.median(rates)
    memory = Figure(
        "bot_rss_mb",
        "bot RSS (idle)",
        idle["VmHWM"],
        " MB",
        500.0,  # the issue-13 target with the default backend
        detail=f"peak RSS (VmHWM) of `python -m bot` polling, model {settings.model!r} on {settings.backend}, "
        "shipped article; "
        f"{idle['VmRSS']:.0f} MB resident now",
        raw={"peak_mb": idle["VmHWM"], "rss_mb": idle["VmRSS"]},
    )
    throughput = Figure(
        "questions_per_s",
        "bot throughput",
        qps,
        " q/s",
        detail=f"{LOAD_CHATS} chats at once, first replies, median of {len(rates)} waves "
        f"({', '.join(f'{r:.2f}' for r in rates)}); ceiling {ceiling:.1f} q/s = 1 / bare encode "
        f"{encode_ms:.1f} ms in this process, {qps / ceiling:.0%} of it",
        raw={"waves": rates, "ceiling_qps": ceiling, "of_ceiling": qps / ceiling},
    )
    return [memory, throughput]
