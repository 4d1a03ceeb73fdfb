"""The question features' privacy hooks: what /mydata shows and /forget deletes of a person's questions,
answer votes and panel questions (gathered with the other features' hooks by bot/privacy/gather.py)."""

from __future__ import annotations

from sqlmodel import select

from db.engine import Database
from db.models import AnswerVote, PanelQuestion, PanelReply, QuestionLog


async def export_user_data(database: Database, user_id: int) -> dict[str, object]:
    """Everything the question features keep about a person (for /mydata)."""
    async with database.session() as session:
        logs = (await session.exec(select(QuestionLog).where(QuestionLog.user_id == user_id))).all()
        votes = (await session.exec(select(AnswerVote).where(AnswerVote.user_id == user_id))).all()
        panel = (await session.exec(select(PanelQuestion).where(PanelQuestion.asker_id == user_id))).all()
        replies = {q.id: (await session.exec(select(PanelReply).where(PanelReply.question_id == q.id))).all()
                   for q in panel}
    return {
        "questions_not_answered": [{"asked_at": row.asked_at.isoformat(), "text": row.text, "outcome": row.outcome}
                                   for row in logs],
        "answer_feedback": [{"entry": v.entry_id, "helpful": v.helpful, "at": v.voted_at.isoformat()} for v in votes],
        "panel_questions": [{"number": q.id, "asked_at": q.asked_at.isoformat(), "text": q.text,
                             "name_shown_to_panel": q.asker_name, "status": q.status,
                             "replies": [{"at": r.replied_at.isoformat(), "text": r.text, "helpful": r.helpful}
                                         for r in replies[q.id]]} for q in panel],
    }


async def forget_user(database: Database, user_id: int) -> list[tuple[int, str]]:
    """Delete a person's logged questions, votes and panel questions (with their replies)."""
    async with database.session() as session:
        for model, column in ((QuestionLog, QuestionLog.user_id), (AnswerVote, AnswerVote.user_id)):
            for row in (await session.exec(select(model).where(column == user_id))).all():
                await session.delete(row)
        for question in (await session.exec(select(PanelQuestion).where(PanelQuestion.asker_id == user_id))).all():
            for reply in (await session.exec(select(PanelReply).where(PanelReply.question_id == question.id))).all():
                await session.delete(reply)
            await session.delete(question)
        await session.commit()
    return []
