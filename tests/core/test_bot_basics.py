"""The bot's skeleton, end to end through the fake Telegram server: welcome, help, menu, errors."""

from __future__ import annotations

from telegram.ext import CommandHandler

from tests.conftest import Harness


async def test_start_greets_and_says_what_the_bot_does(bot: Harness) -> None:
    person = bot.fake.person(501, "Priya")
    bot.fake.say(person, "/start")
    [welcome] = await bot.fake.replies(501)
    assert "Hello Priya" in welcome.text
    for job in ("mentor buddy", "review", "partnership"):
        assert job in welcome.text


async def test_start_escapes_a_name_with_html_in_it(bot: Harness) -> None:
    person = bot.fake.person(502, "<b>Bob</b> & Co")
    bot.fake.say(person, "/start")
    [welcome] = await bot.fake.replies(502)
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Co" in welcome.text


async def test_help_lists_the_command_menu_set_with_telegram(bot: Harness) -> None:
    registered = {c["command"] for c in bot.fake.api.commands}
    assert {"start", "help"} <= registered
    person = bot.fake.person(503)
    bot.fake.say(person, "/help")
    [reply] = await bot.fake.replies(503)
    for command in registered:
        assert f"/{command}" in reply.text


async def test_a_failing_handler_apologises_and_hands_back_the_text(bot: Harness) -> None:
    async def broken(update: object, context: object) -> None:
        raise RuntimeError("boom")

    bot.application.add_handler(CommandHandler("broken", broken), group=-1)
    person = bot.fake.person(504)
    bot.fake.say(person, "/broken my long careful question")
    [reply] = await bot.fake.replies(504)
    assert "something went wrong" in reply.text
    assert "my long careful question" in reply.text
