"""How the fake Bot API delivers updates to a webhook, as Telegram does: each update POSTed as
JSON with the secret in `X-Telegram-Bot-Api-Secret-Token`, over a few connections at once,
and delivered again, after a pause that grows, until the webhook answers 2xx. The fake stands
in for the load balancer too: given several URLs (`FakeTelegram.deliver_to`), each attempt
goes to the next of them in turn, so a retry lands on another replica.

`WebhookQueue` is the state (under the fake's lock), `start_deliveries` the connections'
threads, `post_update` one attempt over HTTP.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DELIVERY_TIMEOUT_SECONDS = 60.0  # a delivery without an answer this long has failed
GET_UPDATES_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
UPDATE_TYPES = ("message", "edited_message", "callback_query", "inline_query", "chosen_inline_result")


@dataclass(frozen=True)
class Webhook:
    """What setWebhook set."""

    url: str
    secret_token: str
    allowed_updates: tuple[str, ...]  # empty: every type but the few Telegram leaves out by default
    max_connections: int


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an update: where, and what came back."""

    update_id: int
    url: str
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    error: str  # the reason when there was no answer, else ""
    at: float  # time.monotonic() when the attempt ended

    @property
    def ok(self) -> bool:
        """True if the webhook took the update (2xx)."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class WebhookQueue:
    """The deliveries' bookkeeping: which update goes next, to which URL, when to retry."""

    backoff: tuple[float, float] = (0.1, 1.0)  # first pause after a failure, and the longest
    webhook: Webhook | None = None
    targets: tuple[str, ...] = ()  # the load balancer's replicas; empty: the webhook's own URL
    in_flight: dict[int, str] = field(default_factory=dict)  # update id -> the URL it is at
    attempts: dict[int, int] = field(default_factory=dict)
    retry_at: dict[int, float] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _turns: Iterator[int] = field(default_factory=itertools.count)

    def next_job(self, updates: list[dict[str, Any]], now: float) -> tuple[dict[str, Any], str, str] | None:
        """The oldest update due now, marked in flight, with the URL and secret to use; None if none is due."""
        if self.webhook is None:
            return None
        self._drop_unwanted(updates)
        for update in updates:
            number = update["update_id"]
            if number not in self.in_flight and self.retry_at.get(number, 0.0) <= now:
                targets = self.targets or (self.webhook.url,)
                url = targets[next(self._turns) % len(targets)]
                self.in_flight[number] = url
                return update, url, self.webhook.secret_token
        return None

    def seconds_to_next(self, updates: list[dict[str, Any]], now: float) -> float:
        """How long until a waiting update is due (1 s at most)."""
        waits = [self.retry_at.get(u["update_id"], 0.0) - now for u in updates if u["update_id"] not in self.in_flight]
        return max(0.01, min([1.0, *waits]))

    def finished(self, updates: list[dict[str, Any]], delivery: Delivery) -> None:
        """Record an attempt; a delivered update leaves the queue, another is retried later."""
        self.in_flight.pop(delivery.update_id, None)
        self.deliveries.append(delivery)
        if delivery.ok:
            updates[:] = [u for u in updates if u["update_id"] != delivery.update_id]
            return
        tries = self.attempts[delivery.update_id] = self.attempts.get(delivery.update_id, 0) + 1
        first, longest = self.backoff
        self.retry_at[delivery.update_id] = delivery.at + min(longest, first * 2 ** (tries - 1))

    def info(self, updates: list[dict[str, Any]]) -> dict[str, Any]:
        """getWebhookInfo's result."""
        if self.webhook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(updates)}
        info: dict[str, Any] = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(updates),
            "max_connections": self.webhook.max_connections,
        }
        if self.webhook.allowed_updates:
            info["allowed_updates"] = list(self.webhook.allowed_updates)
        failed = [d for d in self.deliveries if not d.ok]
        if failed:
            info["last_error_date"] = int(time.time())
            last = failed[-1]
            info["last_error_message"] = last.error or f"Wrong response from the webhook: {last.status}"
        return info

    def _drop_unwanted(self, updates: list[dict[str, Any]]) -> None:
        assert self.webhook is not None
        wanted = self.webhook.allowed_updates
        if wanted:
            updates[:] = [u for u in updates if _kind(u) in wanted]


def _kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def check_webhook(params: dict[str, Any]) -> Webhook | str:
    """The webhook setWebhook asks for, or Telegram's complaint about it."""
    url = str(params.get("url", ""))
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Bad Request: bad webhook: invalid URL"
    if parts.scheme == "http" and not local:  # a local Bot API server takes http; Telegram does not
        return "Bad Request: bad webhook: HTTPS url must be provided for webhook"
    secret = str(params.get("secret_token", ""))
    if len(secret) > 256 or any(not (c.isascii() and (c.isalnum() or c in "_-")) for c in secret):
        return "Bad Request: secret token contains unallowed characters"
    allowed = params.get("allowed_updates") or []
    if not isinstance(allowed, Sequence) or any(kind not in UPDATE_TYPES for kind in allowed):
        return "Bad Request: can't parse allowed updates"
    connections = int(params.get("max_connections") or 40)
    if not 1 <= connections <= 100:
        return "Bad Request: bad webhook: max_connections must be between 1 and 100"
    return Webhook(url, secret, tuple(allowed), connections)


def post_update(url: str, secret: str, update: dict[str, Any], timeout: float) -> tuple[int | None, str]:
    """POST one update as Telegram does: (HTTP status, "") or (None, why there was no answer)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        return None, f"the fake delivers over plain http only, not to {url}"
    body = json.dumps(update, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[SECRET_HEADER] = secret
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, ""
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()


class FakeState(Protocol):
    """What the deliveries use of the fake's state (read and changed under its lock)."""

    updates: list[dict[str, Any]]
    webhook: WebhookQueue
    stopping: bool


def start_deliveries(
    state: FakeState, changed: threading.Condition, webhook: Webhook, more: int
) -> list[threading.Thread]:
    """Set the webhook (caller holds `changed`) and start `more` delivery connections; the new threads."""
    state.webhook.webhook = webhook
    threads = [
        threading.Thread(target=_deliver, args=(state, changed), name="fake-telegram-webhook", daemon=True)
        for _ in range(max(0, more))
    ]
    for thread in threads:
        thread.start()
    changed.notify_all()
    return threads


def _deliver(state: FakeState, changed: threading.Condition) -> None:
    """One connection: the next due update, POSTed, its outcome recorded; until the fake stops."""
    queue = state.webhook
    while True:
        with changed:
            job = None
            while job is None:
                if state.stopping:
                    return
                now = time.monotonic()
                job = queue.next_job(state.updates, now)
                if job is None:
                    changed.wait(queue.seconds_to_next(state.updates, now))
        update, url, secret = job
        status, error = post_update(url, secret, update, DELIVERY_TIMEOUT_SECONDS)
        with changed:
            queue.finished(state.updates, Delivery(update["update_id"], url, status, error, time.monotonic()))
            changed.notify_all()
