"""Asking in chat: any text in a private chat is a question; in a group only /ask, a mention or a
reply to the bot. Also the buttons under an answer: follow-ups, the template, 👍 / 👎."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core import callbacks as cb
from bot.core.forms.conversation import ANSWERER_KEY
from bot.core.messages import send_html
from bot.core.services import Services, services
from bot.core.storage import storage_guard
from bot.core.text import clean_line
from bot.questions import answers
from bot.questions.asking import QuestionOutcome, bound_question, log_question, record_vote
from bot.questions.handlers.jobs import question_tally
from knowledge.docx_export import template_docx

log = logging.getLogger(__name__)

COMMANDS = [BotCommand("ask", "Ask a question (in groups: /ask your question)")]

ASK_HOW = "Type your question after /ask, for example:\n<code>/ask how do we choose the right partners?</code>"
GONE = "Sorry, that answer is no longer in my knowledge base. Try /topics, or ask me again in your own words."


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Match ``text`` and reply with an answer, suggestions or an honest decline."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    svc = services(context)
    question = bound_question(text)
    if not question:
        await message.reply_html(ASK_HOW)
        return
    prefix = answers.LONG_MESSAGE_NOTE if len(clean_line(text)) > len(question) else ""
    outcome = svc.matcher.ask(question)
    reply_to = message.message_id if chat.type != ChatType.PRIVATE else None
    if outcome.kind == "smalltalk" and outcome.talk is not None:  # not a question: never an entry, never a gap
        await send_html(context, chat.id, answers.small_talk_text(outcome.talk), reply_to=reply_to)
        return
    kind = QuestionOutcome(outcome.kind)
    question_tally(context).add(kind, svc.clock())  # in memory: an answer never waits for the count
    if kind == QuestionOutcome.ANSWER and outcome.best is not None:
        entry = outcome.best.entry
        await send_html(context, chat.id, prefix + answers.entry_text(entry), answers.entry_markup(entry, svc.kb),
                        reply_to=reply_to)
        return
    log_id: int | None
    try:
        async with svc.database.transaction() as session:
            log_id = await log_question(session=session, user_id=user.id if user else None, text=question,
                                        outcome=kind, best_score=outcome.score,
                                        best_entry_id=outcome.best.entry.id if outcome.best else None,
                                        now=svc.clock())
    except (SQLAlchemyError, OSError) as exc:
        # Not the storage guard: the person still gets the decline or the choices, only without the panel button.
        log.warning("Could not log a question (%s); answering anyway", type(exc).__name__)
        log_id = None
    has_panel = svc.settings.panel_chat_id is not None
    panel_log_id = log_id if has_panel and chat.type == ChatType.PRIVATE else None
    if kind == QuestionOutcome.SUGGEST and outcome.suggestions:
        entries = [match.entry for match in outcome.suggestions]
        await send_html(context, chat.id, prefix + answers.suggest_text(panel_log_id is not None),
                        answers.suggestions_markup(entries, panel_log_id=panel_log_id), reply_to=reply_to)
        return
    unavailable = has_panel and log_id is None
    await send_html(context, chat.id, prefix + answers.decline_text(svc.settings.real_help(), outcome.outside,
                                                                    unavailable),
                    answers.decline_markup(panel_log_id=panel_log_id), reply_to=reply_to)


async def answer_if_confident(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """For a question typed into a form: answer it only when the knowledge base is confident (True when sent).
    Anything less is left to the form, which asks whether the text was meant as its answer."""
    chat = update.effective_chat
    question = bound_question(text)
    if chat is None or not question:
        return False
    outcome = services(context).matcher.ask(question)
    if outcome.kind != QuestionOutcome.ANSWER or outcome.best is None:
        return False
    entry = outcome.best.entry
    await send_html(context, chat.id, answers.entry_text(entry), answers.entry_markup(entry, services(context).kb))
    return True


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message and update.effective_message.text:
        await answer_question(update, context, update.effective_message.text)


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_question(update, context, " ".join(context.args or []))


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group, answer only a mention of the bot or a reply to one of its messages."""
    message = update.effective_message
    if message is None or not message.text:
        return
    bot = context.bot
    replied = message.reply_to_message
    is_reply_to_bot = replied is not None and replied.from_user is not None and replied.from_user.id == bot.id
    mention = f"@{bot.username}".lower() if bot.username else None
    mentioned = mention is not None and mention in message.text.lower()
    if not (is_reply_to_bot or mentioned):
        return
    text = message.text
    if mention:
        start = text.lower().find(mention)
        if start >= 0:
            text = text[:start] + text[start + len(mention):]
    await answer_question(update, context, text)


async def on_open_entry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    svc = services(context)
    args = cb.parse(query.data).args
    entry = svc.kb.get(args[0]) if args else None
    if entry is None:
        await query.answer()
        await send_html(context, update.effective_chat.id, GONE)
        return
    await query.answer()
    await send_html(context, update.effective_chat.id, answers.entry_text(entry), answers.entry_markup(entry, svc.kb))


async def on_template(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    svc = services(context)
    data = cb.parse(query.data)
    entry = svc.kb.get(data.args[0]) if data.args else None
    path = svc.kb.template_path(entry) if entry else None
    if entry is None or path is None:
        await query.answer("Sorry, that template is no longer available.", show_alert=True)
        return
    await query.answer("Sending the template…")
    caption = f"📄 {answers.escape(entry.question)}"
    try:  # the Word copy is what most people edit; the Markdown stays the source and is sent too
        docx_name, docx_bytes = template_docx(path)
    except Exception:  # a template Word cannot take must not stop the Markdown one
        log.exception("Could not make a Word copy of %s", path.name)
        docx_name, docx_bytes = None, b""
    if docx_name:
        await context.bot.send_document(update.effective_chat.id, docx_bytes, filename=docx_name,
                                        caption=caption + " (Word)")
    with path.open("rb") as handle:
        await context.bot.send_document(update.effective_chat.id, handle, filename=path.name,
                                        caption=caption + " (plain text)")


@storage_guard
async def on_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    svc: Services = services(context)
    data = cb.parse(query.data)
    entry_id, helpful = (data.args[0] if data.args else ""), data.int_arg(1) == 1
    if svc.kb.get(entry_id) is None:
        await query.answer("That answer is no longer in my knowledge base.")
        return
    async with svc.database.transaction() as session:
        new = await record_vote(session=session, user_id=query.from_user.id, entry_id=entry_id, helpful=helpful,
                                now=svc.clock())
    thanks = "Thanks! Glad it helped." if helpful else "Thanks for telling me. The team will look at this answer."
    await query.answer(thanks if new else "Thanks, I've updated your feedback.")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.bot_data[ANSWERER_KEY] = answer_if_confident  # the forms ask through this, not by import
    application.add_handler(CommandHandler("ask", on_ask))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE,
                                           on_private_text))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS,
                                           on_group_text))
    application.add_handler(CallbackQueryHandler(on_open_entry, pattern=cb.pattern(cb.OPEN_ENTRY)))
    application.add_handler(CallbackQueryHandler(on_template, pattern=cb.pattern(cb.TEMPLATE)))
    application.add_handler(CallbackQueryHandler(on_vote, pattern=cb.pattern(cb.VOTE)))
