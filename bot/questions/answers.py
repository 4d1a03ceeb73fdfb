"""How an answer, a "did you mean" and a decline look in chat: text and buttons, no sending.

Kept apart from the handlers so the same rendering serves private chats, groups, button presses and
inline mode, and can be tested without Telegram.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import callbacks as cb
from bot.core.keyboards import short
from knowledge.loader import KnowledgeBase
from knowledge.pointers import RealHelp, decline_lines
from knowledge.render import escape, to_html
from knowledge.schema import Entry
from knowledge.smalltalk import Talk, reply
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


def small_talk_text(talk: Talk) -> str:
    """A warm reply to "hi", "thanks", "are you a real person?"... that says what the bot can do."""
    return escape(reply(talk))


def decline_text(help_: RealHelp, outside: str | None = None, panel_unavailable: bool = False) -> str:
    """An honest decline: what the bot covers, the CVS that can really help, the panel only if there is one.

    ``outside`` names an uncovered near-topic subject ("insurance") the question is about, so the reply
    can say why rather than just "sorry".
    """
    lines = [escape(line) for line in decline_lines(help_, outside)]
    if outside is None:
        lines.insert(1, TOPICS_HINT)
    if panel_unavailable:
        lines[-1] = "I can't reach the panel just now: please try again in a minute."
    return "\n\n".join(lines)
