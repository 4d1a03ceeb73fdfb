"""Abuse and bad input: a per-person rate limit, hostile text, and property-based tests of the
rendering and matching with arbitrary Unicode (no exception may escape)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.local_api import check_html
from bot.core.ratelimit import SlidingWindowLimiter
from knowledge.render import escape, split_html, to_html, visible_length
from tests.conftest import Harness

NASTY = st.text(alphabet=st.characters(codec="utf-8"), max_size=6000) | st.sampled_from([
    "\u202eevil right-to-left\u202c", "<script>alert(1)</script>", "**unclosed bold", "_x_ [l](javascript:x)",
    "\x00\x07\x1b[31m", "🙂" * 3000, "&amp;&lt;<b>", "a" * 10000])


def test_the_limiter_allows_the_limit_then_warns_once_then_recovers() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=60)
    decisions = [limiter.check(1, t) for t in (0, 1, 2, 3, 4)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.warn for d in decisions] == [False, False, False, True, False]
    assert limiter.check(2, 5).allowed  # someone else is unaffected
    assert limiter.check(1, 61).allowed  # a minute later, fine again


def test_the_limiter_forgets_idle_people() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=60)
    for person in range(1000):
        limiter.check(person, 0)
    limiter.check(5000, 200)
    assert len(limiter) == 1


async def test_a_flood_gets_one_polite_note_and_the_rest_waits_its_turn(bot: Harness) -> None:
    person = bot.fake.person(950)
    limit = bot.services.settings.rate_limit_per_minute
    for n in range(limit + 5):
        bot.fake.say(person, f"/start {n}")
    replies = await bot.fake.replies(950, count=limit + 1, timeout=30)
    notes = [r for r in replies if "very quickly" in r.text]
    assert len(notes) == 1
    assert len(await bot.fake.quiet(950, after=0, by=person)) == limit + 1


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(NASTY)
def test_any_text_renders_to_valid_telegram_html_in_parts_under_the_limit(text: str) -> None:
    for html in (to_html(text), escape(text)):
        for part in split_html(html):
            assert visible_length(part) <= 4096
            check_html(part)  # raises like Telegram would on broken HTML
