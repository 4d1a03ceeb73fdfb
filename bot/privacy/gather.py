"""Data protection rules, free of Telegram: what is kept about a person, and forgetting them.

Each feature that stores personal data provides ``export_user_data``, ``describe_user_data`` and
``forget_user`` next to its own rules, each ``(*, session, user_id)``; this module only gathers them, so
/mydata and /forget can never miss a feature that :func:`features` lists.

The caller owns the transaction: /forget runs every feature's ``forget_user`` in ONE
``database.transaction()``, so a person's data goes all together, or (when the database fails half-way)
none of it goes and they can simply try again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.console import privacy as console_privacy
from bot.mentoring import privacy as mentoring_privacy
from bot.questions import privacy as questions_privacy
from bot.reviews import privacy as reviews_privacy
from db.models import InboxUpdate, PersistedState


class Export(Protocol):
    """Everything a feature keeps about the person, JSON-serialisable."""

    async def __call__(self, *, session: AsyncSession, user_id: int) -> dict[str, Any]: ...


class Forget(Protocol):
    """Delete the person's data in the caller's transaction; returns (chat id, text) notices for others."""

    async def __call__(self, *, session: AsyncSession, user_id: int) -> list[tuple[int, str]]: ...


class Describe(Protocol):
    """What ``Forget`` would delete, in a few plain lines."""

    async def __call__(self, *, session: AsyncSession, user_id: int) -> list[str]: ...


@dataclass(frozen=True)
class Feature:
    """A part of the bot that keeps personal data: /mydata shows what ``export`` returns, /forget first
    names what ``describe`` lists and then runs ``forget``."""

    name: str
    export: Export
    forget: Forget
    describe: Describe


# -- conversation state and received messages (kept by the bot itself, not by one feature) -------------
def _is_theirs(key: str, user_id: int) -> bool:
    try:
        parts = json.loads(key)
    except json.JSONDecodeError:
        return False
    return isinstance(parts, list) and user_id in parts


async def _state_rows(*, session: AsyncSession, user_id: int) -> list[PersistedState]:
    rows = (await session.exec(select(PersistedState))).all()
    return [r for r in rows if (r.kind == "user" and r.key == str(user_id))
            or (r.kind.startswith("conversation:") and _is_theirs(r.key, user_id))]


async def export_state(*, session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Half-finished conversations and the messages received from the person and not yet cleared."""
    rows = await _state_rows(session=session, user_id=user_id)
    inbox = (await session.exec(select(InboxUpdate).where(InboxUpdate.user_id == user_id)
                                .order_by(col(InboxUpdate.update_id)))).all()
    return {"saved_conversation_steps": [{"kind": r.kind, "data": json.loads(r.data)} for r in rows],
            "messages_received_recently": [{"received_at": u.received_at.isoformat(),
                                            "update": json.loads(u.payload)} for u in inbox]}


