"""The question features' privacy hooks: what /mydata shows and /forget deletes of a person's questions,
answer votes, panel questions and the knowledge-base drafts made from them (gathered with the other
features' hooks by bot/privacy/gather.py)."""

from __future__ import annotations

from sqlalchemy import Select, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AnswerVote, KnowledgeDraft, PanelQuestion, PanelReply, QuestionLog


async def export_user_data(*, session: AsyncSession, user_id: int) -> dict[str, object]:
    """Everything the question features keep about a person (for /mydata), including the knowledge-base
    drafts made from their panel questions (the question text in them is theirs)."""
    logs = (await session.exec(select(QuestionLog).where(QuestionLog.user_id == user_id))).all()
    votes = (await session.exec(select(AnswerVote).where(AnswerVote.user_id == user_id))).all()
    panel = (await session.exec(select(PanelQuestion).where(PanelQuestion.asker_id == user_id))).all()
    replies = {q.id: (await session.exec(select(PanelReply).where(PanelReply.question_id == q.id))).all()
               for q in panel}
    drafts = (await session.exec(select(KnowledgeDraft).where(
        col(KnowledgeDraft.panel_reply_id).in_(_their_reply_ids(user_id))))).all()
    return {
        "questions_not_answered": [{"asked_at": row.asked_at.isoformat(), "text": row.text, "outcome": row.outcome}
                                   for row in logs],
        "answer_feedback": [{"entry": v.entry_id, "helpful": v.helpful, "at": v.voted_at.isoformat()} for v in votes],
        "panel_questions": [{"number": q.id, "asked_at": q.asked_at.isoformat(), "text": q.text,
                             "name_shown_to_panel": q.asker_name, "status": q.status,
                             "posted_in_panel_chat": q.panel_message_id is not None,
                             "replies": [{"at": r.replied_at.isoformat(), "text": r.text, "helpful": r.helpful}
                                         for r in replies[q.id]]} for q in panel],
        "knowledge_base_drafts_from_your_questions": [
            {"question": d.question, "saved_at": d.saved_at.isoformat()} for d in drafts],
    }


def _their_reply_ids(user_id: int) -> Select[tuple[int | None]]:
    return (select(PanelReply.id).join(PanelQuestion, col(PanelQuestion.id) == PanelReply.question_id)
            .where(PanelQuestion.asker_id == user_id))


async def describe_user_data(*, session: AsyncSession, user_id: int) -> list[str]:
    """What /forget will delete here, in a few plain lines (shown before the person confirms)."""
    logs = (await session.exec(select(func.count()).select_from(QuestionLog).where(
        QuestionLog.user_id == user_id))).one()
    votes = (await session.exec(select(func.count()).select_from(AnswerVote).where(
        AnswerVote.user_id == user_id))).one()
    panel = (await session.exec(select(func.count()).select_from(PanelQuestion).where(
        PanelQuestion.asker_id == user_id))).one()
    drafts = (await session.exec(select(func.count()).select_from(KnowledgeDraft).where(
        col(KnowledgeDraft.panel_reply_id).in_(_their_reply_ids(user_id))))).one()
    lines = []
    if logs:
        lines.append(f"{_n(logs, 'question')} I couldn't answer")
    if votes:
        lines.append(f"{_n(votes, 'vote')} on answers")
    if panel:
        lines.append(f"{_n(panel, 'question')} you sent to the panel, with the replies; I'll take your name and "
                     "words off my post in the panel chat")
    if drafts:
        lines.append(f"your words in {_n(drafts, 'knowledge-base draft')} (the panel's answer stays, without "
                     "your question)")
    return lines


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


async def panel_posts_of(*, session: AsyncSession, user_id: int) -> list[tuple[int, int, int]]:
    """The bot's own panel posts of the person's questions: (panel chat id, message id, question number).

    Called before forgetting (in the same transaction), so the posts can be edited afterwards to drop the
    asker's name and words.
    """
    rows = (await session.exec(select(PanelQuestion).where(
        PanelQuestion.asker_id == user_id, col(PanelQuestion.panel_message_id).is_not(None)))).all()
    return [(q.panel_chat_id, q.panel_message_id or 0, q.id or 0) for q in rows]


async def forget_user(*, session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    """Delete a person's logged questions, votes and panel questions (with their replies), and take their
    question out of any knowledge-base draft (the panel's answer stays for the curators, unlinked).

    Bulk deletes in dependency order (replies before questions), so the ORM never expects a row the
    database has already removed by cascade.
    """
    await session.exec(update(KnowledgeDraft).where(col(KnowledgeDraft.panel_reply_id).in_(
        _their_reply_ids(user_id))).values(question=WITHDRAWN_QUESTION, panel_reply_id=None)
        .execution_options(synchronize_session=False))
    questions = select(PanelQuestion.id).where(PanelQuestion.asker_id == user_id)
    await session.exec(delete(PanelReply).where(col(PanelReply.question_id).in_(questions)))
    await session.exec(delete(PanelQuestion).where(col(PanelQuestion.asker_id) == user_id))
    await session.exec(delete(QuestionLog).where(col(QuestionLog.user_id) == user_id))
    await session.exec(delete(AnswerVote).where(col(AnswerVote.user_id) == user_id))
    return []


#: What a knowledge-base draft says in place of a question whose asker used /forget.
WITHDRAWN_QUESTION = "(question removed at the asker's request: write one for this answer)"
