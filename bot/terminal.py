"""``partnerbot chat``: talk to the real bot in a terminal, with no token and no network.

The same Application and handlers as on Telegram run here; only their Bot API calls are answered
in-process by :class:`LocalBotApi`. Bot messages are printed, inline buttons are numbered and pressed
by typing the number. It reads from a pipe as well as from a terminal and stops at end of input.

The terminal plays every side, so one person can try every flow alone: ``::as ID NAME`` speaks as someone
else (a mentor, a partner in the group), ``::admin`` makes the speaker an admin of the group stand-in, and
``::time`` moves the bot's clock and runs the scheduled jobs that are then due (a nudge, a follow-up).
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from apscheduler.triggers.interval import IntervalTrigger
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
PANEL_MEMBER = {"id": 999_999, "is_bot": False, "first_name": "Panel member"}
TRICKS = (
    "Terminal-only tricks (they act as other people or places would on Telegram):\n"
    "  ::as ID NAME    speak as another person (e.g. ::as 2 Priya); their messages show as \"bot → Priya\"\n"
    "  ::me            speak as yourself again\n"
    "  ::group TEXT    say TEXT in the group stand-in (the bot answers only /ask, mentions and replies)\n"
    "  ::reply TEXT    in the group, reply TEXT to the bot's latest message there\n"
    "  ::admin         make the current speaker an admin of the group stand-in\n"
    "  ::tap LABEL     press the newest button whose label contains LABEL (in your chat or the group)\n"
    "  ::time +3d      move the bot's clock on (+30m, +2h, +3d) or to a moment (::time 2027-03-28T09:00),\n"
    "                  then run the scheduled jobs that are due (nudges, follow-ups, timeouts)\n"
    "  ::inline WORDS  type @bot WORDS in any chat and see the inline results\n"
    "  ::panel TEXT    as a panel member, reply TEXT to the latest question posted in the panel chat\n"
    "  ::help          this list\n"
    "Buttons: type the number of a button shown last (for whoever it was sent to); you press it as the "
    "current speaker.\n")


class TerminalChat:
    """One person in a private chat with the bot, on standard input and output."""

    def __init__(self, services: Services, out: TextIO = sys.stdout, *, name: str | None = None) -> None:
        self.api = LocalBotApi()
        self.out = out
        self.application: Application = build_application(  # type: ignore[type-arg]
            services, request=LocalRequest(self.api), rate_limiter=False)
        self.services = services
        self.application.bot_data[SCHEDULED_ONLY_TO_KEY] = [LOCAL_USER_ID, LOCAL_GROUP["id"]]
        first_name = name or (getpass.getuser() or "You").capitalize()
        self.me = {"id": LOCAL_USER_ID, "is_bot": False, "first_name": first_name, "language_code": "en"}
        self.people: dict[int, dict[str, Any]] = {LOCAL_USER_ID: self.me}
        self.user = self.me
        self._printed = 0
        self._answers_printed = 0
        # The latest buttons shown in each chat; a typed number presses one of those in the speaker's own chat
        # or in the group, whichever showed buttons last.
        self._buttons_in: dict[int, list[tuple[int, int, str, str]]] = {}  # chat id -> (chat, message, label, data)
        self._shown_order: list[int] = []
        self._offset = timedelta(0)
        real_clock = services.clock
        services.clock = lambda: real_clock() + self._offset

    @property
    def chat(self) -> dict[str, Any]:
        """The current speaker's private chat with the bot."""
        return {"id": self.user["id"], "type": "private", "first_name": self.user["first_name"]}

    @property
    def _buttons(self) -> list[tuple[int, int, str, str]]:
        """The buttons a typed number presses: the latest shown in the speaker's chat or in the group."""
        mine = (self.chat["id"], LOCAL_GROUP["id"])
        latest = next((chat_id for chat_id in reversed(self._shown_order) if chat_id in mine), None)
        return self._buttons_in.get(latest, []) if latest is not None else []

    @property
    def speaker(self) -> str:
        return str(self.user["first_name"])

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
            await self._trick(text)
            await self.process_pending()
            self._show_inline_results()
            return True
        if text.isdigit() and self._buttons:
            number = int(text)
            if not 1 <= number <= len(self._buttons):
                self.out.write(f"(There is no button {number}: choose 1 to {len(self._buttons)}.)\n")
                return True
            chat_id, message_id, label, data = self._buttons[number - 1]
            if data.startswith("http"):
                self.out.write(f"(That button opens {data})\n")
                return True
            who = "you" if self.user is self.me else self.speaker
            self.out.write(f"({who} pressed: {label})\n")
            self.api.press(self.user, chat_id, message_id, data)
        else:
            self.api.send_text(self.user, self.chat, text)
        await self.process_pending()
        return True

    async def _trick(self, text: str) -> None:
        """Terminal-only instructions that stand in for other people, chats and time."""
        command, _, rest = text[2:].partition(" ")
        rest = rest.strip()
        if command == "as":
            self._speak_as(rest)
        elif command == "me":
            self.user = self.me
            self.out.write(f"(speaking as yourself, {self.speaker})\n")
        elif command == "admin":
            self.api.member_status[(LOCAL_GROUP["id"], self.user["id"])] = "administrator"
            self.out.write(f"({self.speaker} is now an admin of the group)\n")
        elif command == "time":
            await self._move_clock(rest)
        elif command == "tap" and rest:
            self._tap(rest)
        elif command == "group" and rest:
            self.api.send_text(self.user, LOCAL_GROUP, rest)
        elif command == "reply" and rest:
            posted = [s for s in self.api.outbox if s.chat_id == LOCAL_GROUP["id"] and s.method == "sendMessage"]
            if not posted:
                self.out.write("(The bot hasn't said anything in the group yet.)\n")
                return
            self.api.send_text(self.user, LOCAL_GROUP, rest, reply_to_message_id=posted[-1].message_id)
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

    def _tap(self, label: str) -> None:
        """``::tap LABEL``: press the newest button whose label contains LABEL, in the speaker's chat or the group."""
        mine = (self.chat["id"], LOCAL_GROUP["id"])
        for sent in reversed(self.api.outbox):
            if sent.chat_id not in mine:
                continue
            for text, data in sent.buttons():
                if label.lower() in text.lower() and not data.startswith("http"):
                    self.out.write(f"({self.speaker} pressed: {text})\n")
                    self.api.press(self.user, sent.chat_id, sent.message_id, data)
                    return
        self.out.write(f"(No button “{label}” here.)\n")

    def _speak_as(self, rest: str) -> None:
        """``::as ID NAME``: another person (kept for the session); ``::as ID`` goes back to one seen before."""
        raw_id, _, name = rest.partition(" ")
        try:
            user_id = int(raw_id)
        except ValueError:
            self.out.write("(Use ::as ID NAME, for example ::as 2 Priya)\n")
            return
        if user_id <= 0:
            self.out.write("(A person's id is a positive number.)\n")
            return
        person = self.people.get(user_id)
        if person is None or name:
            person = {"id": user_id, "is_bot": False, "first_name": name.strip() or f"Person {user_id}",
                      "language_code": "en"}
            self.people[user_id] = person
        self.user = person
        only_to = self.application.bot_data[SCHEDULED_ONLY_TO_KEY]
        if user_id not in only_to:
            only_to.append(user_id)
        self.out.write(f"(speaking as {self.speaker}, id {user_id})\n")

    async def _move_clock(self, rest: str) -> None:
        """``::time +3d`` / ``+2h`` / ``+30m``, or ``::time 2027-03-28T09:00`` (in the bot's time zone); then
        every repeating job runs once, as it would at that moment."""
        now = self.services.clock()
        match = re.fullmatch(r"\+\s*(\d+)\s*([mhdw])", rest)
        if match:
            unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
            target = now + timedelta(**{unit: int(match[1])})
        else:
            try:
                moment = datetime.fromisoformat(rest)
            except ValueError:
                self.out.write("(Use ::time +3d, +2h, +30m or ::time 2027-03-28T09:00)\n")
                return
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.services.settings.tz)
            target = moment.astimezone(UTC)
        if target < now:
            self.out.write("(The clock only moves forward.)\n")
            return
        self._offset += target - now
        local = self.services.clock().astimezone(self.services.settings.tz)
        self.out.write(f"(the time is now {local:%a %d %b %Y, %H:%M} {local:%Z})\n")
        await self.run_due_jobs()

    async def run_due_jobs(self) -> None:
        """Run each repeating job once (they find their own due work in the database)."""
        job_queue = self.application.job_queue
        if job_queue is None:
            return
        for job in job_queue.jobs():
            if isinstance(job.job.trigger, IntervalTrigger):
                await job.run(self.application)

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
        """Print the bot's messages (and its answers to taps) that have not been printed yet."""
        for answer in self.api.callback_answers[self._answers_printed:]:
            if answer.get("text"):
                self.out.write(f"(bot, on the tap: {answer['text']})\n")
        self._answers_printed = len(self.api.callback_answers)
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
        elif sent.chat_id in self.people and sent.chat_id != self.chat["id"]:
            prefix += f" → {self.people[sent.chat_id]['first_name']}"
        elif sent.chat_id != self.chat["id"]:
            prefix += f" → chat {sent.chat_id}"
        elif len(self.people) > 1:
            prefix += f" → {self.speaker}"
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
        self._buttons_in[sent.chat_id] = [(sent.chat_id, sent.message_id, label, data)
                                          for row in rows for label, data in row]
        self._shown_order = [c for c in self._shown_order if c != sent.chat_id] + [sent.chat_id]
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


async def run_terminal_chat(services: Services, stream: TextIO = sys.stdin, out: TextIO = sys.stdout, *,
                            name: str | None = None) -> int:
    """Run the conversation until end of input or /quit; messages from scheduled jobs print as they come.
    From a pipe, each line read is shown as the speaker's, so the output reads as a transcript."""
    interactive = stream.isatty()
    if interactive:
        out.write(INTRO + "\n\n")
    async with TerminalChat(services, out, name=name) as chat:
        ticker = asyncio.create_task(_print_background(chat)) if interactive else None
        try:
            while True:
                if interactive:
                    out.write(f"{'you' if chat.user is chat.me else chat.speaker}: ")
                    out.flush()
                line = await _read_line(stream)
                if line is not None and not interactive and line.strip():
                    out.write(f"{chat.speaker}: {line.strip()}\n")
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

