"""The rules of asking, free of Telegram: what is logged, votes, popular entries (retention: retention.py).

Answers come from memory (the Matcher); the database only records what curators need. So when the
database is down, people still get answers; only the record-keeping waits (see ``log_question``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from bot.core.text import clean_line
from db.engine import Database
from db.models import MAX_QUESTION_CHARS, AnswerVote, QuestionLog

log = logging.getLogger(__name__)

class StorageUnavailable(Exception):
    """The database could not save something; the person is asked to try again in a minute."""


def bound_question(text: str) -> str:
    """A question as it is matched and stored: cleaned (no NUL, control, bidi or invisible characters, so
    PostgreSQL can always store it), one line, cut to 1,000 characters."""
    return clean_line(text, MAX_QUESTION_CHARS)


async def log_question(database: Database, *, user_id: int | None, text: str, outcome: str,
                       best_score: float, best_entry_id: str | None, now: datetime) -> int | None:
    """Record a declined or unsure question; returns its id, or None when the database is down.

    A failure here must never stop the answer from reaching the person, so it is logged and swallowed.
    """
    try:
        async with database.session() as session:
            row = QuestionLog(user_id=user_id, text=bound_question(text), outcome=outcome,
                              best_score=round(best_score, 2), best_entry_id=best_entry_id, asked_at=now)
            session.add(row)
            await session.commit()
            return row.id
    except (SQLAlchemyError, OSError) as exc:
        log.warning("Could not log a question (%s); answering anyway", type(exc).__name__)
        return None


async def get_logged_question(database: Database, question_id: int) -> QuestionLog | None:
    async with database.session() as session:
        return await session.get(QuestionLog, question_id)


async def record_vote(database: Database, *, user_id: int, entry_id: str, helpful: bool, now: datetime) -> bool:
    """Record or change a person's vote on an entry; True when it is new, False when it was changed."""
    try:
        async with database.session() as session:
            existing = (await session.exec(select(AnswerVote).where(
                AnswerVote.user_id == user_id, AnswerVote.entry_id == entry_id))).first()
            if existing is not None:
                existing.helpful, existing.voted_at = helpful, now
                session.add(existing)
                await session.commit()
                return False
            session.add(AnswerVote(user_id=user_id, entry_id=entry_id, helpful=helpful, voted_at=now))
            await session.commit()
            return True
    except (SQLAlchemyError, OSError) as exc:
        raise StorageUnavailable from exc


async def popular_entry_ids(database: Database, limit: int = 10) -> list[str]:
    """Entries with the most 👍, for inline mode's empty query; [] when there are no votes (or no database)."""
    try:
        async with database.session() as session:
            rows = await session.exec(
                select(AnswerVote.entry_id, func.count()).where(col(AnswerVote.helpful).is_(True))
                .group_by(AnswerVote.entry_id).order_by(func.count().desc()).limit(limit))
            return [entry_id for entry_id, _count in rows.all()]
    except (SQLAlchemyError, OSError):
        return []
