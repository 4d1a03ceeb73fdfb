"""One check-in: answering it step by step, closing it, and its summary (averages, what changed, tips)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import clean_text
from bot.reviews.errors import NotAllowed, NudgeClosed, ReviewInputError
from bot.reviews.nudges import LIVE_STATUSES, live_occurrence
from bot.reviews.questions import (
    COMMENT_STEP,
    NUMERIC_KEYS,
    QUESTION_BY_KEY,
    QUESTIONS,
    QuestionKind,
    Tip,
    aggregate,
    answer_scores,
    next_step,
    options_for,
    tips_for,
)
from db.review_models import (
    MAX_COMMENT,
    Partnership,
    PartnershipStatus,
    ReviewAnswer,
    ReviewOccurrence,
    ReviewRoundSummary,
)

#: A check-in round closes after this long (or, in a group, as soon as k people have answered).
CHECKIN_WINDOW = timedelta(hours=48)

#: The k rule (SECURITY.md): a group's figures and comments are shown only when at least this many people
#: answered, and one summary is posted per round, so no answer can be seen or worked out by difference.
MIN_GROUP = 3


def threshold(chat_id: int, min_group: int = MIN_GROUP) -> int:
    """How many finished answers close a round: one in a private chat (only the person sees it), else k."""
    return 1 if chat_id > 0 else max(min_group, MIN_GROUP)


CLOSED = ("This check-in has closed and its summary was posted, so your answers weren't added. "
          "Thank you all the same: the next one will count.")


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


async def start_answering(*, session: AsyncSession, occurrence_id: int, chat_id: int, user_id: int,
                          now: datetime) -> Progress:
    """Begin (or carry on with) one person's answers to the check-in of a nudge seen in ``chat_id``."""
    found = await live_occurrence(session=session, occurrence_id=occurrence_id, chat_id=chat_id)
    if found.occurrence.closed_at is not None:
        raise NudgeClosed(CLOSED)
    if found.occurrence.status not in LIVE_STATUSES:
        raise NudgeClosed("This check-in was snoozed or skipped, so there is nothing to answer yet.")
    if found.partnership.status == PartnershipStatus.STOPPED:
        raise NudgeClosed("This partnership's reviews have been stopped.")
    # The same tap twice at once: the second insert meets the first one's row and does nothing (rather than
    # failing on the unique constraint, which would need a savepoint inside the caller's transaction).
    await session.exec(_insert_for(session)(ReviewAnswer).values(  # type: ignore[call-overload]
        occurrence_id=occurrence_id, partnership_id=found.partnership.id or 0, user_id=user_id, started_at=now,
        scores="{}").on_conflict_do_nothing(index_elements=["occurrence_id", "user_id"]))
    answer = (await session.exec(select(ReviewAnswer).where(ReviewAnswer.occurrence_id == occurrence_id,
                                                             ReviewAnswer.user_id == user_id))).one()
    return await _progress(session, answer)


