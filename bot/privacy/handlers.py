"""/privacy, /mydata and /forget: what the bot keeps, everything it keeps about you, and deleting it."""

from __future__ import annotations

import contextlib
import io
import json
import logging

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.core import callbacks as cb
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import storage_guard
from bot.privacy.gather import PRIVACY_NOTICE, describe_forget, export_everything, forget_everything
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


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat:
        await send_html(context, update.effective_chat.id, PRIVACY_NOTICE)


@storage_guard
async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if chat.type != "private":
        await send_html(context, chat.id, PRIVATE_ONLY)
        return
    svc = services(context)
    document = await export_everything(svc.database, user.id, dict(context.user_data or {}))
    document["exported_at"] = utcnow().isoformat()
    data = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    await context.bot.send_document(chat.id, io.BytesIO(data), filename="partnerbot-my-data.json",
                                    caption="Here is everything I keep about you.")


@storage_guard
async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if chat.type != "private":
        await send_html(context, chat.id, PRIVATE_ONLY)
        return
    lines = await describe_forget(services(context).database, chat.id)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes, delete my data", callback_data=cb.make(FORGET_YES)),
                                    InlineKeyboardButton("No, keep it", callback_data=cb.make(FORGET_NO))]])
    listed = "\n".join(f"• {escape(line)}" for line in lines)
    await send_html(context, chat.id,
                    f"This deletes everything I keep about you:\n{listed}\n\nCheck-in summaries already posted "
                    "stay as anonymous totals (/privacy says what else is kept without your name).\n\n"
                    "<b>This can't be undone.</b> Delete your data?", markup)


@storage_guard
async def on_forget_yes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    user_id = query.from_user.id  # the person pressing, never an id from the button
    svc = services(context)
    forgotten = await forget_everything(svc.database, user_id)
    context.application.drop_user_data(user_id)  # also removes it from the database
    await query.answer()
    try:
        await query.edit_message_text("Done: I've deleted everything I kept about you. Send /start any time "
                                      "to begin again.")
    except BadRequest:
        await send_html(context, user_id, "Done: I've deleted everything I kept about you.")
    for edit in forgotten.panel_edits:  # the bot's own panel posts lose the asker's name and words
        try:
            await context.bot.edit_message_text(edit.text, chat_id=edit.chat_id, message_id=edit.message_id)
        except (Forbidden, BadRequest) as exc:
            log.warning("Could not edit a panel post after /forget (%s)", type(exc).__name__)
    for chat_id, text in forgotten.notices:
        try:
            await send_html(context, chat_id, text)
        except (Forbidden, BadRequest):
            log.info("Could not deliver a forget notice")


async def on_forget_no(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer()
        with contextlib.suppress(BadRequest):
            await query.edit_message_text("OK, nothing has been deleted.")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("privacy", on_privacy))
    application.add_handler(CommandHandler("mydata", on_mydata))
    application.add_handler(CommandHandler("forget", on_forget))
    application.add_handler(CallbackQueryHandler(on_forget_yes, pattern=cb.pattern(FORGET_YES)))
    application.add_handler(CallbackQueryHandler(on_forget_no, pattern=cb.pattern(FORGET_NO)))
