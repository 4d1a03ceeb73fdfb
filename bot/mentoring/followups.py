"""After a match is accepted: "Have you connected?" at two weeks (asked again a week later if not yet),
"Continue or close?" at three months, ending a match, and the mentee's rating and comment.

Why a module of its own: follow-ups are due times on the match rows, claimed once each by whichever bot
process gets there first, never timers in memory; their timing constants live here with the rules
that use them (accepting a request schedules the first follow-ups from these).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.cleaning import clean_story
from bot.mentoring.lists import MENTEE
from bot.mentoring.store import (
    EndReason,
    MatchStatus,
    MentoringError,
    Parties,
    closed_reason,
    load_match_for,
    load_parties,
    person_by_telegram,
    transition,
)
from db.mentoring_models import MAX_COMMENT_CHARS, MentorMatch

CHECKIN_AFTER = timedelta(days=14)
CHECKIN_AGAIN_AFTER = timedelta(days=7)
MAX_CHECKIN_ASKS = 2
REVIEW_AFTER = timedelta(days=90)


class CheckinAnswer(StrEnum):
    """The mentee's answer to "Have you connected?" (in the buttons' data)."""

    CONNECTED = "yes"
    NOT_YET = "notyet"
    DIFFERENT = "different"   # a different buddy, please


CONNECTED, NOT_YET, DIFFERENT = CheckinAnswer.CONNECTED, CheckinAnswer.NOT_YET, CheckinAnswer.DIFFERENT


async def due_checkins(*, session: AsyncSession, now: datetime) -> list[int]:
    """Accepted matches whose "Have you connected?" is due (for :func:`claim_checkin`, one transaction each)."""
    rows = await session.exec(select(MentorMatch.id).where(
        MentorMatch.status == MatchStatus.ACCEPTED, col(MentorMatch.checkin_due) <= now))
    return [match_id for match_id in rows.all() if match_id is not None]


async def claim_checkin(*, session: AsyncSession, match_id: int, now: datetime) -> Parties | None:
    """One due "Have you connected?", claimed once (safe with several bot processes); None when it is not
    due any more or another process claimed it."""
    match = (await session.exec(select(MentorMatch).where(
        MentorMatch.id == match_id, MentorMatch.status == MatchStatus.ACCEPTED,
        col(MentorMatch.checkin_due) <= now))).first()
    if match is None:
        return None
    asks = match.checkin_asks + 1
    result = await session.exec(update(MentorMatch).where(
        MentorMatch.id == match.id, MentorMatch.checkin_due == match.checkin_due)
        .values(checkin_due=None, checkin_asks=asks))
    if (result.rowcount or 0) != 1:
        return None
    match.checkin_due, match.checkin_asks = None, asks  # as stored (the update may have set them already)
    return await load_parties(session=session, match=match)


async def due_reviews(*, session: AsyncSession, now: datetime) -> list[int]:
    """Accepted matches whose 90-day "Continue or close?" is due (for :func:`claim_review`)."""
    rows = await session.exec(select(MentorMatch.id).where(
        MentorMatch.status == MatchStatus.ACCEPTED, col(MentorMatch.review_due) <= now))
    return [match_id for match_id in rows.all() if match_id is not None]


async def claim_review(*, session: AsyncSession, match_id: int, now: datetime) -> Parties | None:
    """One due "Continue or close?", claimed once; None when it is not due any more or already claimed."""
    match = (await session.exec(select(MentorMatch).where(
        MentorMatch.id == match_id, MentorMatch.status == MatchStatus.ACCEPTED,
        col(MentorMatch.review_due) <= now))).first()
    if match is None:
        return None
    result = await session.exec(update(MentorMatch).where(
        MentorMatch.id == match.id, MentorMatch.review_due == match.review_due).values(review_due=None))
    if (result.rowcount or 0) != 1:
        return None
    match.review_due = None
    return await load_parties(session=session, match=match)


async def answer_checkin(*, session: AsyncSession, match_id: int, telegram_id: int, answer: str,
                         now: datetime) -> Parties:
    """The mentee's answer to "Have you connected?". "Not yet" asks again a week later (twice at most);
    "a different buddy" ends the match, which frees the mentor's place and excludes the pair from now on."""
    match = await load_match_for(session=session, match_id=match_id, telegram_id=telegram_id, side=MENTEE)
    if match is None:
        raise MentoringError("That buddy match isn't yours.")
    if match.status != MatchStatus.ACCEPTED:
        raise MentoringError(closed_reason(match.status))
    if answer == CONNECTED:
        match.connected = True
    elif answer == NOT_YET:
        match.connected = False
        if match.checkin_asks < MAX_CHECKIN_ASKS:
            match.checkin_due = now + CHECKIN_AGAIN_AFTER
    elif answer == DIFFERENT:
        if not await transition(session=session, match=match, expected=MatchStatus.ACCEPTED,
                                status=MatchStatus.CLOSED, ended_at=now,
                                end_reason=EndReason.REMATCH):
            raise MentoringError(closed_reason(match.status))
    else:
        raise MentoringError("I didn't understand that answer.")
    session.add(match)
    return await load_parties(session=session, match=match)


async def answer_review(*, session: AsyncSession, match_id: int, telegram_id: int, keep: bool,
                        now: datetime) -> Parties:
    """The mentee's answer to "Continue or close?": continuing asks again in 90 days; closing frees the place."""
    match = await load_match_for(session=session, match_id=match_id, telegram_id=telegram_id, side=MENTEE)
    if match is None:
        raise MentoringError("That buddy match isn't yours.")
    if keep:
        if match.status != MatchStatus.ACCEPTED:
            raise MentoringError(closed_reason(match.status))
        match.review_due = now + REVIEW_AFTER
        session.add(match)
    elif not await transition(session=session, match=match, expected=MatchStatus.ACCEPTED,
                              status=MatchStatus.CLOSED, ended_at=now,
                              end_reason=EndReason.CLOSED):
        raise MentoringError(closed_reason(match.status))
    return await load_parties(session=session, match=match)


async def end_match(*, session: AsyncSession, match_id: int, telegram_id: int, now: datetime) -> Parties:
    """Either buddy ends an accepted match at any time (e.g. from /mentor)."""
    match = await session.get(MentorMatch, match_id)
    person = await person_by_telegram(session=session, telegram_id=telegram_id)
    if match is None or person is None or person.id not in (match.mentee_id, match.mentor_id):
        raise MentoringError("That buddy match isn't yours.")
    if not await transition(session=session, match=match, expected=MatchStatus.ACCEPTED,
                            status=MatchStatus.CLOSED, ended_at=now,
                            end_reason=EndReason.CLOSED):
        raise MentoringError(closed_reason(match.status))
    return await load_parties(session=session, match=match)


async def rate_match(*, session: AsyncSession, match_id: int, telegram_id: int, rating: int | None = None,
                     comment: str | None = None) -> bool:
    """Store the mentee's 1-5 rating and/or comment on their match; False when it is not theirs."""
    match = await load_match_for(session=session, match_id=match_id, telegram_id=telegram_id, side=MENTEE)
    if match is None or match.accepted_at is None:
        return False
    if rating is not None:
        if not 1 <= rating <= 5:
            return False
        match.rating = rating
    if comment is not None:
        match.comment = clean_story(comment)[:MAX_COMMENT_CHARS] or None
    session.add(match)
    return True
