"""When the database goes away for a while: questions are still answered from memory, anything that
must be saved asks the person to try again in a minute, and the bot recovers by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from db.engine import Database
from tests.conftest import Harness


@contextmanager
def database_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every new database session or transaction fails as if the server had gone away, until the block ends."""

    @asynccontextmanager
    async def unavailable(self: Database) -> AsyncIterator[Any]:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down (simulated)"))
        yield  # pragma: no cover

    with monkeypatch.context() as patch:
        patch.setattr(Database, "session", unavailable)
        patch.setattr(Database, "transaction", unavailable)
        yield


async def test_answers_keep_coming_while_the_database_is_down_and_it_recovers(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    person = bot.fake.person(960)
    with database_down(monkeypatch):
        mark = bot.fake.mark()
        bot.fake.say(person, "what goes in a memorandum of understanding")
        [answer] = await bot.fake.replies(960, after=mark)
        assert "memorandum" in answer.text.lower()

        tapped = bot.fake.mark()
        bot.fake.press(person, answer, "👍 Helpful")
        await bot.fake.answered("try again in a minute", after=tapped)

        mark = bot.fake.mark()
        bot.fake.say(person, "what's the weather like in Swansea")
        [decline] = await bot.fake.replies(960, after=mark)
        assert "don't have an answer" in decline.text and "try again in a minute" in decline.text

        mark = bot.fake.mark()
        bot.fake.say(person, "/mydata")
        [sorry] = await bot.fake.replies(960, after=mark)
        assert "try again in a minute" in sorry.text

    # The database is back: the same actions work again without a restart.
    tapped = bot.fake.mark()
    bot.fake.press(person, answer, "👍 Helpful")
    await bot.fake.answered("Glad it helped", after=tapped)
    mark = bot.fake.mark()
    bot.fake.say(person, "what's the weather like in Swansea")
    [decline] = await bot.fake.replies(960, after=mark)
    assert "Ask the panel" in str(decline.buttons())


@asynccontextmanager
async def postgres_refusing_connections(url: str) -> AsyncIterator[None]:
    """A real outage: the database refuses new connections and every open one is cut, until the block ends."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = target.database
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            await connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                          "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        yield
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        await admin.dispose()


@pytest.mark.postgres_only
async def test_a_real_postgres_outage_and_recovery(bot: Harness) -> None:
    url = bot.services.settings.database_url
    person = bot.fake.person(961)
    mark = bot.fake.mark()
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(961, after=mark)
    async with postgres_refusing_connections(url):
        mark = bot.fake.mark()
        bot.fake.say(person, "how do we deal with conflict between partners")
        [during] = await bot.fake.replies(961, after=mark)
        assert "<i>From:" in during.text
        tapped = bot.fake.mark()
        bot.fake.press(person, answer, "👍 Helpful")
        await bot.fake.answered("try again in a minute", after=tapped)
    tapped = bot.fake.mark()
    bot.fake.press(person, answer, "👍 Helpful")
    await bot.fake.answered("Glad it helped", after=tapped)


async def test_a_panel_reply_while_the_database_is_down_is_not_lost_silently(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import PANEL_CHAT_ID

    expert = bot.fake.person(962, "Expert")
    panel = bot.fake.group_chat(PANEL_CHAT_ID, "Panel")
    posted = bot.fake.api.call("sendMessage", {"chat_id": PANEL_CHAT_ID, "text": "❓ Question #1"})["result"]
    with database_down(monkeypatch):
        mark = bot.fake.mark()
        bot.fake.say(expert, "My answer to the question", chat=panel, reply_to=posted["message_id"])
        replies = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
        await bot.fake.settled(expert)
    texts = [s.text for s in bot.fake.api.outbox[mark:] if s.chat_id == PANEL_CHAT_ID]
    assert "send it again" in replies[0].text
    assert len(texts) == 1, texts  # and it was not also answered as a question to the bot


@pytest.mark.bot_settings(rate_limit_per_minute=1000)
async def test_every_feature_says_try_again_and_every_job_skips_while_the_database_is_down(
        bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The one storage guard: commands of each feature answer "try again in a minute"; each job logs a skip."""
    from bot.core.storage import TRY_AGAIN
    from tests.conftest import ADMIN_ID

    person, admin = bot.fake.person(963), bot.fake.person(ADMIN_ID)
    with database_down(monkeypatch):
        for who, command in ((person, "/mentor"), (person, "/profile"), (person, "/partnerships"),
                             (person, "/mydata"), (person, "/forget"), (admin, "/gaps"), (admin, "/drafts"),
                             (admin, "/console")):
            mark = bot.fake.mark()
            bot.fake.say(who, command)
            reply = await bot.fake.reply_with(who["id"], "try again in a minute", after=mark)
            assert reply.text == TRY_AGAIN, command
        # Buttons that arrive days after a match (the follow-ups, ending it) get an alert too.
        for data in ("mf:1:yes", "mv:1:1", "me:1"):
            mark = bot.fake.mark()
            bot.fake.api.press(person, person["id"], 1, data)
            alert = await bot.fake.answered("try again in a minute", after=mark)
            assert alert["text"] == TRY_AGAIN and alert.get("show_alert"), data
        caplog.clear()
        for name in ("mentor-timeouts", "mentor-followups", "mentor-deliveries", "review-dispatch", "panel-timeouts",
                     "retention", "inbox-purge"):
            [job] = bot.application.job_queue.get_jobs_by_name(name)
            await job.run(bot.application)
        skipped = [r.getMessage() for r in caplog.records if "skipped: database unavailable" in r.getMessage()]
        assert len(skipped) == 7, skipped
