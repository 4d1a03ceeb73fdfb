"""A mentee's request to one mentor and its life: asking (every constraint checked again), the mentor's
accept / decline / pause, the mentee withdrawing it, timing out, and requests held for mentors who have
not opened the bot yet.

Why a module of its own: each step moves a match row from one status to the next exactly once, so a
double tap, a forged button or two bot processes racing change it only once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.mentoring.followups import CHECKIN_AFTER, REVIEW_AFTER
from bot.mentoring.lists import MENTEE, MENTOR
from bot.mentoring.scoring import MENTOR_FULL, MENTOR_PAUSED, MatchProfile, constraint_problem, explain, score_pair
from bot.mentoring.store import (
    MentoringError,
    Parties,
    closed_reason,
    load_match_for,
    load_parties,
    mentor_loads,
    person_by_telegram,
    transition,
)
from bot.mentoring.suggestions import excluded_for
from db.engine import Database
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch


async def request_mentor(database: Database, telegram_id: int, mentor_person_id: int, now: datetime) -> Parties:
    """The mentee asks a mentor. The hard constraints are checked again here (buttons can be old or forged).

    One request at a time, and not while the mentee has a buddy. Raises MentoringError with the reason.
    """
    async with database.session() as session:
        person = await person_by_telegram(session, telegram_id)
        mentee_profile = None if person is None else (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == person.id, MentoringProfile.role == MENTEE))).first()
        if person is None or mentee_profile is None:
            raise MentoringError("Please set up your request first with /mentor.")
        busy = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentee_id == person.id, col(MentorMatch.status).in_(("pending", "accepted"))))).first()
        if busy is not None:
            raise MentoringError("You already have a request waiting for an answer." if busy.status == "pending"
                                 else "You already have a buddy. Use /mentor to see them.")
        mentor_profile = (await session.exec(select(MentoringProfile).where(
            MentoringProfile.person_id == mentor_person_id, MentoringProfile.role == MENTOR)
            .with_for_update())).first()
        mentor_person = await session.get(MentoringPerson, mentor_person_id)
        if mentor_profile is None or mentor_person is None:
            raise MentoringError("Sorry, that mentor is no longer available.")
        loads = await mentor_loads(session, [mentor_person_id])
        proposal = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentee_id == person.id, MentorMatch.mentor_id == mentor_person_id,
            MentorMatch.status == "proposed"))).first()
        load = loads.get(mentor_person_id, 0) - (1 if proposal is not None else 0)
        mentee, mentor = MatchProfile.of(mentee_profile), MatchProfile.of(mentor_profile, load)
        problem = constraint_problem(mentee, mentor, await excluded_for(session, person.id or 0))
        if problem is not None:
            raise MentoringError({
                MENTOR_FULL: "Sorry, that mentor has just become fully booked.",
                MENTOR_PAUSED: "Sorry, that mentor is taking a break from new requests.",
            }.get(problem, "Sorry, that mentor is no longer available to you."))
        score = score_pair(mentee, mentor)
        match = proposal or MentorMatch(mentee_id=person.id or 0, mentor_id=mentor_person_id, status="pending",
                                        created_at=now)
        match.status, match.requested_at, match.score, match.why = "pending", now, score.total, explain(score)
        await session.exec(update(MentorMatch).where(   # other proposals for this mentee lapse
            MentorMatch.mentee_id == person.id, MentorMatch.status == "proposed",
            MentorMatch.mentor_id != mentor_person_id).values(status="withdrawn", ended_at=now))
        mentee_profile.waiting_since = None
        session.add_all([match, mentee_profile])
        await session.commit()
        return await load_parties(session, match)


async def set_mentor_message(database: Database, match_id: int, message_id: int, now: datetime) -> None:
    """Remember the request message in the mentor's chat (so a cancel can update it) and that it was sent."""
    async with database.session() as session:
        await session.exec(update(MentorMatch).where(MentorMatch.id == match_id)
                           .values(mentor_message_id=message_id, mentor_told_at=now))
        await session.commit()


