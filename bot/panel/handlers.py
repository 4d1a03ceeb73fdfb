"""The human panel: "Ask the panel" (with the asker's consent to show their name), replies from the
panel group relayed back, ratings, "resolved", "Save to knowledge base" for admins, and the 72-hour
apology when nobody answers."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core import callbacks as cb
from bot.core.groups import HandlerGroup
from bot.core.keyboards import short
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import job_guard, storage_guard
from bot.panel import store as panel
from bot.questions.asking import get_logged_question
from knowledge.render import escape

log = logging.getLogger(__name__)

NOT_YOURS = "That button belongs to someone else's question."


@storage_guard
async def on_ask_panel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """First tap: ask whether the asker's first name may go to the panel with the question."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    svc = services(context)
    log_id = cb.parse(query.data).int_arg(0)
    if svc.settings.panel_chat_id is None or log_id is None:
        await query.answer("There's no panel set up at the moment.", show_alert=True)
        return
    async with svc.database.transaction() as session:
        logged = await get_logged_question(session=session, question_id=log_id)
    if logged is None or logged.user_id != query.from_user.id:
        await query.answer(NOT_YOURS if logged else "Sorry, I no longer have that question: please ask again.",
                           show_alert=True)
        return
    await query.answer()
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton("Yes, include my first name", callback_data=cb.make(cb.PANEL_CONSENT, log_id, 1))],
        [InlineKeyboardButton("No, send it anonymously", callback_data=cb.make(cb.PANEL_CONSENT, log_id, 0))],
        [InlineKeyboardButton("Cancel", callback_data=cb.make(cb.PANEL_CANCEL, log_id))]])
    await send_html(context, query.from_user.id,
                    f"I'll send this question to our panel of people who know:\n<blockquote>{escape(logged.text)}"
                    "</blockquote>\nShall I include your first name? Nothing else about you is shared.", markup)


@storage_guard
async def on_panel_consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    log_id, share_name = data.int_arg(0), data.int_arg(1) == 1
    panel_chat = svc.settings.panel_chat_id
    if log_id is None or panel_chat is None:
        await query.answer("There's no panel set up at the moment.", show_alert=True)
        return
    name = query.from_user.first_name if share_name else None
    # One unit for the check and the new question, committed before it is posted (the post carries its number).
    async with svc.database.transaction() as session:
        logged = await get_logged_question(session=session, question_id=log_id)
        created = None if logged is None or logged.user_id != query.from_user.id else await panel.create_question(
            session=session, source_log_id=log_id, asker_id=query.from_user.id, asker_name=name, text=logged.text,
            panel_chat_id=panel_chat, now=svc.clock())
    if created is None:
        await query.answer(NOT_YOURS, show_alert=True)
        return
    question, new = created
    if not new and question.panel_message_id is not None:  # a second tap: it is already with the panel
        await query.answer(f"Already sent to the panel as question #{question.id}.")
        return
    who = escape(question.asker_name) if question.asker_name else "someone (anonymous)"
    try:
        posted = await send_html(
            context, panel_chat,
            f"❓ <b>Question #{question.id}</b> from {who}:\n<blockquote>{escape(question.text)}</blockquote>\n"
            "<i>Reply to this message to answer: I'll pass your reply on.</i>")
        async with svc.database.transaction() as session:  # a second unit, after the post: claim, send, record
            await panel.set_panel_message(session=session, question_id=question.id or 0,
                                          message_id=posted.message_id)
    except (Forbidden, BadRequest, SQLAlchemyError):
        # Not the storage guard: not posted (or not recorded), the button stays and "tap again" retries it.
        log.warning("Could not post panel question %s", question.id)
        await query.answer("I couldn't reach the panel just now. Please tap again in a minute.", show_alert=True)
        return
    await query.answer()
    await _edit_or_send(update, context, f"✅ Sent to the panel as question #{question.id}. "
                                         "I'll pass any replies on to you here.")


async def on_panel_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer()
        await _edit_or_send(update, context, "OK, I haven't sent it.")


