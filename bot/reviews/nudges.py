"""What the nudge's own buttons do to it: snooze and skip (and finding the live nudge a button names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reviews.errors import NotAllowed, NudgeClosed
from bot.reviews.schedule import format_local
from db.review_models import OccurrenceStatus, Partnership, PartnershipStatus, ReviewAnswer, ReviewOccurrence

#: Occurrences that may have reached the chat: answerable.
LIVE_STATUSES = (OccurrenceStatus.SENT, OccurrenceStatus.UNCERTAIN)


# -- snooze and skip --------------------------------------------------------------------------------
@dataclass(frozen=True)
class NudgeContext:
    occurrence: ReviewOccurrence
    partnership: Partnership


async def live_occurrence(*, session: AsyncSession, occurrence_id: int, chat_id: int) -> NudgeContext:
    occurrence_row = await session.get(ReviewOccurrence, occurrence_id)
    partnership = await session.get(Partnership, occurrence_row.partnership_id) if occurrence_row else None
    if occurrence_row is None or partnership is None or partnership.chat_id != chat_id:
        raise NotAllowed
    return NudgeContext(occurrence_row, partnership)


async def _refuse_unless_movable(session: AsyncSession, row: ReviewOccurrence) -> None:
    """Snooze and skip move a check-in only while it is live and nobody has started answering it."""
    if row.status not in LIVE_STATUSES:
        raise NudgeClosed("This check-in has already been snoozed or skipped.")
    started = (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
        ReviewAnswer.occurrence_id == row.id))).one()
    if started:
        raise NudgeClosed("Someone has already started answering this check-in, so it stays.")


async def snooze(*, session: AsyncSession, occurrence_id: int, chat_id: int, days: int, now: datetime
                 ) -> datetime:
    """Move this occurrence (not the series) ``days`` on; returns the new time in local time."""
    found = await live_occurrence(session=session, occurrence_id=occurrence_id, chat_id=chat_id)
    row, partnership = found.occurrence, found.partnership
    if partnership.status != PartnershipStatus.ACTIVE:
        raise NudgeClosed("This partnership's nudges are paused or stopped.")
    await _refuse_unless_movable(session, row)
    new_due = now + timedelta(days=days)
    following = (await session.exec(select(ReviewOccurrence).where(
        ReviewOccurrence.partnership_id == partnership.id,
        ReviewOccurrence.status == OccurrenceStatus.PENDING))).first()
    if following is not None and new_due >= following.due_at:
        nxt = format_local(following.due_at.astimezone(ZoneInfo(partnership.timezone)))
        raise NudgeClosed(f"The next check-in ({nxt}) comes before then: skip this one instead.")
    row.status, row.due_at, row.snoozes = OccurrenceStatus.PENDING, new_due, row.snoozes + 1
    row.claim_token, row.closed_at = None, None
    session.add(row)
    return new_due.astimezone(ZoneInfo(partnership.timezone))


async def skip(*, session: AsyncSession, occurrence_id: int, chat_id: int, now: datetime) -> datetime | None:
    """Skip this check-in; returns the next one's local time (None when there is none)."""
    found = await live_occurrence(session=session, occurrence_id=occurrence_id, chat_id=chat_id)
    row, partnership = found.occurrence, found.partnership
    await _refuse_unless_movable(session, row)
    row.status, row.closed_at = OccurrenceStatus.SKIPPED, now
    session.add(row)
    following = (await session.exec(select(ReviewOccurrence).where(
        ReviewOccurrence.partnership_id == partnership.id,
        ReviewOccurrence.status == OccurrenceStatus.PENDING))).first()
    return following.due_at.astimezone(ZoneInfo(partnership.timezone)) if following else None