def _insert_for(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def _own_answer(session: AsyncSession, answer_id: int, user_id: int) -> ReviewAnswer:
    answer = await session.get(ReviewAnswer, answer_id)
    if answer is None:  # an unfinished answer is dropped when its round closes
        raise NudgeClosed(CLOSED)
    if answer.user_id != user_id:
        raise NotAllowed
    return answer


async def _refuse_if_closed(session: AsyncSession, answer: ReviewAnswer) -> None:
    """An unfinished answer to a closed round can never count: it is deleted and the person told why."""
    occurrence_row = await session.get(ReviewOccurrence, answer.occurrence_id)
    if occurrence_row is not None and occurrence_row.closed_at is not None:
        await session.delete(answer)
        await session.flush()
        raise NudgeClosed(CLOSED)


async def record_score(*, session: AsyncSession, answer_id: int, user_id: int, step: int, value: str
                       ) -> Progress:
    """Save one tap (only the owner's, only a value the question offers); returns the next step.

    An unfinished answer to a round that closed meanwhile can never count: it is deleted and NudgeClosed is
    raised. The caller catches NudgeClosed inside its transaction, so that the deletion is committed."""
    if not 0 <= step < len(QUESTIONS):
        raise NotAllowed
    question = QUESTIONS[step]
    allowed = {v for _, v in options_for(question)}
    if value not in allowed:
        raise NotAllowed
    answer = await _own_answer(session, answer_id, user_id)
    if answer.completed_at is not None:
        raise NudgeClosed("You've already finished this check-in: thank you!")
    await _refuse_if_closed(session, answer)
    scores = answer_scores(answer)
    scores[question.key] = value if question.kind == QuestionKind.STAGE else int(value)
    answer.scores = json.dumps(scores)
    session.add(answer)
    await session.flush()
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
    """The fixed result of one closed round: averages only (never one person's answers), changes and tips.

    ``withheld`` is true when fewer than ``min_group`` people answered in a group: then only the count is
    given (no figures, stage, comments or tips), so nobody's answers can be seen.
    """

    partnership_id: int
    occurrence_id: int
    chat_id: int
    name: str
    slot_local: datetime
    respondents: int
    averages: dict[str, float]
    stage: str | None
    comments: list[str]
    previous_local: datetime | None
    changes: list[Change]
    stage_before: str | None
    tips: list[Tip]
    withheld: bool = False
    min_group: int = MIN_GROUP


async def _finished_answers(session: AsyncSession, occurrence_id: int) -> list[ReviewAnswer]:
    return list((await session.exec(select(ReviewAnswer).where(ReviewAnswer.occurrence_id == occurrence_id,
                                                               col(ReviewAnswer.completed_at).is_not(None))
                                    .order_by(col(ReviewAnswer.id)))).all())


def record_figures(record: ReviewRoundSummary) -> tuple[dict[str, float], str | None, list[str]]:
    """The stored averages, stage and comments of a closed round (empty when withheld)."""
    try:
        averages = {k: float(v) for k, v in json.loads(record.averages or "{}").items() if k in QUESTION_BY_KEY}
        comments = [str(c) for c in json.loads(record.comments or "[]")]
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        return {}, None, []
    return averages, record.stage, comments


async def _fix_record(session: AsyncSession, occurrence_row: ReviewOccurrence, partnership: Partnership,
                      min_group: int, now: datetime) -> ReviewRoundSummary:
    """Write the round's one summary from its finished answers (figures only at >= k), and drop the
    unfinished answers, which can no longer count."""
    answers = await _finished_answers(session, occurrence_row.id or 0)
    enough = len(answers) >= threshold(partnership.chat_id, min_group)
    averages, stage = aggregate(answers) if enough else ({}, None)
    comments = [a.comment for a in answers if a.comment] if enough else []
    record = ReviewRoundSummary(occurrence_id=occurrence_row.id or 0, partnership_id=partnership.id or 0,
                                closed_at=now, respondents=len(answers), averages=json.dumps(averages),
                                stage=stage, comments=json.dumps(comments))
    session.add(record)
    await session.exec(delete(ReviewAnswer).where(col(ReviewAnswer.occurrence_id) == occurrence_row.id,
                                                  col(ReviewAnswer.completed_at).is_(None)))
    await session.flush()
    return record


async def _summary_of(session: AsyncSession, record: ReviewRoundSummary, occurrence_row: ReviewOccurrence,
                      partnership: Partnership, min_group: int) -> Summary:
    averages, stage, comments = record_figures(record)
    withheld = record.respondents < threshold(partnership.chat_id, min_group) or not averages
    zone = ZoneInfo(partnership.timezone)
    previous = (await session.exec(
        select(ReviewRoundSummary, ReviewOccurrence)
        .join(ReviewOccurrence, col(ReviewOccurrence.id) == ReviewRoundSummary.occurrence_id)
        .where(ReviewRoundSummary.partnership_id == partnership.id,
               col(ReviewOccurrence.slot_at) < occurrence_row.slot_at, ReviewRoundSummary.averages != "{}")
        .order_by(col(ReviewOccurrence.slot_at).desc()))).first()
    changes: list[Change] = []
    previous_local, stage_before = None, None
    if previous is not None and not withheld:
        before, stage_before, _ = record_figures(previous[0])
        previous_local = previous[1].slot_at.astimezone(zone)
        changes = [Change(QUESTION_BY_KEY[k].label, before[k], averages[k]) for k in NUMERIC_KEYS
                   if k in before and k in averages]
    return Summary(partnership_id=partnership.id or 0, occurrence_id=occurrence_row.id or 0,
                   chat_id=partnership.chat_id, name=partnership.name,
                   slot_local=occurrence_row.slot_at.astimezone(zone),
                   respondents=record.respondents, averages=averages, stage=stage, comments=comments,
                   previous_local=previous_local, changes=changes, stage_before=stage_before,
                   tips=[] if withheld else tips_for(averages, stage), withheld=withheld,
                   min_group=threshold(partnership.chat_id, min_group))


async def finish_answering(*, session: AsyncSession, answer_id: int, user_id: int, comment: str | None,
                           now: datetime, min_group: int = MIN_GROUP) -> Summary | None:
    """Complete one person's check-in; returns the round's summary when this answer closes it (else None).

    A round closes when the number of finished answers first reaches k (one in a private chat), claimed
    once by a conditional update of ``closed_at``; it is then fixed, and later answers are refused, so
    there is never an "updated" summary that differs by one person. The answer, the close and the fixed
    summary are written in the caller's one transaction: a failure half-way leaves the round open and the
    answer unfinished, to be finished again. Like :func:`record_score`, an unfinished answer to a round
    that closed meanwhile is deleted before NudgeClosed is raised (catch it inside the transaction).
    """
    text = clean_text(comment, multiline=False) if comment else None
    if text and len(text) > MAX_COMMENT:
        raise ReviewInputError(f"That's {len(text)} characters: please keep it under {MAX_COMMENT}.")
    answer = await _own_answer(session, answer_id, user_id)
    if answer.completed_at is not None:
        raise NudgeClosed("You've already finished this check-in: thank you!")
    if next_step(answer_scores(answer)) != COMMENT_STEP:
        raise NotAllowed
    # One finisher at a time per round (PostgreSQL: the row lock; SQLite has one writer anyway): two people
    # finishing at once each see the other's answer when counting, so the k-th answer always closes the round.
    await session.exec(select(ReviewOccurrence).where(col(ReviewOccurrence.id) == answer.occurrence_id)
                       .with_for_update().execution_options(populate_existing=True))
    await _refuse_if_closed(session, answer)
    answer.comment, answer.completed_at = text or None, now
    session.add(answer)
    await session.flush()
    occurrence_row = await session.get(ReviewOccurrence, answer.occurrence_id)
    partnership = await session.get(Partnership, answer.partnership_id)
    assert occurrence_row is not None and partnership is not None
    if await _finished_count(session, occurrence_row.id or 0) < threshold(partnership.chat_id, min_group):
        return None
    if not await _close(session, occurrence_row.id or 0, now):
        return None
    record = await _fix_record(session, occurrence_row, partnership, min_group, now)
    return await _summary_of(session, record, occurrence_row, partnership, min_group)


async def _finished_count(session: AsyncSession, occurrence_id: int) -> int:
    return (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
        ReviewAnswer.occurrence_id == occurrence_id, col(ReviewAnswer.completed_at).is_not(None)))).one()


