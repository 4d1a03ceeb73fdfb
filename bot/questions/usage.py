"""How many questions a day were answered, offered "did you mean" choices, or declined: counts only.

The console's usage chart needs every question, answered ones too, but storing answered questions would keep
text the bot never needed. So each process tallies outcomes in memory (no database work while answering) and a
job adds the tally to ``question_day`` once a minute with one atomic upsert per day and outcome
(``count = count + n``), which is right with several bot processes and never loses a concurrent increment. A
failed flush keeps the tally for the next one; a crash loses at most a minute of counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime

from sqlalchemy.exc import SQLAlchemyError

from db.engine import Database
from db.models import QuestionDay

log = logging.getLogger(__name__)
OUTCOMES = ("answer", "suggest", "decline")


class QuestionTally:
    """Outcomes counted in memory until :meth:`flush` adds them to the database."""

    def __init__(self) -> None:
        self._pending: Counter[tuple[date, str]] = Counter()

    def add(self, outcome: str, now: datetime) -> None:
        if outcome in OUTCOMES:
            self._pending[(now.date(), outcome)] += 1

    @property
    def pending(self) -> int:
        return sum(self._pending.values())

    async def flush(self, database: Database) -> int:
        """Add the tally to ``question_day``; returns how many questions were written (0 when it failed)."""
        taken, self._pending = self._pending, Counter()
        if not taken:
            return 0
        try:
            await add_counts(database, taken)
        except (SQLAlchemyError, OSError) as exc:
            self._pending.update(taken)  # kept for the next flush
            log.warning("Usage counts not saved yet (%s); will retry", type(exc).__name__)
            return 0
        return sum(taken.values())


async def add_counts(database: Database, counts: Counter[tuple[date, str]] | dict[tuple[date, str], int]) -> None:
    """``count = count + n`` for each (day, outcome), inserting the row when it is the day's first."""
    if database.is_postgres:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = QuestionDay.__table__  # type: ignore[attr-defined]
    async with database.session() as session:
        for (day, outcome), n in sorted(counts.items()):
            statement = insert(table).values(day=day, outcome=outcome, count=n)
            statement = statement.on_conflict_do_update(index_elements=["day", "outcome"],
                                                        set_={"count": table.c.count + statement.excluded.count})
            await session.exec(statement)  # type: ignore[call-overload]
        await session.commit()


async def count_question(database: Database, outcome: str, now: datetime) -> None:
    """Count one question at once (for tools and tests; the bot tallies in memory and flushes)."""
    await add_counts(database, {(now.date(), outcome): 1})
