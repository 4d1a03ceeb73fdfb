"""Cleaning what people type before it is stored or compared: names, stories, organisation names and
Telegram usernames.

Why a module of its own: text arrives from the chat, from admins' CSV files and from the command line,
and must be bounded and stripped of control and invisible characters the same way wherever it came from.
"""

from __future__ import annotations

import re
import unicodedata

from db.mentoring_models import MAX_NAME_CHARS, MAX_USERNAME_CHARS

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
USERNAME_PATTERN = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


def clean_line(text: str | None, limit: int = MAX_NAME_CHARS) -> str:
    """One line of text as stored: control and invisible characters removed, spaces collapsed, bounded."""
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def clean_story(text: str | None) -> str:
    """A story keeps its line breaks (at most one blank line) but loses control characters."""
    text = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(_CONTROL.sub(" ", line).split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def normalise_org(name: str) -> str:
    """An organisation's name for comparison: case and spaces ignored ("Age UK" == "age  uk" == "AgeUK")."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def normalise_username(username: str | None) -> str | None:
    """A Telegram username as stored: without '@', lowercased (Telegram usernames ignore case)."""
    if not username:
        return None
    match = USERNAME_PATTERN.match(username.strip())
    return match.group(1).lower()[:MAX_USERNAME_CHARS] if match else None
