"""Review nudges end to end through the fake Telegram server: set-up with buttons and typed answers,
the nudge, the answers, the summary with tips, snooze, history with a chart, CSV, group permissions
checked with getChatMember, restarts (a nudge due while the bot was down; a half-answered check-in), and
Telegram refusing a nudge."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.core.local_api import BotApiError, Sent
from bot.reviews import checkins
from bot.reviews.partnerships import create_partnership, get_partnership, list_partnerships
from bot.reviews.questions import answer_scores
from bot.reviews.schedule import Schedule
from db.engine import Database
from db.review_models import ReviewAnswer, ReviewRoundSummary
from knowledge.render import escape
from tests.conftest import Harness, make_settings, start_bot, stop_bot
from tests.fake_telegram import FakeTelegram
from tests.reviews.review_support import (
    REVIEW_BOT,
    act,
    nudges_to,
    occurrences,
    pending_due,
    run_dispatch,
    set_clock,
    step,
)

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)  # Sunday 10 January 2027, midday in London
GROUP = -100555


def review_settings(fake: FakeTelegram, db_url: str) -> Any:
    """A set-up and a check-in are many taps in a minute: these tests are not about the flood guard."""
    return make_settings(db_url, telegram_api_base_url=fake.base_url, rate_limit_per_minute=1000)


pytestmark = REVIEW_BOT


async def press(bot: Harness, person: dict[str, Any], sent: Sent, label: str) -> Sent:
    """Tap a button under ``sent`` and return what the bot shows next in that chat."""
    return await step(bot, sent.chat_id, lambda: bot.fake.press(person, sent, label))


async def set_up(bot: Harness, person: dict[str, Any], chat: dict[str, Any] | None = None,
                 name: str = "Riverside <Consortium>") -> Sent:
    chat_id = (chat or bot.fake.private_chat(person))["id"]
    fake = bot.fake

    def answer(text: str, question: Sent) -> Any:
        """Type an answer; in a group, as a reply to the bot's question (all a bot in privacy mode sees)."""
        return lambda: fake.say(person, text, chat, reply_to=question.message_id if chat else None)

    asked = await step(bot, chat_id, lambda: fake.say(person, "/partnership", chat))
    assert "What's the partnership called?" in asked.text
    if chat is not None:  # the group talking among itself is not an answer
        mark = fake.mark()
        fake.say(person, "see you all at Thursday's meeting", chat)
        assert await fake.quiet(chat_id, after=mark, by=person) == []
    asked = await step(bot, chat_id, answer(name, asked))
    assert "Which organisations" in asked.text
    asked = await step(bot, chat_id, answer("Age UK Riverside, Riverside Food Bank", asked))
    assert "How often" in asked.text
    asked = await step(bot, chat_id, lambda: fake.press(person, asked, "Monthly"))
    assert "day of the month" in asked.text
    asked = await step(bot, chat_id, lambda: fake.press(person, asked, "Last day"))
    assert "what time" in asked.text.lower()
    asked = await step(bot, chat_id, answer("25:99", asked))
    assert "not a time I understand" in asked.text  # a friendly error, and the question stays
    asked = await step(bot, chat_id, answer("9:30", asked))
    assert "time zone" in asked.text and "Europe/London" in asked.text
    asked = await step(bot, chat_id, answer("Mars/Base", asked))
    assert "not a place or time zone I know" in asked.text
    asked = await step(bot, chat_id, answer("Europe/Londn", asked))  # a typo of one zone: taken
    assert "first check-in" in asked.text
    asked = await step(bot, chat_id, answer("2027-01-01", asked))
    assert "already passed" in asked.text
    confirm = await step(bot, chat_id, answer("2027-01-20", asked))
    assert "Sun 31 Jan 2027, 09:30" in confirm.text and "Sun 28 Feb 2027, 09:30" in confirm.text
    assert f"<b>{escape(name)}</b>" in confirm.text
    return await step(bot, chat_id, lambda: fake.press(person, confirm, "Save"))


