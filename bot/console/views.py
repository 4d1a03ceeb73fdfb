"""What each console page shows, gathered from the features' own rules as plain values.

The console calls the rules of questions, mentoring and reviews (never their Telegram handlers), so a page
shows exactly what the chat and the command line would: the gaps ``kb gaps`` lists, the cohort match
``mentors match`` computes, the next nudge ``reviews list`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.mentoring_models import MentoringPerson, MentorMatch
from db.models import AnswerVote, QuestionDay
from knowledge.loader import KnowledgeBase

OUTCOMES = ("answer", "suggest", "decline")


# -- feedback --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryFeedback:
    entry_id: str
    question: str
    up: int
    down: int

    @property
    def net(self) -> int:
        return self.up - self.down


async def feedback(*, session: AsyncSession, kb: KnowledgeBase) -> list[EntryFeedback]:
    """👍 and 👎 per entry, the worst first (most net 👎, then most 👎); removed entries say so."""
    rows = (await session.exec(select(AnswerVote.entry_id, AnswerVote.helpful, func.count())
                               .group_by(col(AnswerVote.entry_id), col(AnswerVote.helpful)))).all()
    counts: dict[str, list[int]] = {}
    for entry_id, helpful, count in rows:
        counts.setdefault(entry_id, [0, 0])[0 if helpful else 1] += int(count)
    items = []
    for entry_id, (up, down) in counts.items():
        entry = kb.get(entry_id)
        items.append(EntryFeedback(entry_id, entry.question if entry else "(entry since removed)", up, down))
    return sorted(items, key=lambda f: (f.net, -f.down, f.entry_id))


# -- usage -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UsageDay:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def usage(*, session: AsyncSession, today: date, days: int = 30) -> list[UsageDay]:
    """Questions a day for the last ``days`` days (today included), by outcome; empty days are zeros."""
    first = today - timedelta(days=days - 1)
    rows = (await session.exec(select(QuestionDay).where(col(QuestionDay.day) >= first))).all()
    table: dict[date, dict[str, int]] = {first + timedelta(days=n): dict.fromkeys(OUTCOMES, 0) for n in range(days)}
    for row in rows:
        if row.day in table and row.outcome in table[row.day]:
            table[row.day][row.outcome] += row.count
    return [UsageDay(day, counts) for day, counts in sorted(table.items())]


# -- mentors ---------------------------------------------------------------------------------------
async def matches(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Every request and match with its state, newest first, people named as admins know them."""
    from bot.mentoring.cohort import person_ref

    people = {p.id: p for p in (await session.exec(select(MentoringPerson))).all()}
    rows = (await session.exec(select(MentorMatch).order_by(col(MentorMatch.created_at).desc(),
                                                            col(MentorMatch.id).desc()))).all()
    out = []
    for row in rows:
        mentee, mentor = people.get(row.mentee_id), people.get(row.mentor_id)
        out.append({"mentee": person_ref(mentee) if mentee else "?", "mentor": person_ref(mentor) if mentor else "?",
                    "status": row.status, "score": row.score, "why": row.why, "created_at": row.created_at,
                    "accepted_at": row.accepted_at, "ended_at": row.ended_at})
    return out


# -- partnerships ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnershipRow:
    id: int
    name: str
    partners: str
    schedule: str
    status: str
    paused_reason: str | None
    next_nudge: str | None
    problems: list[str]
    latest: list[dict[str, Any]]


async def partnerships(*, session: AsyncSession, min_group: int, latest: int = 3) -> list[PartnershipRow]:
    """Every partnership (stopped ones too) with its schedule, next nudge and latest check-ins.

    Figures come from each round's fixed summary under the same k rule as /reviews (``min_group``), so the
    console never shows a group round's averages below k."""
    from bot.reviews.history import history
    from bot.reviews.partnerships import list_partnerships
    from bot.reviews.questions import QUESTION_BY_KEY
    from bot.reviews.schedule import describe_schedule, format_local

    out = []
    views = await list_partnerships(session=session, include_stopped=True)
    histories = {v.partnership.id: await history(session=session, partnership_id=v.partnership.id or 0,
                                                 min_group=min_group) for v in views}
    for view in views:
        p = view.partnership
        checkins = []
        for row in histories[p.id][-latest:][::-1]:
            shown = bool(row.averages) and not row.withheld
            checkins.append({
                "when": format_local(row.slot_local), "status": row.status, "respondents": row.respondents,
                "figures": ({QUESTION_BY_KEY[k].label: v for k, v in row.averages.items()} if shown else None),
                "stage": row.stage if shown else None, "open": row.open})
        out.append(PartnershipRow(
            id=p.id or 0, name=p.name, partners=p.partners, schedule=describe_schedule(view.schedule),
            status=p.status, paused_reason=p.paused_reason,
            next_nudge=format_local(view.next_local) if view.next_local else None,
            problems=[f"{format_local(problem.slot_at.astimezone(view.schedule.zone))}: {problem.status}"
                      + (f" ({problem.reason})" if problem.reason else "") for problem in view.problems],
            latest=checkins))
    return out
