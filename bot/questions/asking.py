"""The rules of asking, free of Telegram: what is logged, votes, popular entries (retention: retention.py).

Answers come from memory (the Matcher); the database only records what curators need. So when the
database is down, people still get answers; only the record-keeping waits (the handler in
``bot/questions/handlers/ask.py`` answers anyway when logging fails).

Every rule here takes the caller's session and never commits: one question or one tap is one transaction,
owned by the handler.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import clean_line
from db.models import MAX_QUESTION_CHARS, AnswerVote, QuestionLog


class QuestionOutcome(StrEnum):
    """What the bot did with a question, as stored in ``question_log.outcome`` and ``question_day.outcome``
    (the knowledge engine's ``Outcome.kind`` uses the same words, plus "smalltalk", which is never stored)."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    DECLINE = "decline"


#: The outcomes a curator still has to do something about (``kb gaps``, /gaps).
UNANSWERED = (QuestionOutcome.DECLINE, QuestionOutcome.SUGGEST)


def bound_question(text: str) -> str:
    """A question as it is matched and stored: cleaned (no NUL, control, bidi or invisible characters, so
    PostgreSQL can always store it), one line, cut to 1,000 characters."""
    return clean_line(text, MAX_QUESTION_CHARS)


async def log_question(*, session: AsyncSession, user_id: int | None, text: str, outcome: QuestionOutcome,
                       best_score: float, best_entry_id: str | None, now: datetime) -> int:
    """Record a declined or unsure question; returns its id (flushed, so a panel button can carry it)."""
    row = QuestionLog(user_id=user_id, text=bound_question(text), outcome=outcome,
                      best_score=round(best_score, 2), best_entry_id=best_entry_id, asked_at=now)
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def get_logged_question(*, session: AsyncSession, question_id: int) -> QuestionLog | None:
    return await session.get(QuestionLog, question_id)


async def record_vote(*, session: AsyncSession, user_id: int, entry_id: str, helpful: bool,
                      now: datetime) -> bool:
    """Record or change a person's vote on an entry; True when it is new, False when it was changed."""
    existing = (await session.exec(select(AnswerVote).where(
        AnswerVote.user_id == user_id, AnswerVote.entry_id == entry_id))).first()
    if existing is not None:
        existing.helpful, existing.voted_at = helpful, now
        session.add(existing)
        return False
    session.add(AnswerVote(user_id=user_id, entry_id=entry_id, helpful=helpful, voted_at=now))
    return True


async def popular_entry_ids(*, session: AsyncSession, limit: int = 10) -> list[str]:
    """Entries with the most 👍, for inline mode's empty query; [] when there are no votes."""
    rows = await session.exec(
        select(AnswerVote.entry_id, func.count()).where(col(AnswerVote.helpful).is_(True))
        .group_by(AnswerVote.entry_id).order_by(func.count().desc()).limit(limit))
    return [entry_id for entry_id, _count in rows.all()]
