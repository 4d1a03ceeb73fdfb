"""/partnerships: list a chat's partnerships, and pause, resume or stop their check-ins."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.reviews.errors import NotAllowed
from bot.reviews.handlers.common import (
    ADMINS_ONLY,
    CHANGE,
    MANAGE,
    MAX_LISTED,
    NOT_HERE,
    ManageAction,
    SetupMode,
    alert,
    button,
    drop_buttons,
    is_admin,
    markup,
)
from bot.reviews.partnerships import PartnershipView, get_partnership, pause, resume, stop
from bot.reviews.partnerships import list_partnerships as partnerships_in
from bot.reviews.schedule import describe_schedule, format_local
from db.review_models import PartnershipStatus
from knowledge.render import escape


# -- /partnerships: change, pause, resume, stop --------------------------------------------------------
def _partnership_line(number: int, view: PartnershipView) -> str:
    p = view.partnership
    line = f"{number}. <b>{escape(p.name)}</b>: {escape(describe_schedule(view.schedule))}."
    if p.partners:
        line += f"\n   Partners: {escape(short(p.partners, 200))}"
    if p.status == PartnershipStatus.PAUSED:
        reason = f" ({escape(p.paused_reason)})" if p.paused_reason else ""
        line += f"\n   ⏸ Paused{reason}."
    elif view.next_local is not None:
        line += f"\n   Next: {format_local(view.next_local)}"
    return line


@storage_guard
async def list_partnerships(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    async with services(context).database.transaction() as session:
        views = await partnerships_in(session=session, chat_id=chat.id)
    if not views:
        await send_html(context, chat.id, "There are no partnership check-ins here yet. Send /partnership to "
                                          "set one up.")
        return
    more = len(views) - MAX_LISTED
    views = views[:MAX_LISTED]
    # One button per partnership, named: its actions are on the menu it opens (no "Change 1 / Pause 1"
    # numbers that shift when one is stopped).
    rows = [[button(f"⚙️ {short(view.partnership.name, 40)}", MANAGE, view.partnership.id, ManageAction.MENU)]
            for view in views]
    text = "<b>Partnership check-ins here</b>\n" + "\n".join(_partnership_line(n, v) for n, v in
                                                             enumerate(views, start=1))
    if more > 0:
        text += f"\n<i>…and {more} more: stop the ones you no longer need, or see `partnerbot reviews list`.</i>"
    text += "\nTap one to rename it, edit its partners, change its schedule, pause or stop it."
    await send_html(context, chat.id, text, markup(rows))


def _menu(partnership: Any) -> tuple[str, list[list[InlineKeyboardButton]]]:
    pid, name = partnership.id, escape(partnership.name)
    toggle = (button("▶️ Resume", MANAGE, pid, ManageAction.RESUME) if partnership.status == PartnershipStatus.PAUSED
              else button("⏸ Pause", MANAGE, pid, ManageAction.PAUSE))
    rows = [[button("✏️ Rename", CHANGE, pid, SetupMode.NAME), button("👥 Partners", CHANGE, pid, SetupMode.PARTNERS)],
            [button("🗓 Schedule", CHANGE, pid, SetupMode.SCHEDULE), toggle,
             button("⏹ Stop", MANAGE, pid, ManageAction.STOP)]]
    return f"<b>{name}</b>: what would you like to change?", rows


@storage_guard
async def on_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A partnership's menu and its pause, resume and stop (with a confirmation): one transaction per tap."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    data = cb.parse(query.data)
    partnership_id, action = data.int_arg(0), data.args[1] if len(data.args) > 1 else ""
    if not await is_admin(context, chat, user.id):
        await alert(update, ADMINS_ONLY)
        return
    svc = services(context)
    text: str | None = None
    try:
        async with svc.database.transaction() as session:
            partnership = None if partnership_id is None else await get_partnership(
                session=session, partnership_id=partnership_id, chat_id=chat.id)
            if partnership is None or partnership.status == PartnershipStatus.STOPPED:
                raise NotAllowed
            name = escape(partnership.name)
            if action == ManageAction.PAUSE:
                await pause(session=session, partnership_id=partnership.id or 0, chat_id=chat.id, now=svc.clock())
                text = f"⏸ Check-ins for <b>{name}</b> are paused. Resume them from /partnerships."
            elif action == ManageAction.RESUME:
                _, upcoming = await resume(session=session, partnership_id=partnership.id or 0, chat_id=chat.id,
                                           now=svc.clock())
                text = f"▶️ Check-ins for <b>{name}</b> are back on. Next: {format_local(upcoming.local)}."
            elif action == ManageAction.STOP_CONFIRMED:
                await stop(session=session, partnership_id=partnership.id or 0, chat_id=chat.id, now=svc.clock())
                text = f"⏹ Check-ins for <b>{name}</b> are stopped. The history stays in /reviews."
    except NotAllowed:
        await alert(update, NOT_HERE)
        return
    if action == ManageAction.MENU:
        menu, rows = _menu(partnership)
        await query.answer()
        await send_html(context, chat.id, menu, markup(rows))
        return
    if action == ManageAction.STOP:
        await query.answer()
        await send_html(context, chat.id, f"Stop the check-ins for <b>{name}</b>? The history stays in /reviews.",
                        markup([[button("Yes, stop them", MANAGE, partnership_id, ManageAction.STOP_CONFIRMED),
                                 button("No, keep them", MANAGE, partnership_id, ManageAction.KEEP)]]))
        return
    if action == ManageAction.KEEP:
        await query.answer("Kept.")
        await drop_buttons(update)
        return
    if text is None:
        await query.answer()
        return
    await query.answer()
    await drop_buttons(update)
    await send_html(context, chat.id, text)
