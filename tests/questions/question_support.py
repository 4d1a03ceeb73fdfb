"""Helpers for the question tests: sending a question on to the panel as a person would."""

from __future__ import annotations

from tests.conftest import PANEL_CHAT_ID, Harness


async def send_to_panel(bot: Harness, person: dict, text: str, consent: str = "anonymously"):  # type: ignore[no-untyped-def]
    """Ask an off-topic question, tap "Ask the panel", answer the consent question; the panel's post."""
    mark = bot.fake.mark()
    bot.fake.say(person, text)
    [decline] = await bot.fake.replies(person["id"], after=mark)
    mark = bot.fake.mark()
    bot.fake.press(person, decline, "Ask the panel")
    [asked] = await bot.fake.replies(person["id"], after=mark)
    mark = bot.fake.mark()
    bot.fake.press(person, asked, consent)
    [posted] = await bot.fake.replies(PANEL_CHAT_ID, after=mark)
    await bot.fake.replies(person["id"], after=mark)
    return posted
