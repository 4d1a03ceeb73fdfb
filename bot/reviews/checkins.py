"""One check-in: answering it step by step, closing it, and its summary (averages, what changed, tips)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reviews.errors import NotAllowed, NudgeClosed, ReviewInputError
from bot.reviews.nudges import LIVE_STATUSES, live_occurrence
from bot.reviews.questions import (
    COMMENT_STEP,
    NUMERIC_KEYS,
    QUESTION_BY_KEY,
    QUESTIONS,
    Tip,
    aggregate,
    answer_scores,
    next_step,
    options_for,
    tips_for,
)
from db.engine import Database
from db.review_models import MAX_COMMENT, Partnership, PartnershipStatus, ReviewAnswer, ReviewOccurrence

#: A group check-in is summarised when everyone who started has finished, or after this long.
CHECKIN_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class Progress:
    """Where one person is in a check-in."""

    answer_id: int
    step: int  # a question index, or COMMENT_STEP
    completed: bool
    partnership_name: str
    partnership_chat_id: int
    slot_local: datetime


async def _progress(session: AsyncSession, answer: ReviewAnswer) -> Progress:
    occurrence_row = await session.get(ReviewOccurrence, answer.occurrence_id)
    partnership = await session.get(Partnership, answer.partnership_id)
    assert occurrence_row is not None and partnership is not None
    return Progress(answer.id or 0, next_step(answer_scores(answer)), answer.completed_at is not None, partnership.name,
                    partnership.chat_id, occurrence_row.slot_at.astimezone(ZoneInfo(partnership.timezone)))


async def start_answering(database: Database, occurrence_id: int, *, chat_id: int, user_id: int,
                          now: datetime) -> Progress:
    """Begin (or carry on with) one person's answers to the check-in of a nudge seen in ``chat_id``."""
    async with database.session() as session:
        found = await live_occurrence(session, occurrence_id, chat_id)
        if found.occurrence.status not in LIVE_STATUSES:
            raise NudgeClosed("This check-in was snoozed or skipped, so there is nothing to answer yet.")
        if found.partnership.status == PartnershipStatus.STOPPED:
            raise NudgeClosed("This partnership's reviews have been stopped.")
        answer = (await session.exec(select(ReviewAnswer).where(ReviewAnswer.occurrence_id == occurrence_id,
                                                                 ReviewAnswer.user_id == user_id))).first()
        if answer is None:
            answer = ReviewAnswer(occurrence_id=occurrence_id, partnership_id=found.partnership.id or 0,
                                  user_id=user_id, started_at=now)
            session.add(answer)
            try:
                await session.commit()
            except IntegrityError:  # the same tap twice at once
                await session.rollback()
                answer = (await session.exec(select(ReviewAnswer).where(
                    ReviewAnswer.occurrence_id == occurrence_id, ReviewAnswer.user_id == user_id))).one()
        return await _progress(session, answer)


async def _own_answer(session: AsyncSession, answer_id: int, user_id: int) -> ReviewAnswer:
    answer = await session.get(ReviewAnswer, answer_id)
    if answer is None or answer.user_id != user_id:
        raise NotAllowed
    return answer


async def record_score(database: Database, answer_id: int, *, user_id: int, step: int, value: str
                       ) -> Progress:
    """Save one tap (only the owner's, only a value the question offers); returns the next step."""
    if not 0 <= step < len(QUESTIONS):
        raise NotAllowed
    question = QUESTIONS[step]
    allowed = {v for _, v in options_for(question)}
    if value not in allowed:
        raise NotAllowed
    async with database.session() as session:
        answer = await _own_answer(session, answer_id, user_id)
        if answer.completed_at is not None:
            raise NudgeClosed("You've already finished this check-in: thank you!")
        scores = answer_scores(answer)
        scores[question.key] = value if question.kind == "stage" else int(value)
        answer.scores = json.dumps(scores)
        session.add(answer)
        await session.commit()
        return await _progress(session, answer)


@dataclass(frozen=True)
class Change:
    label: str
    before: float
    after: float

    @property
    def arrow(self) -> str:
        delta = self.after - self.before
        return "↑" if delta >= 0.5 else "↓" if delta <= -0.5 else "→"


@dataclass(frozen=True)
class Summary:
    """The result of one check-in: averages only (never one person's answers), changes and tips."""

    partnership_id: int
    occurrence_id: int
    chat_id: int
    name: str
    slot_local: datetime
    respondents: int
    partial: int
    averages: dict[str, float]
    stage: str | None
    comments: list[str]
    previous_local: datetime | None
    changes: list[Change]
    stage_before: str | None
    tips: list[Tip]
    updated: bool = False


async def _answers_of(session: AsyncSession, occurrence_id: int) -> list[ReviewAnswer]:
    return list((await session.exec(select(ReviewAnswer).where(ReviewAnswer.occurrence_id == occurrence_id)
                                    .order_by(col(ReviewAnswer.id)))).all())


