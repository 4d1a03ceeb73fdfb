"""``partnerbot chat``: talk to the real bot in a terminal, with no token and no network.

The same Application and handlers as on Telegram run here; only their Bot API calls are answered
in-process by :class:`LocalBotApi`. Bot messages are printed, inline buttons are numbered and pressed
by typing the number. It reads from a pipe as well as from a terminal and stops at end of input.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.core.local_api import LocalBotApi, Sent
from bot.core.local_request import LocalRequest
from bot.core.services import SCHEDULED_ONLY_TO_KEY, Services
from knowledge.render import html_to_plain

LOCAL_USER_ID = 1
INTRO = ("PartnerBot terminal chat. Type as you would in Telegram (try /start). "
         "Press a button by typing its number; ::help for group, inline and panel tricks; /quit or Ctrl-D to leave.")
LOCAL_GROUP = {"id": -100_000_000_001, "type": "supergroup", "title": "Local test group"}
PANEL_MEMBER = {"id": 2, "is_bot": False, "first_name": "Panel member"}
TRICKS = (
    "Terminal-only tricks (they act as other people or places would on Telegram):\n"
    "  ::group TEXT    say TEXT in a group with the bot (it answers only /ask, mentions and replies)\n"
    "  ::inline WORDS  type @bot WORDS in any chat and see the inline results\n"
    "  ::panel TEXT    as a panel member, reply TEXT to the latest question posted in the panel chat\n")


class TerminalChat:
    """One person in a private chat with the bot, on standard input and output."""

    def __init__(self, services: Services, out: TextIO = sys.stdout, *, name: str | None = None) -> None:
        self.api = LocalBotApi()
        self.out = out
        self.application: Application = build_application(  # type: ignore[type-arg]
            services, request=LocalRequest(self.api), rate_limiter=False)
        self.application.bot_data[SCHEDULED_ONLY_TO_KEY] = [LOCAL_USER_ID]
        first_name = name or (getpass.getuser() or "You").capitalize()
        self.user = {"id": LOCAL_USER_ID, "is_bot": False, "first_name": first_name, "language_code": "en"}
        self.chat = {"id": LOCAL_USER_ID, "type": "private", "first_name": first_name}
        self._printed = 0
        self._buttons: list[tuple[int, str, str]] = []  # (message_id, label, data)

    async def __aenter__(self) -> TerminalChat:
        await self.application.initialize()
        if self.application.post_init:
            await self.application.post_init(self.application)
        await self.application.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.application.stop()
        await self.application.shutdown()

    async def handle_line(self, line: str) -> bool:
        """Act on one typed line; returns False when the person wants to leave."""
        text = line.strip()
        if not text:
            return True
        if text in {"/quit", "/exit"}:
            return False
        if text.startswith("::"):
            self._trick(text)
            await self.process_pending()
            self._show_inline_results()
            return True
        if text.isdigit() and self._buttons:
            number = int(text)
            if not 1 <= number <= len(self._buttons):
                self.out.write(f"(There is no button {number}: choose 1 to {len(self._buttons)}.)\n")
                return True
            message_id, label, data = self._buttons[number - 1]
            if data.startswith("http"):
                self.out.write(f"(That button opens {data})\n")
                return True
            self.out.write(f"(you pressed: {label})\n")
            self.api.press(self.user, self.chat["id"], message_id, data)
        else:
            self.api.send_text(self.user, self.chat, text)
        await self.process_pending()
        return True

    def _trick(self, text: str) -> None:
        """Terminal-only instructions that stand in for other people and chats."""
        command, _, rest = text[2:].partition(" ")
        rest = rest.strip()
        if command == "group" and rest:
            self.api.send_text(self.user, LOCAL_GROUP, rest)
        elif command == "inline":
            self._inline_seen = len(self.api.inline_answers)
            self.api.inline(self.user, rest)
        elif command == "panel" and rest:
            panel_chat = self.application.bot_data["services"].settings.panel_chat_id
            posted = [s for s in self.api.outbox if s.chat_id == panel_chat and s.method == "sendMessage"]
            if panel_chat is None or not posted:
                self.out.write("(No question has been posted to a panel chat yet: set PANEL_CHAT_ID, "
                               "ask something I can't answer, and tap \"Ask the panel\".)\n")
                return
            chat = {"id": panel_chat, "type": "supergroup", "title": "Panel"}
            self.api.send_text(PANEL_MEMBER, chat, rest, reply_to_message_id=posted[-1].message_id)
        else:
            self.out.write(TRICKS)

    def _show_inline_results(self) -> None:
        answers = self.api.inline_answers[getattr(self, "_inline_seen", len(self.api.inline_answers)):]
        for answer in answers:
            titles = [result.get("title", "") for result in answer["results"]]
            self.out.write("inline results:\n" + "".join(f"  - {t}\n" for t in titles) if titles
                           else "inline results: none\n")
        self._inline_seen = len(self.api.inline_answers)

    async def process_pending(self) -> None:
        """Feed every waiting update to the bot, then print what it sent."""
        for raw in self.api.take_updates():
            await self.application.process_update(Update.de_json(raw, self.application.bot))
        self.flush()

    def flush(self) -> None:
        """Print the bot's messages that have not been printed yet."""
        new = self.api.outbox[self._printed:]
        self._printed = len(self.api.outbox)
        for sent in new:
            self.out.write(self.render(sent))
        self.out.flush()

    def render(self, sent: Sent) -> str:
        if sent.method == "editMessageReplyMarkup":
            if sent.reply_markup:
                return self._buttons_text(sent)
            return ""
        lines = []
        prefix = "bot (edited)" if sent.method == "editMessageText" else "bot"
        if sent.chat_id == LOCAL_GROUP["id"]:
            prefix += " → group"
        elif sent.chat_id != self.chat["id"]:
            prefix += f" → chat {sent.chat_id}"
        if sent.file_name:
            saved = self._save_file(sent)
            lines.append(f"{prefix}: [{sent.method.removeprefix('send').lower()}: {sent.file_name}, "
                         f"saved to {saved}]")
            if sent.text:
                lines.append(html_to_plain(sent.text))
        else:
            lines.append(f"{prefix}: {html_to_plain(sent.text)}")
        text = "\n".join(lines) + "\n"
        return text + self._buttons_text(sent)

    def _buttons_text(self, sent: Sent) -> str:
        rows = sent.button_rows()
        if not rows:
            return "\n"
        self._buttons = [(sent.message_id, label, data) for row in rows for label, data in row]
        lines, number = [], 0
        for row in rows:
            cells = []
            for label, _data in row:
                number += 1
                cells.append(f"[{number}] {label}")
            lines.append("   " + "   ".join(cells))
        return "\n".join(lines) + "\n\n"

    @staticmethod
    def _save_file(sent: Sent) -> str:
        from pathlib import Path

        folder = Path("data") / "downloads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(sent.file_name or "file").name
        path.write_bytes(sent.file_bytes)
        return str(path)


async def _read_line(stream: TextIO) -> str | None:
    line = await asyncio.to_thread(stream.readline)
    return line if line else None


async def run_terminal_chat(services: Services, stream: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Run the conversation until end of input or /quit; messages from scheduled jobs print as they come."""
    interactive = stream.isatty()
    if interactive:
        out.write(INTRO + "\n\n")
    async with TerminalChat(services, out) as chat:
        ticker = asyncio.create_task(_print_background(chat)) if interactive else None
        try:
            while True:
                if interactive:
                    out.write("you: ")
                    out.flush()
                line = await _read_line(stream)
                if line is None or not await chat.handle_line(line):
                    break
        finally:
            if ticker:
                ticker.cancel()
            chat.flush()
    return 0


async def _print_background(chat: TerminalChat) -> None:
    """Show messages sent by jobs (nudges, follow-ups) while the person is thinking."""
    while True:
        await asyncio.sleep(1.0)
        await chat.process_pending()

