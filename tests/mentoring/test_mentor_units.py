"""One action, one transaction: when the database fails part-way through a mentoring command or tap, nothing
of it is kept (no row, no half-started form, no half a status) and the person is asked to try again; the same
action then works in full.

Each test runs the action again and again, letting one more statement on the mentoring tables through each
time, until it succeeds: so every point at which the database can go away is tried once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.core.storage import TRY_AGAIN
from bot.mentoring.lists import MENTEE, MENTOR
from bot.mentoring.profiles import profiles_of
from bot.mentoring.requests import ACCEPT, request_mentor, respond
from db.engine import Database
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch, MentorRelay
from tests.conftest import Harness
from tests.mentoring.mentor_support import MENTOR_BOT, in_transaction, say, seed, tap

pytestmark = MENTOR_BOT

MENTORING_TABLES = ("mentoring_person", "mentoring_profile", "mentor_match", "mentor_relay")
MOST_STATEMENTS = 60  # far more than any one mentoring action runs: the sweep always ends in a success


@contextmanager
def fails_after(database: Database, allowed: int) -> Iterator[dict[str, int]]:
    """The first ``allowed`` statements on the mentoring tables run; every later one fails as if the database
    server had gone away, until the block ends. Yields the count of statements tried so far."""
    seen = {"statements": 0}

    def check(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not any(table in statement for table in MENTORING_TABLES):
            return
        seen["statements"] += 1
        if seen["statements"] > allowed:
            raise OperationalError(statement, {}, ConnectionResetError("the database went away (simulated)"))

    event.listen(database.engine.sync_engine, "before_cursor_execute", check)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", check)


async def _rows(database: Database) -> list[str]:
    """Every mentoring row, as text: equal before and after an action that left nothing behind."""
    async with database.session() as session:
        return [f"{model.__name__} {sorted(row.model_dump().items())}"
                for model in (MentoringPerson, MentoringProfile, MentorMatch, MentorRelay)
                for row in (await session.exec(select(model).order_by(model.id))).all()]  # type: ignore[attr-defined]


def _quiet_jobs(bot: Harness) -> None:
    """The scheduled jobs wait, so that the statements counted are the action's own."""
    bot.application.job_queue.scheduler.pause()


async def _sweep_command(bot: Harness, person: dict[str, Any], command: str) -> list[str]:
    """Send ``command`` with the database failing after 0, 1, 2, ... mentoring statements until it succeeds.
    Every failed try must answer exactly "try again" and leave every mentoring row as it was; returns the texts
    of the successful try."""
    database = bot.services.database
    before = await _rows(database)
    for allowed in range(MOST_STATEMENTS):
        with fails_after(database, allowed) as seen:
            mark = bot.fake.mark()
            bot.fake.say(person, command)
            sent = await bot.fake.quiet(person["id"], after=mark, by=person)
        texts = [s.text for s in sent]
        if seen["statements"] <= allowed:  # nothing failed: the action ran in full
            assert allowed > 0
            return texts
        assert texts == [TRY_AGAIN], (allowed, texts)
        assert await _rows(database) == before, f"half-written after {allowed} statements"
    raise AssertionError(f"{command} did not succeed within {MOST_STATEMENTS} statements")


async def test_mentor_offer_failing_half_way_shows_no_half_status(bot: Harness) -> None:
    _quiet_jobs(bot)
    mentor = await seed(bot, 4101, MENTOR, name="Priya", organisation="Bolton CVS", capacity=2)
    await seed(bot, 4102, MENTEE, name="Ade", organisation="Small Steps")
    await seed(bot, 4103, MENTEE, name="Nia", organisation="Valleys Trust")
    database, now = bot.services.database, bot.services.clock()
    buddy = await in_transaction(database, request_mentor, telegram_id=4102, mentor_person_id=mentor, now=now)
    await in_transaction(database, respond, match_id=buddy.match.id, telegram_id=4101, decision=ACCEPT, now=now)
    await in_transaction(database, request_mentor, telegram_id=4103, mentor_person_id=mentor, now=now)
    priya = bot.fake.person(4101, "Priya")
    await say(bot, priya, "/profile", "Your mentor profile")  # her first update: the username check is done

    [card] = await _sweep_command(bot, priya, "/mentor_offer")
    assert "You're a mentor buddy" in card and "Buddies: 1 of 2" in card and "• Ade" in card
    assert "Requests waiting for your answer: 1" in card


async def test_mentor_offer_failing_half_way_starts_no_half_filled_form(bot: Harness) -> None:
    """A mentee offering to mentor: her name, organisation and area come from her other profile. A failure
    before they are read must not start the questions without them."""
    _quiet_jobs(bot)
    await seed(bot, 4201, MENTEE, name="Ffion", organisation="Cardiff Carers", region="wales")
    ffion = bot.fake.person(4201, "Ffion")
    await say(bot, ffion, "/profile", "Your buddy-seeker profile")

    intro, question = await _sweep_command(bot, ffion, "/mentor_offer")
    assert "Welcome back" not in intro  # no draft was left by a failed try
    assert "I've used your name, organisation and area from your other profile" in intro
    assert "Which topics could you help with" in question


