"""Partnerships: create, list, change the schedule, pause, resume and stop."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reviews.errors import NotAllowed
from bot.reviews.inputs import WEEKLY_CADENCES, parse_name, parse_partners
from bot.reviews.schedule import Occurrence, Schedule, next_occurrences
from db.review_models import OccurrenceStatus, Partnership, PartnershipStatus, ReviewOccurrence


def is_group_chat(chat_id: int) -> bool:
    return chat_id < 0


# -- partnerships -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryProblem:
    occurrence_id: int
    slot_at: datetime
    status: OccurrenceStatus  # failed or uncertain
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {"occurrence_id": self.occurrence_id, "slot_utc": self.slot_at.isoformat(), "status": self.status,
                "reason": self.reason}


@dataclass(frozen=True)
class PartnershipView:
    """A partnership with its schedule and its next nudge, for lists."""

    partnership: Partnership
    schedule: Schedule
    next_due: datetime | None  # the pending occurrence's instant, if any
    #: Nudges whose delivery failed or is uncertain (e.g. the bot was killed mid-send), for admins.
    problems: tuple[DeliveryProblem, ...] = ()

    @property
    def next_local(self) -> datetime | None:
        return self.next_due.astimezone(self.schedule.zone) if self.next_due else None


def _values_for(schedule: Schedule) -> dict[str, Any]:
    weekly = schedule.cadence in WEEKLY_CADENCES
    return {"cadence": schedule.cadence, "weekday": schedule.weekday if weekly else None,
            "day": None if weekly else schedule.day,
            "local_time": f"{schedule.local_time:%H:%M}", "timezone": schedule.timezone,
            "start_date": schedule.start}


async def _materialise_next(session: AsyncSession, partnership: Partnership, after: datetime) -> Occurrence:
    schedule = Schedule.of(partnership)
    [upcoming] = next_occurrences(schedule, after, 1)
    session.add(ReviewOccurrence(partnership_id=partnership.id or 0, schedule_version=partnership.schedule_version,
                                 slot_date=upcoming.slot_date, slot_at=upcoming.utc, due_at=upcoming.utc))
    return upcoming


async def create_partnership(*, session: AsyncSession, chat_id: int, created_by: int | None, name: str,
                             partners: Sequence[str], schedule: Schedule, now: datetime
                             ) -> tuple[Partnership, Occurrence]:
    """Store a partnership and its first pending occurrence (the first slot after ``now``)."""
    partnership = Partnership(chat_id=chat_id, created_by=created_by, name=parse_name(name),
                              partners=", ".join(parse_partners(", ".join(partners))), created_at=now,
                              updated_at=now, **_values_for(schedule))
    session.add(partnership)
    await session.flush()
    first = await _materialise_next(session, partnership, now)
    return partnership, first


async def _pending_due(session: AsyncSession, partnership_ids: Iterable[int]) -> dict[int, datetime]:
    ids = list(partnership_ids)
    if not ids:
        return {}
    rows = (await session.exec(select(ReviewOccurrence.partnership_id, func.min(ReviewOccurrence.due_at))
                               .where(col(ReviewOccurrence.partnership_id).in_(ids),
                                      ReviewOccurrence.status == OccurrenceStatus.PENDING)
                               .group_by(col(ReviewOccurrence.partnership_id)))).all()
    return {pid: _aware(due) for pid, due in rows}


def _aware(value: datetime | str) -> datetime:
    """Aggregates bypass the column type on SQLite (a string comes back): read it as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def list_partnerships(*, session: AsyncSession, chat_id: int | None = None,
                            include_stopped: bool = False) -> list[PartnershipView]:
    """The partnerships of one chat (or all of them, for admins), oldest first."""
    query = select(Partnership).order_by(col(Partnership.id))
    if chat_id is not None:
        query = query.where(Partnership.chat_id == chat_id)
    if not include_stopped:
        query = query.where(Partnership.status != PartnershipStatus.STOPPED)
    partnerships = list((await session.exec(query)).all())
    ids = [p.id for p in partnerships if p.id is not None]
    due = await _pending_due(session, ids)
    problems: dict[int, list[DeliveryProblem]] = {}
    if ids:
        rows = (await session.exec(select(ReviewOccurrence).where(
            col(ReviewOccurrence.partnership_id).in_(ids),
            col(ReviewOccurrence.status).in_((OccurrenceStatus.FAILED, OccurrenceStatus.UNCERTAIN)))
            .order_by(col(ReviewOccurrence.slot_at)))
                ).all()
        for row in rows:
            problems.setdefault(row.partnership_id, []).append(
                DeliveryProblem(row.id or 0, row.slot_at, OccurrenceStatus(row.status), row.last_error))
    return [PartnershipView(p, Schedule.of(p), due.get(p.id or 0), tuple(problems.get(p.id or 0, [])))
            for p in partnerships]