async def test_set_up_in_a_private_chat_then_list_and_pause(bot: Harness) -> None:
    set_clock(bot, NOW)
    person = bot.fake.person(801, "Aled")
    saved = await set_up(bot, person)
    assert "Saved" in saved.text and "Sun 31 Jan 2027, 09:30" in saved.text
    [view] = await act(bot.services.database, list_partnerships, chat_id=801)
    assert view.partnership.partners == "Age UK Riverside, Riverside Food Bank"
    assert view.next_due == datetime(2027, 1, 31, 9, 30, tzinfo=UTC)
    listing = await step(bot, 801, lambda: bot.fake.say(person, "/partnerships"))
    assert "Riverside &lt;Consortium&gt;" in listing.text and "Next: Sun 31 Jan 2027, 09:30" in listing.text
    menu = await step(bot, 801, lambda: bot.fake.press(person, listing, "Riverside"))
    paused = await step(bot, 801, lambda: bot.fake.press(person, menu, "Pause"))
    assert "paused" in paused.text
    listing = await step(bot, 801, lambda: bot.fake.say(person, "/partnerships"))
    assert "Paused" in listing.text
    menu = await step(bot, 801, lambda: bot.fake.press(person, listing, "Riverside"))
    resumed = await step(bot, 801, lambda: bot.fake.press(person, menu, "Resume"))
    assert "back on" in resumed.text and "31 Jan 2027" in resumed.text
    # Change the schedule: weekly on Mondays at 10:00 from next week.
    listing = await step(bot, 801, lambda: bot.fake.say(person, "/partnerships"))
    menu = await press(bot, person, listing, "Riverside")
    asked = await press(bot, person, menu, "Schedule")
    assert "How often" in asked.text
    asked = await press(bot, person, asked, "Weekly")
    asked = await press(bot, person, asked, "Mon")
    asked = await press(bot, person, asked, "10:00")
    asked = await press(bot, person, asked, "Europe/London")
    confirm = await press(bot, person, asked, "Next week")
    assert "weekly: every Monday at 10:00" in confirm.text and "Mon 18 Jan 2027, 10:00" in confirm.text
    saved = await press(bot, person, confirm, "Save")
    assert "Saved" in saved.text and "Mon 18 Jan 2027, 10:00" in saved.text
    [view] = await act(bot.services.database, list_partnerships, chat_id=801)
    assert view.next_due == datetime(2027, 1, 18, 10, 0, tzinfo=UTC) and view.partnership.name.startswith("Riverside")
    tapped = bot.fake.mark()
    bot.fake.press(person, confirm, "Save")  # a second tap on the old Save does nothing
    await bot.fake.answered("That step is finished", after=tapped)
    # Plain text after the set-up is a question again, not a partnership name.
    answer = await step(bot, 801, lambda: bot.fake.say(person, "what goes in a memorandum of understanding"))
    assert "memorandum" in answer.text.lower()


async def answer_check_in(bot: Harness, person: dict[str, Any], chat_id: int, nudge: Sent,
                          taps: list[str], comment: str | None, start: str = "Start the check-in") -> Sent:
    question = await step(bot, chat_id, lambda: bot.fake.press(person, nudge, start))
    for tap in taps:
        assert "Question" in question.text
        question = await press(bot, person, question, tap)
    assert "Anything to raise" in question.text
    if comment is None:
        return await step(bot, chat_id, lambda: bot.fake.press(person, question, "Nothing to add"))
    return await step(bot, chat_id, lambda: bot.fake.say(person, comment))


