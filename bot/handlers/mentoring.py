"""Placeholder: the mentoring conversations are being written (see the issue)."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import Application

COMMANDS: list[BotCommand] = []


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Nothing registered yet."""
