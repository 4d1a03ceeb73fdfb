"""The one text cleaner for everything people type, wherever it comes from (chat, CSV, command line).

Why one module: a NUL byte makes PostgreSQL refuse a whole row, a bidi override makes a stored name read
backwards when it is echoed, and zero-width characters make two names look the same while differing.
Every input path calls :func:`clean_text` before storing or comparing, so no path is left behind.
Telegram counts message lengths in UTF-16 code units (an emoji counts two), so lengths that Telegram
enforces are measured with :func:`utf16_len`.
"""

from __future__ import annotations

import re
import unicodedata

#: Removed: C0 and C1 control characters (NUL included; tab and line breaks are handled apart);
#: bidirectional overrides, embeddings, isolates and marks (they reorder how the text around them reads);
#: zero-width and invisible characters. The zero-width joiner is kept inside emoji sequences (👩‍💻).
_REMOVE = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f"
                     r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     r"\u00ad\u180e\u200b\u200c\u2060-\u2064\ufeff\ufff9-\ufffb]"
                     r"|\u200d(?![\u2600-\u27bf\U0001f000-\U0001faff])")
_SPACES = re.compile(r"[ \t\x0b\x0c\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"\r\n|[\r\x85\u2028\u2029\x1c-\x1e]")


def clean_text(text: str | None, *, multiline: bool = True) -> str:
    """Text as it is stored: NFC, no control, bidi or invisible characters, spaces collapsed, trimmed.

    ``multiline`` keeps line breaks (at most one blank line in a row); otherwise the text becomes one line.
    Plain printable ASCII (most of what is typed) takes a short path: there is nothing in it to remove.
    """
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        return " ".join(text.split())
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _REMOVE.sub("", _LINE_BREAKS.sub("\n", text))
    if not multiline:
        return " ".join(text.split())
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_line(text: str | None, limit: int | None = None) -> str:
    """One line of text, bounded to ``limit`` characters when given (the database counts characters)."""
    line = clean_text(text, multiline=False)
    return line[:limit].rstrip() if limit is not None else line


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (characters beyond the BMP, such as emoji, count 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def fit_utf16(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, at a character boundary."""
    if utf16_len(text) <= limit:
        return text
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


# -- outgoing messages: Telegram's limits, counted in UTF-16 units -------------------------------------
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ALERT_LIMIT = 200
TRIMMED_NOTE = "\n… (shortened: too long for one message)"


def message_parts(text: str, *, html: bool, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` as one or more messages that each fit Telegram's limit (HTML tags kept balanced)."""
    from knowledge.render import split_html, visible_length

    if html:
        return [text] if visible_length(text) <= limit else split_html(text, limit)
    parts: list[str] = []
    while utf16_len(text) > limit:
        head = fit_utf16(text, limit)
        cut = max(head.rfind("\n"), head.rfind(" "))
        head = head[:cut] if cut > limit // 2 else head
        parts.append(head)
        text = text[len(head):].lstrip()
    return [*parts, text] if text or not parts else parts


def trimmed(text: str, *, html: bool, limit: int) -> str:
    """``text`` cut to fit ``limit`` with a note saying so (for edits and captions, which cannot be split)."""
    parts = message_parts(text, html=html, limit=limit - utf16_len(TRIMMED_NOTE))
    if len(parts) == 1 and parts[0] == text:
        return text
    return parts[0] + (TRIMMED_NOTE if not html else TRIMMED_NOTE.replace("…", "<i>…") + "</i>")
