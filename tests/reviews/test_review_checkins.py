"""The check-in rules: answers saved per tap and per person, summaries (averages only) with what changed
and tips that exist in the knowledge base, group summaries when everyone who started has finished or after
48 hours, snooze and skip, the history, CSV, chart, and the privacy hooks."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.core.startup import load_kb
from bot.reviews import checkins
from bot.reviews.chart import render_chart
from bot.reviews.checkins import close_expired_checkins, finish_answering, record_score, start_answering
from bot.reviews.errors import NotAllowed, NudgeClosed, ReviewInputError
from bot.reviews.handlers.jobs import dispatch_due
from bot.reviews.history import history, history_csv
from bot.reviews.nudges import skip, snooze
from bot.reviews.partnerships import get_partnership
from bot.reviews.privacy import export_user_data, forget_user
from bot.reviews.questions import NUMERIC_KEYS, QUESTION_BY_KEY, QUESTIONS, missing_tip_entries
from tests.reviews.review_support import (
    GOOD,
    NOW,
    SENT_AT,
    Recorder,
    act,
    add_weekly,
    answer_all,
    migrated,
    nudged,
    occurrences,
)


def test_every_tip_names_an_entry_that_exists_in_the_knowledge_base() -> None:
    kb = load_kb()
    assert missing_tip_entries(kb.get) == []
    communication = QUESTION_BY_KEY["communication"].tips
    for entry_id in communication:  # low communication: the entries on communication
        entry = kb.get(entry_id)
        assert entry is not None
        text = " ".join([entry.question, *entry.keywords]).lower()
        assert any(word in text for word in ("communicat", "dialogue", "listen")), entry_id
    assert len(QUESTIONS) <= 7


async def test_a_private_check_in_gives_a_summary_with_changes_and_tips(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid, first = await nudged(database, 701)
        summary = await answer_all(database, first, chat_id=701, user_id=701, values=GOOD, comment="All <b>good</b>")
        assert summary is not None and summary.respondents == 1 and summary.previous_local is None
        assert summary.averages["purpose"] == 5 and summary.stage == "flying" and summary.tips == []
        assert summary.comments == ["All <b>good</b>"]  # stored as typed; escaped when shown
        # A week later: communication has dropped and the partnership is in frustration.
        await dispatch_due(database, SENT_AT + timedelta(days=7), Recorder())
        second = [o for o in await occurrences(database, pid) if o.status == "sent"][-1].id or 0
        worse = {**GOOD, "communication": "1", "weight": "1", "stage": "frustration"}
        summary = await answer_all(database, second, chat_id=701, user_id=701, values=worse,
                                   now=SENT_AT + timedelta(days=7))
        assert summary is not None and summary.previous_local is not None
        changes = {c.label: (c.before, c.after, c.arrow) for c in summary.changes}
        assert changes["Communication"] == (4, 1, "↓") and changes["Purpose"] == (5, 5, "→")
        assert summary.stage_before == "flying" and summary.stage == "frustration"
        tips = {t.label: t.entry_ids for t in summary.tips}
        assert "communication-keep-going" in tips["Communication"]
        assert "review-partner-not-pulling-weight" in tips["Pulling weight"]
        assert "lifecycle-stage-frustration" in tips["Stage: frustration"]


async def test_answers_belong_to_their_person_and_values_are_checked(db_url: str) -> None:
    async with migrated(db_url) as database:
        _, occurrence_id = await nudged(database, -702)
        mine = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=-702, user_id=1, now=SENT_AT)
        with pytest.raises(NotAllowed):  # someone else's buttons
            await act(database, record_score, answer_id=mine.answer_id, user_id=2, step=0, value="3")
        with pytest.raises(NotAllowed):  # a forged value
            await act(database, record_score, answer_id=mine.answer_id, user_id=1, step=0, value="9")
        with pytest.raises(NotAllowed):  # a nudge pressed from another chat
            await act(database, start_answering, occurrence_id=occurrence_id, chat_id=-999, user_id=1, now=SENT_AT)
        with pytest.raises(NotAllowed):  # the comment before the questions
            await act(database, finish_answering, answer_id=mine.answer_id, user_id=1, comment=None, now=SENT_AT)
        again = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=-702, user_id=1, now=SENT_AT)
        assert again.answer_id == mine.answer_id and again.step == 0  # one answer row per person


async def test_a_group_round_closes_at_k_or_after_48_hours_once(db_url: str) -> None:
    async with migrated(db_url) as database:
        _, occurrence_id = await nudged(database, -704)
        progress = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=-704, user_id=1,
                             now=SENT_AT)
        await act(database, record_score, answer_id=progress.answer_id, user_id=1, step=0, value="2")
        await answer_all(database, occurrence_id, chat_id=-704, user_id=2, values=GOOD)
        await answer_all(database, occurrence_id, chat_id=-704, user_id=3, values=GOOD)
        assert await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=47)) == []
        [summary] = await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=48, minutes=1))
        # Two finished (the half-answered one never counts): below k, so the count only.
        assert (summary.respondents, summary.withheld, summary.averages) == (2, True, {})
        assert await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=49)) == []
        with pytest.raises(NudgeClosed, match="closed"):  # the half-answered one cannot carry on
            await act(database, record_score, answer_id=progress.answer_id, user_id=1, step=1, value="2")
        # A check-in nobody answered closes quietly.
        _, _quiet = await nudged(database, -705)
        assert await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=50)) == []


async def test_a_comment_is_bounded_and_kept_when_too_long(db_url: str) -> None:
    async with migrated(db_url) as database:
        _, occurrence_id = await nudged(database, 706)
        progress = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=706, user_id=706,
                             now=SENT_AT)
        for step, question in enumerate(QUESTIONS):
            await act(database, record_score, answer_id=progress.answer_id, user_id=706, step=step,
                      value=GOOD[question.key])
        with pytest.raises(ReviewInputError, match="under 500"):
            await act(database, finish_answering, answer_id=progress.answer_id, user_id=706, comment="w " * 400,
                      now=SENT_AT)
        summary = await act(database, finish_answering, answer_id=progress.answer_id, user_id=706, comment="short",
                            now=SENT_AT)
        assert summary is not None and summary.comments == ["short"]
        with pytest.raises(NudgeClosed):
            await act(database, finish_answering, answer_id=progress.answer_id, user_id=706, comment=None, now=SENT_AT)


async def test_snooze_moves_the_occurrence_not_the_series_and_skip(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid, occurrence_id = await nudged(database, 707)
        when = await act(database, snooze, occurrence_id=occurrence_id, chat_id=707, days=1, now=SENT_AT)
        assert when.isoformat() == "2027-01-05T09:01:00+00:00"
        with pytest.raises(NudgeClosed):
            await act(database, snooze, occurrence_id=occurrence_id, chat_id=707, days=1, now=SENT_AT)
        sender = Recorder()
        await dispatch_due(database, SENT_AT + timedelta(hours=23), sender)
        assert not sender.items
        await dispatch_due(database, SENT_AT + timedelta(days=1, minutes=1), sender)
        assert [(i.occurrence_id, i.snoozed) for i in sender.items] == [(occurrence_id, True)]
        rows = await occurrences(database, pid)
        assert [(o.slot_date, o.status) for o in rows] == [(date(2027, 1, 4), "sent"), (date(2027, 1, 11), "pending")]
        # A week's snooze would run into the next check-in: refused, with the advice to skip.
        with pytest.raises(NudgeClosed, match="skip this one"):
            await act(database, snooze, occurrence_id=occurrence_id, chat_id=707, days=7,
                      now=SENT_AT + timedelta(days=1))
        following = await act(database, skip, occurrence_id=occurrence_id, chat_id=707, now=SENT_AT + timedelta(days=1))
        assert following is not None and following.date() == date(2027, 1, 11)
        with pytest.raises(NotAllowed):
            await act(database, skip, occurrence_id=occurrence_id, chat_id=708, now=SENT_AT)


async def test_history_csv_and_chart(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid, first = await nudged(database, 709)
        await answer_all(database, first, chat_id=709, user_id=709, values=GOOD, comment="=HYPERLINK(\"x\")")
        await dispatch_due(database, SENT_AT + timedelta(days=7), Recorder())
        second = [o for o in await occurrences(database, pid) if o.status == "sent"][-1].id or 0
        await act(database, skip, occurrence_id=second, chat_id=709, now=SENT_AT + timedelta(days=7))
        rows = await act(database, history, partnership_id=pid)
        assert [(r.slot_local.date(), r.status, r.respondents) for r in rows] == [
            (date(2027, 1, 4), "sent", 1), (date(2027, 1, 11), "skipped", 0)]
        table = list(csv.reader(io.StringIO(history_csv(rows).decode("utf-8-sig"))))
        assert table[0][:3] == ["date", "time", "status"] and "Communication" in table[0]
        assert table[1][0] == "2027-01-04" and table[1][table[0].index("Purpose")] == "5.00"
        assert table[1][table[0].index("raised")].startswith("'=")  # a formula is never run by a spreadsheet
        png = render_chart("Riverside", [(r.slot_local.date(), r.averages) for r in rows if r.averages],
                           {k: QUESTION_BY_KEY[k].label for k in NUMERIC_KEYS})
        assert png.startswith(b"\x89PNG") and len(png) > 5000


async def test_export_and_forget(db_url: str) -> None:
    async with migrated(db_url) as database:
        own_pid, own = await nudged(database, 710)
        group_pid = await add_weekly(database, chat_id=-711, now=NOW, weekday=0, at=time(9), start=date(2027, 1, 1))
        await dispatch_due(database, SENT_AT, Recorder())
        group_occ = next(o for o in await occurrences(database, group_pid) if o.status == "sent").id or 0
        await answer_all(database, own, chat_id=710, user_id=710, values=GOOD, comment="mine")
        await answer_all(database, group_occ, chat_id=-711, user_id=710, values=GOOD)
        await answer_all(database, group_occ, chat_id=-711, user_id=712, values=GOOD, comment="theirs")
        await answer_all(database, group_occ, chat_id=-711, user_id=713, values=GOOD)
        exported = await act(database, export_user_data, user_id=710)
        assert [p["name"] for p in exported["review_partnerships"]] == ["Riverside"]
        assert len(exported["review_answers"]) == 2 and exported["review_answers"][0]["raised"] == "mine"
        assert "theirs" not in str(exported)
        import json

        json.dumps(exported)  # JSON-serialisable
        assert await act(database, forget_user, user_id=710) == []
        assert await act(database, export_user_data, user_id=710) == {"review_partnerships": [], "review_answers": []}
        assert await act(database, get_partnership, partnership_id=own_pid) is None  # their private partnership is gone
        [row] = [r for r in await act(database, history, partnership_id=group_pid) if r.respondents]
        assert row.respondents == 3 and row.comments == ["theirs"]  # the round's fixed summary is unchanged


async def test_a_round_closing_when_the_database_fails_half_way_stays_open_and_closes_next_time(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job closes a 48-hour-old round (closed_at) and fixes its summary in one transaction: when the database
    goes away after both are written, neither stays, so the next run closes it and the group gets its summary
    (before, the round stayed closed with its summary never posted)."""
    async with migrated(db_url) as database:
        pid, occurrence_id = await nudged(database, -716)
        for user in (1, 2):
            await answer_all(database, occurrence_id, chat_id=-716, user_id=user, values=GOOD)
        later = SENT_AT + timedelta(hours=49)

        def gone(*_args: object, **_kwargs: object) -> None:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("the database went away (simulated)"))

        with monkeypatch.context() as patch:
            patch.setattr(checkins, "_summary_of", gone)
            with pytest.raises(OperationalError):
                await act(database, close_expired_checkins, now=later)
        [row] = [o for o in await occurrences(database, pid) if o.id == occurrence_id]
        assert row.closed_at is None
        assert [r.respondents for r in await act(database, history, partnership_id=pid)] == [0]  # no summary
        [summary] = await act(database, close_expired_checkins, now=later + timedelta(minutes=1))
        assert summary.occurrence_id == occurrence_id and summary.respondents == 2


