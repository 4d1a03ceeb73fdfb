"""The 30-day retention of unanswered questions: after 30 days a logged question keeps its words for the
curators but no longer says who asked it.

Questions the bot could not answer are logged so curators can see what is missing (``kb gaps``, /gaps); the
asker's Telegram id is kept only long enough to pass a panel reply back. The job in
``bot/questions/handlers/jobs.py`` runs :func:`forget_old_identities` every six hours, one transaction a run;
/privacy tells people so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import PanelQuestion, QuestionLog

#: Questions logged for curators lose the asker's identity after this long.
IDENTITY_RETENTION = timedelta(days=30)


async def forget_old_identities(*, session: AsyncSession, now: datetime) -> int:
    """Retention: unlink askers from logged questions older than 30 days, and from panel questions
    closed more than 30 days ago. Returns how many rows were made anonymous."""
    cutoff = now - IDENTITY_RETENTION
    logs = await session.exec(update(QuestionLog).where(
        col(QuestionLog.asked_at) < cutoff, col(QuestionLog.user_id).is_not(None)).values(user_id=None))
    panel = await session.exec(update(PanelQuestion).where(
        col(PanelQuestion.closed_at) < cutoff, col(PanelQuestion.asker_id).is_not(None))
        .values(asker_id=None, asker_name=None))
    return (logs.rowcount or 0) + (panel.rowcount or 0)
