"""A load test through the fake Bot API: 500 people, 10 messages or button presses each, at once.
Passes when every message gets a reply and the bot logs no error; prints p50 and p95 reply times
(figures are recorded in docs/BENCHMARKS.md, never asserted: machines are noisy)."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Harness
from tests.core.load_support import run_load

pytestmark = pytest.mark.slow  # starts processes or runs a load: CI runs it, `-m 'not slow'` skips it


async def test_500_people_10_messages_each_all_get_replies(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    result = await run_load(bot.fake, people=500, messages_each=10)
    print("\nLOAD:", result.summary())
    assert result.failures == []
    assert len(result.reply_ms) == 5000
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors[:3]]
