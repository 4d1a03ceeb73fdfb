"""A partnership's check-in history, and the same as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.reviews.questions import NUMERIC_KEYS, QUESTION_BY_KEY, aggregate, answer_scores
from db.engine import Database
from db.review_models import OccurrenceStatus, Partnership, ReviewAnswer, ReviewOccurrence


# -- history, CSV -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryRow:
    occurrence_id: int
    slot_local: datetime
    status: str
    late: bool
    snoozes: int
    respondents: int
    partial: int
    averages: dict[str, float]
    stage: str | None
    comments: list[str]


async def history(database: Database, partnership_id: int) -> list[HistoryRow]:
    """Every nudge that went out (or was skipped), oldest first, with the averages of its answers."""
    async with database.session() as session:
        partnership = await session.get(Partnership, partnership_id)
        if partnership is None:
            return []
        zone = ZoneInfo(partnership.timezone)
        occurrences = (await session.exec(select(ReviewOccurrence).where(
            ReviewOccurrence.partnership_id == partnership_id,
            col(ReviewOccurrence.status).not_in((OccurrenceStatus.PENDING, OccurrenceStatus.CANCELLED,
                                                  OccurrenceStatus.SENDING)))
            .order_by(col(ReviewOccurrence.slot_at), col(ReviewOccurrence.id)))).all()
        answers = (await session.exec(select(ReviewAnswer).where(
            ReviewAnswer.partnership_id == partnership_id))).all()
    by_occurrence: dict[int, list[ReviewAnswer]] = {}
    for answer in answers:
        if answer_scores(answer):
            by_occurrence.setdefault(answer.occurrence_id, []).append(answer)
    rows = []
    for row in occurrences:
        given = by_occurrence.get(row.id or 0, [])
        averages, stage = aggregate(given)
        rows.append(HistoryRow(row.id or 0, row.slot_at.astimezone(zone), row.status, row.late, row.snoozes,
                               sum(a.completed_at is not None for a in given),
                               sum(a.completed_at is None for a in given), averages, stage,
                               [a.comment for a in given if a.comment]))
    return rows


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def history_csv(rows: Sequence[HistoryRow]) -> bytes:
    """The history as CSV (UTF-8 with a BOM so that Excel shows accents); averages only, no names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "time", "status", "late", "snoozed", "answered", "partly answered",
                     *[QUESTION_BY_KEY[k].label for k in NUMERIC_KEYS], "stage", "raised"])
    for row in rows:
        writer.writerow([_cell(v) for v in (
            row.slot_local.date().isoformat(), f"{row.slot_local:%H:%M}", row.status, "yes" if row.late else "",
            row.snoozes or "", row.respondents, row.partial,
            *[f"{row.averages[k]:.2f}" if k in row.averages else "" for k in NUMERIC_KEYS],
            row.stage or "", " | ".join(row.comments))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