async def test_a_nudge_answers_summary_with_tips_history_chart_and_csv(bot: Harness) -> None:
    set_clock(bot, NOW)
    person = bot.fake.person(802, "Bea")
    await set_up(bot, person)
    set_clock(bot, datetime(2027, 1, 31, 9, 30, 20, tzinfo=UTC))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, 802)
    assert "Riverside &lt;Consortium&gt;" in nudge.text and "Age UK Riverside" in nudge.text
    assert {"▶️ Start the check-in", "⏰ Snooze 1 day", "⏰ Snooze 1 week", "⏭ Skip this one"} <= {
        label for label, _ in nudge.buttons()}
    summary = await answer_check_in(bot, person, 802, nudge, ["4", "3", "1", "Partly", "Yes", "4", "Functioning"],
                                    "Board <i>meetings</i> clash with the food bank rota")
    assert "Check-in summary" in summary.text and "first check-in" in summary.text
    assert "Communication: <b>1</b> ⚠️" in summary.text and "Stage: <b>functioning</b>" in summary.text
    assert "Board &lt;i&gt;meetings&lt;/i&gt; clash" in summary.text
    assert "Worth a look" in summary.text and "e:communication-keep-going" in [d for _, d in summary.buttons()]
    # A tip button opens the knowledge-base entry.
    entry = await step(bot, 802, lambda: bot.fake.press(person, summary, "e:communication-keep-going"))
    assert "communication" in entry.text.lower()

    # The next month's nudge: what changed since last time.
    set_clock(bot, datetime(2027, 2, 28, 9, 31, tzinfo=UTC))
    await run_dispatch(bot)
    nudge = nudges_to(bot, 802)[-1]
    summary = await answer_check_in(bot, person, 802, nudge, ["4", "3", "4", "Yes", "Yes", "4", "Flying"], None)
    assert "Since last time" in summary.text and "Communication: 1 → 4 ↑" in summary.text
    assert "Stage: functioning → flying" in summary.text and "Worth a look" not in summary.text

    mark = bot.fake.mark()
    bot.fake.say(person, "/reviews")
    got = await bot.fake.replies(802, 2, after=mark)
    history = next(s for s in got if s.method == "sendMessage")
    photo = next(s for s in got if s.method == "sendPhoto")
    assert "31 Jan 2027" in history.text and "28 Feb 2027" in history.text and "Communication 4" in history.text
    assert photo.file_bytes.startswith(b"\x89PNG") and len(photo.file_bytes) > 5000
    csv_doc = await step(bot, 802, lambda: bot.fake.say(person, "/reviews_csv"))
    assert csv_doc.method == "sendDocument" and csv_doc.file_name == "reviews-riverside-consortium.csv"
    lines = csv_doc.file_bytes.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("date,time,status") and len(lines) == 3 and "Board meetings" not in lines[0]


async def test_snooze_and_skip_from_the_nudge(bot: Harness) -> None:
    set_clock(bot, NOW)
    person = bot.fake.person(803, "Cai")
    await set_up(bot, person)
    due = datetime(2027, 1, 31, 9, 30, tzinfo=UTC)
    set_clock(bot, due + timedelta(minutes=1))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, 803)
    snoozed = await step(bot, 803, lambda: bot.fake.press(person, nudge, "Snooze 1 day"))
    assert "Snoozed" in snoozed.text and "Mon 1 Feb 2027, 09:31" in snoozed.text
    set_clock(bot, due + timedelta(hours=23))
    await run_dispatch(bot)
    assert len(nudges_to(bot, 803)) == 1
    set_clock(bot, due + timedelta(days=1, minutes=2))
    await run_dispatch(bot)
    [_, again] = nudges_to(bot, 803)
    assert "You snoozed this one" in again.text
    skipped = await step(bot, 803, lambda: bot.fake.press(person, again, "Skip this one"))
    assert "Skipped" in skipped.text and "Sun 28 Feb 2027, 09:30" in skipped.text
    # The old nudge's buttons a month later: a clear answer, nothing changes.
    tapped = bot.fake.mark()
    bot.fake.press(person, again, "Snooze 1 week")
    await bot.fake.answered("already been snoozed or skipped", after=tapped)


