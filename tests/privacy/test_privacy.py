"""/privacy, /mydata and /forget, end to end: a person sees what is kept and can delete it."""

from __future__ import annotations

import json

from sqlmodel import select

from db.models import AnswerVote, QuestionLog
from tests.conftest import Harness


async def _leave_traces(bot: Harness, person: dict) -> None:  # type: ignore[type-arg]
    mark = bot.fake.mark()
    bot.fake.say(person, "how do I grow tomatoes on a balcony")
    await bot.fake.replies(person["id"], after=mark)
    mark = bot.fake.mark()
    bot.fake.say(person, "what goes in a memorandum of understanding")
    [answer] = await bot.fake.replies(person["id"], after=mark)
    tapped = bot.fake.mark()
    bot.fake.press(person, answer, "👍 Helpful")
    await bot.fake.answered("Glad", after=tapped)


async def test_privacy_says_what_is_kept_why_and_for_how_long(bot: Harness) -> None:
    person = bot.fake.person(901)
    bot.fake.say(person, "/privacy")
    [notice] = await bot.fake.replies(901)
    for words in ("30 days", "/mydata", "/forget", "only if you say yes", "Who can see it"):
        assert words in notice.text


async def test_mydata_sends_everything_kept_as_json(bot: Harness) -> None:
    person = bot.fake.person(902)
    await _leave_traces(bot, person)
    mark = bot.fake.mark()
    bot.fake.say(person, "/mydata")
    [document] = await bot.fake.replies(902, after=mark)
    assert document.method == "sendDocument" and document.file_name.endswith(".json")
    data = json.loads(document.file_bytes)
    assert data["telegram_user_id"] == 902
    assert [q["text"] for q in data["questions"]["questions_not_answered"]] == ["how do I grow tomatoes on a balcony"]
    assert data["questions"]["answer_feedback"][0]["helpful"] is True


async def test_forget_asks_first_then_deletes_only_that_persons_data(bot: Harness) -> None:
    person, other = bot.fake.person(903), bot.fake.person(904)
    await _leave_traces(bot, person)
    await _leave_traces(bot, other)
    mark = bot.fake.mark()
    bot.fake.say(person, "/forget")
    [confirm] = await bot.fake.replies(903, after=mark)
    assert "can't be undone" in confirm.text
    mark = bot.fake.mark()
    bot.fake.press(person, confirm, "No, keep it")
    [kept] = await bot.fake.replies(903, after=mark)
    assert "nothing has been deleted" in kept.text
    async with bot.services.database.session() as session:
        assert (await session.exec(select(QuestionLog).where(QuestionLog.user_id == 903))).all()
    mark = bot.fake.mark()
    bot.fake.say(person, "/forget")  # the first question is answered; ask again
    [confirm] = await bot.fake.replies(903, after=mark)
    mark = bot.fake.mark()
    bot.fake.press(person, confirm, "Yes, delete my data")
    [done] = await bot.fake.replies(903, after=mark)
    assert "deleted everything" in done.text
    async with bot.services.database.session() as session:
        assert (await session.exec(select(QuestionLog).where(QuestionLog.user_id == 903))).all() == []
        assert (await session.exec(select(AnswerVote).where(AnswerVote.user_id == 903))).all() == []
        assert len((await session.exec(select(QuestionLog).where(QuestionLog.user_id == 904))).all()) == 1
        assert len((await session.exec(select(AnswerVote).where(AnswerVote.user_id == 904))).all()) == 1


async def test_mydata_and_forget_are_refused_in_groups(bot: Harness) -> None:
    group = bot.fake.group_chat(-100555)
    bot.fake.say(bot.fake.person(905), "/mydata", chat=group)
    [reply] = await bot.fake.replies(-100555)
    assert "private chat" in reply.text
