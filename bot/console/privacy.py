"""/mydata and /forget for the console: an admin's sign-in links and sessions (hashes are never shown)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.console_models import ConsoleSession, ConsoleSignIn


async def export_user_data(*, session: AsyncSession, user_id: int) -> dict[str, object]:
    """/mydata: an admin's console links and sessions, by date (the secrets themselves are never stored)."""
    links = (await session.exec(select(ConsoleSignIn).where(ConsoleSignIn.admin_id == user_id))).all()
    sessions = (await session.exec(select(ConsoleSession).where(ConsoleSession.admin_id == user_id))).all()
    return {"sign_in_links": [{"created_at": row.created_at.isoformat(), "used": row.used_at is not None}
                              for row in links],
            "sessions": [{"started_at": row.created_at.isoformat(), "expires_at": row.expires_at.isoformat()}
                         for row in sessions]}


async def forget_user(*, session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    """/forget: an admin's console links and sessions go (signing them out); nobody else is told."""
    await session.exec(delete(ConsoleSignIn).where(ConsoleSignIn.admin_id == user_id))  # type: ignore[call-overload]
    await session.exec(delete(ConsoleSession).where(ConsoleSession.admin_id == user_id))  # type: ignore[call-overload]
    return []


async def describe_user_data(*, session: AsyncSession, user_id: int) -> list[str]:
    """What /forget will delete here, in plain words: only admins ever have console sign-ins."""
    links = (await session.exec(select(ConsoleSignIn).where(ConsoleSignIn.admin_id == user_id))).all()
    sessions = (await session.exec(select(ConsoleSession).where(ConsoleSession.admin_id == user_id))).all()
    return ["your web console sign-ins (you will be signed out)"] if links or sessions else []