async def get_partnership(*, session: AsyncSession, partnership_id: int, chat_id: int | None = None
                          ) -> Partnership | None:
    """The partnership, only when it belongs to ``chat_id`` (when given): buttons can be forged."""
    partnership = await session.get(Partnership, partnership_id)
    if partnership is None or (chat_id is not None and partnership.chat_id != chat_id):
        return None
    return partnership


async def cancel_pending(*, session: AsyncSession, partnership_id: int) -> None:
    await session.exec(update(ReviewOccurrence).where(
        col(ReviewOccurrence.partnership_id) == partnership_id,
        col(ReviewOccurrence.status) == OccurrenceStatus.PENDING)
        .values(status=OccurrenceStatus.CANCELLED, claim_token=None).execution_options(synchronize_session=False))


async def _owned(session: AsyncSession, partnership_id: int, chat_id: int) -> Partnership:
    partnership = await session.get(Partnership, partnership_id)
    if partnership is None or partnership.chat_id != chat_id or partnership.status == PartnershipStatus.STOPPED:
        raise NotAllowed
    return partnership


async def pause(*, session: AsyncSession, partnership_id: int, chat_id: int, now: datetime,
                reason: str | None = None) -> Partnership:
    partnership = await _owned(session, partnership_id, chat_id)
    partnership.status, partnership.paused_reason, partnership.updated_at = PartnershipStatus.PAUSED, reason, now
    session.add(partnership)
    await cancel_pending(session=session, partnership_id=partnership_id)
    return partnership


async def resume(*, session: AsyncSession, partnership_id: int, chat_id: int, now: datetime
                 ) -> tuple[Partnership, Occurrence]:
    """Active again from the next slot after now: nudges missed while paused are not sent."""
    partnership = await _owned(session, partnership_id, chat_id)
    await cancel_pending(session=session, partnership_id=partnership_id)
    partnership.status, partnership.paused_reason, partnership.updated_at = PartnershipStatus.ACTIVE, None, now
    partnership.schedule_version += 1
    session.add(partnership)
    upcoming = await _materialise_next(session, partnership, now)
    return partnership, upcoming


async def stop(*, session: AsyncSession, partnership_id: int, chat_id: int, now: datetime) -> Partnership:
    """No more nudges; the history stays for /reviews."""
    partnership = await _owned(session, partnership_id, chat_id)
    partnership.status, partnership.updated_at = PartnershipStatus.STOPPED, now
    session.add(partnership)
    await cancel_pending(session=session, partnership_id=partnership_id)
    return partnership


async def change_schedule(*, session: AsyncSession, partnership_id: int, chat_id: int, schedule: Schedule,
                          now: datetime) -> tuple[Partnership, Occurrence]:
    """A new schedule from now on (the pending nudge is replaced; a paused partnership stays paused)."""
    partnership = await _owned(session, partnership_id, chat_id)
    await cancel_pending(session=session, partnership_id=partnership_id)
    for key, value in _values_for(schedule).items():
        setattr(partnership, key, value)
    partnership.schedule_version += 1
    partnership.updated_at = now
    session.add(partnership)
    upcoming = next_occurrences(schedule, now, 1)[0]
    if partnership.status == PartnershipStatus.ACTIVE:
        upcoming = await _materialise_next(session, partnership, now)
    return partnership, upcoming


async def rename(*, session: AsyncSession, partnership_id: int, chat_id: int, name: str, now: datetime) -> Partnership:
    """A new name (checked like a new partnership's); the schedule and history stay."""
    partnership = await _owned(session, partnership_id, chat_id)
    partnership.name, partnership.updated_at = parse_name(name), now
    session.add(partnership)
    return partnership


async def set_partners(*, session: AsyncSession, partnership_id: int, chat_id: int, partners: str,
                       now: datetime) -> Partnership:
    """The organisations in the partnership, replaced by a new comma-separated list."""
    partnership = await _owned(session, partnership_id, chat_id)
    partnership.partners, partnership.updated_at = ", ".join(parse_partners(partners)), now
    session.add(partnership)
    return partnership