async def test_group_set_up_is_for_admins_and_members_answer_for_themselves(bot: Harness) -> None:
    set_clock(bot, NOW)
    group = bot.fake.group_chat(GROUP, "Riverside partners")
    admin, member, other = bot.fake.person(804, "Dee"), bot.fake.person(805, "Eli"), bot.fake.person(806, "Fay")
    bot.fake.api.member_status[(GROUP, 804)] = "administrator"
    refused = await step(bot, GROUP, lambda: bot.fake.say(member, "/partnership", group))
    assert "Only this group's admins" in refused.text
    assert "getChatMember" in bot.fake.api.calls
    saved = await set_up(bot, admin, group, name="Riverside")
    assert "Saved" in saved.text
    [view] = await act(bot.services.database, list_partnerships, chat_id=GROUP)

    # A member cannot pause or stop it, even with the buttons in front of them; the admin can.
    listing = await step(bot, GROUP, lambda: bot.fake.say(member, "/partnerships", group))
    tapped = bot.fake.mark()
    bot.fake.press(member, listing, "Riverside")
    await bot.fake.answered("Only this group's admins", after=tapped)
    assert (await act(bot.services.database, get_partnership,
                      partnership_id=view.partnership.id or 0)).status == "active"  # type: ignore[union-attr]

    set_clock(bot, datetime(2027, 1, 31, 9, 31, tzinfo=UTC))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, GROUP)
    assert "Answer privately" in str(nudge.buttons()) and "Everyone answers for themselves" in nudge.text
    tapped = bot.fake.mark()
    bot.fake.press(member, nudge, "Snooze 1 day")  # members cannot snooze
    await bot.fake.answered("admins can snooze", after=tapped)

    # The admin answers in the group; the member privately; another member's buttons are not theirs.
    first_q = await step(bot, GROUP, lambda: bot.fake.press(admin, nudge, "Answer here"))
    assert "For Dee" in first_q.text
    tapped = bot.fake.mark()
    bot.fake.press(other, first_q, "1")
    await bot.fake.answered("someone else's answers", after=tapped)
    private_q = await step(bot, 805, lambda: bot.fake.press(member, nudge, "Answer privately"))
    assert "Question 1 of 7" in private_q.text
    question = first_q
    for tap in ["5", "5", "2", "Yes", "Yes", "5", "Flying"]:
        question = await press(bot, admin, question, tap)
    thanks = await step(bot, GROUP, lambda: bot.fake.press(admin, question, "Nothing to add"))
    assert "answers are saved" in thanks.text and "when enough people have answered" in thanks.text
    question = private_q
    for tap in ["3", "3", "1", "No", "Partly", "3", "Frustration"]:
        question = await press(bot, member, question, tap)
    private_thanks = await step(bot, 805, lambda: bot.fake.say(member, "We never hear from the board"))
    assert "answers are saved" in private_thanks.text
    # Two have answered: below k = 3, nothing is posted (two people could work each other's answers out).
    assert not [s for s in bot.fake.api.sent_to(GROUP) if "Check-in summary" in s.text]
    summary = await answer_check_in(bot, other, GROUP, nudge, ["4", "4", "3", "Yes", "Yes", "4", "Frustration"],
                                    None, start="Answer here")
    assert "Check-in summary" in summary.text and "3 people answered" in summary.text
    assert "Communication: <b>2</b> ⚠️" in summary.text
    assert "We never hear from the board" in summary.text and "(no names)" in summary.text
    assert not any(name in summary.text for name in ("Dee", "Eli", "Fay"))
    assert "e:lifecycle-stage-frustration" in [d for _, d in summary.buttons()]

    # The admin can stop it, after confirming.
    listing = await step(bot, GROUP, lambda: bot.fake.say(admin, "/partnerships", group))
    menu = await step(bot, GROUP, lambda: bot.fake.press(admin, listing, "Riverside"))
    confirm = await step(bot, GROUP, lambda: bot.fake.press(admin, menu, "Stop"))
    stopped = await step(bot, GROUP, lambda: bot.fake.press(admin, confirm, "Yes, stop"))
    assert "stopped" in stopped.text


