"""How an answer, a "did you mean" and a decline look in chat: text and buttons, no sending.

Kept apart from the handlers so the same rendering serves private chats, groups, button presses and
inline mode, and can be tested without Telegram.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import callbacks as cb
from bot.core.keyboards import short
from knowledge.loader import KnowledgeBase
from knowledge.render import escape, to_html
from knowledge.schema import Entry
from knowledge.sources import human_source

LONG_MESSAGE_NOTE = "That's a long message, so I read the first 1,000 characters.\n\n"
TOPICS_HINT = ("I know about partnership working: finding partners, consortia and joint bids, agreements and "
               "MoUs, governance, culture and conflict, reviewing a partnership, and more.")


def entry_text(entry: Entry) -> str:
    """An entry as Telegram HTML: the question, the answer, and a one-line source."""
    return (f"<b>{escape(entry.question)}</b>\n\n{to_html(entry.answer)}\n\n"
            f"<i>From: {escape(human_source(entry.source))}</i>")


def entry_markup(entry: Entry, kb: KnowledgeBase) -> InlineKeyboardMarkup:
    """Follow-up questions, the template if there is one, and the 👍 / 👎 feedback row."""
    rows = [[InlineKeyboardButton("➡️ " + short(related.question), callback_data=cb.make(cb.OPEN_ENTRY, related.id))]
            for related in (kb.get(rid) for rid in entry.related) if related is not None]
    if kb.template_path(entry) is not None:
        rows.append([InlineKeyboardButton("📄 Send me the template", callback_data=cb.make(cb.TEMPLATE, entry.id))])
    rows.append([InlineKeyboardButton("👍 Helpful", callback_data=cb.make(cb.VOTE, entry.id, 1)),
                 InlineKeyboardButton("👎 Not helpful", callback_data=cb.make(cb.VOTE, entry.id, 0))])
    return InlineKeyboardMarkup(rows)


def suggestions_markup(entries: list[Entry], *, panel_log_id: int | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(short(entry.question), callback_data=cb.make(cb.OPEN_ENTRY, entry.id))]
            for entry in entries[:3]]
    rows.append(_way_on(panel_log_id))
    return InlineKeyboardMarkup(rows)


def decline_markup(*, panel_log_id: int | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([_way_on(panel_log_id)])


def _way_on(panel_log_id: int | None) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton("📚 Browse topics", callback_data=cb.make(cb.THEMES, 0))]
    if panel_log_id is not None:
        row.append(InlineKeyboardButton("🙋 Ask the panel", callback_data=cb.make(cb.ASK_PANEL, panel_log_id)))
    return row


def suggest_text(has_panel: bool) -> str:
    extra = " If none of these fits, you can ask our panel of people." if has_panel else ""
    return "I'm not sure I've understood. Did you mean one of these?" + extra


def decline_text(has_panel: bool, panel_unavailable: bool = False) -> str:
    text = "Sorry, I don't have an answer to that. " + TOPICS_HINT
    if has_panel and not panel_unavailable:
        text += "\n\nYou can browse the topics, or send your question to our panel of people who know."
    elif panel_unavailable:
        text += "\n\nI can't reach the panel just now: please try again in a minute."
    else:
        text += "\n\nTry other words, or browse the topics."
    return text
