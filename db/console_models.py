"""Tables of the web console: one-time sign-in links and signed-in sessions.

Only hashes of the secrets are stored (SHA-256 of a 32-byte random token), so a copy of the database
does not let anyone sign in. Rows carry their expiry and are deleted once expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow


class ConsoleSignIn(SQLModel, table=True):
    """A one-time sign-in link sent to an admin by /console (or printed by ``partnerbot web``)."""

    __tablename__ = "console_signin"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    #: The Telegram id of the admin it was sent to; None for the local link of ``partnerbot web``.
    admin_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds the token, this row its hash, its CSRF secret and expiry."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    csrf_token: str = Field(max_length=64)
    admin_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
