"""At least once, exactly once in effect: ``partnerbot run`` (a real process) is killed with SIGKILL after
it fetched a message and before its reply went out; after the restart that message is answered once.

The fake server holds the bot's reply and, once the process is dead, drops it (the request never got out),
so the only way the person can get an answer is from the restarted bot. Telegram's offset has moved on by
then, as it would have: the restarted bot must have the message from its own inbox.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.core.local_api import LocalBotApi
from db.models import InboxUpdate
from tests.fake_telegram import FakeTelegram
from tests.process_support import stop_process
from tests.reviews.review_support import migrated
from tests.reviews.test_review_kill import start

PERSON = 9201
QUESTION = "what goes in a memorandum of understanding"


class DroppingApi(LocalBotApi):
    """The fake Bot API, holding the first sendMessage to one chat and dropping it when released."""

    def __init__(self, chat_id: int) -> None:
        super().__init__()
        self.chat_id = str(chat_id)
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held = 0

    def call(self, method: str, params: dict[str, Any], files: Any = None) -> dict[str, Any]:
        if method == "sendMessage" and str(params.get("chat_id")) == self.chat_id and self.held == 0:
            self.held += 1
            self.holding.set()
            self.release.wait(60)
            return {"ok": False, "error_code": 502, "description": "Bad Gateway: the sender went away"}
        return super().call(method, params, files)


def answers(api: LocalBotApi) -> list[str]:
    return [s.text for s in api.outbox if s.chat_id == PERSON and s.method == "sendMessage"]


async def test_a_message_fetched_before_a_kill_is_answered_once_after_restart(tmp_path: Path, db_url: str) -> None:
    fake = FakeTelegram()
    fake.api = fake._server.api = api = DroppingApi(PERSON)
    fake.start()
    processes: list[subprocess.Popen[str]] = []
    try:
        processes.append(start(fake, tmp_path, db_url))
        assert await asyncio.to_thread(api.wait_for, lambda: "getUpdates" in api.calls, 60), "never polled"
        fake.say(fake.person(PERSON, "Gwen"), QUESTION)
        assert await asyncio.to_thread(api.holding.wait, 60), "the bot never tried to answer"
        # Fetched, being answered: the process dies before the reply gets out.
        processes[0].send_signal(signal.SIGKILL)
        await asyncio.to_thread(processes[0].wait, 10)
        api.release.set()
        assert answers(api) == []
        async with migrated(db_url) as database, database.session() as session:
            [row] = (await session.exec(select(InboxUpdate))).all()
            assert row.handled_at is None and QUESTION in row.payload  # recorded before it was acknowledged

        calls = len(api.calls)
        processes.append(start(fake, tmp_path, db_url))
        assert await asyncio.to_thread(api.wait_for, lambda: len(answers(api)) >= 1, 60), \
            "the restarted bot never answered"
        # Let the restarted bot run on (it polls again, so a repeat would show), then count.
        assert await asyncio.to_thread(api.wait_for, lambda: api.calls[calls:].count("getUpdates") >= 3, 30)
        assert len(answers(api)) == 1 and "memorandum" in answers(api)[0].lower()
        async with migrated(db_url) as database, database.session() as session:
            [row] = (await session.exec(select(InboxUpdate))).all()
            assert row.handled_at is not None and QUESTION not in row.payload  # handled; the words not kept
    finally:
        api.release.set()
        for process in processes:
            if process.poll() is None:
                await asyncio.to_thread(stop_process, process)
        fake.stop()