async def forget_state(*, session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    rows = await _state_rows(session=session, user_id=user_id)
    if rows:
        await session.exec(delete(PersistedState).where(col(PersistedState.id).in_([r.id for r in rows])))
    await session.exec(delete(InboxUpdate).where(col(InboxUpdate.user_id) == user_id))
    return []


async def describe_state(*, session: AsyncSession, user_id: int) -> list[str]:
    return ["any half-finished answers and the messages you sent me recently"]


def features() -> list[Feature]:
    """Every feature that stores personal data, in the order /mydata shows them."""
    return [
        Feature("questions", questions_privacy.export_user_data, questions_privacy.forget_user,
                questions_privacy.describe_user_data),
        Feature("mentoring", mentoring_privacy.export_user_data, mentoring_privacy.forget_user,
                mentoring_privacy.describe_user_data),
        Feature("reviews", reviews_privacy.export_user_data, reviews_privacy.forget_user,
                reviews_privacy.describe_user_data),
        Feature("console", console_privacy.export_user_data, console_privacy.forget_user,
                console_privacy.describe_user_data),
        Feature("conversations", export_state, forget_state, describe_state),
    ]


async def export_everything(*, session: AsyncSession, user_id: int, conversation: dict[str, Any]) -> dict[str, Any]:
    """The /mydata document: every feature's data plus any half-finished conversation in memory (read in
    the caller's one transaction, so the features agree with each other)."""
    document: dict[str, Any] = {"telegram_user_id": user_id}
    for feature in features():
        document[feature.name] = await feature.export(session=session, user_id=user_id)
    document["conversation_in_progress"] = conversation
    return document


async def describe_forget(*, session: AsyncSession, user_id: int) -> list[str]:
    """The lines /forget shows before the person confirms: what goes, and what stays with a group."""
    lines: list[str] = []
    for feature in features():
        lines.extend(await feature.describe(session=session, user_id=user_id))
    return lines


@dataclass(frozen=True)
class PanelPostEdit:
    """The bot's own post in the panel chat, to be rewritten without the asker's name and words."""

    chat_id: int
    message_id: int
    text: str


@dataclass
class Forgotten:
    """What is left to do in Telegram after the database forgot a person."""

    notices: list[tuple[int, str]] = field(default_factory=list)  # other people to tell (e.g. a buddy)
    panel_edits: list[PanelPostEdit] = field(default_factory=list)


def withdrawn_panel_post(number: int) -> str:
    return (f"❓ <b>Question #{number}</b>: withdrawn. The person who asked it has asked me to delete their "
            "data, so replies can no longer reach them.")


async def forget_everything(*, session: AsyncSession, user_id: int) -> Forgotten:
    """Delete the person from every feature, all in the caller's one transaction (so a failure half-way
    deletes nothing); returns the notices for others and the panel posts to edit, which the caller sends
    only after the transaction has committed."""
    posts = await questions_privacy.panel_posts_of(session=session, user_id=user_id)
    outcome = Forgotten(panel_edits=[PanelPostEdit(chat, message, withdrawn_panel_post(number))
                                     for chat, message, number in posts])
    for feature in features():
        outcome.notices.extend(await feature.forget(session=session, user_id=user_id))
    return outcome


PRIVACY_NOTICE = (
    "<b>What I keep, why, and for how long</b>\n"
    "• <b>Questions I couldn't answer</b>: the words, when, and how close I got, so the team can add answers. "
    "Your Telegram id goes after 30 days; the words stay (without you) until an admin deletes them.\n"
    "• <b>Questions you send to the panel</b>, with the replies: your first name only if you say yes. Kept "
    "until /forget; your id goes 30 days after the question is closed. A reply an admin saves for the "
    "knowledge base is kept for the editors; after /forget, without your question.\n"
    "• <b>👍 / 👎 on answers</b>: which answer and your vote, until /forget.\n"
    "• <b>Mentor buddy profile</b>: what you enter, until you delete it in /profile or use /forget. Requests "
    "and matches: until /forget; contact details go to a buddy only after you both agree and are not kept "
    "when a match ends.\n"
    "• <b>Check-in schedules</b> you set up: until /forget for a private chat's; a group's stay with the group "
    "(without your name) until its admins stop them.\n"
    "• <b>Check-in answers</b>: kept while the partnership runs, shown to it only as totals, and only when at "
    "least {k} people answered (fewer: just the count). When a round closes, its summary (averages and "
    "comments, never names) is fixed: that anonymous record stays after /forget; your own answers go.\n"
    "• <b>Half-finished answers</b> (a form you started): until you finish, cancel or use /forget.\n"
    "• <b>Messages you send me</b>: held until handled (so a crash loses nothing), then only their number, "
    "for a day.\n\n"
    "<b>Who can see it</b>: the council for voluntary service staff who run this bot (admins) see unanswered "
    "questions without names. Nobody else sees your details without your agreement.\n\n"
    "<b>Your rights</b>: /mydata sends you everything I keep about you. /forget deletes it (it tells you "
    "what first). Nothing is used for marketing or shared outside this service."
)


def privacy_notice(min_group: int) -> str:
    """The /privacy text, with the k rule's number as this bot is set up (REVIEW_MIN_GROUP)."""
    return PRIVACY_NOTICE.replace("{k}", str(min_group))
