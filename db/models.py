"""The tables: everything that must survive a restart lives here (see DESIGN.md).

Personal data is kept to what a feature needs: a Telegram user id where the person must be reached
again, never phone numbers, and free text bounded in length before it is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow

MAX_QUESTION_CHARS = 1000
MAX_NAME_CHARS = 100
#: Telegram ids need more than 32 bits; every user or chat id column uses BigInteger.


class QuestionLog(SQLModel, table=True):
    """A question the bot declined or was unsure about, so curators know what to write next.

    ``user_id`` lets a panel reply or a follow-up reach the asker; it is cleared after 30 days.
    """

    __tablename__ = "question_log"
    __table_args__ = (Index("ix_question_log_asked_at", "asked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    asked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = Field(default=None, index=True, sa_type=BigInteger)
    text: str = Field(max_length=MAX_QUESTION_CHARS)
    outcome: str = Field(max_length=16)  # "answer", "suggest" or "decline"
    best_score: float = 0.0
    best_entry_id: str | None = Field(default=None, max_length=64)


class AnswerVote(SQLModel, table=True):
    """A 👍 or 👎 on an answer: one per person and entry, changed by voting again."""

    __tablename__ = "answer_vote"
    __table_args__ = (UniqueConstraint("user_id", "entry_id", name="uq_answer_vote_user_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, sa_type=BigInteger)
    entry_id: str = Field(max_length=64, index=True)
    helpful: bool
    voted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
