"""GET /healthz: is this replica able to answer? Its index must be loaded and its database
reachable; a load balancer sends questions only to replicas that say yes (200), and the
JSON body tells the operator which part is missing when one says no (503)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from .context import BotData

DATABASE_TIMEOUT_SECONDS = 2.0  # a probe waits no longer for the database than this


@dataclass(frozen=True)
class Health:
    """One look at the replica: the index, the database, and what is wrong, in English."""

    index_loaded: bool
    passages: int
    database_reachable: bool
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the replica can answer questions."""
        return not self.problems

    @property
    def status_code(self) -> int:
        """200 when ok, else 503."""
        return 200 if self.ok else 503

    def body(self) -> dict[str, Any]:
        """The JSON body of /healthz."""
        return {
            "status": "ok" if self.ok else "unavailable",
            "index": {"loaded": self.index_loaded, "passages": self.passages},
            "database": {"reachable": self.database_reachable},
            "problems": list(self.problems),
        }


async def check_health(data: BotData, *, started: bool, timeout: float = DATABASE_TIMEOUT_SECONDS) -> Health:
    """Look at the index and ask the database (off the event loop: it may take `timeout`);
    `started`: the application handles updates (it does not while starting or stopping)."""
    problems: list[str] = [] if started else ["the bot is not handling updates yet (starting, or stopping)"]
    library, chats = data.library, data.chats
    if library is None:
        problems.append("the index is not loaded")
    if chats is None:
        problems.append("the database is not open")
        reason = None
    else:
        reason = await asyncio.to_thread(chats.store.check_reachable, timeout)
        if reason is not None:
            problems.append(reason)
    reachable = chats is not None and reason is None
    passages = len(library.index) if library is not None else 0
    return Health(library is not None, passages, reachable, tuple(problems))
