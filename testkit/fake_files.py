"""Files in the fake Bot API: a user sends a document (`send_document`), whose bytes the bot
gets with getFile and the download route /file/bot<token>/<file_path> (`downloads` records
what it downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .fake_messages import MessageMethods
from .fake_server import ApiError
from .telegram_html import user_entities
from .telegram_objects import Sent

MAX_DOWNLOAD_BYTES = 20_000_000  # getFile refuses larger files


class FileMethods(MessageMethods):
    """Documents the users send, and the bot's getFile and downloads of them."""

    def send_document(
        self,
        chat_id: int,
        file_name: str,
        data: bytes,
        *,
        user_id: int | None = None,
        caption: str | None = None,
        file_size: int | None = None,
        mime_type: str = "text/plain",
        reply_to: Sent | None = None,
    ) -> dict[str, Any]:
        """A user sends a file; `file_size` may claim another size than `data` has. Returns the message."""
        number = next(self._update_ids)
        file_id, path = f"doc{number}", f"documents/file_{number}{Path(file_name).suffix}"
        with self._changed:
            self._state.files[file_id] = (path, data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"udoc{number}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data) if file_size is None else file_size,
        }
        content: dict[str, Any] = {"document": document}
        if caption is not None:
            content["caption"] = caption
            if entities := user_entities(caption):
                content["caption_entities"] = [e for e in entities if e["type"] == "mention"]
        return self.send_other(chat_id, content, user_id=user_id, reply_to=reply_to)

    @property
    def downloads(self) -> list[str]:
        """The file paths the bot downloaded, in order."""
        with self._changed:
            return list(self._state.downloads)

    def download(self, path: str) -> tuple[int, bytes]:
        """Answer a file download, /file/bot<token>/<file_path>: (HTTP status, body)."""
        prefix, path = f"/file/bot{self.token}/", unquote(path)  # httpx sends the token's ':' as %3A
        if not path.startswith(prefix):
            return 401, b"Unauthorized"
        file_path = path[len(prefix) :]
        with self._changed:
            found = next((data for p, data in self._state.files.values() if p == file_path), None)
            if found is not None:
                self._state.downloads.append(file_path)
                self._changed.notify_all()
        return (200, found) if found is not None else (404, b"Not Found")

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        with self._changed:
            stored = self._state.files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = stored
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": path}
