"""Relaying messages between buddies who have no Telegram username: which bot message a reply answers,
and so who the reply goes to.

Why a module of its own: a relay works only between the two buddies of an accepted match, and that
check must hold however old the message being replied to is.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.mentoring.store import MatchStatus, load_parties, person_by_telegram
from db.mentoring_models import MentorMatch, MentorRelay


async def add_relay(*, session: AsyncSession, chat_id: int, message_id: int, match_id: int) -> None:
    """Remember a bot message in ``chat_id`` as a relay anchor: a reply to it goes to the buddy."""
    session.add(MentorRelay(chat_id=chat_id, message_id=message_id, match_id=match_id))


async def relay_target(*, session: AsyncSession, chat_id: int, message_id: int,
                       sender_telegram_id: int) -> tuple[int | None, str, int] | None:
    """Who a reply to a relay message goes to: (their chat id or None, sender's name, match id).

    None when the message is not a relay anchor; the chat id is None when the match has ended or the
    sender is not in it (a relay works only between the two buddies of an accepted match).
    """
    relay = (await session.exec(select(MentorRelay).where(
        MentorRelay.chat_id == chat_id, MentorRelay.message_id == message_id))).first()
    if relay is None:
        return None
    match = await session.get(MentorMatch, relay.match_id)
    sender = await person_by_telegram(session=session, telegram_id=sender_telegram_id)
    if match is None or sender is None or match.status != MatchStatus.ACCEPTED:
        return (None, "", relay.match_id)
    parties = await load_parties(session=session, match=match)
    if sender.id == match.mentee_id:
        return (parties.mentor.telegram_id, parties.mentee_name, relay.match_id)
    if sender.id == match.mentor_id:
        return (parties.mentee.telegram_id, parties.mentor_name, relay.match_id)
    return (None, "", relay.match_id)
