"""/topics: browse the knowledge base by theme, then by question, a page at a time, with buttons."""

from __future__ import annotations

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.core import callbacks as cb
from bot.core.keyboards import short
from bot.core.messages import send_html
from bot.core.services import services
from knowledge.loader import KnowledgeBase
from knowledge.render import escape

COMMANDS = [BotCommand("topics", "Browse what I know, by theme")]
THEMES_PER_PAGE = 8
QUESTIONS_PER_PAGE = 6


def _pager(action: str, page: int, pages: int, *prefix: object) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("◀️ Back", callback_data=cb.make(action, *prefix, page - 1)))
    if page < pages - 1:
        row.append(InlineKeyboardButton("More ▶️", callback_data=cb.make(action, *prefix, page + 1)))
    return row


def themes_page(kb: KnowledgeBase, page: int) -> tuple[str, InlineKeyboardMarkup]:
    themes = kb.sorted_themes()
    pages = max(1, -(-len(themes) // THEMES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = themes[page * THEMES_PER_PAGE:(page + 1) * THEMES_PER_PAGE]
    rows = [[InlineKeyboardButton(f"{theme.title} ({len(theme.entry_ids)})",
                                  callback_data=cb.make(cb.THEME, theme.slug, 0))] for theme in shown]
    if pager := _pager(cb.THEMES, page, pages):
        rows.append(pager)
    text = f"<b>Topics</b> (page {page + 1} of {pages})\nChoose a theme to see its questions."
    return text, InlineKeyboardMarkup(rows)


def theme_page(kb: KnowledgeBase, slug: str, page: int) -> tuple[str, InlineKeyboardMarkup] | None:
    theme = kb.themes.get(slug)
    if theme is None:
        return None
    entries = [kb.entries[eid] for eid in theme.entry_ids if eid in kb.entries]
    pages = max(1, -(-len(entries) // QUESTIONS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = entries[page * QUESTIONS_PER_PAGE:(page + 1) * QUESTIONS_PER_PAGE]
    rows = [[InlineKeyboardButton(short(entry.question), callback_data=cb.make(cb.OPEN_ENTRY, entry.id))]
            for entry in shown]
    nav = _pager(cb.THEME, page, pages, slug)
    nav.insert(0, InlineKeyboardButton("📚 All topics", callback_data=cb.make(cb.THEMES, 0)))
    rows.append(nav)
    text = f"<b>{escape(theme.title)}</b> (page {page + 1} of {pages})\nTap a question to see the answer."
    return text, InlineKeyboardMarkup(rows)


async def on_topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is None:
        return
    text, markup = themes_page(services(context).kb, 0)
    await send_html(context, update.effective_chat.id, text, markup)


async def on_themes_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    text, markup = themes_page(services(context).kb, cb.parse(query.data).int_arg(0) or 0)
    await _show(update, context, text, markup)


async def on_theme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    data = cb.parse(query.data)
    page = theme_page(services(context).kb, data.args[0] if data.args else "", data.int_arg(1) or 0)
    if page is None:
        await query.answer("That theme has changed since: here are the topics as they are now.")
        page = themes_page(services(context).kb, 0)
    await _show(update, context, *page)


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, markup: InlineKeyboardMarkup) -> None:
    """Turn the page in place; if the old message cannot be edited, send a new one."""
    query = update.callback_query
    assert query is not None
    try:
        await query.answer()
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        if update.effective_chat:
            await send_html(context, update.effective_chat.id, text, markup)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("topics", on_topics))
    application.add_handler(CallbackQueryHandler(on_themes_page, pattern=cb.pattern(cb.THEMES)))
    application.add_handler(CallbackQueryHandler(on_theme, pattern=cb.pattern(cb.THEME)))
