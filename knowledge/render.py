"""Turning an answer's small Markdown subset into Telegram HTML or plain text, and splitting long HTML.

The subset is what curators need on a phone screen: **bold**, _italics_, "- " bullet lines and
[links](https://...). Everything else is text and is escaped, so a stray '<' in an entry or in
something a person typed can never break a message.
"""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096

_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])_(?=\S)(.+?)(?<=\S)_(?!\w)")
_BULLET = re.compile(r"^\s*[-*]\s+", re.MULTILINE)
_TAG_OR_ENTITY = re.compile(r"<(/?)([a-z-]+)([^>]*)>|&[#a-zA-Z0-9]+;")


def escape(text: str) -> str:
    """Escape user-supplied or curated text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def to_html(markdown: str) -> str:
    """Render the Markdown subset to Telegram HTML; all other characters are escaped."""
    text = escape(markdown.strip())
    links: list[str] = []

    def _keep_link(match: re.Match[str]) -> str:
        url = match.group(2).replace('"', "%22")
        links.append(f'<a href="{url}">{match.group(1)}</a>')
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(_keep_link, text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    text = _BULLET.sub("• ", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def to_plain(markdown: str) -> str:
    """Render the Markdown subset as plain text (the terminal and the ``ask`` command)."""
    text = _LINK.sub(r"\1 (\2)", markdown.strip())
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return _BULLET.sub("• ", text)


def html_to_plain(text: str) -> str:
    """Strip Telegram HTML to readable text: links keep their address, entities are unescaped."""
    text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"\2 (\1)", text, flags=re.DOTALL)
    text = re.sub(r"</?[a-z-]+[^>]*>", "", text)
    return html.unescape(text)


def visible_length(text: str) -> int:
    """Length of Telegram HTML as Telegram counts it (UTF-16 code units of the visible text)."""
    visible = html.unescape(re.sub(r"</?[a-z-]+[^>]*>", "", text))
    return len(visible.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most ``limit`` visible characters.

    Cuts prefer a blank line, then a line end, then a space; never inside a tag or an entity. Tags
    open at a cut are closed at the end of one part and opened again at the start of the next, so
    every part is valid HTML on its own.
    """
    if visible_length(text) <= limit:
        return [text]
    tokens: list[tuple[str, int]] = []  # (piece, visible length)
    position = 0
    for match in _TAG_OR_ENTITY.finditer(text):
        tokens.extend((char, _units(char)) for char in text[position:match.start()])
        is_entity = match.group(0).startswith("&")
        tokens.append((match.group(0), 1 if is_entity else 0))
        position = match.end()
    tokens.extend((char, _units(char)) for char in text[position:])

    parts: list[str] = []
    open_tags: list[str] = []  # full opening tags currently open
    budget = limit - 1  # keep a little room for safety with surrogate pairs
    index = 0
    while index < len(tokens):
        prefix = "".join(open_tags)
        start_tags = list(open_tags)
        used, end, best_cut = 0, index, -1
        while end < len(tokens) and used + tokens[end][1] <= budget:
            piece = tokens[end][0]
            used += tokens[end][1]
            end += 1
            if piece in ("\n", " "):
                best_cut = end
        if end < len(tokens) and best_cut > index:
            cut = _best_cut(tokens, index, end)
            end = cut if cut > index else best_cut
        chunk_tokens = [piece for piece, _ in tokens[index:end]]
        stack = list(start_tags)
        for piece in chunk_tokens:
            tag = _TAG_OR_ENTITY.fullmatch(piece)
            if tag and not piece.startswith("&"):
                if tag.group(1):
                    if stack:
                        stack.pop()
                else:
                    stack.append(piece)
        closing = "".join(f"</{_tag_name(t)}>" for t in reversed(stack))
        body = (prefix + "".join(chunk_tokens)).strip("\n ")
        if body:
            parts.append(body + closing)
        open_tags = stack
        index = end
    return parts


def _units(char: str) -> int:
    return len(char.encode("utf-16-le")) // 2


def _tag_name(opening: str) -> str:
    match = re.match(r"<([a-z-]+)", opening)
    return match.group(1) if match else "b"


def _best_cut(tokens: list[tuple[str, int]], start: int, end: int) -> int:
    """The latest paragraph break, else line break, else space, between start and end."""
    pieces = [piece for piece, _ in tokens[start:end]]
    joined_positions = {"\n\n": -1, "\n": -1, " ": -1}
    for offset in range(len(pieces) - 1, 0, -1):
        if pieces[offset] == "\n" and pieces[offset - 1] == "\n":
            joined_positions["\n\n"] = start + offset + 1
            break
    for offset in range(len(pieces) - 1, -1, -1):
        if pieces[offset] == "\n" and joined_positions["\n"] < 0:
            joined_positions["\n"] = start + offset + 1
        if pieces[offset] == " " and joined_positions[" "] < 0:
            joined_positions[" "] = start + offset + 1
    minimum = start + (end - start) // 2  # do not make absurdly short parts
    for key in ("\n\n", "\n", " "):
        if joined_positions[key] > minimum:
            return joined_positions[key]
    return end
