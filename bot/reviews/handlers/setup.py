"""The set-up form (python-telegram-bot's ConversationHandler, see bot/core/forms/conversation.py):
/partnership sets up a partnership's check-ins; from /partnerships the same form renames a partnership,
edits its partners or changes its schedule. The steps themselves are in :mod:`.drafts`.

In a group only administrators (asked of Telegram) may set up or change, and a typed answer is a reply to
the bot's question: a bot in privacy mode sees only replies there, and the group's own talk is left alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardButton, Message, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import END, Form, answered_as_question, back_handler, drop_buttons, nav_row
from bot.core.forms.questions import reads_as_question
from bot.core.forms.typed import parse_yes_no
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import TRY_AGAIN, storage_guard
from bot.reviews.errors import NotAllowed, ReviewInputError
from bot.reviews.handlers.common import (
    ADMINS_ONLY,
    CHANGE,
    NOT_HERE,
    SETUP,
    SetupMode,
    alert,
    button,
    is_admin,
    markup,
)
from bot.reviews.handlers.drafts import (
    BUTTON_STEPS,
    MODES,
    ORDER,
    STEP_CONFIRM,
    STEP_NAME,
    STEP_PARTNERS,
    STEP_SURE,
    Prompt,
    apply,
    clear_draft,
    draft_schedule,
    first_step,
    get_draft,
    new_draft,
    previous_step,
    prompt_for,
)
from bot.reviews.partnerships import change_schedule, create_partnership, get_partnership, rename, set_partners
from bot.reviews.schedule import Schedule, describe_schedule, format_local
from db.review_models import PartnershipStatus
from knowledge.render import escape

STALE = "That step is finished, or the set-up belongs to someone else. Send /partnership to start one."
SAVING = "saving"


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], step: str,
                prefix: str = "") -> str:
    """Ask ``step`` (with Back where there is a step before it, and Cancel) and make it the form's state."""
    chat = update.effective_chat
    assert chat is not None
    draft["step"] = step
    prompt = prompt_for(context, draft, step)
    text = prefix + prompt.text
    if prompt.typed and chat.type != ChatType.PRIVATE:
        text += "\n<i>Reply to this message with your answer.</i>"
    rows: list[list[InlineKeyboardButton]] = [*prompt.rows, nav_row(back=previous_step(draft, step) is not None)]
    await send_html(context, chat.id, text, markup(rows))
    return step


