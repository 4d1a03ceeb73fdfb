"""Tables of the review nudges: partnerships with a schedule, each occurrence of it, and the answers.

Nothing about the schedule lives only in memory (DESIGN.md): the next nudge of every partnership is a
``review_occurrence`` row, claimed and marked by the dispatcher in ``bot.reviews``. Answers are stored
per person so that a half-answered check-in survives a restart; only averages are ever shown to others.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow

MAX_PARTNERSHIP_NAME = 100
MAX_PARTNERS_TEXT = 500
MAX_COMMENT = 500
MAX_REASON = 200


class PartnershipStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"    # by an admin, or because Telegram refused its nudge
    STOPPED = "stopped"


class OccurrenceStatus(StrEnum):
    """See :class:`ReviewOccurrence`."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNCERTAIN = "uncertain"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Partnership(SQLModel, table=True):
    """A partnership that wants regular check-ins, and its schedule (in its own local time).

    ``chat_id`` is where nudges go: the person's private chat, or the partners' group. ``created_by`` is
    kept so a person can see (and have forgotten) what they set up.
    """

    __tablename__ = "review_partnership"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    created_by: int | None = Field(default=None, sa_type=BigInteger, index=True)
    name: str = Field(max_length=MAX_PARTNERSHIP_NAME)
    partners: str = Field(default="", max_length=MAX_PARTNERS_TEXT)  # organisations, comma separated
    cadence: str = Field(max_length=16)  # weekly, fortnightly, monthly, quarterly
    weekday: int | None = None  # 0 = Monday, for weekly and fortnightly
    day: int | None = None  # 1-28, or -1 for the last day of the month, for monthly and quarterly
    local_time: str = Field(max_length=5)  # HH:MM
    timezone: str = Field(max_length=64)
    start_date: date
    status: str = Field(default=PartnershipStatus.ACTIVE, max_length=16)
    paused_reason: str | None = Field(default=None, max_length=MAX_REASON)
    #: Bumped when the schedule changes, so new occurrences never collide with the old series' rows.
    schedule_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReviewOccurrence(SQLModel, table=True):
    """One nudge of a partnership's series: pending, then sending (claimed), then sent, or otherwise.

    Statuses: ``pending`` (waiting for ``due_at``), ``sending`` (claimed by ``claim_token`` at
    ``claimed_at``; the message may be on its way), ``sent``, ``uncertain`` (a claim found stale after a
    crash: maybe delivered, never resent), ``failed`` (Telegram refused it for good), ``skipped``,
    ``cancelled`` (the schedule was paused, changed or stopped first).
    """

    __tablename__ = "review_occurrence"
    __table_args__ = (
        UniqueConstraint("partnership_id", "schedule_version", "slot_date", name="uq_review_occurrence_slot"),
        Index("ix_review_occurrence_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="review_partnership.id", index=True, ondelete="CASCADE")
    schedule_version: int = 1
    slot_date: date  # the series' local date: one occurrence per slot, whatever happens
    slot_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # the slot as an instant
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # moved by snooze or a retry
    status: str = Field(default=OccurrenceStatus.PENDING, max_length=16)
    claim_token: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    late: bool = False
    snoozes: int = 0
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=MAX_REASON)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    #: When the check-in's summary was posted (or the check-in closed with no answers).
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ReviewAnswer(SQLModel, table=True):
    """One person's answers to one check-in, saved at every tap (scores as JSON)."""

    __tablename__ = "review_answer"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id", name="uq_review_answer_person"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="review_occurrence.id", index=True, ondelete="CASCADE")
    partnership_id: int = Field(foreign_key="review_partnership.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_type=BigInteger, index=True)
    scores: str = "{}"  # JSON: question key -> 1..5, or the stage name
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ReviewRoundSummary(SQLModel, table=True):
    """The fixed, anonymous record of one closed check-in round (what was posted, and what the history shows).

    Written once when the round closes, never changed afterwards: a person who later uses /forget has
    their own answers deleted, but the group's record stays as it was posted. Figures and comments are
    stored only when at least ``min_group`` people answered (the k rule, SECURITY.md); below that only
    the count is kept. Comments carry no names.
    """

    __tablename__ = "review_round_summary"

    occurrence_id: int = Field(foreign_key="review_occurrence.id", primary_key=True, ondelete="CASCADE")
    partnership_id: int = Field(foreign_key="review_partnership.id", index=True, ondelete="CASCADE")
    closed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    respondents: int = 0
    averages: str = "{}"  # JSON: question key -> average, empty below k
    stage: str | None = Field(default=None, max_length=16)
    comments: str = "[]"  # JSON list of strings, empty below k