async def test_a_group_summary_is_posted_after_48_hours(bot: Harness) -> None:
    set_clock(bot, NOW)
    group = bot.fake.group_chat(GROUP - 1)
    admin, slow = bot.fake.person(807, "Gus"), bot.fake.person(808, "Hal")
    bot.fake.api.member_status[(GROUP - 1, 807)] = "administrator"
    await set_up(bot, admin, group, name="Slow partners")
    set_clock(bot, datetime(2027, 1, 31, 9, 31, tzinfo=UTC))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, GROUP - 1)
    q = await step(bot, GROUP - 1, lambda: bot.fake.press(slow, nudge, "Answer here"))
    await step(bot, GROUP - 1, lambda: bot.fake.press(slow, q, "2"))  # starts, then goes quiet
    await answer_check_in(bot, admin, GROUP - 1, nudge, ["4", "4", "4", "Yes", "Yes", "4", "Flying"], None,
                          start="Answer here")
    assert not [s for s in bot.fake.api.sent_to(GROUP - 1) if "Check-in summary" in s.text]
    set_clock(bot, datetime(2027, 2, 2, 9, 32, tzinfo=UTC))
    mark = bot.fake.mark()
    await run_dispatch(bot)
    [summary] = [s for s in await bot.fake.replies(GROUP - 1, after=mark) if "Check-in summary" in s.text]
    # One finished (the half-answered one does not count): the count only, no figures (the k rule).
    assert "1 person answered" in summary.text and "at least 3 people" in summary.text
    assert "Purpose" not in summary.text and "<b>4</b>" not in summary.text


async def test_a_blocked_bot_pauses_the_schedule_and_retry_after_retries(bot: Harness) -> None:
    set_clock(bot, NOW)
    blocked, busy = bot.fake.person(809), bot.fake.person(810)
    await set_up(bot, blocked, name="Blocked")
    set_clock(bot, datetime(2027, 1, 31, 9, 31, tzinfo=UTC))
    bot.fake.api.fail_next["sendMessage"] = BotApiError(403, "Forbidden: bot was blocked by the user")
    await run_dispatch(bot)
    [first] = await act(bot.services.database, list_partnerships, chat_id=809)
    assert first.partnership.status == "paused" and "blocked" in (first.partnership.paused_reason or "")
    assert first.next_due is None and nudges_to(bot, 809) == []
    set_clock(bot, NOW)
    await set_up(bot, busy, name="Busy")
    set_clock(bot, datetime(2027, 1, 31, 9, 32, tzinfo=UTC))
    await run_dispatch(bot)
    assert len(nudges_to(bot, 810)) == 1 and nudges_to(bot, 809) == []
    listing = await step(bot, 809, lambda: bot.fake.say(blocked, "/partnerships"))
    assert "Paused (Telegram refused: Forbidden: bot was blocked by the user)" in listing.text

    # Next month: Telegram says "retry after 30"; the nudge goes out on a later run, once.
    set_clock(bot, datetime(2027, 2, 28, 9, 31, tzinfo=UTC))
    bot.fake.api.fail_next["sendMessage"] = BotApiError(429, "Too Many Requests: retry after 30", retry_after=30)
    await run_dispatch(bot)
    assert len(nudges_to(bot, 810)) == 1
    set_clock(bot, datetime(2027, 2, 28, 9, 31, 40, tzinfo=UTC))
    await run_dispatch(bot)
    await run_dispatch(bot)
    assert len(nudges_to(bot, 810)) == 2


async def test_chat_not_found_pauses_the_schedule(bot: Harness) -> None:
    set_clock(bot, NOW)
    person = bot.fake.person(811)
    await set_up(bot, person, name="Gone")
    set_clock(bot, datetime(2027, 1, 31, 9, 31, tzinfo=UTC))
    bot.fake.api.fail_next["sendMessage"] = BotApiError(400, "Bad Request: chat not found")
    await run_dispatch(bot)
    [view] = await act(bot.services.database, list_partnerships, chat_id=811)
    assert view.partnership.status == "paused" and view.partnership.paused_reason == "Telegram refused: chat not found"
    assert view.next_due is None