async def setup_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """/partnership: in a group only for administrators (asked of Telegram)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return END
    if not await is_admin(context, chat, user.id, update.effective_message):
        await send_html(context, chat.id, ADMINS_ONLY + " Ask an admin to send /partnership.")
        return END
    draft = new_draft(context, chat.id, mode=str(SetupMode.NEW), tz=services(context).settings.default_timezone)
    where = "this group" if chat.type != ChatType.PRIVATE else "this chat"
    return await _send(update, context, draft, STEP_NAME, "Let's set up regular check-ins, so the partnership "
                       f"reviews itself often, not just at the end of the year. I'll send the nudges to {where}.\n\n")


@storage_guard(returning=END)
async def change_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """✏️ Rename, 👥 Partners or 🗓 Schedule under a partnership of /partnerships (rc:<id>:<what>)."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return END
    data = cb.parse(query.data)
    partnership_id, what = data.int_arg(0), (data.args[1] if len(data.args) > 1 else SetupMode.SCHEDULE)
    if not await is_admin(context, chat, user.id):
        await alert(update, ADMINS_ONLY)
        return END
    partnership = None
    if partnership_id is not None:
        async with services(context).database.transaction() as session:
            partnership = await get_partnership(session=session, partnership_id=partnership_id, chat_id=chat.id)
    if partnership is None or partnership.status == PartnershipStatus.STOPPED or what not in MODES:
        await alert(update, NOT_HERE)
        return END
    await query.answer()
    schedule = Schedule.of(partnership)
    draft = new_draft(context, chat.id, mode=what, pid=partnership.id, name=partnership.name,
                      partners=partnership.partners, tz=partnership.timezone, cadence=schedule.cadence,
                      weekday=schedule.weekday, day=schedule.day, time=f"{schedule.local_time:%H:%M}")
    intro = (f"Changing the schedule of <b>{escape(partnership.name)}</b> "
             f"(now {escape(describe_schedule(schedule))}).\n" if what == SetupMode.SCHEDULE else "")
    return await _send(update, context, draft, first_step(draft), intro)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """A tapped answer (rs:<field>[:<value>]); a button of another step gets a note and changes nothing."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    data = cb.parse(query.data)
    field_code = data.args[0] if data.args else ""
    value = data.args[1] if len(data.args) > 1 else ""
    draft = get_draft(context, chat.id)
    if draft is None:
        await alert(update, STALE)
        return END
    if BUTTON_STEPS.get(field_code) != draft.get("step"):
        await alert(update, "That question is done: please answer the one below.")
        return str(draft.get("step"))
    if field_code == "ok":
        return await _save(update, context, draft)
    await query.answer()
    await drop_buttons(query)
    if field_code == "y":
        return await _sure(update, context, draft, value == "1")
    return await _answer(update, context, draft, str(draft["step"]), "" if field_code == "p" else value)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """A typed answer: in a group only a reply to the bot counts (the rest is the group talking)."""
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    draft = get_draft(context, chat.id)
    if draft is None:
        return END
    if chat.type != ChatType.PRIVATE and not _replies_to_bot(message, context):
        return None
    text = message.text or ""
    step = str(draft.get("step"))
    if step == STEP_SURE:
        decided = parse_yes_no(text)
        if decided is None:
            return await _ask_sure(update, context, draft)
        return await _sure(update, context, draft, decided)
    if step in (STEP_NAME, STEP_PARTNERS) and reads_as_question(text):
        if await answered_as_question(update, context, text):
            return await _send(update, context, draft, step, "Back to the set-up: ")
        draft["pending"], draft["asked_for"] = text, step
        return await _ask_sure(update, context, draft)
    return await _answer(update, context, draft, step, text)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], step: str,
                  value: str) -> str | int:
    chat = update.effective_chat
    assert chat is not None
    if draft.get("mode") in (SetupMode.NAME, SetupMode.PARTNERS) and step in (STEP_NAME, STEP_PARTNERS):
        return await _save_field(update, context, draft, step, value)
    try:
        following = apply(context, draft, step, value)
    except ReviewInputError as exc:
        if update.callback_query is None and await answered_as_question(update, context, value):
            return await _send(update, context, draft, step, "Back to the set-up: ")
        await send_html(context, chat.id, escape(str(exc)))
        return step
    return await _send(update, context, draft, following)


async def _ask_sure(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> str:
    chat = update.effective_chat
    assert chat is not None
    draft["step"] = STEP_SURE
    what = "the partnership's name" if draft.get("asked_for") == STEP_NAME else "the list of partners"
    await send_html(context, chat.id, f"“{escape(str(draft.get('pending', ''))[:200])}” reads like a question. "
                                      f"Shall I save it as {what}?",
                    markup([[button("Yes, save it", SETUP, "y", 1), button("No, I'll type it again", SETUP, "y", 0)]]))
    return STEP_SURE


async def _sure(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], use: bool) -> str | int:
    step = str(draft.pop("asked_for", STEP_NAME))
    pending = str(draft.pop("pending", ""))
    draft["step"] = step
    if use and pending:
        return await _answer(update, context, draft, step, pending)
    return await _send(update, context, draft, step)


async def on_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    draft = get_draft(context, chat.id)
    if draft is None:
        await alert(update, STALE)
        return END
    await query.answer()
    await drop_buttons(query)
    step = str(draft.pop("asked_for", draft.get("step")))
    draft.pop("pending", None)
    draft["zone_choices"] = []
    earlier = previous_step(draft, step)
    return await _send(update, context, draft, earlier or step)


async def on_cancelled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        clear_draft(context, update.effective_chat.id)


def _replies_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id


# -- saving ------------------------------------------------------------------------------------------
async def _save_field(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], step: str,
                      value: str) -> str | int:
    """A rename or a new list of partners, saved straight away."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    svc = services(context)
    if not await is_admin(context, chat, user.id):
        await send_html(context, chat.id, ADMINS_ONLY)
        return step
    try:
        async with svc.database.transaction() as session:
            if step == STEP_NAME:
                partnership = await rename(session=session, partnership_id=int(draft["pid"]), chat_id=chat.id,
                                           name=value, now=svc.clock())
                text = f"✅ Renamed: <b>{escape(partnership.name)}</b>."
            else:
                partnership = await set_partners(session=session, partnership_id=int(draft["pid"]), chat_id=chat.id,
                                                 partners=value, now=svc.clock())
                text = (f"✅ Saved. <b>{escape(partnership.name)}</b>: partners are now "
                        f"{escape(partnership.partners) or 'none listed'}.")
    except ReviewInputError as exc:
        await send_html(context, chat.id, escape(str(exc)))
        return step
    except NotAllowed:
        clear_draft(context, chat.id)
        await send_html(context, chat.id, NOT_HERE)
        return END
    except SQLAlchemyError:  # by hand: the step stays (name or partners), and "type it again" says what to do
        await send_html(context, chat.id, TRY_AGAIN + " Type it again in a minute.")
        return step
    clear_draft(context, chat.id)
    await send_html(context, chat.id, text + " See them all with /partnerships.")
    return END


