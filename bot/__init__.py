"""Sanad's Telegram bot: an Arabic question in, the article's own sentences out, cited.

Run it with `python -m bot`; settings come from the environment or `.env`.
"""

from __future__ import annotations

from .app import build_application, main, run_polling
from .render import render_answer, render_sources
from .settings import BotSettings, BotSettingsError

__all__ = [
    "BotSettings",
    "BotSettingsError",
    "build_application",
    "main",
    "render_answer",
    "render_sources",
    "run_polling",
]
