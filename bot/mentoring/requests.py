"""A mentee's request to one mentor and its life: asking (every constraint checked again), the mentor's
accept / decline / pause, the mentee withdrawing it, timing out, and requests held for mentors who have
not opened the bot yet.

Why a module of its own: each step moves a match row from one status to the next exactly once, so a
double tap, a forged button or two bot processes racing change it only once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.followups import CHECKIN_AFTER, REVIEW_AFTER
from bot.mentoring.lists import MENTEE, MENTOR
from bot.mentoring.scoring import MENTOR_FULL, MENTOR_PAUSED, MatchProfile, constraint_problem, explain, score_pair
from bot.mentoring.store import (
    OPEN_MATCH,
    EndReason,
    MatchStatus,
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
from db.mentoring_models import MentoringPerson, MentoringProfile, MentorMatch


async def request_mentor(*, session: AsyncSession, telegram_id: int, mentor_person_id: int,
                         now: datetime) -> Parties:
    """The mentee asks a mentor. The hard constraints are checked again here (buttons can be old or forged).

    One request at a time, and not while the mentee has a buddy. Raises MentoringError with the reason
    (before writing anything).
    """
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    mentee_profile = None if person is None else (await session.exec(select(MentoringProfile).where(
        MentoringProfile.person_id == person.id, MentoringProfile.role == MENTEE))).first()
    if person is None or mentee_profile is None:
        raise MentoringError("Please set up your request first with /mentor.")
    busy = (await session.exec(select(MentorMatch).where(
        MentorMatch.mentee_id == person.id, col(MentorMatch.status).in_(OPEN_MATCH)))).first()
    if busy is not None:
        raise MentoringError("You already have a request waiting for an answer." if busy.status == MatchStatus.PENDING
                             else "You already have a buddy. Use /mentor to see them.")
    mentor_profile = (await session.exec(select(MentoringProfile).where(
        MentoringProfile.person_id == mentor_person_id, MentoringProfile.role == MENTOR)
        .with_for_update())).first()
    mentor_person = await session.get(MentoringPerson, mentor_person_id)
    if mentor_profile is None or mentor_person is None:
        raise MentoringError("Sorry, that mentor is no longer available.")
    loads = await mentor_loads(session=session, mentor_ids=[mentor_person_id])
    proposal = (await session.exec(select(MentorMatch).where(
        MentorMatch.mentee_id == person.id, MentorMatch.mentor_id == mentor_person_id,
        MentorMatch.status == MatchStatus.PROPOSED))).first()
    load = loads.get(mentor_person_id, 0) - (1 if proposal is not None else 0)
    mentee, mentor = MatchProfile.of(mentee_profile), MatchProfile.of(mentor_profile, load)
    problem = constraint_problem(mentee, mentor, await excluded_for(session=session, mentee_id=person.id or 0))
    if problem is not None:
        raise MentoringError({
            MENTOR_FULL: "Sorry, that mentor has just become fully booked.",
            MENTOR_PAUSED: "Sorry, that mentor is taking a break from new requests.",
        }.get(problem, "Sorry, that mentor is no longer available to you."))
    score = score_pair(mentee, mentor)
    match = proposal or MentorMatch(mentee_id=person.id or 0, mentor_id=mentor_person_id,
                                    status=MatchStatus.PENDING, created_at=now)
    match.status, match.requested_at, match.score, match.why = MatchStatus.PENDING, now, score.total, explain(score)
    await session.exec(update(MentorMatch).where(   # other proposals for this mentee lapse
        MentorMatch.mentee_id == person.id, MentorMatch.status == MatchStatus.PROPOSED,
        MentorMatch.mentor_id != mentor_person_id).values(status=MatchStatus.WITHDRAWN, ended_at=now))
    mentee_profile.waiting_since = None
    session.add_all([match, mentee_profile])
    await session.flush()  # the match's id, for the buttons
    return await load_parties(session=session, match=match)


async def set_mentor_message(*, session: AsyncSession, match_id: int, message_id: int, now: datetime) -> None:
    """Remember the request message in the mentor's chat (so a cancel can update it) and that it was sent."""
    await session.exec(update(MentorMatch).where(MentorMatch.id == match_id)
                       .values(mentor_message_id=message_id, mentor_told_at=now))


class Decision(StrEnum):
    """A mentor's answer to a request."""

    ACCEPT = "accept"
    DECLINE = "decline"
    PAUSE = "pause"      # decline, and take no new requests until resumed


ACCEPT, DECLINE, PAUSE = Decision.ACCEPT, Decision.DECLINE, Decision.PAUSE


