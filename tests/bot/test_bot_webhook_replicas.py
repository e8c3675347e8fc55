"""Two bot replicas (`python -m bot` processes) in webhook mode on one PostgreSQL (the chats'
store and the shared library, imported there first), the fake Bot API delivering to them in
turn as a load balancer would, retrying what fails as Telegram does. One replica is killed
with SIGKILL in the middle of 50 questions: every question is answered, and answered once.
Also: a replica stops cleanly on SIGTERM, and a taken port fails at once naming SANAD_LISTEN."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from bot_harness import ARTICLES_DIR, PROJECT_ROOT, TOKEN, WEBHOOK_PATH, WEBHOOK_SECRET, free_port, read_dev_questions
from bot_harness import wait_healthy as wait_until_healthy
from prometheus_client.parser import text_string_to_metric_families

from embeddings import IndexedLibrary, Settings
from embeddings.db_commands import import_all
from embeddings.model import Encoder
from embeddings.store import PostgresLibraryStore
from testkit.fake_telegram import FakeTelegram
from testkit.telegram_objects import chat_json
from testkit.webhook_delivery import SECRET_HEADER

MINISTER = next(d for d in read_dev_questions() if "وزير الدفاع" in d.q)
OFF_TOPIC = "ما عاصمة فرنسا؟"
QUESTIONS = 50


@dataclass
class Replica:
    """One bot process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"

    def exited(self) -> bool:
        return self.process.poll() is not None

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def replica_env(
    fake: FakeTelegram, port: int, folder: Path, engine_settings: Settings, **values: str
) -> dict[str, str]:
    """The environment of one replica: webhook mode behind a "load balancer" address, its own
    port and chats folder, the index the session built (loaded, not rebuilt)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SANAD_", "ADMIN_", "EMBEDDING_"))}
    return {
        **keep,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:9{WEBHOOK_PATH}",  # the proxy's address; the fake delivers past it
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SANAD_LISTEN": f"127.0.0.1:{port}",
        "SANAD_ARTICLES_DIR": str(ARTICLES_DIR),
        "SANAD_INDEX_DIR": str(engine_settings.index_dir),
        "SANAD_MODEL_CACHE": str(engine_settings.model_cache),
        "SANAD_DATABASE": str(folder / "sanad.db"),
        "SANAD_CHATS_DIR": str(folder / "chats"),
        "SANAD_TYPING_AFTER_MS": "0",  # "typing" at once: a test holds it to catch a replica inside an update
        **values,
    }


def start_replica(env: dict[str, str], folder: Path, port: int) -> Replica:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "stderr.txt"
    with log.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "bot"], cwd=folder, env=env, stdout=err, stderr=err)
    return Replica(process, port, log)


@pytest.fixture
def replicas(
    postgres_url: str,
    engine_settings: Settings,
    library: IndexedLibrary,
    real_encoder: Encoder,
    tmp_path: Path,
) -> Iterator[tuple[FakeTelegram, list[Replica]]]:
    """The fake (one delivery at a time) and two healthy replicas sharing `postgres_url`, its
    library the shipped article (as `db import` copies it: the vectors of the session's index)."""
    target = PostgresLibraryStore(postgres_url)
    try:
        import_all(replace(engine_settings, database_url=postgres_url), target, None, encoder=real_encoder)
    finally:
        target.close()
    with FakeTelegram(TOKEN, webhook_connections=1) as fake:
        started: list[Replica] = []
        try:
            for name in ("a", "b"):
                port = free_port()
                env = replica_env(fake, port, tmp_path / name, engine_settings, SANAD_DATABASE_URL=postgres_url)
                started.append(start_replica(env, tmp_path / name, port))
            for replica in started:
                wait_until_healthy(replica.url, 240, replica.exited)
                assert not replica.exited(), replica.stderr()
            fake.deliver_to(*(replica.webhook for replica in started))
            yield fake, started
        finally:
            for replica in started:
                if replica.process.poll() is None:
                    replica.process.kill()
                replica.process.wait(timeout=60)


def test_a_replica_killed_mid_way_through_50_questions_loses_none_and_answers_none_twice(
    replicas: tuple[FakeTelegram, list[Replica]], library: IndexedLibrary
) -> None:
    fake, pair = replicas
    assert len(fake.calls("setWebhook")) == 1  # one replica leads; the other only serves
    chats = list(range(3001, 3001 + QUESTIONS))
    victim_chat = chats[QUESTIONS // 2]
    # The victim is caught inside one update: its "typing" for that chat is held, the answer not sent.
    typing = fake.hold("sendChatAction", when=lambda params: params.get("chat_id") == victim_chat)
    for number, chat in enumerate(chats):
        fake.send_text(chat, MINISTER.q if number % 2 == 0 else OFF_TOPIC)
    assert typing.reached.wait(120), "the held update never reached a replica"
    [(update_id, url)] = fake.deliveries_in_flight().items()
    [victim] = [replica for replica in pair if replica.webhook == url]
    [survivor] = [replica for replica in pair if replica is not victim]
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=30)
    typing.release()

    fake.wait_until(lambda: fake.pending_updates() == 0, 180, "every question delivered")
    replies = fake.messages_by_chat(chats)
    assert {chat: len(sent) for chat, sent in replies.items()} == dict.fromkeys(chats, 1)
    assert all(MINISTER.must in replies[chat][0].plain for chat in chats[::2])
    delivered = {d.update_id: d.url for d in fake.deliveries if d.ok}
    assert delivered[update_id] == survivor.webhook  # the killed replica's update, answered by the other
    assert victim.webhook in delivered.values() and survivor.webhook in delivered.values()  # both took a share
    assert any(d.status is None and d.url == victim.webhook for d in fake.deliveries)  # the retries it cost

    # Telegram delivering again an update the killed replica had answered: the survivor knows it.
    answered_by_victim = next(number for number, at in delivered.items() if at == victim.webhook)
    before = fake.messages_by_chat(chats)
    message = {"message_id": 1, "date": 0, "chat": chat_json(4001), "text": MINISTER.q}
    again = {"update_id": answered_by_victim, "message": message}
    response = httpx.post(survivor.webhook, json=again, headers={SECRET_HEADER: WEBHOOK_SECRET}, timeout=60)
    assert (response.status_code, response.text) == (200, "handled before")
    assert fake.messages_to(4001) == [] and fake.messages_by_chat(chats) == before

    # The survivor's own view: its questions counted, its library following the database.
    scraped = httpx.get(f"{survivor.url}/metrics", timeout=10).text
    samples = {s.name: s.value for f in text_string_to_metric_families(scraped) for s in f.samples if not s.labels}
    assert samples["sanad_sync_listening"] == 1 and samples["sanad_sync_lag_changes"] == 0
    assert samples["sanad_index_passages"] == len(library.index) and samples["sanad_answer_seconds_count"] >= 1

    survivor.process.send_signal(signal.SIGTERM)
    assert survivor.process.wait(timeout=60) == 0, survivor.stderr()
    logs = survivor.stderr() + victim.stderr()
    assert TOKEN not in logs and WEBHOOK_SECRET not in logs


def test_a_taken_port_fails_at_once_naming_sanad_listen(
    tmp_path: Path, engine_settings: Settings, library: IndexedLibrary
) -> None:
    with FakeTelegram(TOKEN) as fake, _listening() as port:
        env = replica_env(fake, port, tmp_path, engine_settings)
        replica = start_replica(env, tmp_path, port)
        assert replica.process.wait(timeout=120) == 1
    stderr = replica.stderr()
    assert f"cannot listen on SANAD_LISTEN=127.0.0.1:{port}" in stderr and "Traceback" not in stderr, stderr
    assert "Loading the model" not in stderr  # it failed before anything slow


@contextmanager
def _listening() -> Iterator[int]:
    """A port of 127.0.0.1 something else listens on, for the block."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        yield int(taken.getsockname()[1])