ACCEPT, DECLINE, PAUSE = "accept", "decline", "pause"


async def respond(database: Database, match_id: int, telegram_id: int, decision: str, now: datetime) -> Parties:
    """The mentor accepts, declines, or declines and pauses. Raises MentoringError when it is not theirs
    or no longer open."""
    async with database.session() as session:
        match = await load_match_for(session, match_id, telegram_id, MENTOR)
        if match is None:
            raise MentoringError("That request isn't yours to answer.")
        if decision == ACCEPT:
            ok = await transition(session, match, "pending", status="accepted", responded_at=now, accepted_at=now,
                                   checkin_due=now + CHECKIN_AFTER, review_due=now + REVIEW_AFTER)
        else:
            ok = await transition(session, match, "pending", status="declined", responded_at=now, ended_at=now,
                                   end_reason="paused" if decision == PAUSE else "declined")
        if not ok:
            raise MentoringError(closed_reason(match.status))
        if decision == PAUSE:
            await session.exec(update(MentoringProfile).where(
                MentoringProfile.person_id == match.mentor_id, MentoringProfile.role == MENTOR)
                .values(active=False, updated_at=now))
        await session.commit()
        return await load_parties(session, match)


async def cancel_request(database: Database, match_id: int, telegram_id: int, now: datetime) -> Parties:
    """The mentee withdraws a pending request."""
    async with database.session() as session:
        match = await load_match_for(session, match_id, telegram_id, MENTEE)
        if match is None:
            raise MentoringError("That request isn't yours.")
        if not await transition(session, match, "pending", status="cancelled", ended_at=now, end_reason="cancelled"):
            raise MentoringError(closed_reason(match.status))
        await session.commit()
        return await load_parties(session, match)


async def claim_timeouts(database: Database, now: datetime, timeout: timedelta) -> list[Parties]:
    """Requests unanswered for ``timeout`` become ``timed_out``; each is claimed once (safe with many bots)."""
    claimed: list[Parties] = []
    async with database.session() as session:
        due = (await session.exec(select(MentorMatch).where(
            MentorMatch.status == "pending", col(MentorMatch.requested_at) <= now - timeout))).all()
        for match in due:
            if await transition(session, match, "pending", status="timed_out", ended_at=now, end_reason="timeout"):
                await session.commit()
                claimed.append(await load_parties(session, match))
    return claimed


async def claim_unsent_requests(database: Database, now: datetime) -> list[Parties]:
    """Pending requests to mentors who could not be told yet (imported, now linked): claimed once each."""
    claimed: list[Parties] = []
    async with database.session() as session:
        rows = (await session.exec(select(MentorMatch).join(
            MentoringPerson, col(MentoringPerson.id) == MentorMatch.mentor_id).where(
            MentorMatch.status == "pending", col(MentorMatch.mentor_told_at).is_(None),
            col(MentoringPerson.telegram_id).is_not(None)))).all()
        for match in rows:
            result = await session.exec(update(MentorMatch).where(
                MentorMatch.id == match.id, col(MentorMatch.mentor_told_at).is_(None)).values(mentor_told_at=now))
            if (result.rowcount or 0) == 1:
                await session.commit()
                claimed.append(await load_parties(session, match))
    return claimed


async def mentor_matches(database: Database, telegram_id: int) -> list[Parties]:
    """A mentor's current buddies and requests (for /mentor_offer)."""
    async with database.session() as session:
        person = await person_by_telegram(session, telegram_id)
        if person is None:
            return []
        rows = (await session.exec(select(MentorMatch).where(
            MentorMatch.mentor_id == person.id, col(MentorMatch.status).in_(("pending", "accepted")))
            .order_by(col(MentorMatch.id)))).all()
        return [await load_parties(session, match) for match in rows]
