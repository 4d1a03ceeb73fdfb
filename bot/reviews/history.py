"""A partnership's check-in history, and the same as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reviews.checkins import MIN_GROUP, record_figures, threshold
from bot.reviews.questions import NUMERIC_KEYS, QUESTION_BY_KEY
from db.review_models import OccurrenceStatus, Partnership, ReviewOccurrence, ReviewRoundSummary


# -- history, CSV -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryRow:
    occurrence_id: int
    slot_local: datetime
    status: OccurrenceStatus
    late: bool
    snoozes: int
    respondents: int
    averages: dict[str, float]
    stage: str | None
    comments: list[str]
    #: Fewer than k people answered in a group: only the count is shown (the k rule, SECURITY.md).
    withheld: bool = False
    #: The round is still open: nothing is shown until it closes.
    open: bool = False


async def history(*, session: AsyncSession, partnership_id: int, min_group: int = MIN_GROUP) -> list[HistoryRow]:
    """Every nudge that went out (or was skipped), oldest first, with the fixed summary of each closed round.

    The figures come from the round's stored summary, never from the answers still held, so the history
    reads the same after anyone's /forget, and a group round below k shows its count only.
    """
    partnership = await session.get(Partnership, partnership_id)
    if partnership is None:
        return []
    zone = ZoneInfo(partnership.timezone)
    occurrences = (await session.exec(select(ReviewOccurrence).where(
        ReviewOccurrence.partnership_id == partnership_id,
        col(ReviewOccurrence.status).not_in((OccurrenceStatus.PENDING, OccurrenceStatus.CANCELLED,
                                              OccurrenceStatus.SENDING)))
        .order_by(col(ReviewOccurrence.slot_at), col(ReviewOccurrence.id)))).all()
    records = {r.occurrence_id: r for r in (await session.exec(select(ReviewRoundSummary).where(
        ReviewRoundSummary.partnership_id == partnership_id))).all()}
    needed = threshold(partnership.chat_id, min_group)
    rows = []
    for row in occurrences:
        record = records.get(row.id or 0)
        if record is None:
            reached = row.status in (OccurrenceStatus.SENT, OccurrenceStatus.UNCERTAIN)
            rows.append(HistoryRow(row.id or 0, row.slot_at.astimezone(zone),
                                   OccurrenceStatus(row.status), row.late, row.snoozes, 0, {}, None, [], withheld=False,
                                   open=row.closed_at is None and reached))
            continue
        averages, stage, comments = record_figures(record)
        withheld = record.respondents < needed or not averages
        if withheld:
            averages, stage, comments = {}, None, []
        rows.append(HistoryRow(row.id or 0, row.slot_at.astimezone(zone), OccurrenceStatus(row.status), row.late,
                               row.snoozes, record.respondents, averages, stage, comments,
                               withheld=withheld and record.respondents > 0))
    return rows


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def history_csv(rows: Sequence[HistoryRow], min_group: int = MIN_GROUP) -> bytes:
    """The history as CSV (UTF-8 with a BOM so that Excel shows accents); averages only, no names, and a
    group round below k shows its count only (the k rule)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "time", "status", "late", "snoozed", "answered",
                     *[QUESTION_BY_KEY[k].label for k in NUMERIC_KEYS], "stage", "raised", "note"])
    for row in rows:
        writer.writerow([_cell(v) for v in (
            row.slot_local.date().isoformat(), f"{row.slot_local:%H:%M}", row.status, "yes" if row.late else "",
            row.snoozes or "", "open" if row.open else row.respondents,
            *[f"{row.averages[k]:.2f}" if k in row.averages else "" for k in NUMERIC_KEYS],
            row.stage or "", " | ".join(row.comments),
            f"fewer than {min_group} answered: figures withheld" if row.withheld else "")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
