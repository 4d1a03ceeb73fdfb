"""Dispatch: claim, send and mark due nudges (used by the bot's job every minute).

Delivery guarantee (claim, send, mark)
--------------------------------------
A job runs every minute in every bot process and calls ``dispatch_due`` (:mod:`bot.reviews.handlers.jobs`),
which repeats:

1. **Claim**, in one transaction: one ``UPDATE ... WHERE id IN (SELECT ... WHERE status = 'pending'
   AND due_at <= now ... FOR UPDATE SKIP LOCKED)`` turns due rows into ``sending`` with a fresh claim
   token and the claim time (on SQLite the single statement is atomic: SQLite has one writer at a
   time, and the outer ``status = 'pending'`` condition makes a second claimer find nothing). In the
   same transaction the next occurrence of each claimed series is created as a new ``pending`` row
   (unique per partnership, schedule version and local date, so it cannot be created twice). Commit.
2. **Send** each claimed nudge to Telegram, outside any transaction.
3. **Mark** each row by its claim token: ``sent`` (with the message id), back to ``pending`` for a
   RetryAfter or a connection that was never made (Telegram said it did not deliver), ``failed`` when
   Telegram refused it for good (blocked, chat not found: the schedule is then paused and the reason
   recorded), or ``uncertain`` when the outcome is unknown (a timeout after the request went out).

So a nudge is sent **at most once**: a row leaves ``pending`` only through a claim, and nothing ever
resends a ``sending`` or ``uncertain`` row. If the process dies between claim and mark, the row stays
``sending``; the next run (of any process) marks claims older than :data:`STALE_CLAIM_AFTER`
``uncertain`` and logs them (``partnerbot reviews list`` shows them) but does **not** resend them,
because the message may already have reached Telegram. The cost of that choice: a crash in the
seconds between claim and send can lose the nudges claimed in that batch (at most :data:`CLAIM_BATCH`),
never duplicate one. The series itself always continues, because the next occurrence was created in
the claim transaction. After downtime the missed nudge is claimed once, marked ``late``, and the next
occurrence is the first one after *now*, so a bot that was off for three weeks sends one late weekly
nudge, not three. Snooze is the one deliberate re-send: it moves a delivered occurrence back to
``pending`` at a later time, because the partnership asked for it again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reviews.partnerships import cancel_pending
from bot.reviews.schedule import Schedule, next_occurrences
from db.review_models import MAX_REASON, OccurrenceStatus, Partnership, PartnershipStatus, ReviewOccurrence

log = logging.getLogger(__name__)


# -- constants ----------------------------------------------------------------------------------
#: A claim older than this with no mark is taken to belong to a process that died mid-send.
STALE_CLAIM_AFTER = timedelta(minutes=15)
#: A nudge claimed more than this after it was due is marked late ("while I was offline").
LATE_AFTER = timedelta(minutes=10)
CLAIM_BATCH = 200
MAX_SEND_ATTEMPTS = 5


# -- dispatch: claim, send, mark ----------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    """A nudge this process has claimed and must now send (then mark, by ``token``)."""

    occurrence_id: int
    token: str
    partnership_id: int
    chat_id: int
    name: str
    partners: str
    slot_local: datetime
    due_at: datetime
    late: bool
    snoozed: bool


class SendOutcome(StrEnum):
    """What happened to one send: the sender's answer to the dispatcher."""

    SENT = "sent"
    RETRY = "retry"            # not delivered, try again at ``retry_at``
    BLOCKED = "blocked"        # refused for good (the schedule is paused)
    FAILED = "failed"
    UNCERTAIN = "uncertain"    # may have arrived: never resent
    MIGRATED = "migrated"      # the group became a supergroup: retry at the new chat id


