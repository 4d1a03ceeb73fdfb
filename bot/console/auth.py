"""Signing in to the console without passwords: one-time links, then a session with its CSRF secret.

An admin sends /console to the bot and gets a link that works once, for ten minutes. Opening it shows a
"Sign in" button (a link preview or a mail scanner that merely fetches the page uses nothing); pressing it
spends the link and starts a session. Only SHA-256 hashes of the secrets are stored, so a copy of the
database signs nobody in. Plain Python and the caller's database session (``session=``): no web or Telegram
types here, and no commit: the console's request handler (or /console) owns the transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.console_models import ConsoleSession, ConsoleSignIn

SIGNIN_VALID = timedelta(minutes=10)
SESSION_VALID = timedelta(hours=8)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _plausible(token: str | None) -> bool:
    """Tokens are 43 URL-safe characters; anything else is refused before the database is asked."""
    return bool(token) and len(token or "") <= 100 and all(c.isalnum() or c in "-_" for c in token or "")


@dataclass(frozen=True)
class SessionInfo:
    """A live session: who (None for the local ``partnerbot web`` link), its CSRF secret, its expiry."""

    admin_id: int | None
    csrf_token: str
    expires_at: datetime


async def create_signin(*, session: AsyncSession, admin_id: int | None, now: datetime) -> str:
    """A new one-time sign-in token (the secret part of the link); expired rows are cleared on the way."""
    token = secrets.token_urlsafe(32)
    await session.exec(delete(ConsoleSignIn).where(col(ConsoleSignIn.expires_at) < now))  # type: ignore[call-overload]
    await session.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) < now))  # type: ignore[call-overload]
    session.add(ConsoleSignIn(token_hash=_hash(token), admin_id=admin_id, created_at=now,
                              expires_at=now + SIGNIN_VALID))
    return token


async def signin_is_usable(*, session: AsyncSession, token: str | None, now: datetime) -> bool:
    """Whether the link would still sign in (not used, not expired); spends nothing."""
    if not _plausible(token):
        return False
    row = (await session.exec(select(ConsoleSignIn).where(ConsoleSignIn.token_hash == _hash(token or "")))).first()
    return row is not None and row.used_at is None and row.expires_at > now


async def redeem_signin(*, session: AsyncSession, token: str | None, now: datetime,
                        valid_for: timedelta = SESSION_VALID) -> tuple[str, SessionInfo] | None:
    """Spend the link and open a session: (session token, info), or None when it is used, expired or unknown.

    The link is marked used by one conditional UPDATE, so two presses at once open one session, not two;
    when that UPDATE changes no row, nothing was written and None is returned (no rollback needed).
    """
    if not _plausible(token):
        return None
    digest = _hash(token or "")
    result = await session.exec(update(ConsoleSignIn).where(  # type: ignore[call-overload]
        ConsoleSignIn.token_hash == digest, col(ConsoleSignIn.used_at).is_(None),
        col(ConsoleSignIn.expires_at) > now).values(used_at=now))
    if result.rowcount != 1:
        return None
    row = (await session.exec(select(ConsoleSignIn).where(ConsoleSignIn.token_hash == digest))).one()
    session_token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    info = SessionInfo(row.admin_id, csrf, now + valid_for)
    session.add(ConsoleSession(token_hash=_hash(session_token), csrf_token=csrf, admin_id=row.admin_id,
                               created_at=now, expires_at=info.expires_at))
    return session_token, info


async def session_for(*, session: AsyncSession, token: str | None, now: datetime) -> SessionInfo | None:
    """The live session a cookie names, or None (no cookie, unknown, or expired)."""
    if not _plausible(token):
        return None
    row = (await session.exec(select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token or "")))
           ).first()
    if row is None or row.expires_at <= now:
        return None
    return SessionInfo(row.admin_id, row.csrf_token, row.expires_at)


async def end_session(*, session: AsyncSession, token: str | None) -> None:
    """Sign out: the session row goes, so the cookie is worthless even if it was copied."""
    if not _plausible(token):
        return
    await session.exec(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token or "")))  # type: ignore[call-overload]


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of the form's CSRF field with the session's secret."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
