"""Understanding people in chat, end to end through the fake Telegram server: small talk gets a warm reply
(never an entry, never a gap), a long message gets the answer to the question inside it, and what the bot
cannot answer is declined honestly with a pointer to the council for voluntary service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from db.models import QuestionLog
from tests.conftest import Harness, make_settings, start_bot, stop_bot

CVS_NAME = "Anytown CVS"
CVS_CONTACT = "01234 567890"

#: 600+ characters, the question in the middle, context on both sides.
LONG = ("Hi, hope you're well. I coordinate a small lunch club for older people in the town and we have "
        "been running for about twelve years with a handful of volunteers and one part-time worker. Last "
        "month the council's commissioning team got in touch and said they would like several local groups "
        "to work together on a new contract. How do we decide whether joining a partnership is right for "
        "our organisation? Our trustees meet next week and I'd like to give them something solid. The other "
        "groups are lovely but much bigger than us and I do worry about keeping our own way of doing things. "
        "Anyway, thanks in advance.")


@pytest.fixture
async def cvs_bot(fake_telegram, db_url: str) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    """The real bot with a CVS named in its settings and no human panel."""
    settings = make_settings(db_url, telegram_api_base_url=fake_telegram.base_url, cvs_name=CVS_NAME,
                             cvs_contact=CVS_CONTACT)
    harness = await start_bot(fake_telegram, settings)
    try:
        yield harness
    finally:
        await stop_bot(harness)


async def logged_questions(bot: Harness) -> list[QuestionLog]:
    async with bot.services.database.session() as session:
        return list((await session.exec(select(QuestionLog))).all())


async def test_hi_gets_a_friendly_greeting_not_a_decline(cvs_bot: Harness) -> None:
    person = cvs_bot.fake.person(901, "Sam")
    cvs_bot.fake.say(person, "hi")
    [reply] = await cvs_bot.fake.replies(901)
    assert reply.text.startswith("Hello!") and "partnership" in reply.text and "/topics" in reply.text
    assert "Sorry" not in reply.text and not reply.buttons()
    assert await logged_questions(cvs_bot) == []  # small talk is never a gap


async def test_thanks_gets_a_friendly_reply(cvs_bot: Harness) -> None:
    person = cvs_bot.fake.person(902)
    cvs_bot.fake.say(person, "cheers mate 👍")
    [reply] = await cvs_bot.fake.replies(902)
    assert "welcome" in reply.text.lower() and "Sorry" not in reply.text
    assert await logged_questions(cvs_bot) == []


async def test_a_long_message_gets_the_answer_to_the_question_in_the_middle(cvs_bot: Harness) -> None:
    assert 600 <= len(LONG) <= 1000
    person = cvs_bot.fake.person(903)
    cvs_bot.fake.say(person, LONG)
    [answer] = await cvs_bot.fake.replies(903)
    kb = cvs_bot.services.kb
    expected = {kb.get("partnership-should-we-join"), kb.get("partner-good-fit")}
    shown = [entry for entry in expected if entry is not None and f"<b>{entry.question}</b>" in answer.text]
    assert shown, answer.text[:200]
    labels = [label for label, _ in answer.buttons()]
    assert any(label.startswith("➡️") for label in labels) and "👍 Helpful" in labels


async def test_an_off_topic_question_is_declined_with_the_cvs_and_no_panel_promised(cvs_bot: Harness) -> None:
    person = cvs_bot.fake.person(904)
    cvs_bot.fake.say(person, "how do I apply for universal credit for one of our clients")
    [reply] = await cvs_bot.fake.replies(904)
    assert "welfare benefits" in reply.text and f"{CVS_NAME} ({CVS_CONTACT})" in reply.text
    assert "panel" not in reply.text.lower()
    labels = [label for label, _ in reply.buttons()]
    assert labels == ["📚 Browse topics"]


async def test_with_a_panel_the_decline_offers_it_too(bot: Harness) -> None:
    person = bot.fake.person(905)
    bot.fake.say(person, "what's the best pizza topping")
    [reply] = await bot.fake.replies(905)
    assert "Sorry" in reply.text and "panel" in reply.text
    assert "🙋 Ask the panel" in [label for label, _ in reply.buttons()]
