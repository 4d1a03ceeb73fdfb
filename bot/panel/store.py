"""The rules of the human panel, free of Telegram: questions, replies, ratings, drafts, timeouts.

A question reaches the panel only when the asker taps "Ask the panel"; their first name goes with it
only if they say so. Replies are stored so that the asker can rate them and an admin can save one as
a draft for the curators.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import yaml
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import clean_text
from db.models import MAX_NAME_CHARS, KnowledgeDraft, PanelQuestion, PanelReply

MAX_REPLY_CHARS = 4000


class PanelStatus(StrEnum):
    """Where a panel question stands (``panel_question.status``)."""

    OPEN = "open"            # with the panel, waiting for replies
    RESOLVED = "resolved"    # the asker tapped "My question is answered": later replies are not passed on
    EXPIRED = "expired"      # nobody replied in time: the asker got the apology


async def create_question(*, session: AsyncSession, source_log_id: int, asker_id: int, asker_name: str | None,
                          text: str, panel_chat_id: int, now: datetime) -> tuple[PanelQuestion, bool]:
    """The panel question for a logged question, created once; returns it and whether it is new.

    The same tap arriving twice at once inserts one row: ``ON CONFLICT DO NOTHING`` on the unique
    ``source_log_id`` (a savepoint would do too, but SQLite's driver cannot nest one safely)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(PanelQuestion).values(
        source_log_id=source_log_id, asker_id=asker_id, asker_name=asker_name[:MAX_NAME_CHARS] if asker_name else None,
        text=text, panel_chat_id=panel_chat_id, asked_at=now, status=PanelStatus.OPEN,
    ).on_conflict_do_nothing(index_elements=["source_log_id"]).returning(col(PanelQuestion.id))
    inserted = (await session.exec(statement)).first()  # type: ignore[call-overload]
    question = (await session.exec(select(PanelQuestion).where(PanelQuestion.source_log_id == source_log_id))).one()
    return question, inserted is not None


async def set_panel_message(*, session: AsyncSession, question_id: int, message_id: int) -> None:
    """Remember which panel message carries the question, so a reply to it finds the question."""
    question = await session.get(PanelQuestion, question_id)
    if question is not None:
        question.panel_message_id = message_id
        session.add(question)


async def question_for_panel_message(*, session: AsyncSession, panel_chat_id: int,
                                     message_id: int) -> PanelQuestion | None:
    return (await session.exec(select(PanelQuestion).where(
        PanelQuestion.panel_chat_id == panel_chat_id,
        PanelQuestion.panel_message_id == message_id))).first()


def is_closed(question: PanelQuestion) -> bool:
    """A reply to this question is no longer passed on: the asker marked it answered, or was forgotten."""
    return question.asker_id is None or question.status == PanelStatus.RESOLVED


async def add_reply(*, session: AsyncSession, question_id: int, text: str, now: datetime) -> PanelReply | None:
    """Store a panel member's reply to pass on (flushed, so its rating buttons can carry its id); None when the
    question is gone or closed (:func:`is_closed`), and nothing is stored."""
    question = await session.get(PanelQuestion, question_id)
    if question is None or is_closed(question):
        return None
    reply = PanelReply(question_id=question_id, text=clean_text(text)[:MAX_REPLY_CHARS], replied_at=now)
    session.add(reply)
    await session.flush()
    return reply


async def rate_reply(*, session: AsyncSession, reply_id: int, asker_id: int, helpful: bool) -> bool:
    """Record the asker's rating; False when the reply is not theirs (or no longer exists)."""
    reply = await session.get(PanelReply, reply_id)
    question = await session.get(PanelQuestion, reply.question_id) if reply else None
    if reply is None or question is None or question.asker_id != asker_id:
        return False
    reply.helpful = helpful
    session.add(reply)
    return True


async def resolve_question(*, session: AsyncSession, question_id: int, asker_id: int,
                           now: datetime) -> PanelQuestion | None:
    """Mark the asker's question resolved; None when it is not theirs."""
    question = await session.get(PanelQuestion, question_id)
    if question is None or question.asker_id != asker_id:
        return None
    if question.status == PanelStatus.OPEN:
        question.status, question.closed_at = PanelStatus.RESOLVED, now
        session.add(question)
    return question


async def save_draft(*, session: AsyncSession, reply_id: int, now: datetime) -> KnowledgeDraft | None:
    """Store a panel reply as a draft entry (once) and mark the reply saved, both or neither; None when the
    reply no longer exists."""
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
    await session.flush()
    return draft


async def list_drafts(*, session: AsyncSession) -> list[KnowledgeDraft]:
    return list((await session.exec(select(KnowledgeDraft).order_by(col(KnowledgeDraft.id)))).all())


async def claim_unanswered(*, session: AsyncSession, now: datetime, after: timedelta) -> list[PanelQuestion]:
    """Open questions with no reply for ``after``: marked expired and returned once, to tell the askers.

    The caller commits the claim before telling anyone (one transaction for the claim, the messages after
    it), so a second bot process never claims the same question."""
    cutoff = now - after
    answered = select(PanelReply.question_id)
    rows = (await session.exec(select(PanelQuestion).where(
        PanelQuestion.status == PanelStatus.OPEN, col(PanelQuestion.asked_at) <= cutoff,
        col(PanelQuestion.timeout_reported_at).is_(None),
        col(PanelQuestion.id).not_in(answered)).with_for_update(skip_locked=True))).all()
    for question in rows:
        question.status, question.closed_at, question.timeout_reported_at = PanelStatus.EXPIRED, now, now
        session.add(question)
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