async def test_a_decline_failing_half_way_keeps_the_request_open(bot: Harness) -> None:
    """Declining writes two things: the request is declined and the mentee gets her next suggestions (or joins
    the waiting list). A failure between them used to keep the first and lose the second; now it keeps neither,
    the mentor is asked to try again, and the mentee hears nothing until the decline has really happened."""
    _quiet_jobs(bot)
    await seed(bot, 4301, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 4302, MENTEE, name="Ade", organisation="Small Steps")
    priya, ade = bot.fake.person(4301, "Priya"), bot.fake.person(4302, "Ade")
    await say(bot, priya, "/profile", "Your mentor profile")
    suggestions = await say(bot, ade, "/mentor", "mentors who could help")
    mark = bot.fake.mark()
    bot.fake.press(ade, suggestions, "Ask Priya")
    request = await bot.fake.reply_with(4301, "would like you", after=mark)
    await bot.fake.settled(ade)  # the request's message id is recorded too
    database = bot.services.database
    before = await _rows(database)

    for allowed in range(MOST_STATEMENTS):
        with fails_after(database, allowed) as seen:
            mark = bot.fake.mark()
            bot.fake.press(priya, request, "Decline")
            await bot.fake.settled(priya, ade)
        if seen["statements"] <= allowed:
            break
        alerts = [a.get("text") for a in bot.fake.api.callback_answers[mark.answers:]]
        assert alerts == [TRY_AGAIN], (allowed, alerts)
        assert await bot.fake.quiet(4302, after=mark, by=ade) == []
        assert await _rows(database) == before, f"half-written after {allowed} statements"
    else:
        raise AssertionError("the decline never succeeded")
    assert allowed > 0
    await bot.fake.reply_with(4301, "You declined", after=mark)
    told = await bot.fake.reply_with(4302, "waiting list", after=mark)  # no other mentor: she waits
    assert "Priya" not in told.text
    async with database.session() as session:
        [match] = (await session.exec(select(MentorMatch))).all()
        mentee = (await session.exec(select(MentoringProfile).where(MentoringProfile.role == MENTEE))).one()
    assert match.status == "declined" and mentee.waiting_since is not None


async def test_every_mentoring_command_and_button_says_try_again_while_the_database_is_down(bot: Harness) -> None:
    """The storage guard on each mentoring handler: a command gets "try again" as a message, a button as an
    alert; a question in the middle of a form stays open, so the same answer works once the database is back."""
    _quiet_jobs(bot)
    mentor = await seed(bot, 4401, MENTOR, name="Priya", organisation="Bolton CVS")
    await seed(bot, 4402, MENTEE, name="Ade", organisation="Small Steps")
    database, now = bot.services.database, bot.services.clock()
    match = await in_transaction(database, request_mentor, telegram_id=4402, mentor_person_id=mentor, now=now)
    match_id = match.match.id
    await in_transaction(database, respond, match_id=match_id, telegram_id=4401, decision=ACCEPT, now=now)
    priya, ade = bot.fake.person(4401, "Priya"), bot.fake.person(4402, "Ade")
    await say(bot, priya, "/profile", "Your mentor profile")
    card = await say(bot, ade, "/profile", "Your buddy-seeker profile")
    rating = await bot.application.bot.send_message(4402, "How has it been?")
    mark = bot.fake.mark()
    bot.fake.api.press(ade, 4402, rating.message_id, f"mr:{match_id}:4")
    comment_q = await bot.fake.reply_with(4402, "Anything you'd like to add", after=mark)
    assert comment_q
    delete_q = await tap_and_wait(bot, priya, "mpq:mentor", "Delete your mentor profile?")
    before = await _rows(database)

    with fails_after(database, 0):
        mark = bot.fake.mark()
        bot.fake.say(ade, "She helped us write our first MoU.")
        assert [s.text for s in await bot.fake.quiet(4402, after=mark, by=ade)] == [TRY_AGAIN]
        mark = bot.fake.mark()
        bot.fake.press(priya, delete_q, "Yes, delete it")
        await bot.fake.answered("try again in a minute", after=mark)
    assert await _rows(database) == before
    # The database is back: the two open questions take the same answers.
    mark = bot.fake.mark()
    bot.fake.say(ade, "She helped us write our first MoU.")
    await bot.fake.reply_with(4402, "your comment is saved", after=mark)
    mark = bot.fake.mark()
    bot.fake.press(priya, delete_q, "Yes, delete it")
    await bot.fake.reply_with(4401, "Deleted", after=mark)
    await bot.fake.reply_with(4402, "has ended", after=mark)

    before = await _rows(database)
    with fails_after(database, 0):
        for who, command in ((priya, "/mentor_offer"), (ade, "/mentor"), (ade, "/profile")):
            mark = bot.fake.mark()
            bot.fake.say(who, command)
            assert [s.text for s in await bot.fake.quiet(who["id"], after=mark, by=who)] == [TRY_AGAIN], command
        for who, data in ((ade, f"ms:{mentor}"), (ade, f"mc:{match_id}"), (ade, "mo"), (ade, "mph:mentee:0"),
                          (ade, "mpe:mentee:card"), (ade, f"mr:{match_id}:5"), (ade, f"mf:{match_id}:yes"),
                          (ade, f"mv:{match_id}:1"), (ade, f"me:{match_id}"), (priya, f"ma:{match_id}"),
                          (priya, f"md:{match_id}"), (priya, f"mz:{match_id}")):
            mark = bot.fake.mark()
            bot.fake.api.press(who, who["id"], card.message_id, data)
            alert = await bot.fake.answered("try again in a minute", after=mark)
            assert alert["text"] == TRY_AGAIN and alert.get("show_alert"), data
    assert await _rows(database) == before


