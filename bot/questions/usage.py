"""How many questions a day were answered, offered "did you mean" choices, or declined: counts only.

The console's usage chart needs every question, answered ones too, but storing answered questions would keep
text the bot never needed. So each process tallies outcomes in memory (no database work while answering) and a
job adds the tally to ``question_day`` once a minute with one atomic upsert per day and outcome
(``count = count + n``), which is right with several bot processes and never loses a concurrent increment. A
failed save puts the tally back for the next one (``bot/questions/handlers/jobs.py``); a crash loses at most a
minute of counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.questions.asking import QuestionOutcome
from db.models import QuestionDay

OUTCOMES = frozenset(QuestionOutcome)
Counts = Mapping[tuple[date, QuestionOutcome], int]


class QuestionTally:
    """Outcomes counted in memory until the save job takes them (:meth:`take`) and adds them to the database."""

    def __init__(self) -> None:
        self._pending: Counter[tuple[date, QuestionOutcome]] = Counter()

    def add(self, outcome: str, now: datetime) -> None:
        """Count one question; anything that is not a :class:`QuestionOutcome` (small talk) is not counted."""
        if outcome in OUTCOMES:
            self._pending[(now.date(), QuestionOutcome(outcome))] += 1

    @property
    def pending(self) -> int:
        return sum(self._pending.values())

    def take(self) -> Counter[tuple[date, QuestionOutcome]]:
        """Everything counted so far, leaving the tally empty (give it back with :meth:`put_back` on failure)."""
        taken, self._pending = self._pending, Counter()
        return taken

    def put_back(self, taken: Counts) -> None:
        """A save failed: keep its counts for the next one (added to anything counted meanwhile)."""
        self._pending.update(taken)


async def add_counts(*, session: AsyncSession, counts: Counts) -> None:
    """``count = count + n`` for each (day, outcome), inserting the row when it is the day's first."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = QuestionDay.__table__  # type: ignore[attr-defined]
    for (day, outcome), n in sorted(counts.items()):
        statement = insert(table).values(day=day, outcome=outcome, count=n)
        statement = statement.on_conflict_do_update(index_elements=["day", "outcome"],
                                                    set_={"count": table.c.count + statement.excluded.count})
        await session.exec(statement)  # type: ignore[call-overload]


async def count_question(*, session: AsyncSession, outcome: QuestionOutcome, now: datetime) -> None:
    """Count one question at once (for tools and tests; the bot tallies in memory and saves once a minute)."""
    await add_counts(session=session, counts={(now.date(), outcome): 1})
