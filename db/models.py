"""The tables: everything that must survive a restart lives here (see DESIGN.md).

Personal data is kept to what a feature needs: a Telegram user id where the person must be reached
again, never phone numbers, and free text bounded in length before it is stored.
"""

from __future__ import annotations

from datetime import date, datetime

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


class PanelQuestion(SQLModel, table=True):
    """A question passed to the human panel; replies are relayed back to the asker.

    ``asker_name`` is stored only when the asker agreed to show it to the panel. ``asker_id`` is
    needed to relay replies and is cleared 30 days after the question is closed.
    """

    __tablename__ = "panel_question"

    id: int | None = Field(default=None, primary_key=True)
    asker_id: int | None = Field(default=None, index=True, sa_type=BigInteger)
    #: The logged question it came from: unique, so a double tap on "Ask the panel" sends it once.
    source_log_id: int | None = Field(default=None, unique=True)
    asker_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    text: str = Field(max_length=MAX_QUESTION_CHARS)
    asked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    panel_chat_id: int = Field(sa_type=BigInteger)
    panel_message_id: int | None = Field(default=None, index=True, sa_type=BigInteger)
    status: str = Field(default="open", max_length=16)  # open, resolved, expired
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    timeout_reported_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PanelReply(SQLModel, table=True):
    """A panel member's answer to a PanelQuestion, as relayed to the asker (who may rate it)."""

    __tablename__ = "panel_reply"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="panel_question.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=4000)
    replied_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    helpful: bool | None = None
    saved_as_draft: bool = False


class KnowledgeDraft(SQLModel, table=True):
    """A panel answer an admin saved for the curators; nothing edits the curated files by itself."""

    __tablename__ = "kb_draft"

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str = Field(max_length=4000)
    saved_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    panel_reply_id: int | None = Field(default=None, unique=True)


class PersistedState(SQLModel, table=True):
    """Conversation state and per-person scratch data of python-telegram-bot, kept across restarts.

    A half-filled profile or a half-answered check-in must survive a restart (DESIGN.md: the database is
    the one source of truth), so ``bot.core.persistence.DatabasePersistence`` stores them here as JSON.
    """

    __tablename__ = "persisted_state"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_persisted_state_kind_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=80)  # "user" or "conversation:<name>"
    key: str = Field(max_length=200)  # the user id, or the conversation key as JSON
    data: str  # JSON
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class QuestionDay(SQLModel, table=True):
    """How many questions were answered, suggested or declined on a day: counts only, no text, no person.

    The console's usage chart needs every question, answered ones too; a counter keeps that to numbers.
    """

    __tablename__ = "question_day"
    __table_args__ = (UniqueConstraint("day", "outcome", name="uq_question_day_outcome"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    outcome: str = Field(max_length=16)  # "answer", "suggest" or "decline"
    count: int = 0

class InboxUpdate(SQLModel, table=True):
    """An update fetched from Telegram, recorded before Telegram is told it was received.

    Long polling acknowledges an update by asking for the next offset; the bot writes each update here
    first, so a crash between fetching and handling loses nothing: at start, rows not yet ``handled_at``
    are handled again. The primary key (Telegram's update_id) makes a redelivered update a no-op.
    Rows are deleted a day after they are handled (the update holds the person's message).
    """

    __tablename__ = "inbox_update"

    update_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    #: Whose update it is, so /forget can delete it and /mydata show it.
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    payload: str  # the update as Telegram sent it (JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    handled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
