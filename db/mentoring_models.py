"""Tables of the mentor buddies feature: people, their profiles, requests and matches, relay anchors.

A person imported by an admin from a CSV may be known only by a Telegram username until they first
talk to the bot, so ``mentoring_person.telegram_id`` is nullable and ``username`` is kept (lowercased)
for linking: the first time someone with that username writes to the bot, the row gets their id.

Only what matching needs is stored: no phone numbers, no e-mail; texts are bounded before storage.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow

MAX_NAME_CHARS = 100
MAX_STORY_CHARS = 500
MAX_COMMENT_CHARS = 500
MAX_USERNAME_CHARS = 32


class MentoringPerson(SQLModel, table=True):
    """Someone who is (or was imported as) a mentor or a mentee.

    ``telegram_id`` is None for an imported person who has not talked to the bot yet; ``import_ref`` is
    the value of the CSV's ``telegram`` column, so an admin's reports use the ids the admin knows.
    """

    __tablename__ = "mentoring_person"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True, nullable=True))
    username: str | None = Field(default=None, max_length=MAX_USERNAME_CHARS, unique=True)
    first_name: str = Field(default="", max_length=MAX_NAME_CHARS)
    import_ref: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MentoringProfile(SQLModel, table=True):
    """A person's profile in one role ("mentor" or "mentee"); a person may have one of each.

    Lists (topics, stages, partner kinds) are stored as ';'-separated slugs from the fixed lists in
    ``bot.mentoring``. ``active`` means "taking requests" for a mentor and "looking" for a mentee.
    ``waiting_since`` is set while a mentee is on the waiting list (no compatible mentor yet).
    """

    __tablename__ = "mentoring_profile"
    __table_args__ = (UniqueConstraint("person_id", "role", name="uq_mentoring_profile_person_role"),
                      Index("ix_mentoring_profile_role_active", "role", "active"))

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="mentoring_person.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=8)
    display_name: str = Field(max_length=MAX_NAME_CHARS)
    organisation: str = Field(max_length=MAX_NAME_CHARS)
    org_type: str = Field(max_length=24)
    region: str = Field(max_length=24)
    town: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    topics: str = Field(default="", max_length=400)
    stages: str = Field(default="", max_length=80)
    partner_types: str = Field(default="", max_length=120)
    story: str = Field(default="", max_length=MAX_STORY_CHARS)
    capacity: int = 1
    active: bool = True
    source: str = Field(default="bot", max_length=8)  # "bot" or "import"
    waiting_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MentorMatch(SQLModel, table=True):
    """One mentee-mentor pairing through its life: proposed, pending, then accepted or not, then ended.

    Statuses: ``proposed`` (an admin's whole-cohort suggestion, not yet asked), ``pending`` (the mentor
    has been asked), ``accepted``, ``declined``, ``timed_out``, ``cancelled`` (by the mentee),
    ``withdrawn`` (a proposal the mentee passed over), ``closed`` (an accepted match that ended).
    Follow-ups are due times on the row, claimed by the scheduler, so nothing lives only in memory.
    """

    __tablename__ = "mentor_match"
    __table_args__ = (Index("ix_mentor_match_pair", "mentee_id", "mentor_id"),
                      Index("ix_mentor_match_status", "status"))

    id: int | None = Field(default=None, primary_key=True)
    mentee_id: int = Field(foreign_key="mentoring_person.id", ondelete="CASCADE")
    mentor_id: int = Field(foreign_key="mentoring_person.id", ondelete="CASCADE")
    status: str = Field(max_length=12)
    score: float = 0.0
    why: str = Field(default="", max_length=400)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    requested_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: When the mentee was sent an admin's proposal (None: not yet, e.g. they have not started the bot).
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: When the request reached the mentor (None: held until an imported mentor first talks to the bot).
    mentor_told_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    mentor_message_id: int | None = Field(default=None, sa_type=BigInteger)
    responded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    checkin_due: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    checkin_asks: int = 0
    connected: bool | None = None
    review_due: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    rating: int | None = None
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    end_reason: str | None = Field(default=None, max_length=16)


class MentorRelay(SQLModel, table=True):
    """A bot message in a person's chat that they can reply to, to write to their buddy through the bot.

    Used when a buddy has no Telegram username, so no contact link can be given.
    """

    __tablename__ = "mentor_relay"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_mentor_relay_message"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    match_id: int = Field(foreign_key="mentor_match.id", index=True, ondelete="CASCADE")
