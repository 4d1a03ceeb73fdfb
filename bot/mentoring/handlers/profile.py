"""A stored profile in chat: its card with a ✏️ button per field, editing one field, pausing or
resuming (a mentor) or stopping and restarting the search (a mentee), and deleting it.

Why a module of its own: every button here acts on the presser's own profile only, checked on the
server; editing reuses the profile questions for just the one field.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import END as FORM_END
from bot.core.forms.conversation import Form
from bot.core.forms.typed import parse_yes_no
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.mentoring.handlers.common import (
    P_ACTIVE,
    P_DELETE,
    P_DELETE_YES,
    P_EDIT,
    P_KEEP,
    area,
    buttons,
    chip,
    edit,
    notify,
    say,
)
from bot.mentoring.handlers.jobs import tell_waiting
from bot.mentoring.handlers.profile_form import FIELD_STATE, start_edit
from bot.mentoring.handlers.suggestions import show_mentee_home
from bot.mentoring.lists import MENTOR, ORG_TYPES, ROLES, STAGES, TOPICS, label, split_slugs
from bot.mentoring.profiles import delete_profile, profiles_of, set_active
from bot.mentoring.suggestions import mentee_status
from knowledge.render import escape

DELETING = "m_deleting"
CONFIRM_DELETE = 0


def profile_card(profile: Any) -> str:
    mentor = profile.role == MENTOR
    status = ("taking requests" if profile.active else "paused") if mentor else (
        "looking for a buddy" if profile.active else "not looking just now")
    lines = [f"<b>Your {'mentor' if mentor else 'buddy-seeker'} profile</b> ({status})",
             f"Name: {escape(profile.display_name)}",
             f"Organisation: {escape(profile.organisation)} ({escape(label(ORG_TYPES, profile.org_type))})",
             f"Area: {area(profile.region, profile.town)}",
             f"Topics: {chip(TOPICS, split_slugs(profile.topics))}",
             f"{'Stages' if mentor else 'Stage'}: {chip(STAGES, split_slugs(profile.stages))}",
             f"Partners: {chip(ORG_TYPES, split_slugs(profile.partner_types))}"]
    if mentor:
        lines.append(f"Mentees at a time: {profile.capacity}")
    if profile.story:
        lines.append(f"Story:<blockquote>{escape(profile.story)}</blockquote>")
    return "\n".join(lines)


def profile_markup(profile: Any) -> InlineKeyboardMarkup:
    role = profile.role
    fields = [("Name", "display_name"), ("Organisation", "organisation"), ("Type", "org_type"),
              ("Area", "region"), ("Town", "town"), ("Topics", "topics"), ("Stage", "stages"),
              ("Partners", "partner_types"), ("Story", "story")]
    if role == MENTOR:
        fields.append(("Capacity", "capacity"))
    items = [(f"✏️ {name}", cb.make(P_EDIT, role, key)) for name, key in fields]
    if role == MENTOR:
        toggle = ("⏸ Pause" if profile.active else "▶️ Resume", cb.make(P_ACTIVE, role, 0 if profile.active else 1))
    else:
        toggle = ("⏸ Stop looking" if profile.active else "▶️ Look again",
                  cb.make(P_ACTIVE, role, 0 if profile.active else 1))
    return buttons([*[items[i:i + 3] for i in range(0, len(items), 3)],
                     [toggle, ("🗑 Delete", cb.make(P_DELETE, role))]])


@storage_guard(returning=FORM_END)
async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A ✏️ button: load the stored profile and ask just that question (its owner's own profile only)."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    data = cb.parse(query.data)
    role = data.args[0] if data.args else ""
    key = data.args[1] if len(data.args) > 1 else ""
    svc = services(context)
    async with svc.database.transaction() as session:
        profile = (await profiles_of(session=session, telegram_id=query.from_user.id)).get(role)
    if profile is None:
        await query.answer("You don't have that profile.", show_alert=True)
        return FORM_END
    await query.answer()
    if key not in FIELD_STATE:  # "edit my profile": show the card with its ✏️ buttons
        await say(update, context, profile_card(profile), profile_markup(profile))
        return FORM_END
    return await start_edit(update, context, profile, key)


@storage_guard
async def on_active(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pause / resume (mentor) or stop / restart looking (mentee): on the presser's own profile only."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    role, active = (data.args[0] if data.args else ""), data.int_arg(1) == 1
    home = None
    async with svc.database.transaction() as session:  # a mentee looking again rejoins the list in the same unit
        profile = await set_active(session=session, telegram_id=query.from_user.id, role=role, active=active,
                                   now=svc.clock())
        if profile is not None and role != MENTOR and active:
            home = await mentee_status(session=session, telegram_id=query.from_user.id, now=svc.clock())
    if profile is None:
        await query.answer("You don't have that profile.", show_alert=True)
        return
    if role == MENTOR:
        await query.answer("Resumed: you can get requests again." if active else "Paused: no new requests.")
        await edit(update, profile_card(profile), profile_markup(profile))
        if active:
            await tell_waiting(context)
    else:
        await query.answer("OK" if active else "OK, you're off the waiting list.")
        await edit(update, profile_card(profile), profile_markup(profile))
        if home is not None:
            await show_mentee_home(context, query.from_user.id, home)


async def on_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """🗑 Delete: ask first (a small form, so its buttons work once and only while it is open)."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    role = cb.parse(query.data).args[0] if cb.parse(query.data).args else ""
    if role not in ROLES:
        await query.answer()
        return FORM_END
    await query.answer()
    context.user_data[DELETING] = role
    await say(update, context, f"Delete your {'mentor' if role == MENTOR else 'buddy-seeker'} profile? Any "
                                "current buddy match in that role will end.",
               buttons([[("Yes, delete it", cb.make(P_DELETE_YES, role)), ("No, keep it", P_KEEP)]]))
    return CONFIRM_DELETE


