"""/console in a private chat: an admin gets a one-time sign-in link to the web console.

Only ADMIN_IDS get one, only in a private chat (a link in a group could be used by anyone there), and the
link is sent without a preview so Telegram's preview fetcher never opens it.
"""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.console.auth import SIGNIN_VALID, create_signin
from bot.core.messages import send_html
from bot.core.services import services
from bot.core.storage import storage_guard
from knowledge.render import escape

COMMANDS: list[object] = []  # admin-only: not in the public command menu
NOT_AVAILABLE = "Sorry, that command isn't available."


@storage_guard
async def on_console(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    svc = services(context)
    if user is None or not svc.settings.is_admin(user.id):
        await send_html(context, chat.id, NOT_AVAILABLE)
        return
    if chat.type != ChatType.PRIVATE:
        await send_html(context, chat.id, "I send console links only in a private chat: message me directly.")
        return
    async with svc.database.transaction() as session:
        token = await create_signin(session=session, admin_id=user.id, now=svc.clock())
    link = f"{svc.settings.console_base_url}/signin?t={token}"
    minutes = int(SIGNIN_VALID.total_seconds() // 60)
    await context.bot.send_message(
        chat.id, f"Your sign-in link for the console (it works once, for {minutes} minutes; don't share it):\n"
                 f"{escape(link)}", link_preview_options=LinkPreviewOptions(is_disabled=True))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("console", on_console))
