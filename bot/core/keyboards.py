"""Buttons every feature draws: labels that fit on a phone.

Telegram cuts a long button label in the middle of a word; :func:`short` cuts it at a word instead.
"""

from __future__ import annotations

BUTTON_CHARS = 60


def short(text: str, limit: int = BUTTON_CHARS) -> str:
    """A button label: one line, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
