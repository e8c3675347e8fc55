"""Bot replicas on one PostgreSQL: two `python -m bot` processes in webhook mode, the fake Bot
API delivering updates to them as Telegram does behind a load balancer (up to
`REPLICA_CONNECTIONS` deliveries at once, in turn to each replica's URL).

Both replicas start first and stay up; each wave of `REPLICA_QUESTIONS` new chats asking at
the same moment is delivered to one replica only, or to both, alternately (1, 2, 2, 1, ...) so
that a load that drifts over the minutes weighs on both figures alike. The throughput of a
wave is its chats over the time to the last chat's first reply; a replica's idle twin costs
memory, not CPU. Then each replica's peak RSS, and the CPU seconds the replicas spent per
question, read from /proc.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import httpx

from embeddings import Settings
from embeddings.settings import PROJECT_ROOT
from testkit.fake_telegram import FakeTelegram, WaitTimeoutError

from .bot_load import BOT_START_SECONDS, BOT_TOKEN, BOT_USERNAME, WAVE_SECONDS, BotRun, bot_environment
from .measure import cpu_seconds, free_port, rss_mb
from .options import BenchmarkError
from .report import Figure

REPLICA_QUESTIONS = 60  # chats per wave, each asking one question
REPLICA_CONNECTIONS = 30  # deliveries in flight at once (Telegram's default is 40)
WARM_UP_QUESTIONS = 8
WEBHOOK_PATH = "/telegram/hook"
WEBHOOK_SECRET = "bench-webhook-secret_0123456789"


@dataclass
class Replica:
    """One `python -m bot` in webhook mode and where it listens."""

    run: BotRun
    port: int

    @property
    def webhook(self) -> str:
        """The URL the "load balancer" delivers updates to."""
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"


def measure_replicas(settings: Settings, url: str, questions: Sequence[str], waves: int) -> list[Figure]:
    """Questions/s with 1 and with 2 replicas sharing the database at `url` (whose library
    holds the shipped article), then a replica's peak RSS and CPU per question."""
    fake = FakeTelegram(BOT_TOKEN, username=BOT_USERNAME, webhook_connections=REPLICA_CONNECTIONS)
    with tempfile.TemporaryDirectory(prefix="sanad-bench-replicas-") as folder, fake:
        pair: list[Replica] = []
        try:
            for name in ("a", "b"):
                pair.append(_start(settings, fake, url, Path(folder) / name))
            for replica in pair:
                _wait_healthy(replica)
            _wait(fake, lambda: bool(fake.calls("setWebhook")), BOT_START_SECONDS, "setWebhook", pair)
            chats = count(5_000_001)
            fake.deliver_to(*(replica.webhook for replica in pair))
            _wave(fake, pair, questions, [next(chats) for _ in range(WARM_UP_QUESTIONS)])  # both warm
            rates: dict[int, list[float]] = {1: [], 2: []}
            cpu_before = sum(cpu_seconds(r.run.process.pid) for r in pair)
            for wave in range(waves):
                for replicas in (1, 2) if wave % 2 == 0 else (2, 1):
                    fake.deliver_to(*(replica.webhook for replica in pair[:replicas]))
                    wave_chats = [next(chats) for _ in range(REPLICA_QUESTIONS)]
                    rates[replicas].append(_wave(fake, pair, questions, wave_chats))
            cpu = sum(cpu_seconds(r.run.process.pid) for r in pair) - cpu_before
            memory = [rss_mb(r.run.process.pid) for r in pair]
        finally:
            for replica in pair:
                replica.run.stop()
    asked = 2 * waves * REPLICA_QUESTIONS
    return _figures(rates, memory, cpu / asked)


def _start(settings: Settings, fake: FakeTelegram, url: str, folder: Path) -> Replica:
    """Start one replica in webhook mode on a free port, its chats' folder in `folder`."""
    folder.mkdir(parents=True)
    port = free_port()
    env = {
        **bot_environment(settings, fake.url, folder),
        "SANAD_DATABASE_URL": url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:9{WEBHOOK_PATH}",  # the proxy's; the fake delivers past it
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SANAD_LISTEN": f"127.0.0.1:{port}",
    }
    log = folder / "bot.log"
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    return Replica(BotRun(process, log), port)


def _wait_healthy(replica: Replica) -> None:
    """Return once the replica's /healthz says 200 (its index loaded, the database reachable)."""
    deadline = time.monotonic() + BOT_START_SECONDS
    while time.monotonic() < deadline and replica.run.alive():
        try:
            if httpx.get(f"http://127.0.0.1:{replica.port}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    raise BenchmarkError(
        f"a `python -m bot` replica in webhook mode was not healthy within {BOT_START_SECONDS:.0f} s:\n"
        f"{replica.run.tail()}"
    )


def _wave(fake: FakeTelegram, pair: Sequence[Replica], questions: Sequence[str], chats: Sequence[int]) -> float:
    """Questions per second for `chats` (new ones) asking at the same moment."""
    texts = {chat: questions[n % len(questions)] for n, chat in enumerate(chats)}

    def answered() -> bool:
        return all(fake.messages_by_chat(texts).values())

    asked = fake.send_texts(texts)
    _wait(fake, answered, WAVE_SECONDS, f"answers to all {len(texts)} chats", pair)
    last_first_reply = max(replies[0].at for replies in fake.messages_by_chat(texts).values())
    return len(texts) / (last_first_reply - asked)


def _wait(
    fake: FakeTelegram, condition: Callable[[], bool], seconds: float, what: str, pair: Sequence[Replica]
) -> None:
    """Wait for `condition`; a replica that exited, or the time running out, is an error
    quoting the replicas' logs."""
    with suppress(WaitTimeoutError):  # said below, with the logs
        fake.wait_until(lambda: condition() or not all(r.run.alive() for r in pair), seconds)
    if not condition():
        logs = "\n".join(f"replica {n}:\n{r.run.tail()}" for n, r in enumerate(pair, 1))
        raise BenchmarkError(f"the replicas gave no {what} within {seconds:.0f} s:\n{logs}")


def _figures(rates: dict[int, list[float]], memory: list[dict[str, float]], cpu_per_question: float) -> list[Figure]:
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    waves = "; ".join(f"{n}: {', '.join(f'{r:.2f}' for r in rates[n])}" for n in (1, 2))
    throughput = Figure(
        "replicas_qps",
        "replicas",
        two / one,
        "x",
        higher_is_better=True,
        detail=f"2 replicas {two:.2f} q/s / 1 replica {one:.2f} q/s (webhook mode, one PostgreSQL, "
        f"{REPLICA_QUESTIONS} chats a wave, {REPLICA_CONNECTIONS} deliveries at once; waves {waves})",
        raw={"1": one, "2": two, "speedup": two / one, "waves": {str(n): r for n, r in rates.items()}},
        values={"1": one, "2": two},
    )
    peak = max(m["VmHWM"] for m in memory)
    replica_memory = Figure(
        "replica_rss_mb",
        "replica RSS (peak)",
        peak,
        " MB",
        1024.0,
        detail=f"peak RSS (VmHWM) of a replica after the waves, PostgreSQL mode; "
        f"{', '.join(str(round(m['VmRSS'])) for m in memory)} MB resident now; "
        f"{cpu_per_question * 1000:.0f} ms of CPU per question (both replicas' user + system time)",
        raw={
            "peak_mb": [m["VmHWM"] for m in memory],
            "rss_mb": [m["VmRSS"] for m in memory],
            "cpu_ms_per_question": cpu_per_question * 1000,
        },
    )
    return [throughput, replica_memory]
