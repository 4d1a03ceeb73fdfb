"""The review feature's privacy hooks: export and forget a person's data (see :mod:`bot.privacy.gather`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reviews.questions import answer_scores
from bot.reviews.schedule import Schedule, describe_schedule
from db.review_models import Partnership, ReviewAnswer, ReviewOccurrence, ReviewRoundSummary


# -- privacy hooks -----------------------------------------------------------------------------------
async def export_user_data(*, session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything the review feature stores about ``user_id``: what they set up and their answers."""
    partnerships = (await session.exec(select(Partnership).where(
        or_(col(Partnership.created_by) == user_id, col(Partnership.chat_id) == user_id))
        .order_by(col(Partnership.id)))).all()
    answers = (await session.exec(select(ReviewAnswer, ReviewOccurrence, Partnership)
                                  .join(ReviewOccurrence, col(ReviewOccurrence.id) == ReviewAnswer.occurrence_id)
                                  .join(Partnership, col(Partnership.id) == ReviewAnswer.partnership_id)
                                  .where(ReviewAnswer.user_id == user_id)
                                  .order_by(col(ReviewAnswer.id)))).all()
    return {
        "review_partnerships": [{
            "id": p.id, "name": p.name, "partners": p.partners, "chat": "private" if p.chat_id == user_id else "group",
            "schedule": describe_schedule(Schedule.of(p)), "status": p.status, "paused_reason": p.paused_reason,
            "set_up_by_you": p.created_by == user_id, "created_at": p.created_at.isoformat()} for p in partnerships],
        "review_answers": [{
            "partnership": p.name, "check_in": o.slot_at.isoformat(), "answers": answer_scores(a), "raised": a.comment,
            "started_at": a.started_at.isoformat(),
            "completed_at": a.completed_at.isoformat() if a.completed_at else None} for a, o, p in answers],
    }


async def describe_user_data(*, session: AsyncSession, user_id: int) -> list[str]:
    """What /forget will delete here (and what stays with a group), in a few plain lines."""
    private = (await session.exec(select(Partnership.name).where(Partnership.chat_id == user_id)
                                  .order_by(col(Partnership.id)))).all()
    groups = (await session.exec(select(Partnership.name).where(
        Partnership.created_by == user_id, Partnership.chat_id != user_id).order_by(col(Partnership.id)))).all()
    answers = (await session.exec(select(func.count()).select_from(ReviewAnswer).where(
        ReviewAnswer.user_id == user_id))).one()
    lines = []
    if private:
        lines.append("check-ins set up in this private chat, with their schedules and history: " + ", ".join(private))
    if answers:
        lines.append(f"your answers to {answers} check-in{'s' if answers != 1 else ''} (summaries already "
                     "posted stay as the partnership's anonymous record)")
    if groups:
        lines.append("group check-ins you set up stay with their group, without your name: " + ", ".join(groups))
    return lines


async def forget_user(*, session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    """Delete the person's answers and their private partnerships; group partnerships they set up keep
    running for the group but no longer name them. Closed rounds' summaries are fixed records
    (``review_round_summary``) and do not change. Nobody else needs telling, so no notices."""
    await session.exec(delete(ReviewAnswer).where(col(ReviewAnswer.user_id) == user_id))
    private = list((await session.exec(select(Partnership.id).where(Partnership.chat_id == user_id))).all())
    if private:
        await session.exec(delete(ReviewRoundSummary).where(col(ReviewRoundSummary.partnership_id).in_(private)))
        await session.exec(delete(ReviewAnswer).where(col(ReviewAnswer.partnership_id).in_(private)))
        await session.exec(delete(ReviewOccurrence).where(col(ReviewOccurrence.partnership_id).in_(private)))
        await session.exec(delete(Partnership).where(col(Partnership.id).in_(private)))
    await session.exec(update(Partnership).where(col(Partnership.created_by) == user_id)
                       .values(created_by=None).execution_options(synchronize_session=False))
    return []
