"""Helpers for the mentoring tests: profiles seeded through the rules, and waiting for a bot message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bot.core.local_api import Sent
from bot.mentoring.drafts import validate_draft
from bot.mentoring.profiles import save_profile
from tests.conftest import PANEL_CHAT_ID, Harness, make_settings, start_bot, stop_bot
from tests.fake_telegram import FakeTelegram


@pytest.fixture
async def mbot(fake_telegram: FakeTelegram, db_url: str) -> AsyncIterator[Harness]:
    """The real bot with a generous rate limit (a profile takes a dozen taps) and a 72-hour timeout."""
    settings = make_settings(db_url, telegram_api_base_url=fake_telegram.base_url, panel_chat_id=PANEL_CHAT_ID,
                             rate_limit_per_minute=1000, mentor_request_timeout_hours=72)
    harness = await start_bot(fake_telegram, settings)
    try:
        yield harness
    finally:
        await stop_bot(harness)


async def seed(bot: Harness, user_id: int, role: str, *, name: str, organisation: str, region: str = "north_west",
               topics: Sequence[str] = ("diligence",), username: str | None = None, capacity: int = 1,
               story: str = "", stages: Sequence[str] = (), partners: Sequence[str] = (),
               org_type: str = "charity") -> int:
    """A profile stored directly through the rules (for tests that are not about the questions); its person id."""
    draft = validate_draft({"role": role, "display_name": name, "organisation": organisation,
                                  "org_type": org_type, "region": region, "topics": list(topics),
                                  "stages": list(stages), "partner_types": list(partners), "story": story,
                                  "capacity": capacity})
    profile, _ = await save_profile(bot.services.database, telegram_id=user_id, username=username,
                                          first_name=name, draft=draft, now=bot.services.clock())
    return profile.person_id


async def wait_for(bot: Harness, chat_id: int, phrase: str, *, after: int, timeout: float = 10.0) -> Sent:
    """The first message (or edit) to ``chat_id`` since ``after`` whose text contains ``phrase``."""

    def _found() -> Sent | None:
        for sent in bot.fake.api.outbox[after:]:
            if sent.chat_id == chat_id and phrase.lower() in sent.text.lower():
                return sent
        return None

    ok = await bot.fake.api_wait(lambda: _found() is not None, timeout)
    if not ok:
        got = [s.text[:100] for s in bot.fake.api.outbox[after:] if s.chat_id == chat_id]
        raise AssertionError(f"no message with {phrase!r} to {chat_id} within {timeout}s; got {got}")
    found = _found()
    assert found is not None
    return found


async def alert_for(bot: Harness, phrase: str, *, after_answers: int, timeout: float = 10.0) -> dict[str, Any]:
    """The first answerCallbackQuery (an alert or toast) since ``after_answers`` containing ``phrase``."""

    def _found() -> dict[str, Any] | None:
        for answer in bot.fake.api.callback_answers[after_answers:]:
            if phrase.lower() in str(answer.get("text", "")).lower():
                return answer
        return None

    ok = await bot.fake.api_wait(lambda: _found() is not None, timeout)
    if not ok:
        raise AssertionError(f"no callback answer with {phrase!r}; got "
                             f"{[a.get('text') for a in bot.fake.api.callback_answers[after_answers:]]}")
    found = _found()
    assert found is not None
    return found


async def tap(bot: Harness, person: dict[str, Any], sent: Sent, label: str, expect: str) -> Sent:
    """Tap a button and return the bot's next message (or edit) to this person containing ``expect``."""
    mark = bot.fake.mark()
    bot.fake.press(person, sent, label)
    return await wait_for(bot, person["id"], expect, after=mark)


async def say(bot: Harness, person: dict[str, Any], text: str, expect: str) -> Sent:
    mark = bot.fake.mark()
    bot.fake.say(person, text)
    return await wait_for(bot, person["id"], expect, after=mark)


async def run_job(bot: Harness, name: str) -> None:
    [job] = bot.application.job_queue.get_jobs_by_name(name)
    await job.run(bot.application)


def button_data(sent: Sent, prefix: str) -> list[str]:
    return [data for _label, data in sent.buttons() if data.startswith(prefix)]
