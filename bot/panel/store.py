"""The rules of the human panel, free of Telegram: questions, replies, ratings, drafts, timeouts.

A question reaches the panel only when the asker taps "Ask the panel"; their first name goes with it
only if they say so. Replies are stored so that the asker can rate them and an admin can save one as
a draft for the curators.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import yaml
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core.text import clean_text
from db.engine import Database
from db.models import MAX_NAME_CHARS, KnowledgeDraft, PanelQuestion, PanelReply

MAX_REPLY_CHARS = 4000


async def create_question(database: Database, *, source_log_id: int, asker_id: int, asker_name: str | None,
                          text: str, panel_chat_id: int, now: datetime) -> tuple[PanelQuestion, bool]:
    """The panel question for a logged question, created once; returns it and whether it is new."""
    async with database.session() as session:
        existing = (await session.exec(select(PanelQuestion).where(
            PanelQuestion.source_log_id == source_log_id))).first()
        if existing is not None:
            return existing, False
        question = PanelQuestion(source_log_id=source_log_id, asker_id=asker_id,
                                 asker_name=asker_name[:MAX_NAME_CHARS] if asker_name else None,
                                 text=text, panel_chat_id=panel_chat_id, asked_at=now)
        session.add(question)
        try:
            await session.commit()
        except IntegrityError:  # the same tap arrived twice at once
            await session.rollback()
            again = (await session.exec(select(PanelQuestion).where(
                PanelQuestion.source_log_id == source_log_id))).one()
            return again, False
        return question, True


async def set_panel_message(database: Database, question_id: int, message_id: int) -> None:
    async with database.session() as session:
        question = await session.get(PanelQuestion, question_id)
        if question is not None:
            question.panel_message_id = message_id
            session.add(question)
            await session.commit()


async def question_for_panel_message(database: Database, panel_chat_id: int,
                                     message_id: int) -> PanelQuestion | None:
    async with database.session() as session:
        return (await session.exec(select(PanelQuestion).where(
            PanelQuestion.panel_chat_id == panel_chat_id,
            PanelQuestion.panel_message_id == message_id))).first()


async def add_reply(database: Database, question_id: int, text: str, now: datetime) -> PanelReply:
    async with database.session() as session:
        reply = PanelReply(question_id=question_id, text=clean_text(text)[:MAX_REPLY_CHARS], replied_at=now)
        session.add(reply)
        await session.commit()
        return reply


async def rate_reply(database: Database, reply_id: int, asker_id: int, helpful: bool) -> bool:
    """Record the asker's rating; False when the reply is not theirs (or no longer exists)."""
    async with database.session() as session:
        reply = await session.get(PanelReply, reply_id)
        question = await session.get(PanelQuestion, reply.question_id) if reply else None
        if reply is None or question is None or question.asker_id != asker_id:
            return False
        reply.helpful = helpful
        session.add(reply)
        await session.commit()
        return True


async def resolve_question(database: Database, question_id: int, asker_id: int, now: datetime) -> PanelQuestion | None:
    """Mark the asker's question resolved; None when it is not theirs."""
    async with database.session() as session:
        question = await session.get(PanelQuestion, question_id)
        if question is None or question.asker_id != asker_id:
            return None
        if question.status == "open":
            question.status, question.closed_at = "resolved", now
            session.add(question)
            await session.commit()
        return question


async def save_draft(database: Database, reply_id: int, now: datetime) -> KnowledgeDraft | None:
    """Store a panel reply as a draft entry (once); None when the reply no longer exists."""
    async with database.session() as session:
        reply = await session.get(PanelReply, reply_id)
        question = await session.get(PanelQuestion, reply.question_id) if reply else None
        if reply is None or question is None:
            return None
        existing = (await session.exec(select(KnowledgeDraft).where(
            KnowledgeDraft.panel_reply_id == reply_id))).first()
        if existing is not None:
            return existing
        draft = KnowledgeDraft(question=question.text, answer=reply.text, panel_reply_id=reply_id, saved_at=now)
        reply.saved_as_draft = True
        session.add(draft)
        session.add(reply)
        await session.commit()
        return draft


async def list_drafts(database: Database) -> list[KnowledgeDraft]:
    async with database.session() as session:
        return list((await session.exec(select(KnowledgeDraft).order_by(col(KnowledgeDraft.id)))).all())


async def claim_unanswered(database: Database, now: datetime, after: timedelta) -> list[PanelQuestion]:
    """Open questions with no reply for ``after``: marked expired and returned once, to tell the askers."""
    cutoff = now - after
    async with database.session() as session:
        answered = select(PanelReply.question_id)
        rows = (await session.exec(select(PanelQuestion).where(
            PanelQuestion.status == "open", col(PanelQuestion.asked_at) <= cutoff,
            col(PanelQuestion.timeout_reported_at).is_(None),
            col(PanelQuestion.id).not_in(answered)).with_for_update(skip_locked=True))).all()
        for question in rows:
            question.status, question.closed_at, question.timeout_reported_at = "expired", now, now
            session.add(question)
        await session.commit()
        return list(rows)


def drafts_yaml(drafts: list[KnowledgeDraft]) -> str | None:
    """The drafts as a knowledge-base theme file with a header for the curator; None when there are none."""
    if not drafts:
        return None
    entries = [draft_to_yaml_entry(draft) for draft in drafts]
    return ("# Drafts from panel answers: edit, fill in the TODOs, then move them into a theme file in\n"
            "# knowledge/themes/ and run `partnerbot kb check`.\n"
            + yaml.safe_dump({"theme": "Drafts", "entries": entries}, sort_keys=False, allow_unicode=True,
                             width=100))


def draft_to_yaml_entry(draft: KnowledgeDraft) -> dict[str, object]:
    """A draft in the knowledge-base file format, with placeholders the curator must fill in."""
    slug = "draft-" + str(draft.id)
    return {
        "id": slug,
        "question": draft.question,
        "alternates": ["TODO another way to ask it"] * 4,
        "keywords": [],
        "answer": draft.answer,
        "source": "TODO seed file and section, or PartnerBot",
        "related": [],
    }
