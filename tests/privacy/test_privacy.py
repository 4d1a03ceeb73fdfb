"""/privacy, /mydata and /forget, end to end: a person sees what is kept and can delete it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.privacy import gather
from db.mentoring_models import MentoringPerson, MentoringProfile
from db.models import AnswerVote, QuestionLog
from tests.conftest import Harness
from tests.mentoring.mentor_support import seed


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


async def _kept(bot: Harness, user_id: int) -> tuple[int, int, int]:
    """How many of the person's unanswered questions, votes and mentoring profiles the database holds."""
    async with bot.services.database.session() as session:
        logs = (await session.exec(select(QuestionLog).where(QuestionLog.user_id == user_id))).all()
        votes = (await session.exec(select(AnswerVote).where(AnswerVote.user_id == user_id))).all()
        profiles = (await session.exec(select(MentoringProfile).join(
            MentoringPerson, col(MentoringPerson.id) == MentoringProfile.person_id)
            .where(MentoringPerson.telegram_id == user_id))).all()
    return len(logs), len(votes), len(profiles)


async def test_forget_that_fails_half_way_deletes_nothing_and_works_when_tried_again(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every feature forgets in one transaction: the database failing after all but the last feature
    deleted their rows leaves everything in place, the person is told to try again, and the same button
    then deletes it all."""
    person = bot.fake.person(906)
    await _leave_traces(bot, person)
    await seed(bot, 906, "mentee", name="Sam", organisation="Small Steps")
    assert await _kept(bot, 906) == (1, 1, 1)
    real_forget_state = gather.forget_state

    async def fails_after_deleting(*, session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
        await real_forget_state(session=session, user_id=user_id)
        raise OperationalError("DELETE FROM inbox_update", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(gather, "forget_state", fails_after_deleting)  # the last feature /forget runs
    mark = bot.fake.mark()
    bot.fake.say(person, "/forget")
    [confirm] = await bot.fake.replies(906, after=mark)
    tapped = bot.fake.mark()
    bot.fake.press(person, confirm, "Yes, delete my data")
    alert = await bot.fake.answered("try again in a minute", after=tapped)
    assert alert.get("show_alert") in (True, "true")  # an alert the person must close, not a passing toast
    assert await _kept(bot, 906) == (1, 1, 1)  # the questions' and mentoring's deletes were rolled back

    monkeypatch.undo()  # the database is back
    tapped = bot.fake.mark()
    bot.fake.press(person, confirm, "Yes, delete my data")  # the question is still open
    await bot.fake.reply_with(906, "deleted everything", after=tapped)
    assert await _kept(bot, 906) == (0, 0, 0)


async def test_forget_accepts_a_typed_no_and_a_typed_yes(bot: Harness) -> None:
    person = bot.fake.person(907)
    await _leave_traces(bot, person)
    mark = bot.fake.mark()
    bot.fake.say(person, "/forget")
    await bot.fake.reply_with(907, "Delete your data?", after=mark)
    mark = bot.fake.mark()
    bot.fake.say(person, "no thanks")
    [kept] = await bot.fake.replies(907, after=mark)
    assert "nothing has been deleted" in kept.text
    assert (await _kept(bot, 907))[:2] == (1, 1)

    mark = bot.fake.mark()
    bot.fake.say(person, "/forget")
    confirm = await bot.fake.reply_with(907, "Delete your data?", after=mark)
    mark = bot.fake.mark()
    bot.fake.say(person, "maybe later")  # neither: asked again, nothing deleted
    [again] = await bot.fake.replies(907, after=mark)
    assert "type yes or no" in again.text
    assert (await _kept(bot, 907))[:2] == (1, 1)
    mark = bot.fake.mark()
    bot.fake.say(person, "Yes")
    [done] = await bot.fake.replies(907, after=mark)
    assert "deleted everything" in done.text
    assert await _kept(bot, 907) == (0, 0, 0)
    tapped = bot.fake.mark()
    bot.fake.press(person, confirm, "Yes, delete my data")  # the buttons of the answered question do nothing
    await bot.fake.answered("already answered", after=tapped)
