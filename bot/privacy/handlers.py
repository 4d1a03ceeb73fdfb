"""/privacy, /mydata and /forget: what the bot keeps, everything it keeps about you, and deleting it."""

from __future__ import annotations

import contextlib
import io
import json
import logging

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import END, Form, answered_as_question, end_all_forms_of, register_form
from bot.core.forms.typed import parse_yes_no
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.privacy.gather import (
    Forgotten,
    describe_forget,
    export_everything,
    forget_everything,
    privacy_notice,
)
from db.types import utcnow
from knowledge.render import escape

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("privacy", "What I keep about you, and why"),
    BotCommand("mydata", "Send me everything you keep about me"),
    BotCommand("forget", "Delete everything you keep about me"),
]
FORGET_YES, FORGET_NO = "fy", "fn"
PRIVATE_ONLY = "For your privacy, please use this command in a private chat with me."
ALREADY_ANSWERED = "That question was already answered, so this button does nothing now."
DONE = "Done: I've deleted everything I kept about you. Send /start any time to begin again."
KEPT = "OK, nothing has been deleted."
YES_OR_NO = "Please tap “Yes, delete my data” or “No, keep it” above, or type yes or no."
CONFIRM = 0


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat:
        await send_html(context, update.effective_chat.id,
                        privacy_notice(services(context).settings.review_min_group))


@storage_guard
async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if chat.type != "private":
        await send_html(context, chat.id, PRIVATE_ONLY)
        return
    async with services(context).database.transaction() as session:  # one read: the features agree
        document = await export_everything(session=session, user_id=user.id,
                                           conversation=dict(context.user_data or {}))
    document["exported_at"] = utcnow().isoformat()
    data = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    await context.bot.send_document(chat.id, io.BytesIO(data), filename="partnerbot-my-data.json",
                                    caption="Here is everything I keep about you.")


@storage_guard(returning=END)
async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    chat = update.effective_chat
    if chat is None:
        return END
    if chat.type != "private":
        await send_html(context, chat.id, PRIVATE_ONLY)
        return END
    async with services(context).database.transaction() as session:
        lines = await describe_forget(session=session, user_id=chat.id)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes, delete my data", callback_data=cb.make(FORGET_YES)),
                                    InlineKeyboardButton("No, keep it", callback_data=cb.make(FORGET_NO))]])
    listed = "\n".join(f"• {escape(line)}" for line in lines)
    await send_html(context, chat.id,
                    f"This deletes everything I keep about you:\n{listed}\n\nCheck-in summaries already posted "
                    "stay as anonymous totals (/privacy says what else is kept without your name).\n\n"
                    "<b>This can't be undone.</b> Delete your data?", markup)
    return CONFIRM


async def _forget(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> Forgotten:
    """Every feature forgets the person in ONE transaction: all of it goes, or (the database failing
    half-way) none of it, and the storage guard asks them to try again while the question stays open."""
    async with services(context).database.transaction() as session:
        forgotten = await forget_everything(session=session, user_id=user_id)
    context.application.drop_user_data(user_id)  # also removes it from the database
    end_all_forms_of(context.application, user_id)  # and any half-filled form with it
    return forgotten


async def _tell_others(context: ContextTypes.DEFAULT_TYPE, forgotten: Forgotten) -> None:
    """After the deletion committed: the bot's own panel posts lose the asker's name and words, and the
    people affected (a buddy) are told."""
    for edit in forgotten.panel_edits:
        try:
            await context.bot.edit_message_text(edit.text, chat_id=edit.chat_id, message_id=edit.message_id)
        except (Forbidden, BadRequest) as exc:
            log.warning("Could not edit a panel post after /forget (%s)", type(exc).__name__)
    for chat_id, text in forgotten.notices:
        try:
            await send_html(context, chat_id, text)
        except (Forbidden, BadRequest):
            log.info("Could not deliver a forget notice")


@storage_guard(returning=CONFIRM)
async def on_forget_yes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    if query is None or query.from_user is None:
        return END
    user_id = query.from_user.id  # the person pressing, never an id from the button
    forgotten = await _forget(context, user_id)
    await query.answer()
    try:
        await query.edit_message_text(DONE)
    except BadRequest:
        await send_html(context, user_id, DONE)
    await _tell_others(context, forgotten)
    return END


async def on_forget_no(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """"No, keep it" while the question is open (true then: nothing was deleted)."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(KEPT)
    return END


@storage_guard(returning=CONFIRM)
async def on_forget_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A typed answer to "Delete your data?": yes deletes as the button does, no keeps everything; a
    question is answered and the choice stays open; anything else asks again."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return CONFIRM
    text = message.text or ""
    decided = parse_yes_no(text)
    if decided is None:
        if not await answered_as_question(update, context, text):
            await send_html(context, message.chat_id, YES_OR_NO)
        return CONFIRM
    if not decided:
        await send_html(context, message.chat_id, KEPT)
        return END
    forgotten = await _forget(context, user.id)
    await send_html(context, message.chat_id, DONE)
    await _tell_others(context, forgotten)
    return END


def forget_form() -> Form:
    """/forget asks first; its buttons (or a typed yes or no) act once, and only while the question is open."""
    return Form(name="privacy-forget", title="/forget question", resume="", cancelled=KEPT,
                entry_points=[
        CommandHandler("forget", on_forget)], states={CONFIRM: [
            CallbackQueryHandler(on_forget_yes, pattern=cb.pattern(FORGET_YES)),
            CallbackQueryHandler(on_forget_no, pattern=cb.pattern(FORGET_NO)),
            MessageHandler(filters.TEXT & ~filters.COMMAND, on_forget_typed)]})


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("privacy", on_privacy))
    application.add_handler(CommandHandler("mydata", on_mydata))
    register_form(application, forget_form(), stale_patterns=[rf"^({FORGET_YES}|{FORGET_NO})(:|$)"],
                  stale_note=ALREADY_ANSWERED)