async def test_a_nudge_due_while_the_bot_was_down_for_three_hours_is_sent_once_late(
        fake_telegram: FakeTelegram, db_url: str) -> None:
    settings = review_settings(fake_telegram, db_url)
    first = await start_bot(fake_telegram, settings)
    set_clock(first, NOW)
    person = fake_telegram.person(812, "Ivy")
    await set_up(first, person, name="Downtime")
    [view] = await act(first.services.database, list_partnerships, chat_id=812)
    due = await pending_due(first.services.database, view.partnership.id or 0)
    set_clock(first, due - timedelta(hours=1))
    await run_dispatch(first)
    await stop_bot(first)  # down from an hour before the nudge ...

    second = await start_bot(fake_telegram, settings)
    try:
        set_clock(second, due + timedelta(hours=2))  # ... to two hours after it
        await run_dispatch(second)
        await run_dispatch(second)
        set_clock(second, due + timedelta(hours=2, minutes=1))
        await run_dispatch(second)
        [nudge] = nudges_to(second, 812)
        assert "while I was offline" in nudge.text and "Sun 31 Jan 2027, 09:30" in nudge.text
        rows = await occurrences(second.services.database, view.partnership.id or 0)
        assert [(o.status, o.late) for o in rows] == [("sent", True), ("pending", False)]
    finally:
        await stop_bot(second)


async def test_a_half_answered_check_in_survives_a_restart(fake_telegram: FakeTelegram, db_url: str) -> None:
    settings = review_settings(fake_telegram, db_url)
    first = await start_bot(fake_telegram, settings)
    set_clock(first, NOW)
    person = fake_telegram.person(813, "Jo")
    await set_up(first, person, name="Restart")
    set_clock(first, datetime(2027, 1, 31, 9, 31, tzinfo=UTC))
    await run_dispatch(first)
    [nudge] = nudges_to(first, 813)
    question = await step(first, 813, lambda: fake_telegram.press(person, nudge, "Start the check-in"))
    for tap in ["5", "4", "3"]:
        question = await press(first, person, question, tap)
    assert "Question 4 of 7" in question.text
    await stop_bot(first)

    second = await start_bot(fake_telegram, settings)
    try:
        set_clock(second, datetime(2027, 1, 31, 10, 0, tzinfo=UTC))
        question = await step(second, 813, lambda: fake_telegram.press(person, question, "Yes"))
        assert "Question 5 of 7" in question.text
        for tap in ["Yes", "4", "Functioning"]:
            question = await press(second, person, question, tap)
        summary = await step(second, 813, lambda: fake_telegram.say(person, "All fine"))
        assert "Purpose: <b>5</b>" in summary.text and "Roles: <b>4</b>" in summary.text and "All fine" in summary.text
    finally:
        await stop_bot(second)


async def test_cancel_and_old_set_up_buttons(bot: Harness) -> None:
    set_clock(bot, NOW)
    person = bot.fake.person(814)
    asked = await step(bot, 814, lambda: bot.fake.say(person, "/partnership"))
    asked = await step(bot, 814, lambda: bot.fake.say(person, "x" * 150))
    assert "under 100" in asked.text
    asked = await step(bot, 814, lambda: bot.fake.say(person, "Short name"))
    cancelled = await step(bot, 814, lambda: bot.fake.say(person, "/cancel"))
    assert "stopped the partnership set-up" in cancelled.text and "Nothing was changed" in cancelled.text
    tapped = bot.fake.mark()
    bot.fake.press(person, asked, "Skip")  # a button from the abandoned set-up
    await bot.fake.answered("Send /partnership", after=tapped)
    assert await act(bot.services.database, list_partnerships, chat_id=814) == []


def _gone_half_way(*_args: object, **_kwargs: object) -> Any:
    raise OperationalError("SELECT", {}, ConnectionRefusedError("the database went away (simulated)"))


