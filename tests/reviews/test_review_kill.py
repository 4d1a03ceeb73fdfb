"""The process killed mid-dispatch: ``partnerbot run`` (a real separate process) is killed with SIGKILL
while the fake Telegram server holds one of its nudges half-sent; after a restart no nudge is sent twice.

The held nudge reaches the chat once (the server finishes it after the kill, as Telegram would have); the
other nudge of the same claimed batch went out before the kill; both rows stay claimed and are never
resent by the restarted bot, which meanwhile sends a nudge that became due later (proof that it ran).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, update

from bot.core.local_api import LocalBotApi
from db.engine import Database
from db.review_models import ReviewOccurrence
from db.types import utcnow
from tests.conftest import TEST_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.process_support import partnerbot_command, stop_process
from tests.reviews.review_support import add_weekly, migrated, occurrences

pytestmark = pytest.mark.slow  # starts processes or runs a load: CI runs it, `-m 'not slow'` skips it

HELD, SIBLING, LATER = 9101, 9102, 9103


class HoldingApi(LocalBotApi):
    """The fake Bot API, able to hold one chat's sendMessage until released (a send in flight)."""

    def __init__(self, hold_chat: int) -> None:
        super().__init__()
        self.hold_chat = str(hold_chat)
        self.holding = threading.Event()
        self.release = threading.Event()

    def call(self, method: str, params: dict[str, Any], files: Any = None) -> dict[str, Any]:
        if method == "sendMessage" and str(params.get("chat_id")) == self.hold_chat and not self.release.is_set():
            self.holding.set()
            self.release.wait(60)
        return super().call(method, params, files)


def start(fake: FakeTelegram, folder: Path, db_url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    env.update({"DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": TEST_TOKEN, "LOG_LEVEL": "WARNING",
                "TELEGRAM_API_BASE_URL": fake.base_url})
    return subprocess.Popen([*partnerbot_command(), "run"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


async def make_due(db_url: str, chat_id: int) -> int:
    """A partnership whose nudge is due a minute ago (in real time: the process uses the real clock)."""
    async with migrated(db_url) as database:
        now = utcnow()
        pid = await add_weekly(database, chat_id=chat_id, now=now, weekday=now.weekday(),
                               at=(now + timedelta(hours=1)).time().replace(microsecond=0), start=now.date())
        async with database.session() as session:
            await session.exec(update(ReviewOccurrence).where(col(ReviewOccurrence.partnership_id) == pid)
                               .values(due_at=now - timedelta(minutes=1)))
            await session.commit()
        return pid


async def recorded_sent(db_url: str, occurrence_pid: int, attempts: int = 200) -> bool:
    """Whether the partnership's first occurrence is recorded as sent, looking up to ``attempts`` times."""
    database = Database(db_url)
    try:
        for _ in range(attempts):
            if (await occurrences(database, occurrence_pid))[0].status == "sent":
                return True
            await asyncio.sleep(0.05)  # another process writes it: nothing here to await
        return False
    finally:
        await database.dispose()


def nudges(api: LocalBotApi) -> Counter[int]:
    return Counter(s.chat_id for s in api.outbox if s.method == "sendMessage" and "Check-in time" in s.text)


async def test_a_bot_killed_mid_send_never_sends_a_nudge_twice(tmp_path: Path, db_url: str) -> None:
    fake = FakeTelegram()
    fake.api = fake._server.api = api = HoldingApi(HELD)
    fake.start()
    processes: list[subprocess.Popen[str]] = []
    try:
        held_pid, sibling_pid = await make_due(db_url, HELD), await make_due(db_url, SIBLING)
        processes.append(start(fake, tmp_path, db_url))
        assert await asyncio.to_thread(api.holding.wait, 60), "the bot never sent the held nudge"
        await asyncio.to_thread(api.wait_for, lambda: nudges(api)[SIBLING] == 1, 10)
        processes[0].send_signal(signal.SIGKILL)  # killed between send and mark
        await asyncio.to_thread(processes[0].wait, 10)
        api.release.set()  # Telegram finishes delivering what it had received
        assert await asyncio.to_thread(api.wait_for, lambda: nudges(api)[HELD] == 1, 10)
        async with migrated(db_url) as database:
            assert (await occurrences(database, held_pid))[0].status == "sending"

        later_pid = await make_due(db_url, LATER)
        processes.append(start(fake, tmp_path, db_url))
        assert await asyncio.to_thread(api.wait_for, lambda: nudges(api)[LATER] == 1, 60), \
            "the restarted bot did not dispatch"
        # Wait until that dispatch has also recorded LATER as sent: any resend of the claimed rows would have
        # gone out in the same run, before its record.
        assert await recorded_sent(db_url, later_pid), "the restarted bot never recorded its nudge"
        assert nudges(api) == Counter({HELD: 1, SIBLING: 1, LATER: 1})
        async with migrated(db_url) as database:
            for pid in (held_pid, sibling_pid):
                rows = await occurrences(database, pid)
                assert rows[0].status in ("sending", "uncertain"), rows[0]  # claimed, never resent
                assert rows[1].status == "pending"  # the series goes on
            assert (await occurrences(database, later_pid))[0].status == "sent"
    finally:
        api.release.set()
        for process in processes:
            if process.poll() is None:
                await asyncio.to_thread(stop_process, process)
        fake.stop()
