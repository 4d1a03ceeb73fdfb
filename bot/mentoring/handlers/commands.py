"""The three commands: /mentor (a mentee's home), /mentor_offer (become a mentor, or see your mentor
status) and /profile (see and change your profiles).

Why a module of its own: each command picks up where the person is (questions to answer, a profile to
show, suggestions, a buddy) and hands over to the module that does the work; they answer only in a
private chat.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.forms.conversation import END as FORM_END
from bot.core.keyboards import short
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.mentoring.handlers.common import END, P_ACTIVE, P_EDIT, buttons, say, user_of
from bot.mentoring.handlers.profile import profile_card, profile_markup
from bot.mentoring.handlers.profile_form import start_profile
from bot.mentoring.handlers.suggestions import show_mentee_home
from bot.mentoring.lists import MENTEE, MENTOR, ROLES
from bot.mentoring.profiles import profiles_of
from bot.mentoring.requests import mentor_matches
from bot.mentoring.store import MatchStatus
from bot.mentoring.suggestions import mentee_status
from knowledge.render import escape


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == "private"


@storage_guard(returning=FORM_END)
async def on_mentor(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/mentor: the mentee's home: suggestions, the pending request, the buddy, or the questions (the form's
    first step, or the step where the person left it)."""
    if not _private(update):
        await say(update, context, "Let's talk about mentor buddies in a private chat: message me directly.")
        return FORM_END
    svc = services(context)
    user_id, _, _ = user_of(update)
    home = None
    async with svc.database.transaction() as session:  # one unit: the profiles, and the mentee's place
        profiles = await profiles_of(session=session, telegram_id=user_id)
        if MENTEE in profiles:
            home = await mentee_status(session=session, telegram_id=user_id, now=svc.clock())
    if home is None:
        return await start_profile(update, context, MENTEE, profiles)
    await show_mentee_home(context, user_id, home)
    return FORM_END


@storage_guard(returning=FORM_END)
async def on_mentor_offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/mentor_offer: become a mentor (the form), or see your mentor status.

    Everything it shows is read in one transaction: a database failure half-way shows nothing (not a status
    without its buddies, not questions without the details the other profile would have filled in)."""
    if not _private(update):
        await say(update, context, "Let's talk about mentor buddies in a private chat: message me directly.")
        return FORM_END
    svc = services(context)
    user_id, _, _ = user_of(update)
    async with svc.database.transaction() as session:
        profiles = await profiles_of(session=session, telegram_id=user_id)
        matches = await mentor_matches(session=session, telegram_id=user_id) if MENTOR in profiles else []
    profile = profiles.get(MENTOR)
    if profile is None:
        return await start_profile(update, context, MENTOR, profiles)
    buddies = [p for p in matches if p.match.status == MatchStatus.ACCEPTED]
    pending = [p for p in matches if p.match.status == MatchStatus.PENDING]
    lines = [f"<b>You're a mentor buddy</b> ({'taking requests' if profile.active else 'paused'}).",
             f"Buddies: {len(buddies)} of {profile.capacity}."]
    lines += [f"• {escape(p.mentee_name)}" for p in buddies]
    if pending:
        lines.append(f"Requests waiting for your answer: {len(pending)} (see the messages above).")
    rows = [[("⏸ Pause new requests" if profile.active else "▶️ Resume requests",
              cb.make(P_ACTIVE, MENTOR, 0 if profile.active else 1))],
            [("✏️ Edit my profile", cb.make(P_EDIT, MENTOR, "card"))]]
    rows += [[(f"End match with {short(p.mentee_name, 30)}", cb.make(END, p.match.id))] for p in buddies]
    await say(update, context, "\n".join(lines), buttons(rows))
    return FORM_END


@storage_guard
async def on_profile(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/profile: each profile with buttons to change any field, pause or delete."""
    if not _private(update):
        await say(update, context, "Your profile is private: message me directly and send /profile.")
        return
    svc = services(context)
    user_id, _, _ = user_of(update)
    async with svc.database.transaction() as session:
        profiles = await profiles_of(session=session, telegram_id=user_id)
    if not profiles:
        await say(update, context, "You don't have a mentoring profile yet. Send /mentor to find a buddy, or "
                                    "/mentor_offer to become one.")
        return
    for role in ROLES:
        if role in profiles:
            await say(update, context, profile_card(profiles[role]), profile_markup(profiles[role]))
