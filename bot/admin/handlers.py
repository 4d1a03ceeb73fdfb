"""Admin commands in chat (only for ADMIN_IDS).

/gaps shows what people asked that the bot could not answer, /drafts sends the panel answers saved for
the curators, /reload picks up an edited knowledge base without a restart. Anyone who is not an admin
gets a polite "not available" and learns nothing about what exists.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.messages import send_html
from bot.core.services import services
from bot.core.startup import StartupError, reload_knowledge
from bot.core.storage import storage_guard
from bot.panel.store import drafts_yaml, list_drafts
from bot.questions.gaps import find_gaps
from knowledge.render import escape

log = logging.getLogger(__name__)

NOT_AVAILABLE = "Sorry, that command isn't available."
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(handler: Handler) -> Handler:
    """Let only ADMIN_IDS through; everyone else gets a polite "not available" that reveals nothing."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        if user is None or not services(context).settings.is_admin(user.id):
            await send_html(context, chat.id, NOT_AVAILABLE)
            return
        await handler(update, context)

    return guarded


@admin_only
@storage_guard
async def on_gaps(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    assert chat is not None  # admin_only lets only admins in a chat through
    svc = services(context)
    days = 30
    if context.args and context.args[0].isdigit():
        days = max(1, min(int(context.args[0]), 365))
    async with svc.database.transaction() as session:
        gaps = await find_gaps(session=session, now=svc.clock(), days=days, limit=15)
    if not gaps:
        await send_html(context, chat.id, f"No unanswered questions in the last {days} days. 🎉")
        return
    lines = [f"<b>Unanswered questions, last {days} days</b> (most asked first)"]
    lines += [f"{n}. {escape(gap.example)} <i>({gap.count}×)</i>" for n, gap in enumerate(gaps, start=1)]
    await send_html(context, chat.id, "\n".join(lines))


@admin_only
async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reload the knowledge base from disk; a broken file keeps the old one running and says why."""
    chat = update.effective_chat
    assert chat is not None  # admin_only lets only admins in a chat through
    svc = services(context)
    try:
        kb = reload_knowledge(svc)
    except StartupError as exc:
        await send_html(context, chat.id, f"I kept the current knowledge base: the new one has a problem.\n"
                                          f"<code>{escape(str(exc))}</code>")
        return
    await send_html(context, chat.id, f"Reloaded: {len(kb)} entries in {len(kb.themes)} themes. "
                                      "Old buttons keep working where their entries still exist.")


@admin_only
@storage_guard
async def on_drafts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the saved panel answers as a knowledge-base file for curators."""
    chat = update.effective_chat
    assert chat is not None  # admin_only lets only admins in a chat through
    svc = services(context)
    async with svc.database.transaction() as session:
        text = drafts_yaml(await list_drafts(session=session))
    if text is None:
        await send_html(context, chat.id, "No drafts yet: tap “Save to knowledge base” under a panel answer.")
        return
    await context.bot.send_document(chat.id, io.BytesIO(text.encode("utf-8")), filename="drafts.yaml",
                                    caption="Panel answers saved as drafts: edit, then add to knowledge/themes/.")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("gaps", on_gaps))
    application.add_handler(CommandHandler("reload", on_reload))
    application.add_handler(CommandHandler("drafts", on_drafts))
