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
    """Every new database session fails as if the server had gone away, until the block ends."""

    @asynccontextmanager
    async def unavailable(self: Database) -> AsyncIterator[Any]:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down (simulated)"))
        yield  # pragma: no cover

    with monkeypatch.context() as patch:
        patch.setattr(Database, "session", unavailable)
        yield


async def test_answers_keep_coming_while_the_database_is_down_and_it_recovers(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    person = bot.fake.person(960)
    with database_down(monkeypatch):
        mark = bot.fake.mark()
        bot.fake.say(person, "what goes in a memorandum of understanding")
        [answer] = await bot.fake.replies(960, after=mark)
        assert "memorandum" in answer.text.lower()

        bot.fake.press(person, answer, "👍 Helpful")
        assert await bot.fake.api_wait(lambda: any("try again in a minute" in a.get("text", "")
                                                   for a in bot.fake.api.callback_answers))

        mark = bot.fake.mark()
        bot.fake.say(person, "what's the weather like in Swansea")
        [decline] = await bot.fake.replies(960, after=mark)
        assert "don't have an answer" in decline.text and "try again in a minute" in decline.text

        mark = bot.fake.mark()
        bot.fake.say(person, "/mydata")
        [sorry] = await bot.fake.replies(960, after=mark)
        assert "try again in a minute" in sorry.text

    # The database is back: the same actions work again without a restart.
    bot.fake.press(person, answer, "👍 Helpful")
    assert await bot.fake.api_wait(lambda: any("Glad it helped" in a.get("text", "")
                                               for a in bot.fake.api.callback_answers))
    mark = bot.fake.mark()
    bot.fake.say(person, "what's the weather like in Swansea")
    [decline] = await bot.fake.replies(960, after=mark)
    assert "Ask the panel" in str(decline.buttons())