class Meeting:
    """Waits until ``size`` callers have arrived, or half a second has passed."""

    def __init__(self, size: int) -> None:
        self.size, self.arrived, self.everyone = size, 0, asyncio.Event()

    async def meet(self) -> None:
        self.arrived += 1
        if self.arrived == self.size:
            self.everyone.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.everyone.wait(), 0.5)


async def test_the_last_people_finishing_at_the_same_moment_close_the_round_once(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three group members send their last answer at the same moment (k = 3): each finish counts the others',
    so the round closes exactly once, with all three (without one finisher at a time per round, each would
    count only itself and the round would wait 48 hours)."""
    async with migrated(db_url) as database:
        _, occurrence_id = await nudged(database, -717)
        answers = []
        for user in (1, 2, 3):
            progress = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=-717, user_id=user,
                                 now=SENT_AT)
            for index, question in enumerate(QUESTIONS):
                progress = await act(database, record_score, answer_id=progress.answer_id, user_id=user, step=index,
                                     value=GOOD[question.key])
            answers.append((user, progress.answer_id))
        count = checkins._finished_count
        written, counted = Meeting(3), Meeting(3)

        async def counted_together(session: Any, occurrence: int) -> int:
            """The worst interleaving: every finish has written its answer before any counts, and none commits
            before all have counted (each wait gives up after half a second: with one finisher at a time per round,
            the others cannot arrive meanwhile)."""
            await written.meet()
            finished = await count(session, occurrence)
            await counted.meet()
            return finished

        monkeypatch.setattr(checkins, "_finished_count", counted_together)
        results = await asyncio.gather(*(act(database, finish_answering, answer_id=answer_id, user_id=user,
                                             comment=None, now=SENT_AT) for user, answer_id in answers))
        [summary] = [r for r in results if r is not None]
        assert summary.respondents == 3 and not summary.withheld