async def test_a_check_in_finished_while_the_database_fails_half_way_leaves_nothing_half_written(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finishing a check-in writes three things: the answer completed, the round closed, its fixed summary. The
    database goes away after the first two are written: none of them stays, the person is told their answers
    so far are saved, and the same comment sent again closes the round with its summary."""
    set_clock(bot, NOW)
    person = bot.fake.person(815, "Kit")
    async with bot.services.database.transaction() as session:
        partnership, _ = await create_partnership(
            session=session, chat_id=815, created_by=815, name="Half Way", partners=["A"],
            schedule=Schedule("weekly", time(9), "Europe/London", NOW.date(), weekday=0), now=NOW)
    set_clock(bot, datetime(2027, 1, 11, 9, 1, tzinfo=UTC))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, 815)
    question = await step(bot, 815, lambda: bot.fake.press(person, nudge, "Start the check-in"))
    for tap in ["5", "4", "4", "Yes", "Yes", "4", "Flying"]:
        question = await press(bot, person, question, tap)
    assert "Anything to raise" in question.text

    with monkeypatch.context() as patch:
        patch.setattr(checkins, "_summary_of", _gone_half_way)  # after the answer, the close and the summary
        sorry = await step(bot, 815, lambda: bot.fake.say(person, "Rota clashes again"))
    assert "try again in a minute" in sorry.text and "Your answers so far are saved" in sorry.text
    [occurrence] = [o for o in await occurrences(bot.services.database, partnership.id or 0) if o.status == "sent"]
    assert occurrence.closed_at is None  # the round is still open
    async with bot.services.database.transaction() as session:
        [answer] = (await session.exec(select(ReviewAnswer))).all()
        assert answer.completed_at is None and answer.comment is None and len(answer_scores(answer)) == 7
        assert (await session.exec(select(ReviewRoundSummary))).all() == []

    summary = await step(bot, 815, lambda: bot.fake.say(person, "Rota clashes again"))
    assert "Check-in summary" in summary.text and "Rota clashes again" in summary.text


async def test_nothing_to_add_while_the_database_is_down_keeps_the_last_step(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last step's button meets a dead database: an alert says the answers so far are saved, and the same
    button works once the database is back."""
    set_clock(bot, NOW)
    person = bot.fake.person(817, "Ash")
    async with bot.services.database.transaction() as session:
        await create_partnership(session=session, chat_id=817, created_by=817, name="Down", partners=["A"],
                                 schedule=Schedule("weekly", time(9), "Europe/London", NOW.date(), weekday=0),
                                 now=NOW)
    set_clock(bot, datetime(2027, 1, 11, 9, 1, tzinfo=UTC))
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, 817)
    question = await step(bot, 817, lambda: bot.fake.press(person, nudge, "Start the check-in"))
    for tap in ["5", "4", "4", "Yes", "Yes", "4", "Flying"]:
        question = await press(bot, person, question, tap)

    with monkeypatch.context() as patch:
        patch.setattr(Database, "transaction", _gone_half_way)
        tapped = bot.fake.mark()
        bot.fake.press(person, question, "Nothing to add")
        alert = await bot.fake.answered("try again in a minute", after=tapped)
    assert "Your answers so far are saved" in alert["text"] and alert.get("show_alert")
    thanks = await step(bot, 817, lambda: bot.fake.press(person, question, "Nothing to add"))
    assert "Check-in summary" in thanks.text


async def test_a_score_typed_after_the_round_closed_says_so(bot: Harness) -> None:
    """The round closes (and drops unfinished answers) while someone is between two questions: the next typed
    score is answered with why it no longer counts."""
    set_clock(bot, NOW)
    person = bot.fake.person(816, "Lee")
    async with bot.services.database.transaction() as session:
        await create_partnership(session=session, chat_id=816, created_by=816, name="Closing", partners=["A"],
                                 schedule=Schedule("weekly", time(9), "Europe/London", NOW.date(), weekday=0),
                                 now=NOW)
    sent_at = datetime(2027, 1, 11, 9, 1, tzinfo=UTC)
    set_clock(bot, sent_at)
    await run_dispatch(bot)
    [nudge] = nudges_to(bot, 816)
    question = await step(bot, 816, lambda: bot.fake.press(person, nudge, "Start the check-in"))
    question = await press(bot, person, question, "4")
    assert "Question 2 of 7" in question.text
    async with bot.services.database.transaction() as session:
        assert await checkins.close_expired_checkins(session=session, now=sent_at + timedelta(hours=49)) == []
    closed = await step(bot, 816, lambda: bot.fake.say(person, "3"))
    assert "has closed" in closed.text
