"""Helpers for the mentoring tests: profiles seeded through the rules, and waiting for a bot message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import pytest

from bot.core.local_api import Sent
from bot.mentoring.drafts import validate_draft
from bot.mentoring.profiles import save_profile
from db.engine import Database
from tests.conftest import PANEL_CHAT_ID, Harness

T = TypeVar("T")

#: The mentoring tests' bot: a generous flood limit (a profile takes a dozen taps) and a 72-hour timeout.
MENTOR_BOT = pytest.mark.bot_settings(panel_chat_id=PANEL_CHAT_ID, rate_limit_per_minute=1000,
                                      mentor_request_timeout_hours=72)


async def in_transaction(database: Database, rule: Callable[..., Awaitable[T]], /, **arguments: Any) -> T:
    """Run one rule as one unit of work, the way a handler, job or command does: ``rule(session=..., **arguments)``
    in one ``database.transaction()``."""
    async with database.transaction() as session:
        return await rule(session=session, **arguments)


async def seed(bot: Harness, user_id: int, role: str, *, name: str, organisation: str, region: str = "north_west",
               topics: Sequence[str] = ("diligence",), username: str | None = None, capacity: int = 1,
               story: str = "", stages: Sequence[str] = (), partners: Sequence[str] = (),
               org_type: str = "charity") -> int:
    """A profile stored directly through the rules (for tests that are not about the questions); its person id."""
    draft = validate_draft({"role": role, "display_name": name, "organisation": organisation,
                                  "org_type": org_type, "region": region, "topics": list(topics),
                                  "stages": list(stages), "partner_types": list(partners), "story": story,
                                  "capacity": capacity})
    profile, _ = await in_transaction(bot.services.database, save_profile, telegram_id=user_id, username=username,
                                      first_name=name, draft=draft, now=bot.services.clock())
    return profile.person_id


async def tap(bot: Harness, person: dict[str, Any], sent: Sent, label: str, expect: str) -> Sent:
    """Tap a button and return the bot's next message (or edit) to this person containing ``expect``."""
    mark = bot.fake.mark()
    bot.fake.press(person, sent, label)
    return await bot.fake.reply_with(person["id"], expect, after=mark)


async def say(bot: Harness, person: dict[str, Any], text: str, expect: str) -> Sent:
    mark = bot.fake.mark()
    bot.fake.say(person, text)
    return await bot.fake.reply_with(person["id"], expect, after=mark)


async def run_job(bot: Harness, name: str) -> None:
    [job] = bot.application.job_queue.get_jobs_by_name(name)
    await job.run(bot.application)


def button_data(sent: Sent, prefix: str) -> list[str]:
    return [data for _label, data in sent.buttons() if data.startswith(prefix)]


HEADER = "role,name,telegram,organisation,org_type,region,topics,capacity,story\n"
