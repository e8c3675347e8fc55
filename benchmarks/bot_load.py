"""The bot under load: `python -m bot` as a child process against the fake Bot API of testkit.

Its peak RSS is read while it polls with nothing asked; then LOAD_CHATS chats ask at once,
in one batch of updates, and the throughput is the chats over the time to the last chat's
first reply. Each wave starts from an idle bot (WAVE_PAUSE_SECONDS after the last, so that the
rate limiter's bucket of Telegram's 30 messages a second is empty again, as 30 chats asking
together would find it), and the bare encode of one question is timed in this process just
before and after it: `throughput_share` is each wave's questions/s times that encode, i.e.
questions/s over the ceiling 1 / bare encode, measured under the same load (median of the
waves). Then lone questions, one at a time, give the latency of a question asked alone.
The bot is started the way a service manager does (environment, SIGTERM).
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
from .measure import cpu_seconds, rss_mb
from .options import BenchmarkError
from .report import Figure

LinkPages = tuple[Article, Sequence[Article], int]  # the shipped article, XQuAD-ar articles, repeats
LOAD_CHATS = 30
BOT_TOKEN = "123456789:bench-token_for_the_fake_bot_api"
BOT_USERNAME = "sanad_bench_bot"
BOT_START_SECONDS = 300.0  # the bot may build the index first
WAVE_SECONDS = 300.0
WAVE_PAUSE_SECONDS = 1.5
LONE_QUESTIONS = 8
BareEncode = Callable[[Sequence[str]], object]


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


@dataclass(frozen=True)
class Wave:
    """One wave of LOAD_CHATS chats asking at once, and the bare encode timed around it."""

    qps: float
    encode_ms: float
    cpu_ms: float  # the bot's CPU time per question of the wave (all its threads)
    encode_cpu_ms: float  # this process's CPU time per bare encode

    @property
    def share(self) -> float:
        """Questions/s over the ceiling 1 / bare encode of one question."""
        return self.qps * self.encode_ms / 1000.0


def measure_bot(
    settings: Settings,
    questions: Sequence[str],
    waves: int,
    encode: BareEncode,
    links: LinkPages | None = None,
) -> list[Figure]:
    """Peak RSS of the idle bot, then questions/s with LOAD_CHATS chats asking at once (beside
    `encode`, the bare encode of one question, timed around each wave), the latency of lone
    questions, then (given `links`) link → ready for the shipped article and a long page."""
    fake = FakeTelegram(BOT_TOKEN, username=BOT_USERNAME)
    with tempfile.TemporaryDirectory(prefix="sanad-bench-bot-") as folder, fake:
        run = start_bot(settings, fake, Path(folder) / "bot.log")
        try:
            time.sleep(1.0)  # idle: polling, nothing asked yet
            idle = rss_mb(run.process.pid)
            _wave(fake, run, questions, waves)  # untimed: the first questions warm the bot up
            timed = [_timed_wave(fake, run, questions, wave, encode) for wave in range(waves)]
            lone = [_lone_question(fake, run, questions[n % len(questions)], n) for n in range(LONE_QUESTIONS)]
            added = measure_link_to_ready(fake, *links) if links is not None else []
        finally:
            run.stop()
    return [*_bot_figures(idle, timed, lone, settings), *added]


def _bare_ms(encode: BareEncode, questions: Sequence[str]) -> tuple[list[float], float]:
    """Milliseconds of the bare encode of each question, one at a time, and the CPU
    milliseconds of them all."""
    samples = []
    cpu = time.process_time()
    for question in questions:
        start = time.perf_counter()
        encode([question])
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples, (time.process_time() - cpu) * 1000.0


def _timed_wave(fake: FakeTelegram, run: BotRun, questions: Sequence[str], wave: int, encode: BareEncode) -> Wave:
    """A wave from an idle bot, with the bare encode timed just before and after it; with
    the CPU time of both (less swayed by a busy machine than the wall clock)."""
    time.sleep(WAVE_PAUSE_SECONDS)
    before, cpu_before = _bare_ms(encode, questions)
    bot_cpu = cpu_seconds(run.process.pid)
    qps = _wave(fake, run, questions, wave)
    bot_cpu = cpu_seconds(run.process.pid) - bot_cpu
    after, cpu_after = _bare_ms(encode, questions)
    return Wave(
        qps,
        statistics.median(before + after),
        bot_cpu * 1000.0 / LOAD_CHATS,
        (cpu_before + cpu_after) / (len(before) + len(after)),
    )


def _lone_question(fake: FakeTelegram, run: BotRun, question: str, number: int) -> float:
    """Seconds from one chat asking, with no other chat asking, to the bot's first reply."""
    chat = 500_000 + number

    def answered() -> bool:
        return bool(fake.messages_by_chat([chat])[chat])

    asked = fake.send_texts({chat: question})
    if not _wait(fake, lambda: answered() or not run.alive(), WAVE_SECONDS):
        raise BenchmarkError(f"the bot did not answer a lone question within {WAVE_SECONDS:.0f} s:\n{run.tail()}")
    return fake.messages_by_chat([chat])[chat][0].at - asked


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


def _bot_figures(idle: dict[str, float], waves: list[Wave], lone: list[float], settings: Settings) -> list[Figure]:
    rates = [wave.qps for wave in waves]
    qps, share = statistics.median(rates), statistics.median(wave.share for wave in waves)
    encode_ms = statistics.median(wave.encode_ms for wave in waves)
    batching = f"questions batched up to {settings.query_batch}" if settings.query_batch > 1 else "batching off"
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
        f"({', '.join(f'{r:.2f}' for r in rates)}); {batching}",
        raw={"waves": rates},
    )
    lone_ms = statistics.median(lone) * 1000.0
    bot_cpu, encode_cpu = statistics.median(w.cpu_ms for w in waves), statistics.median(w.encode_cpu_ms for w in waves)
    of_ceiling = Figure(
        "throughput_share",
        "bot throughput",
        share,
        "x",
        0.9,
        higher_is_better=True,
        detail=f"questions/s ÷ (1 / bare encode of one question), per wave, median: bare encode {encode_ms:.1f} ms "
        f"(timed around each wave in this process), ceiling {1000.0 / encode_ms:.1f} q/s; CPU per question "
        f"{bot_cpu:.1f} ms in the bot, {encode_cpu:.1f} ms per bare encode; a lone question {lone_ms:.0f} ms "
        f"to its first reply (median of {len(lone)})",
        raw={
            "shares": [wave.share for wave in waves],
            "encode_ms": [wave.encode_ms for wave in waves],
            "bot_cpu_ms_per_question": [wave.cpu_ms for wave in waves],
            "encode_cpu_ms": [wave.encode_cpu_ms for wave in waves],
            "lone_question_ms": [seconds * 1000.0 for seconds in lone],
            "query_batch": settings.query_batch,
            "query_batch_window_ms": settings.query_batch_window_ms,
        },
    )
    return [memory, throughput, of_ceiling]