@dataclass(frozen=True)
class Outcome:
    """What happened to one send."""

    kind: SendOutcome
    message_id: int | None = None
    retry_at: datetime | None = None
    reason: str | None = None
    new_chat_id: int | None = None


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    late: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    paused: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def claim_due(*, session: AsyncSession, now: datetime, limit: int = CLAIM_BATCH,
                    only_chat_ids: Iterable[int] | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due nudges and create each series' next occurrence (in the caller's transaction,
    which it commits before sending: see the module docstring)."""
    token = uuid.uuid4().hex
    occ = ReviewOccurrence.__table__  # type: ignore[attr-defined]
    active = select(Partnership.id).where(Partnership.status == PartnershipStatus.ACTIVE)
    if only_chat_ids is not None:
        active = active.where(col(Partnership.chat_id).in_(list(only_chat_ids)))
    pick = (select(occ.c.id).where(occ.c.status == OccurrenceStatus.PENDING, occ.c.due_at <= now,
                                   occ.c.partnership_id.in_(active))
            .order_by(occ.c.due_at, occ.c.id).limit(limit))
    if _is_postgres(session):
        pick = pick.with_for_update(skip_locked=True, of=occ)
    await session.exec(update(occ).where(occ.c.id.in_(pick.scalar_subquery()),
                                         occ.c.status == OccurrenceStatus.PENDING)
                       .values(status=OccurrenceStatus.SENDING, claim_token=token, claimed_at=now,
                               attempts=occ.c.attempts + 1,
                               late=or_(occ.c.late, occ.c.due_at < now - LATE_AFTER)))
    rows = (await session.exec(select(ReviewOccurrence, Partnership)
                               .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                               .where(ReviewOccurrence.claim_token == token)
                               .order_by(col(ReviewOccurrence.due_at)))).all()
    if not rows:
        return []
    already = set((await session.exec(select(ReviewOccurrence.partnership_id).where(
        col(ReviewOccurrence.partnership_id).in_([p.id for _, p in rows]),
        ReviewOccurrence.status == OccurrenceStatus.PENDING))).all())
    upcoming: list[dict[str, Any]] = []
    for row, partnership in rows:
        if partnership.id in already or row.schedule_version != partnership.schedule_version:
            continue
        already.add(partnership.id)
        [after] = next_occurrences(Schedule.of(partnership), max(now, row.slot_at), 1)
        upcoming.append({"partnership_id": partnership.id, "schedule_version": partnership.schedule_version,
                         "slot_date": after.slot_date, "slot_at": after.utc, "due_at": after.utc,
                         "status": OccurrenceStatus.PENDING, "late": False, "snoozes": 0, "attempts": 0})
    if upcoming:
        insert = (pg_insert if _is_postgres(session) else sqlite_insert)(occ).on_conflict_do_nothing(
            index_elements=["partnership_id", "schedule_version", "slot_date"])
        await session.exec(insert, params=upcoming)
    return [Claimed(occurrence_id=row.id or 0, token=token, partnership_id=p.id or 0, chat_id=p.chat_id,
                    name=p.name, partners=p.partners, slot_local=row.slot_at.astimezone(ZoneInfo(p.timezone)),
                    due_at=row.due_at, late=row.late, snoozed=row.snoozes > 0) for row, p in rows]


async def mark_stale_claims(*, session: AsyncSession, now: datetime) -> list[int]:
    """Claims with no mark after STALE_CLAIM_AFTER: the process died mid-send. Marked, never resent."""
    cutoff = now - STALE_CLAIM_AFTER
    ids = list((await session.exec(select(ReviewOccurrence.id).where(
        ReviewOccurrence.status == OccurrenceStatus.SENDING, col(ReviewOccurrence.claimed_at) < cutoff))).all())
    if ids:
        await session.exec(update(ReviewOccurrence).where(
            col(ReviewOccurrence.id).in_(ids), ReviewOccurrence.status == OccurrenceStatus.SENDING)
            .values(status=OccurrenceStatus.UNCERTAIN,
                    last_error="claimed but never confirmed (the bot stopped mid-send): not resent")
            .execution_options(synchronize_session=False))
    for occurrence_id in ids:
        log.warning("Review nudge %s was claimed but never confirmed (the bot stopped mid-send); "
                    "marked uncertain and not resent", occurrence_id)
    return [i for i in ids if i is not None]


async def record_outcomes(*, session: AsyncSession, claimed: Sequence[Claimed], outcomes: Sequence[Outcome],
                          now: datetime) -> DispatchReport:
    """Mark each claimed row by its claim token (a stale relabel in between does not stop the mark)."""
    report = DispatchReport()
    occ = ReviewOccurrence.__table__  # type: ignore[attr-defined]
    mark = (update(occ).where(occ.c.id == bindparam("oid"), occ.c.claim_token == bindparam("tok"),
                              or_(occ.c.status == OccurrenceStatus.SENDING, occ.c.status == OccurrenceStatus.UNCERTAIN))
            .values(status=bindparam("new_status"), sent_at=bindparam("new_sent_at"),
                    message_id=bindparam("new_message_id"), due_at=bindparam("new_due_at"),
                    last_error=bindparam("new_error")))
    params: list[dict[str, Any]] = []
    blocked: dict[int, str] = {}
    migrated: dict[int, int] = {}
    attempts: dict[int, int] = {}
    retry_ids = [c.occurrence_id for c, o in zip(claimed, outcomes, strict=True) if o.kind in (SendOutcome.RETRY,
                                                                                                  SendOutcome.MIGRATED)]
    if retry_ids:
        attempts = dict((await session.exec(select(ReviewOccurrence.id, ReviewOccurrence.attempts).where(
            col(ReviewOccurrence.id).in_(retry_ids)))).all())  # type: ignore[arg-type]
    for item, outcome in zip(claimed, outcomes, strict=True):
        status, due, error = OccurrenceStatus.UNCERTAIN, item.due_at, (outcome.reason or None)
        if outcome.kind == SendOutcome.SENT:
            status = OccurrenceStatus.SENT
            report.sent += 1
            report.late += item.late
        elif outcome.kind in (SendOutcome.RETRY, SendOutcome.MIGRATED):
            if attempts.get(item.occurrence_id, 0) >= MAX_SEND_ATTEMPTS:
                status = OccurrenceStatus.FAILED
                error = f"gave up after {MAX_SEND_ATTEMPTS} attempts: {outcome.reason}"
                report.failed += 1
            else:
                status, due = OccurrenceStatus.PENDING, outcome.retry_at or now
                report.retried += 1
            if outcome.kind == SendOutcome.MIGRATED and outcome.new_chat_id is not None:
                migrated[item.partnership_id] = outcome.new_chat_id
        elif outcome.kind == SendOutcome.BLOCKED:
            status = OccurrenceStatus.FAILED
            blocked[item.partnership_id] = outcome.reason or "Telegram refused the message"
            report.failed += 1
        elif outcome.kind == SendOutcome.FAILED:
            status = OccurrenceStatus.FAILED
            report.failed += 1
        else:  # uncertain: it may have arrived, so it is never resent
            report.uncertain += 1
        params.append({"oid": item.occurrence_id, "tok": item.token, "new_status": status,
                       "new_sent_at": now if status == OccurrenceStatus.SENT else None,
                       "new_message_id": outcome.message_id, "new_due_at": due,
                       "new_error": error[:MAX_REASON] if error else None})
    if params:
        await session.exec(mark, params=params)
    for partnership_id, new_chat in migrated.items():
        await session.exec(update(Partnership).where(col(Partnership.id) == partnership_id)
                           .values(chat_id=new_chat, updated_at=now)
                           .execution_options(synchronize_session=False))
    for partnership_id, reason in blocked.items():
        await session.exec(update(Partnership).where(col(Partnership.id) == partnership_id,
                                                     Partnership.status == PartnershipStatus.ACTIVE)
                           .values(status=PartnershipStatus.PAUSED, paused_reason=reason[:MAX_REASON],
                                   updated_at=now)
                           .execution_options(synchronize_session=False))
        await cancel_pending(session=session, partnership_id=partnership_id)
        report.paused.append(partnership_id)
    return report


Sender = Callable[[Claimed], Awaitable[Outcome]]


async def send_all(claimed: Sequence[Claimed], send: Sender, concurrency: int) -> list[Outcome]:
    """Send every claimed nudge (``concurrency`` at a time), outside any transaction; never raises."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Claimed) -> Outcome:
        async with gate:
            try:
                return await send(item)
            except Exception as exc:  # a bug or an unknown failure: it may have gone out, so never resend
                log.exception("Unexpected error sending review nudge %s", item.occurrence_id)
                return Outcome(SendOutcome.UNCERTAIN, reason=f"unexpected error: {type(exc).__name__}")

    return list(await asyncio.gather(*(one(item) for item in claimed)))


