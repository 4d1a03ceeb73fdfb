"""What a mentor sees when asked: the request message (the mentee's name, organisation type, area, topics,
stage and story, and why the match was suggested) with Accept / Decline / Pause buttons.

Contact details are not in it: they are swapped only when the mentor accepts (see mentor_answers.py).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.services import services
from bot.mentoring.handlers.common import ACCEPT, DECLINE, PAUSE, area, buttons, chip, notify
from bot.mentoring.lists import ORG_TYPES, STAGES, TOPICS, label, split_slugs
from bot.mentoring.requests import set_mentor_message
from bot.mentoring.store import Parties
from knowledge.render import escape


def request_text(parties: Parties, hours: int) -> str:
    profile = parties.mentee_profile
    assert profile is not None
    stage = split_slugs(profile.stages)
    return (f"🤝 <b>{escape(parties.mentee_name)}</b> would like you as their mentor buddy.\n"
            f"{escape(label(ORG_TYPES, profile.org_type))} · {area(profile.region)}\n"
            f"Needs help with: {chip(TOPICS, split_slugs(profile.topics))}\n"
            + (f"Partnership stage: {chip(STAGES, stage)}\n" if stage else "")
            + (f"<blockquote>{escape(profile.story)}</blockquote>\n" if profile.story else "")
            + f"<i>Why you: {escape(parties.match.why)}</i>\n\n"
            f"Please answer within {hours} hours. Your contact details are shared only if you accept.")


def request_markup(match_id: int) -> InlineKeyboardMarkup:
    return buttons([[("✅ Accept", cb.make(ACCEPT, match_id)), ("❌ Decline", cb.make(DECLINE, match_id))],
                     [("⏸ Pause me", cb.make(PAUSE, match_id))]])


async def send_request(context: ContextTypes.DEFAULT_TYPE, parties: Parties) -> bool:
    """Send a pending request to its mentor and remember the message; False if they can't be reached."""
    svc = services(context)
    sent = await notify(context, parties.mentor.telegram_id,
                         request_text(parties, svc.settings.mentor_request_timeout_hours),
                         request_markup(parties.match.id or 0))
    if sent is not None:  # recorded after sending, in a transaction of its own (the request itself is saved)
        async with svc.database.transaction() as session:
            await set_mentor_message(session=session, match_id=parties.match.id or 0, message_id=sent.message_id,
                                     now=svc.clock())
    return sent is not None
