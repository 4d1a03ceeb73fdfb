"""/partnership: set up a partnership's check-ins, or change its schedule (the "Change" button of
/partnerships), one question at a time; the steps themselves are in :mod:`.drafts`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.core import callbacks as cb
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import TRY_AGAIN, storage_guard
from bot.reviews.errors import NotAllowed, ReviewInputError
from bot.reviews.handlers.common import (
    ADMINS_ONLY,
    NOT_HERE,
    SETUP,
    alert,
    button,
    drop_buttons,
    is_admin,
    markup,
)
from bot.reviews.handlers.drafts import (
    BUTTON_STEPS,
    STEP_CADENCE,
    STEP_CONFIRM,
    STEP_NAME,
    STEP_SAVING,
    Prompt,
    apply,
    cadence_prompt,
    clear_draft,
    draft_schedule,
    live_draft,
    new_draft,
)
from bot.reviews.partnerships import change_schedule, create_partnership, get_partnership
from bot.reviews.schedule import Schedule, describe_schedule, format_local
from db.review_models import PartnershipStatus
from knowledge.render import escape


async def _send_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, prompt: Prompt) -> None:
    """Ask the next question. In a group a typed answer is asked for as a reply: a bot in privacy mode
    sees only replies (and commands) there."""
    chat = update.effective_chat
    assert chat is not None
    text = prompt.text
    if prompt.typed and chat.type != ChatType.PRIVATE:
        text += "\n<i>Reply to this message with your answer.</i>"
    await send_html(context, chat.id, text, markup([*prompt.rows, [button("✖️ Cancel", SETUP, "x")]]))


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], field_name: str,
                   value: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    try:
        prompt = apply(context, draft, field_name, value)
    except ReviewInputError as exc:
        await send_html(context, chat.id, escape(str(exc)))
        return
    await _send_prompt(update, context, prompt)


async def setup_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/partnership: in a group only for administrators (asked of Telegram)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if not await is_admin(context, chat, user.id, update.effective_message):
        await send_html(context, chat.id, ADMINS_ONLY + " Ask an admin to send /partnership.")
        return
    new_draft(context, chat.id, mode="new", step=STEP_NAME, tz=services(context).settings.default_timezone)
    where = "this group" if chat.type != ChatType.PRIVATE else "this chat"
    await _send_prompt(update, context, Prompt(
        "Let's set up regular check-ins, so the partnership reviews itself often, not just at the end of the year. "
        f"I'll send the nudges to {where}.\n\n<b>What's the partnership called?</b>", typed=True))


@storage_guard
async def change_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "Change" button of /partnerships: the schedule is asked again; the name and partners stay."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    partnership_id = cb.parse(query.data).int_arg(0)
    if not await is_admin(context, chat, user.id):
        await alert(update, ADMINS_ONLY)
        return
    partnership = None if partnership_id is None else await get_partnership(
        services(context).database, partnership_id, chat_id=chat.id)
    if partnership is None or partnership.status == PartnershipStatus.STOPPED:
        await alert(update, NOT_HERE)
        return
    new_draft(context, chat.id, mode="change", step=STEP_CADENCE, pid=partnership.id, name=partnership.name,
               partners=partnership.partners, tz=partnership.timezone)
    await query.answer()
    prompt = cadence_prompt()
    intro = (f"Changing the schedule of <b>{escape(partnership.name)}</b> "
             f"(now {escape(describe_schedule(Schedule.of(partnership)))}).\n")
    await _send_prompt(update, context, Prompt(intro + prompt.text, prompt.rows))


async def on_setup_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    data = cb.parse(query.data)
    field_code = data.args[0] if data.args else ""
    value = data.args[1] if len(data.args) > 1 else ""
    draft = live_draft(context, chat.id)
    if draft is not None and field_code == "x":
        clear_draft(context, chat.id)
        await query.answer()
        await drop_buttons(update)
        await send_html(context, chat.id, "OK, cancelled: nothing was changed.")
        return
    if draft is None or BUTTON_STEPS.get(field_code) != draft.get("step"):
        await alert(update, "That step is finished, or the set-up belongs to someone else. "
                             "Send /partnership to start one.")
        return
    if field_code == "ok":
        await _save(update, context, draft)
        return
    step = draft["step"]
    await query.answer()
    await drop_buttons(update)
    await advance(update, context, draft, step, "" if field_code in ("p", "z") else value)


async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    draft["step"] = STEP_SAVING  # before any await: a double tap finds nothing to save
    svc = services(context)
    if not await is_admin(context, chat, user.id):
        draft["step"] = STEP_CONFIRM
        await alert(update, ADMINS_ONLY)
        return
    try:
        schedule = draft_schedule(draft)
        if draft.get("mode") == "change":
            partnership, first = await change_schedule(svc.database, int(draft["pid"]), chat_id=chat.id,
                                                               schedule=schedule, now=svc.clock())
        else:
            partnership, first = await create_partnership(
                svc.database, chat_id=chat.id, created_by=user.id, name=draft.get("name", ""),
                partners=[draft.get("partners", "")], schedule=schedule, now=svc.clock())
    except SQLAlchemyError:
        draft["step"] = STEP_CONFIRM
        await alert(update, TRY_AGAIN + " Your answers are kept: tap Save again.")
        return
    except (ReviewInputError, NotAllowed, KeyError, ValueError):
        clear_draft(context, chat.id)
        await query.answer()
        await send_html(context, chat.id, "Sorry, I lost track of that set-up. Please send /partnership again.")
        return
    clear_draft(context, chat.id)
    await query.answer("Saved")
    await drop_buttons(update)
    paused = " It is paused: resume it from /partnerships." if partnership.status == PartnershipStatus.PAUSED else ""
    await send_html(context, chat.id,
                    f"✅ Saved. <b>{escape(partnership.name)}</b>: check-ins "
                    f"{escape(describe_schedule(schedule))}.\nFirst one: "
                    f"<b>{format_local(first.local)}</b>.{paused}\n"
                    "Change, pause or stop it any time with /partnerships.")
