"""A SQLite file deleted or replaced while the bot runs is noticed: the bot says so in the log and to the
admins, and refuses to save (a vote is not thanked for) instead of writing into a file that is gone.
And `partnerbot run` says at start when it creates a new, empty database."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.storage import TRY_AGAIN
from db.engine import DatabaseVanished
from db.models import AnswerVote
from tests.conftest import ADMIN_ID, TEST_TOKEN, Harness, make_settings, start_bot, stop_bot
from tests.core.test_run_process import _wait
from tests.fake_telegram import FakeTelegram
from tests.process_support import clean_env, partnerbot_command


async def _vote(bot: Harness, person: dict, question: str) -> str:  # type: ignore[type-arg]
    mark = bot.fake.mark()
    bot.fake.say(person, question)
    [answer] = await bot.fake.replies(person["id"], after=mark)
    answers = len(bot.fake.api.callback_answers)
    bot.fake.press(person, answer, "👍 Helpful")
    assert await bot.fake.api_wait(lambda: len(bot.fake.api.callback_answers) > answers)
    return str(bot.fake.api.callback_answers[answers].get("text"))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _replace(path: Path) -> None:
    other = path.with_name("other.db")
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    _remove(path)
    os.replace(other, path)


@pytest.mark.parametrize("damage", [_remove, _replace], ids=["deleted", "replaced"])
async def test_a_vanished_database_file_is_noticed_and_nothing_is_acknowledged(
        fake_telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object) -> None:
    path = tmp_path / "bot.db"
    settings = make_settings(f"sqlite+aiosqlite:///{path}", telegram_api_base_url=fake_telegram.base_url)
    bot = await start_bot(fake_telegram, settings)
    try:
        person = bot.fake.person(6601)
        assert "Glad" in await _vote(bot, person, "what goes in a memorandum of understanding")
        damage(path)  # type: ignore[operator]
        caplog.set_level(logging.ERROR, logger="db.engine")
        refused = await _vote(bot, person, "how do we share data with a council")
        assert refused == TRY_AGAIN  # the storage guard's "try again", not a thank-you for a vote not kept
        assert any("was deleted" in r.getMessage() or "was replaced" in r.getMessage() for r in caplog.records)
        mark = bot.fake.mark()
        [job] = bot.application.job_queue.get_jobs_by_name("database-health")
        await job.run(bot.application)
        [notice] = await bot.fake.replies(ADMIN_ID, after=mark)
        assert "Database problem" in notice.text and str(path) in notice.text
        await job.run(bot.application)  # told once
        assert await bot.fake.quiet(ADMIN_ID, after=mark, by=bot.fake.person(ADMIN_ID)) == [notice]
        async with bot.services.database.session() as session:  # every later statement is refused too
            with pytest.raises(DatabaseVanished, match=r"deleted|replaced"):
                await session.exec(select(AnswerVote))
    finally:
        await stop_bot(bot)


async def _start_and_stop(fake: FakeTelegram, tmp_path: Path, db_url: str) -> str:
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_API_BASE_URL=fake.base_url, DATABASE_URL=db_url)
    calls = len(fake.api.calls)
    process = subprocess.Popen([*partnerbot_command(), "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        assert await _wait(fake, lambda: "getUpdates" in fake.api.calls[calls:], 45), "never polled"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    return output


@pytest.mark.slow  # starts the bot as a process twice
async def test_run_says_when_it_creates_a_new_empty_database(fake_telegram: FakeTelegram, tmp_path: Path,
                                                             empty_db_url: str) -> None:
    db_url = empty_db_url  # a database that does not exist yet (SQLite) or has no tables (PostgreSQL)
    first = await _start_and_stop(fake_telegram, tmp_path, db_url)
    assert "Created a new, empty database" in first and "check DATABASE_URL" in first
    second = await _start_and_stop(fake_telegram, tmp_path, db_url)
    assert "Created a new, empty database" not in second
