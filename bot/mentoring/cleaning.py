"""Cleaning what people type before it is stored or compared: names, stories, organisation names and
Telegram usernames.

Why a module of its own: text arrives from the chat, from admins' CSV files and from the command line,
and must be bounded and stripped of control and invisible characters the same way wherever it came from.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.text import clean_line as text_clean_line
from bot.core.text import clean_text
from db.mentoring_models import MAX_NAME_CHARS, MAX_USERNAME_CHARS

USERNAME_PATTERN = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


def clean_line(text: str | None, limit: int = MAX_NAME_CHARS) -> str:
    """One line of text as stored: the shared cleaner (:mod:`bot.text`), bounded."""
    return text_clean_line(text, limit)


def clean_story(text: str | None) -> str:
    """A story keeps its line breaks (at most one blank line) but loses control and invisible characters."""
    return clean_text(text, multiline=True)


def normalise_org(name: str) -> str:
    """An organisation's name for comparison: case and spaces ignored ("Age UK" == "age  uk" == "AgeUK")."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def normalise_username(username: str | None) -> str | None:
    """A Telegram username as stored: without '@', lowercased (Telegram usernames ignore case)."""
    if not username:
        return None
    match = USERNAME_PATTERN.match(username.strip())
    return match.group(1).lower()[:MAX_USERNAME_CHARS] if match else None
