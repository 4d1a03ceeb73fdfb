"""``partnerbot web``: the console on this machine, with a one-time sign-in link printed first.

Imports stay inside the command so that ``partnerbot --help`` does not pay for Starlette and uvicorn.
"""

from __future__ import annotations

from typing import Annotated

import typer


def web(port: Annotated[int | None, typer.Option("--port", min=1, max=65535,
                                                 help="Port to listen on (default WEB_PORT, else 8080).")] = None,
        host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default WEB_LISTEN, "
                                                                "127.0.0.1: this machine only).")] = None) -> None:
    """Serve the web console for admins; prints a one-time sign-in link as its first line. No token needed."""
    from bot.console.server import ConsoleSetupError, listen_socket, serve_console_alone
    from bot.core.commands import fail, settings_or_exit
    from bot.core.startup import StartupError, configure_logging, prepare

    settings = settings_or_exit()
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
    listen = host or settings.web_listen
    chosen = port or settings.web_port or 8080

    async def _main() -> None:
        sock = listen_socket(listen, chosen)  # a busy port is said before any start-up work
        services = await prepare(settings)
        try:
            await serve_console_alone(services, sock)
        finally:
            await services.database.dispose()

    import asyncio

    try:
        asyncio.run(_main())
    except (StartupError, ConsoleSetupError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