async def tap_and_wait(bot: Harness, person: dict[str, Any], data: str, expect: str) -> Any:
    """Press a button of the bot's with ``data`` (as if on an earlier message) and wait for ``expect``."""
    message = await bot.application.bot.send_message(person["id"], "·")
    mark = bot.fake.mark()
    bot.fake.api.press(person, person["id"], message.message_id, data)
    return await bot.fake.reply_with(person["id"], expect, after=mark)


async def test_the_last_answer_of_the_questions_meeting_a_dead_database_saves_nothing_and_says_so(
        bot: Harness) -> None:
    """The profile and the mentee's place on the waiting list are saved together or not at all; when not, the
    person is told their answers are kept (a better reply than the generic one, so the form keeps its own), and
    they are: the next /mentor saves them."""
    _quiet_jobs(bot)
    nia = bot.fake.person(4501, "Nia")
    name_q = await say(bot, nia, "/mentor", "What name shall I show")
    await tap(bot, nia, name_q, "Use", "organisation called")
    type_q = await say(bot, nia, "Valleys Youth Trust", "What kind of organisation")
    region_q = await tap(bot, nia, type_q, "Community group", "Where are you based")
    town_q = await tap(bot, nia, region_q, "Wales", "Which town")
    topics_q = await tap(bot, nia, town_q, "Skip", "What would you like help with")
    bot.fake.press(nia, topics_q, "Working with statutory bodies")
    stage_q = await tap(bot, nia, topics_q, "Done", "Where is your partnership now")
    partners_q = await tap(bot, nia, stage_q, "Frustration", "Which kinds of partner are you working with")
    await tap(bot, nia, partners_q, "Done", "what do you need help with")
    before = await _rows(bot.services.database)

    with fails_after(bot.services.database, 3):  # the person row is written, then the database goes
        mark = bot.fake.mark()
        bot.fake.say(nia, "The council wants us to deliver a service but the contract is unclear.")
        [sorry] = await bot.fake.quiet(4501, after=mark, by=nia)
    assert "couldn't save your profile" in sorry.text and "answers are kept" in sorry.text
    assert await _rows(bot.services.database) == before == []

    # As promised: /mentor a minute later saves the same answers, without asking them again.
    mark = bot.fake.mark()
    bot.fake.say(nia, "/mentor")
    await bot.fake.reply_with(4501, "✅ Saved", after=mark)
    await bot.fake.reply_with(4501, "waiting list", after=mark)
    assert "What name shall I show" not in str([s.text for s in bot.fake.api.outbox[mark:]])
    profile = (await in_transaction(bot.services.database, profiles_of, telegram_id=4501))[MENTEE]
    assert (profile.organisation, profile.org_type, profile.region) == ("Valleys Youth Trust", "community", "wales")
    assert profile.story == "The council wants us to deliver a service but the contract is unclear."



async def test_an_edit_meeting_a_dead_database_changes_nothing_and_can_be_made_again(bot: Harness) -> None:
    _quiet_jobs(bot)
    await seed(bot, 4601, MENTEE, name="Gwen", organisation="Swansea Shed", story="Our first joint bid.")
    gwen = bot.fake.person(4601, "Gwen")
    card = await say(bot, gwen, "/profile", "Your buddy-seeker profile")
    story_q = await tap(bot, gwen, card, "Story", "what do you need help with")
    assert story_q
    before = await _rows(bot.services.database)
    with fails_after(bot.services.database, 0):
        mark = bot.fake.mark()
        bot.fake.say(gwen, "Sharing data with the council.")
        [sorry] = await bot.fake.quiet(4601, after=mark, by=gwen)
    assert "couldn't save that change" in sorry.text and "/profile" in sorry.text
    assert await _rows(bot.services.database) == before
    card = await say(bot, gwen, "/profile", "Your buddy-seeker profile")
    await tap(bot, gwen, card, "Story", "what do you need help with")
    await say(bot, gwen, "Sharing data with the council.", "Saved")
    profile = (await in_transaction(bot.services.database, profiles_of, telegram_id=4601))[MENTEE]
    assert profile.story == "Sharing data with the council."
