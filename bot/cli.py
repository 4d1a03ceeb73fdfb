"""The ``partnerbot`` command: run the bot, chat with it locally, ask it, and look after its data.

Every command turns a known failure (a bad setting, a dead database, a broken knowledge file) into
one line on standard error and a non-zero exit status; there is no traceback for a person to decode.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bot.admin import cli as admin_cli
from bot.console import cli as console_cli
from bot.core.commands import fail, run_async, settings_or_exit
from bot.mentoring import cli as mentors_cli
from bot.reviews import cli as reviews_cli

app = typer.Typer(help="PartnerBot: a Telegram bot for voluntary and community organisations working "
                       "in partnership.", no_args_is_help=True, pretty_exceptions_enable=False,
                  # Plain help: typer draws rich boxes otherwise, and importing rich costs --help ~0.3 s.
                  rich_markup_mode=None,
                  add_completion=False)
db_app = typer.Typer(help="Look after the database.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")
app.add_typer(admin_cli.app, name="kb")
app.add_typer(mentors_cli.app, name="mentors")
app.add_typer(reviews_cli.app, name="reviews")


@app.command()
def run() -> None:
    """Run the bot on Telegram (long polling, or a webhook when WEBHOOK_URL is set), and the console with WEB_PORT."""
    from bot.runner import run_telegram

    settings = settings_or_exit()
    if not settings.token:
        fail("Setting TELEGRAM_BOT_TOKEN: is not set (get one from @BotFather and put it in .env); "
             "to try the bot without Telegram, run: partnerbot chat")
    run_telegram(settings)


@app.command()
def chat(name: str = typer.Option(None, "--name", help="Your first name in the chat (default: your login name)."),
         fresh: bool = typer.Option(False, "--fresh", help="Start on an empty database (a temporary one, thrown "
                                                           "away at the end; ./data is not touched).")) -> None:
    """Chat with the bot in this terminal: no token needed. Reads a pipe too, ending at end of input.
    Type ::help in the chat for the stand-ins (::as, ::me, ::group, ::admin, ::time ...)."""
    import tempfile

    from bot.core.startup import configure_logging, prepare
    from bot.terminal import run_terminal_chat

    settings = settings_or_exit()
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)

    async def _main(database_url: str | None) -> int:
        chosen = settings.model_copy(update={"database_url": database_url}) if database_url else settings
        services = await prepare(chosen)
        try:
            return await run_terminal_chat(services, name=name)
        finally:
            await services.database.dispose()

    if not fresh:
        raise typer.Exit(run_async(lambda: _main(None)))
    with tempfile.TemporaryDirectory(prefix="partnerbot-chat-") as folder:
        code = run_async(lambda: _main(f"sqlite+aiosqlite:///{folder}/partnerbot.db"))
    raise typer.Exit(code)


@app.command()
def ask(question: Annotated[str | None, typer.Argument(help="The question; omit it with --json to read "
                                                            "one question per line from standard input.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object per question.")] = False
        ) -> None:
    """Ask the knowledge base a question, as the bot would answer it."""
    # Only the knowledge base and its matcher: no database driver, no migrations, so it answers quickly.
    from knowledge.ask import ask_main

    if question is None and not json_output:
        fail("Give a QUESTION, or use --json to read questions from standard input.")
    settings = settings_or_exit()
    raise typer.Exit(ask_main(question, json_output, settings.themes_dir, settings.templates_dir,
                              settings.real_help()))


@app.command()
def doctor() -> None:
    """Check settings, database and knowledge base, and say what is ready and what is not."""
    from bot.core.doctor import run_doctor

    raise typer.Exit(run_doctor())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (run and chat also do this when they start)."""
    from bot.core.config import mask_url
    from bot.core.startup import open_database
    from db.migrate import current_revision

    settings = settings_or_exit()

    async def _main() -> str | None:
        database = await open_database(settings)
        try:
            return await current_revision(database)
        finally:
            await database.dispose()

    revision = run_async(_main)
    typer.echo(f"Database {mask_url(settings.database_url)} is at revision {revision}.")


app.command("web")(console_cli.web)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # e.g. `partnerbot kb stats | head`
        sys.stderr.close()


if __name__ == "__main__":
    main()