async def on_panel_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A panel member replied to a question message: relay the reply to the asker.

    Whatever happens here, a reply in the panel group is never also taken as a question to the bot, so
    failures are reported to the panel member here rather than left to the next handler group.
    """
    message = update.effective_message
    if message is not None and message.reply_to_message is not None and message.text:
        try:
            await _relay(message, context, message.reply_to_message.message_id)
        except SQLAlchemyError:
            # Not the storage guard: the panel member is told what to do (send it again, as a reply), and the
            # handler must still stop here so the reply is never taken as a question to the bot.
            await message.reply_html("I couldn't save or pass on this reply just now. "
                                     "Please send it again (as a reply to the question) in a minute.")
        except Exception:
            log.exception("Could not relay a panel reply")
            await message.reply_html("Sorry, something went wrong and I couldn't pass this reply on. "
                                     "Please try again in a minute.")
    raise ApplicationHandlerStop


async def _relay(message: Message, context: ContextTypes.DEFAULT_TYPE, replied_to: int) -> None:
    """Find the question the panel member replied to and store the reply (one transaction), then pass it on."""
    svc = services(context)
    assert message.text is not None
    async with svc.database.transaction() as session:
        question = await panel.question_for_panel_message(session=session, panel_chat_id=message.chat_id,
                                                          message_id=replied_to)
        if question is None:  # an ordinary conversation among the panel
            return
        reply = await panel.add_reply(session=session, question_id=question.id or 0, text=message.text,
                                      now=svc.clock())
    if reply is None or question.asker_id is None:
        await message.reply_html("Thanks. This question is closed now, so I haven't passed the reply on.")
        return
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton("👍 Helpful", callback_data=cb.make(cb.RATE_REPLY, reply.id, 1)),
         InlineKeyboardButton("👎 Not helpful", callback_data=cb.make(cb.RATE_REPLY, reply.id, 0))],
        [InlineKeyboardButton("✅ My question is answered", callback_data=cb.make(cb.RESOLVE, question.id))]])
    try:
        await send_html(context, question.asker_id,
                        f"💬 <b>A panel member answered your question #{question.id}</b>\n"
                        f"<blockquote>{escape(short(question.text, 300))}</blockquote>\n{escape(message.text)}",
                        markup)
    except (Forbidden, BadRequest):
        await message.reply_html("I couldn't pass this on: the asker has stopped the bot.")
        return
    save = InlineKeyboardMarkup([[InlineKeyboardButton("💾 Save to knowledge base (admins)",
                                                       callback_data=cb.make(cb.SAVE_DRAFT, reply.id))]])
    await message.reply_html("Passed on to the asker. Thank you!", reply_markup=save)


@storage_guard
async def on_rate_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    reply_id, helpful = data.int_arg(0), data.int_arg(1) == 1
    ok = False
    if reply_id is not None:
        async with svc.database.transaction() as session:
            ok = await panel.rate_reply(session=session, reply_id=reply_id, asker_id=query.from_user.id,
                                        helpful=helpful)
    await query.answer("Thanks for rating the answer." if ok else NOT_YOURS, show_alert=not ok)


@storage_guard
async def on_resolve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    svc = services(context)
    question_id = cb.parse(query.data).int_arg(0)
    question = None
    if question_id is not None:
        async with svc.database.transaction() as session:
            question = await panel.resolve_question(session=session, question_id=question_id,
                                                    asker_id=query.from_user.id, now=svc.clock())
    if question is None:
        await query.answer(NOT_YOURS, show_alert=True)
        return
    await query.answer("Marked as answered. Thanks!")
    await send_html(context, query.from_user.id, f"✅ Question #{question.id} is marked as answered.")
    try:
        await send_html(context, question.panel_chat_id, f"✅ Question #{question.id} is resolved: thank you, panel.")
    except (Forbidden, BadRequest):
        log.warning("Could not tell the panel that question %s is resolved", question.id)


@storage_guard
async def on_save_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    svc = services(context)
    if not svc.settings.is_admin(query.from_user.id):
        await query.answer("Sorry, only admins can save answers to the knowledge base.", show_alert=True)
        return
    reply_id = cb.parse(query.data).int_arg(0)
    draft = None
    if reply_id is not None:
        async with svc.database.transaction() as session:
            draft = await panel.save_draft(session=session, reply_id=reply_id, now=svc.clock())
    if draft is None:
        await query.answer("That reply no longer exists.", show_alert=True)
        return
    await query.answer(f"Saved as draft #{draft.id}. Curators: run `partnerbot kb drafts`.", show_alert=True)


@job_guard("Panel timeout check")
async def report_unanswered(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: questions nobody answered in time get an apology and the nearest entries."""
    svc = services(context)
    async with svc.database.transaction() as session:  # the claim is committed before anyone is told
        expired = await panel.claim_unanswered(session=session, now=svc.clock(),
                                               after=timedelta(hours=svc.settings.panel_timeout_hours))
    for question in expired:
        if question.asker_id is None:
            continue
        nearest = svc.matcher.search(question.text, 3)
        rows = [[InlineKeyboardButton(short(m.entry.question), callback_data=cb.make(cb.OPEN_ENTRY, m.entry.id))]
                for m in nearest]
        text = (f"I'm sorry: nobody on the panel has answered your question #{question.id} yet:\n"
                f"<blockquote>{escape(short(question.text, 300))}</blockquote>\n"
                + ("These answers are the nearest I have:" if rows else "Please try asking in other words."))
        try:
            await send_html(context, question.asker_id, text, InlineKeyboardMarkup(rows) if rows else None)
        except (Forbidden, BadRequest):
            log.info("Could not reach the asker of panel question %s", question.id)


async def _edit_or_send(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    query = update.callback_query
    try:
        if query is not None:
            await query.edit_message_text(text)
            return
    except BadRequest:
        pass
    if update.effective_chat:
        await send_html(context, update.effective_chat.id, text)


def register(application: Application) -> None:  # type: ignore[type-arg]
    svc = application.bot_data["services"]
    panel_chat = svc.settings.panel_chat_id
    if panel_chat is not None:
        # Before the group question handler: a reply in the panel group is an answer, not a question.
        application.add_handler(MessageHandler(filters.Chat(panel_chat) & filters.REPLY & filters.TEXT
                                               & ~filters.COMMAND, on_panel_reply), group=HandlerGroup.PANEL_REPLY)
    application.add_handler(CallbackQueryHandler(on_ask_panel, pattern=cb.pattern(cb.ASK_PANEL)))
    application.add_handler(CallbackQueryHandler(on_panel_consent, pattern=cb.pattern(cb.PANEL_CONSENT)))
    application.add_handler(CallbackQueryHandler(on_panel_cancel, pattern=cb.pattern(cb.PANEL_CANCEL)))
    application.add_handler(CallbackQueryHandler(on_rate_reply, pattern=cb.pattern(cb.RATE_REPLY)))
    application.add_handler(CallbackQueryHandler(on_resolve, pattern=cb.pattern(cb.RESOLVE)))
    application.add_handler(CallbackQueryHandler(on_save_draft, pattern=cb.pattern(cb.SAVE_DRAFT)))
    if application.job_queue is not None:
        application.job_queue.run_repeating(report_unanswered, interval=600, first=30, name="panel-timeouts")