async def _close(session: AsyncSession, occurrence_id: int, now: datetime) -> bool:
    result = await session.exec(update(ReviewOccurrence).where(
        col(ReviewOccurrence.id) == occurrence_id, col(ReviewOccurrence.closed_at).is_(None))
        .values(closed_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount)


async def close_expired_checkins(*, session: AsyncSession, now: datetime, min_group: int = MIN_GROUP
                                 ) -> list[Summary]:
    """Rounds open for CHECKIN_WINDOW: closed once and fixed, with a summary when anyone finished (below k
    in a group it gives the count only). Each round's close and its fixed summary are written together in
    the caller's transaction, so a round is never closed without its summary."""
    cutoff = now - CHECKIN_WINDOW
    summaries: list[Summary] = []
    rows = (await session.exec(select(ReviewOccurrence, Partnership)
                               .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                               .where(col(ReviewOccurrence.status).in_(LIVE_STATUSES),
                                      col(ReviewOccurrence.closed_at).is_(None),
                                      func.coalesce(ReviewOccurrence.sent_at, ReviewOccurrence.claimed_at)
                                      <= cutoff))).all()
    for occurrence_row, partnership in rows:
        if await _close(session, occurrence_row.id or 0, now):
            record = await _fix_record(session, occurrence_row, partnership, min_group, now)
            if record.respondents:
                summaries.append(await _summary_of(session, record, occurrence_row, partnership, min_group))
    return summaries


async def progress_of(*, session: AsyncSession, answer_id: int, user_id: int) -> Progress:
    """Where the person is in their own check-in (to carry on with it); NotAllowed when it is not theirs."""
    answer = await _own_answer(session, answer_id, user_id)
    return await _progress(session, answer)


async def unfinished_checkins(*, session: AsyncSession, user_id: int, chat_id: int | None = None
                              ) -> list[Progress]:
    """The person's check-ins started but not finished whose round is still open (not yet summarised):
    /reviews offers to carry on with them. ``chat_id`` limits them to that chat's partnerships."""
    query = (select(ReviewAnswer).join(ReviewOccurrence, col(ReviewOccurrence.id) == ReviewAnswer.occurrence_id)
             .join(Partnership, col(Partnership.id) == ReviewAnswer.partnership_id)
             .where(ReviewAnswer.user_id == user_id, col(ReviewAnswer.completed_at).is_(None),
                    col(ReviewOccurrence.closed_at).is_(None), col(ReviewOccurrence.status).in_(LIVE_STATUSES),
                    Partnership.status != PartnershipStatus.STOPPED)
             .order_by(col(ReviewAnswer.started_at)))
    if chat_id is not None:
        query = query.where(Partnership.chat_id == chat_id)
    return [await _progress(session, answer) for answer in (await session.exec(query)).all()]
