"""Inline mode: ``@botname words`` in any chat lists the best matching entries; choosing one posts it.

An empty query lists the most helpful entries (by 👍), or the first of each theme when nobody has
voted yet, so the list is never empty.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, InlineQueryHandler

from bot.core.keyboards import short
from bot.core.services import services
from bot.questions.answers import entry_text
from bot.questions.asking import bound_question, popular_entry_ids
from knowledge.render import TELEGRAM_LIMIT, split_html, to_plain
from knowledge.schema import Entry

MAX_RESULTS = 10

log = logging.getLogger(__name__)


def _article(entry: Entry) -> InlineQueryResultArticle:
    text = entry_text(entry)
    if len(text) > TELEGRAM_LIMIT:
        text = split_html(text)[0]
    return InlineQueryResultArticle(
        id=entry.id, title=short(entry.question, 100), description=short(to_plain(entry.answer), 120),
        input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML))


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    svc = services(context)
    words = bound_question(query.query)
    if words:
        entries = [match.entry for match in svc.matcher.search(words, MAX_RESULTS)]
    else:
        try:
            async with svc.database.transaction() as session:
                ids = await popular_entry_ids(session=session, limit=MAX_RESULTS)
        except (SQLAlchemyError, OSError) as exc:
            # Not the storage guard: an inline query cannot be told "try again", and the theme list still serves.
            log.warning("Inline mode without popular entries (%s)", type(exc).__name__)
            ids = []
        if len(ids) < MAX_RESULTS:
            ids += [theme.entry_ids[0] for theme in svc.kb.sorted_themes() if theme.entry_ids]
        entries = [e for e in dict.fromkeys(svc.kb.get(i) for i in ids) if e is not None][:MAX_RESULTS]
    await query.answer([_article(entry) for entry in entries], cache_time=30, is_personal=False)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(InlineQueryHandler(on_inline_query))