@dataclass(frozen=True)
class DuePreview:
    partnership_id: int
    name: str
    chat_id: int
    occurrence_id: int
    due: datetime
    due_local: datetime
    late: bool

    def as_json(self) -> dict[str, Any]:
        return {"partnership_id": self.partnership_id, "name": self.name, "chat_id": self.chat_id,
                "occurrence_id": self.occurrence_id, "due_utc": self.due.isoformat(),
                "due_local": self.due_local.isoformat(), "late": self.late}


async def due_at(*, session: AsyncSession, at: datetime) -> list[DuePreview]:
    """What a dispatcher running at ``at`` would send (read only: nothing is claimed)."""
    rows = (await session.exec(select(ReviewOccurrence, Partnership)
                               .join(Partnership, col(Partnership.id) == ReviewOccurrence.partnership_id)
                               .where(ReviewOccurrence.status == OccurrenceStatus.PENDING,
                                      col(ReviewOccurrence.due_at) <= at,
                                      Partnership.status == PartnershipStatus.ACTIVE)
                               .order_by(col(ReviewOccurrence.due_at), col(ReviewOccurrence.id)))).all()
    return [DuePreview(p.id or 0, p.name, p.chat_id, o.id or 0, o.due_at, o.due_at.astimezone(ZoneInfo(p.timezone)),
                       o.late or o.due_at < at - LATE_AFTER) for o, p in rows]