async def _delete(update: Update, context: ContextTypes.DEFAULT_TYPE, role: str) -> None:
    """Delete the profile in one transaction, then tell the person and whoever the match ends for."""
    svc = services(context)
    assert update.effective_user is not None
    async with svc.database.transaction() as session:
        notices = await delete_profile(session=session, user_id=update.effective_user.id, role=role,
                                       now=svc.clock())
    if context.user_data is not None:
        context.user_data.pop(DELETING, None)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update, "Deleted. Thank you for taking part.")
    else:
        await say(update, context, "Deleted. Thank you for taking part.")
    for chat_id, text in notices:
        await notify(context, chat_id, text)
    if role == MENTOR:
        await tell_waiting(context)


@storage_guard(returning=CONFIRM_DELETE)
async def on_delete_yes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    role = context.user_data.get(DELETING)
    if role not in ROLES:
        await query.answer()
        return FORM_END
    await _delete(update, context, role)
    return FORM_END


async def on_keep(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """"No, keep it" while the question is open: true, since nothing was deleted."""
    if context.user_data is not None:
        context.user_data.pop(DELETING, None)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update, "OK, your profile is kept.")
    return FORM_END


@storage_guard(returning=CONFIRM_DELETE)
async def on_delete_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A typed yes or no to "Delete your profile?" counts as the tap (as /forget's question does); anything
    else asks again."""
    message = update.effective_message
    decided = parse_yes_no(message.text or "") if message else None
    if decided is None:
        await say(update, context, "Please tap “Yes, delete it” or “No, keep it” above (or type yes or no).")
        return CONFIRM_DELETE
    role = context.user_data.get(DELETING) if context.user_data is not None else None
    if not decided or role not in ROLES:
        if context.user_data is not None:
            context.user_data.pop(DELETING, None)
        await say(update, context, "OK, your profile is kept.")
        return FORM_END
    await _delete(update, context, role)
    return FORM_END


def delete_form() -> Form:
    """🗑 Delete → "Yes, delete it" / "No, keep it"; old copies of these buttons get a short note."""
    return Form(name="mentoring-delete", title="delete question", resume="", cancelled="OK, your profile is kept.",
                entry_points=[
        CallbackQueryHandler(on_delete, pattern=cb.pattern(P_DELETE))], states={CONFIRM_DELETE: [
            CallbackQueryHandler(on_delete_yes, pattern=cb.pattern(P_DELETE_YES)),
            CallbackQueryHandler(on_keep, pattern=cb.pattern(P_KEEP)),
            MessageHandler(filters.TEXT & ~filters.COMMAND, on_delete_typed)]})