async def respond(*, session: AsyncSession, match_id: int, telegram_id: int, decision: Decision,
                  now: datetime) -> Parties:
    """The mentor accepts, declines, or declines and pauses. Raises MentoringError when it is not theirs
    or no longer open (nothing written then)."""
    match = await load_match_for(session=session, match_id=match_id, telegram_id=telegram_id, side=MENTOR)
    if match is None:
        raise MentoringError("That request isn't yours to answer.")
    if decision == ACCEPT:
        ok = await transition(session=session, match=match, expected=MatchStatus.PENDING,
                              status=MatchStatus.ACCEPTED, responded_at=now,
                              accepted_at=now, checkin_due=now + CHECKIN_AFTER, review_due=now + REVIEW_AFTER)
    else:
        ok = await transition(session=session, match=match, expected=MatchStatus.PENDING,
                              status=MatchStatus.DECLINED, responded_at=now,
                              ended_at=now, end_reason=EndReason.PAUSED if decision == PAUSE else EndReason.DECLINED)
    if not ok:
        raise MentoringError(closed_reason(match.status))
    if decision == PAUSE:
        await session.exec(update(MentoringProfile).where(
            MentoringProfile.person_id == match.mentor_id, MentoringProfile.role == MENTOR)
            .values(active=False, updated_at=now))
    return await load_parties(session=session, match=match)


async def cancel_request(*, session: AsyncSession, match_id: int, telegram_id: int, now: datetime) -> Parties:
    """The mentee withdraws a pending request."""
    match = await load_match_for(session=session, match_id=match_id, telegram_id=telegram_id, side=MENTEE)
    if match is None:
        raise MentoringError("That request isn't yours.")
    if not await transition(session=session, match=match, expected=MatchStatus.PENDING,
                            status=MatchStatus.CANCELLED, ended_at=now,
                            end_reason=EndReason.CANCELLED):
        raise MentoringError(closed_reason(match.status))
    return await load_parties(session=session, match=match)


async def overdue_requests(*, session: AsyncSession, now: datetime, timeout: timedelta) -> list[int]:
    """The ids of requests unanswered for ``timeout`` (for :func:`claim_timeout`, one transaction each)."""
    rows = await session.exec(select(MentorMatch.id).where(
        MentorMatch.status == MatchStatus.PENDING, col(MentorMatch.requested_at) <= now - timeout))
    return [match_id for match_id in rows.all() if match_id is not None]


async def claim_timeout(*, session: AsyncSession, match_id: int, now: datetime) -> Parties | None:
    """An unanswered request becomes ``timed_out``; claimed once (safe with many bots), else None."""
    match = await session.get(MentorMatch, match_id)
    if match is None or not await transition(session=session, match=match, expected=MatchStatus.PENDING,
                                             status=MatchStatus.TIMED_OUT,
                                             ended_at=now, end_reason=EndReason.TIMEOUT):
        return None
    return await load_parties(session=session, match=match)


async def unsent_requests(*, session: AsyncSession) -> list[int]:
    """The ids of pending requests to mentors who could not be told yet (imported, now linked)."""
    rows = await session.exec(select(MentorMatch.id).join(
        MentoringPerson, col(MentoringPerson.id) == MentorMatch.mentor_id).where(
        MentorMatch.status == MatchStatus.PENDING, col(MentorMatch.mentor_told_at).is_(None),
        col(MentoringPerson.telegram_id).is_not(None)))
    return [match_id for match_id in rows.all() if match_id is not None]


async def claim_unsent_request(*, session: AsyncSession, match_id: int, now: datetime) -> Parties | None:
    """A held request, marked as told so it is sent once (safe with many bots); None when already claimed."""
    result = await session.exec(update(MentorMatch).where(
        MentorMatch.id == match_id, col(MentorMatch.mentor_told_at).is_(None)).values(mentor_told_at=now))
    if (result.rowcount or 0) != 1:
        return None
    match = await session.get(MentorMatch, match_id)
    assert match is not None
    return await load_parties(session=session, match=match)


async def mentor_matches(*, session: AsyncSession, telegram_id: int) -> list[Parties]:
    """A mentor's current buddies and requests (for /mentor_offer)."""
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None:
        return []
    rows = (await session.exec(select(MentorMatch).where(
        MentorMatch.mentor_id == person.id, col(MentorMatch.status).in_(OPEN_MATCH))
        .order_by(col(MentorMatch.id)))).all()
    return [await load_parties(session=session, match=match) for match in rows]
