"""Chat members in the fake Bot API: a group's creator and administrators are whoever
`set_admins` names, everyone else a member (getChatMember, getChatAdministrators)."""

from __future__ import annotations

from typing import Any

from .fake_server import FakeServer
from .telegram_objects import member_json


class MemberMethods(FakeServer):
    """Who is who in a group."""

    def set_admins(self, chat_id: int, creator: int, *administrators: int) -> None:
        """Make `creator` the group's creator and the others its administrators; anyone else is a member."""
        with self._changed:
            self._state.admins[chat_id] = (creator, *administrators)

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(params.get("chat_id", 0)), int(params.get("user_id", 0))
        with self._changed:
            admins = self._state.admins.get(chat_id, ())
        status = "creator" if admins[:1] == (user_id,) else "administrator" if user_id in admins else "member"
        return member_json(user_id, status)

    def _api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._changed:
            admins = self._state.admins.get(params.get("chat_id", 0), ())
        return [member_json(user, "creator" if n == 0 else "administrator") for n, user in enumerate(admins)]
