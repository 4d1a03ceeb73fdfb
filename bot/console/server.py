"""Serving the console: on its own (``partnerbot web``), or inside ``partnerbot run`` beside the bot; and
Telegram's webhook.

In webhook mode the webhook is a Starlette route on one uvicorn server, as python-telegram-bot's custom-webhook
example does (examples/customwebhookbot/starlettebot.py): the application is started without its own web
server and the route writes each update into the inbox (bot.core.inbox) before Telegram gets its 200, then
puts it on the update queue. So a crash after the 200 loses nothing (the update is handled after the restart)
and a delivery Telegram repeats is handled once, as with long polling. With WEB_PORT the console's pages are on
the same server; without it the server holds the webhook alone. With long polling the console's server simply
runs on the same event loop as the bot. One process either way.
"""

from __future__ import annotations

import hmac
import logging
import socket
import sys
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

from bot.console.web import Console, console_routes, create_app
from bot.core.inbox import INBOX_KEY, Inbox
from bot.core.services import Services

log = logging.getLogger(__name__)

#: The first path segments the console uses; Telegram's webhook must not take one of them.
CONSOLE_PREFIXES = frozenset("/" + route.path.strip("/").split("/")[0] for route in console_routes()) - {"/"}


class ConsoleSetupError(Exception):
    """The console cannot be served as set up (a busy port, a clashing webhook path); ``str()`` is the line."""


def console_for(services: Services) -> Console:
    settings = services.settings
    return Console(services=services, secure_cookies=settings.console_base_url.startswith("https://"))


def listen_socket(host: str, port: int, setting: str = "WEB_PORT") -> socket.socket:
    """Bind and listen before anything is printed, so the printed link works the moment it is read."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = "--port / WEB_PORT" if setting == "WEB_PORT" else setting
        raise ConsoleSetupError(f"Setting {setting}: cannot listen on {host}:{port}: {exc.strerror or exc} "
                                f"(is something else using it? choose another with {hint})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def uvicorn_server(app: Any, *, log_level: str = "warning") -> Any:
    import uvicorn

    config = uvicorn.Config(app=app, log_level=log_level.lower(), access_log=False, use_colors=False,
                            lifespan="off", proxy_headers=False, server_header=False)
    return uvicorn.Server(config)


async def serve_console_alone(services: Services, sock: socket.socket) -> None:
    """``partnerbot web``: print a one-time sign-in link as the first line, then serve until Ctrl-C."""
    from bot.console.auth import create_signin

    host, port = sock.getsockname()[:2]
    console = console_for(services)
    shown_host = f"[{host}]" if ":" in host else host
    async with services.database.transaction() as session:
        token = await create_signin(session=session, admin_id=None, now=services.clock())
    print(f"http://{shown_host}:{port}/signin?t={token}", flush=True)
    print(f"Open the link above to sign in (it works once, for 10 minutes). Serving the console on "
          f"{shown_host}:{port}; press Ctrl-C to stop.", file=sys.stderr, flush=True)
    server = uvicorn_server(create_app(console), log_level="warning")
    await server.serve(sockets=[sock])


def webhook_route(application: Any, secret: str | None, path: str) -> Any:
    """Telegram's webhook as a Starlette route: checks the secret, writes the update into the inbox, then queues
    it; a repeat delivery of an update already in the inbox gets its 200 and is not handled again."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from telegram import Update

    async def telegram(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if secret is not None and not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=HTTPStatus.FORBIDDEN)
        try:
            data = await request.json()
            update = Update.de_json(data=data, bot=application.bot)
        except (ValueError, TypeError, KeyError):
            return Response(status_code=HTTPStatus.BAD_REQUEST)
        inbox: Inbox | None = application.bot_data.get(INBOX_KEY)
        if inbox is not None and not await inbox.record([update]):
            return Response()  # delivered again by Telegram: already recorded, so handled (or being handled)
        await application.update_queue.put(update)
        return Response()

    return Route("/" + path.lstrip("/"), telegram, methods=["POST"])


async def run_bot_with_console(application: Any, services: Services, allowed_updates: list[str]) -> None:
    """``partnerbot run`` with WEB_PORT and/or WEBHOOK_URL: the bot and its web server in one process and one
    event loop.

    With WEB_PORT the server holds the console, and the webhook too when WEBHOOK_URL is set (one ASGI server);
    otherwise the bot long-polls beside it. With WEBHOOK_URL alone the server holds only the webhook, on
    WEBHOOK_LISTEN:WEBHOOK_PORT. Ctrl-C or SIGTERM stops both.
    """
    settings = services.settings
    assert settings.web_port is not None or settings.webhook_url
    routes = []
    if settings.webhook_url:
        path = urlparse(settings.webhook_url).path.rstrip("/")
        first = path.strip("/").split("/")[0]
        if settings.web_port is not None and (not first or f"/{first}" in CONSOLE_PREFIXES):
            raise ConsoleSetupError(f"Setting WEBHOOK_URL: its path {path or '/'!r} is a console page; with WEB_PORT "
                                    "set, the webhook and the console share one server, so use a path of its own "
                                    "such as /telegram")
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        routes.append(webhook_route(application, secret, path))
    if settings.web_port is None:  # the webhook alone
        from starlette.applications import Starlette

        sock = listen_socket(settings.webhook_listen, settings.webhook_port, "WEBHOOK_PORT")
        server = uvicorn_server(Starlette(routes=routes), log_level="warning")
    else:
        sock = listen_socket(settings.web_listen, settings.web_port)
        server = uvicorn_server(create_app(console_for(services), extra_routes=routes), log_level="warning")
    async with application:
        if application.post_init:
            await application.post_init(application)
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await application.bot.set_webhook(url=settings.webhook_url, allowed_updates=allowed_updates,
                                              secret_token=secret)
        else:
            await application.updater.start_polling(allowed_updates=allowed_updates, drop_pending_updates=False)
        await application.start()
        if settings.web_port is None:
            log.info("Starting in webhook mode on %s:%s", settings.webhook_listen, settings.webhook_port)
        else:
            log.info("Console on %s:%s (%s)", settings.web_listen, settings.web_port,
                     "with the webhook" if settings.webhook_url else "beside long polling")
        try:
            await server.serve(sockets=[sock])
        finally:
            if application.updater.running:
                await application.updater.stop()
            await application.stop()
    if application.post_shutdown:
        await application.post_shutdown(application)
