"""A load test through the fake Bot API: 500 people at once, each sending questions and pressing buttons.
Passes when every message gets a reply and the bot logs no error; prints p50 and p95 reply times (never
asserted: machines are noisy).

Here each person sends 4 messages (2,000 in all), on SQLite and on PostgreSQL: the same 500 people at once as
the full scenario, in a third of its time. The full 500 x 10 is `benchmarks/bench_load.py`, whose figures
docs/BENCHMARKS.md records."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Harness
from tests.core.load_support import run_load

pytestmark = pytest.mark.slow  # starts processes or runs a load: CI runs it, `-m 'not slow'` skips it


PEOPLE, EACH = 500, 4


async def test_500_people_at_once_all_get_replies(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    result = await run_load(bot.fake, people=PEOPLE, messages_each=EACH)
    print("\nLOAD:", result.summary())
    assert result.failures == []
    assert len(result.reply_ms) == PEOPLE * EACH
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors[:3]]