async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> str | int:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    draft["step"] = SAVING  # before any await: a double tap finds nothing to save
    svc = services(context)
    if not await is_admin(context, chat, user.id):
        draft["step"] = STEP_CONFIRM
        await alert(update, ADMINS_ONLY)
        return STEP_CONFIRM
    try:
        schedule = draft_schedule(draft)
        async with svc.database.transaction() as session:
            if draft.get("mode") == SetupMode.SCHEDULE:
                partnership, first = await change_schedule(session=session, partnership_id=int(draft["pid"]),
                                                           chat_id=chat.id, schedule=schedule, now=svc.clock())
            else:
                partnership, first = await create_partnership(
                    session=session, chat_id=chat.id, created_by=user.id, name=draft.get("name", ""),
                    partners=[draft.get("partners", "")], schedule=schedule, now=svc.clock())
    except SQLAlchemyError:  # by hand: the draft goes back to its Save step, and the person is told it is kept
        draft["step"] = STEP_CONFIRM
        await alert(update, TRY_AGAIN + " Your answers are kept: tap Save again.")
        return STEP_CONFIRM
    except (ReviewInputError, NotAllowed, KeyError, ValueError):
        clear_draft(context, chat.id)
        await query.answer()
        await send_html(context, chat.id, "Sorry, I lost track of that set-up. Please send /partnership again.")
        return END
    clear_draft(context, chat.id)
    await query.answer("Saved")
    await drop_buttons(query)
    paused = " It is paused: resume it from /partnerships." if partnership.status == PartnershipStatus.PAUSED else ""
    await send_html(context, chat.id,
                    f"✅ Saved. <b>{escape(partnership.name)}</b>: check-ins "
                    f"{escape(describe_schedule(schedule))}.\nFirst one: "
                    f"<b>{format_local(first.local)}</b>.{paused}\n"
                    "Change, pause or stop it any time with /partnerships.")
    return END


def setup_form() -> Form:
    """/partnership and the change buttons of /partnerships, one form per person and chat."""
    text = MessageHandler(filters.TEXT & ~filters.COMMAND, on_text)
    step_handlers = [CallbackQueryHandler(on_button, pattern=cb.pattern(SETUP)), back_handler(on_back), text]
    states: dict[object, list[Any]] = {step: list(step_handlers) for step in (*ORDER, STEP_SURE)}
    states[SAVING] = [CallbackQueryHandler(on_button, pattern=cb.pattern(SETUP))]
    return Form(name="reviews-setup", title="partnership set-up", resume="/partnership",
                entry_points=[CommandHandler("partnership", setup_start),
                              CallbackQueryHandler(change_start, pattern=cb.pattern(CHANGE))],
                states=states, on_cancel=on_cancelled)


__all__ = ["Prompt", "setup_form"]
