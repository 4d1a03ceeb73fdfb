"""/start and /help: the welcome a newcomer sees first, and the list of what to try."""

from __future__ import annotations

from telegram import BotCommand, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.messages import send_html
from knowledge.render import escape

COMMANDS = [
    BotCommand("start", "What this bot does"),
    BotCommand("help", "What you can ask and the commands"),
]

WELCOME = (
    "Hello {name}! I'm <b>PartnerBot</b>, here for voluntary and community groups working in partnership.\n"
    "• <b>Ask me anything</b> about partnerships, consortia, joint bids or agreements: just type it.\n"
    "• I can find you a <b>mentor buddy</b> who has been through it before.\n"
    "• I can <b>nudge your partnership</b> to review how it is going, regularly.\n\n"
    "Try: <i>How do we choose the right partners?</i> or send /help."
)

HELP = (
    "<b>How to use me</b>\n"
    "Type a question in your own words, for example <i>what goes in a memorandum of understanding</i>. "
    "If I'm not sure, I'll say so and show the nearest questions.\n\n"
    "<b>Commands</b>\n"
    "{commands}\n\n"
    "In a group, start with /ask or mention me, and I'll answer only that."
)


def _command_lines(context: ContextTypes.DEFAULT_TYPE) -> str:
    commands: list[BotCommand] = context.application.bot_data.get("commands", COMMANDS)
    return "\n".join(f"/{c.command}: {escape(c.description)}" for c in commands)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    name = escape(user.first_name) if user and user.first_name else "there"
    if update.effective_chat:
        await send_html(context, update.effective_chat.id, WELCOME.format(name=name))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat:
        await send_html(context, update.effective_chat.id, HELP.format(commands=_command_lines(context)))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