async def _build_summary(session: AsyncSession, occurrence_row: ReviewOccurrence, partnership: Partnership,
                         *, updated: bool = False) -> Summary | None:
    answers = [a for a in await _answers_of(session, occurrence_row.id or 0) if answer_scores(a)]
    if not answers:
        return None
    averages, stage = aggregate(answers)
    previous = (await session.exec(
        select(ReviewOccurrence).where(ReviewOccurrence.partnership_id == partnership.id,
                                       col(ReviewOccurrence.slot_at) < occurrence_row.slot_at,
                                       col(ReviewOccurrence.id).in_(select(ReviewAnswer.occurrence_id)))
        .order_by(col(ReviewOccurrence.slot_at).desc()))).all()
    changes: list[Change] = []
    previous_local, stage_before = None, None
    for candidate in previous:
        before_answers = [a for a in await _answers_of(session, candidate.id or 0) if answer_scores(a)]
        if not before_answers:
            continue
        before, stage_before = aggregate(before_answers)
        previous_local = candidate.slot_at.astimezone(ZoneInfo(partnership.timezone))
        changes = [Change(QUESTION_BY_KEY[k].label, before[k], averages[k]) for k in NUMERIC_KEYS
                   if k in before and k in averages]
        break
    return Summary(partnership_id=partnership.id or 0, occurrence_id=occurrence_row.id or 0,
                   chat_id=partnership.chat_id, name=partnership.name,
                   slot_local=occurrence_row.slot_at.astimezone(ZoneInfo(partnership.timezone)),
                   respondents=sum(a.completed_at is not None for a in answers),
                   partial=sum(a.completed_at is None for a in answers), averages=averages, stage=stage,
                   comments=[a.comment for a in answers if a.comment], previous_local=previous_local,
                   changes=changes, stage_before=stage_before, tips=tips_for(averages, stage), updated=updated)


async def finish_answering(database: Database, answer_id: int, *, user_id: int, comment: str | None,
                           now: datetime) -> Summary | None:
    """Complete one person's check-in; returns the summary to post when it is now due (else None).

    The summary is due when everyone who started has finished (claimed once, by a conditional update of
    ``closed_at``); a late answer after the summary was posted returns an updated summary.
    """
    text = " ".join(comment.split()) if comment else None
    if text and len(text) > MAX_COMMENT:
        raise ReviewInputError(f"That's {len(text)} characters: please keep it under {MAX_COMMENT}.")
    async with database.session() as session:
        answer = await _own_answer(session, answer_id, user_id)
        if answer.completed_at is not None:
            raise NudgeClosed("You've already finished this check-in: thank you!")
        if next_step(answer_scores(answer)) != COMMENT_STEP:
            raise NotAllowed
        answer.comment, answer.completed_at = text or None, now
        session.add(answer)
        await session.commit()
        occurrence_row = await session.get(ReviewOccurrence, answer.occurrence_id)
        partnership = await session.get(Partnership, answer.partnership_id)
        assert occurrence_row is not None and partnership is not None
        if occurrence_row.closed_at is not None:
            return await _build_summary(session, occurrence_row, partnership, updated=True)
        unfinished = (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
            ReviewAnswer.occurrence_id == occurrence_row.id, col(ReviewAnswer.completed_at).is_(None)))).one()
        if unfinished:
            return None
        if not await _close(session, occurrence_row.id or 0, now):
            return None
        return await _build_summary(session, occurrence_row, partnership)


async def _close(session: AsyncSession, occurrence_id: int, now: datetime) -> bool:
    result = await session.exec(update(ReviewOccurrence).where(
        col(ReviewOccurrence.id) == occurrence_id, col(ReviewOccurrence.closed_at).is_(None))
        .values(closed_at=now).execution_options(synchronize_session=False))
    await session.commit()
    return bool(result.rowcount)


async def close_expired_checkins(database: Database, now: datetime) -> list[Summary]:
    """Check-ins open for CHECKIN_WINDOW: closed once, with a summary when anyone answered."""
    cutoff = now - CHECKIN_WINDOW
    summaries: list[Summary] = []
    async with database.session() as session:
        rows = (await session.exec(select(ReviewOccurrence, Partnership)
                                   .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                                   .where(col(ReviewOccurrence.status).in_(LIVE_STATUSES),
                                          col(ReviewOccurrence.closed_at).is_(None),
                                          func.coalesce(ReviewOccurrence.sent_at, ReviewOccurrence.claimed_at)
                                          <= cutoff))).all()
        for occurrence_row, partnership in rows:
            if await _close(session, occurrence_row.id or 0, now):
                summary = await _build_summary(session, occurrence_row, partnership)
                if summary is not None:
                    summaries.append(summary)
    return summaries
