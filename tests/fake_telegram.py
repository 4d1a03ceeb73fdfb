"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests.

It serves the in-memory :class:`LocalBotApi` over real HTTP, so the bot under test (in this process or
started as ``partnerbot run`` in another) talks to it exactly as it would talk to Telegram: the same
URLs, form and multipart bodies, long-polled ``getUpdates``. The test side injects a person's messages
and button presses and waits, always with a time limit, for the bot's replies.
"""

from __future__ import annotations

import asyncio
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from bot.core.local_api import LocalBotApi, Sent

MAX_LONG_POLL = 0.5  # seconds a getUpdates call may wait here, whatever the bot asks for (a process test waits
# for the first poll to know the bot is up: a shorter poll tells it sooner)
DEFAULT_WAIT = 15.0


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    if content_type.startswith("application/json"):
        return (json.loads(body or b"{}"), {})
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            file_name = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if file_name:
                files[str(name)] = (file_name, payload)
            else:
                params[str(name)] = payload.decode("utf-8")
        return params, files
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}


class Mark(int):
    """A position in the bot's outbox (an int, so ``outbox[mark:]`` works) that also remembers how many button
    answers there were."""

    answers: int

    def __new__(cls, outbox: int, *, answers: int = 0) -> Mark:
        mark = super().__new__(cls, outbox)
        mark.answers = answers
        return mark


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep connections open, as Telegram's servers do

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path = urlparse(self.path).path
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = parts[0].removeprefix("bot"), parts[1]
        if token in self.server.rejected_tokens:
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params, files = _parse_body(self.headers.get("Content-Type", ""), body)
        api = self.server.api
        if method.lower() == "getupdates":
            offset = int(params.get("offset") or 0)
            timeout = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
            api.wait_updates(offset, timeout)
        envelope = api.call(method, params, files)
        status = 200 if envelope.get("ok") else int(envelope.get("error_code", 400))
        self._reply(status, envelope)

    def _reply(self, status: int, envelope: dict[str, Any]) -> None:
        data = json.dumps(envelope).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: LocalBotApi
    rejected_tokens: set[str]


class FakeTelegram:
    """The fake server plus the test side: people who send messages and wait for replies."""

    def __init__(self) -> None:
        self.api = LocalBotApi()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self.api
        self._server.rejected_tokens = set()
        # serve_forever looks for shutdown() every poll_interval (0.5 s by default): every test's stop waited it.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-telegram", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reject_token(self, token: str) -> None:
        self._server.rejected_tokens.add(token)

    # -- the person's side ----------------------------------------------------------------------
    @staticmethod
    def person(user_id: int, first_name: str = "Sam", username: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        return user

    @staticmethod
    def private_chat(user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    @staticmethod
    def group_chat(chat_id: int, title: str = "Partners") -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": title}

    def say(self, user: dict[str, Any], text: str, chat: dict[str, Any] | None = None,
            reply_to: int | None = None) -> dict[str, Any]:
        return self.api.send_text(user, chat or self.private_chat(user), text, reply_to)

    def press(self, user: dict[str, Any], sent: Sent, label_or_data: str,
              chat_id: int | None = None) -> str:
        """Tap the button whose label contains ``label_or_data`` (or whose data equals it)."""
        for label, data in sent.buttons():
            if label_or_data == data or label_or_data.lower() in label.lower():
                return self.api.press(user, chat_id or sent.chat_id, sent.message_id, data)
        raise AssertionError(f"no button {label_or_data!r} among {sent.buttons()}")

    async def replies(self, chat_id: int, count: int = 1, *, after: int = 0,
                      timeout: float = DEFAULT_WAIT) -> list[Sent]:
        """Wait until at least ``count`` things were sent to ``chat_id`` since outbox index ``after``."""

        def _enough() -> bool:
            return len([s for s in self.api.outbox[after:] if s.chat_id == chat_id]) >= count

        ok = await asyncio.to_thread(self.api.wait_for, _enough, timeout)
        got = [s for s in self.api.outbox[after:] if s.chat_id == chat_id]
        if not ok:
            raise AssertionError(f"waited {timeout}s for {count} message(s) to {chat_id}, got "
                                 f"{[s.text[:80] for s in got]}")
        return got

    async def reply_with(self, chat_id: int, phrase: str, *, after: int, timeout: float = DEFAULT_WAIT) -> Sent:
        """The first message (or edit) to ``chat_id`` since ``after`` whose text contains ``phrase``."""

        def _found() -> Sent | None:
            return next((s for s in self.api.outbox[after:]
                         if s.chat_id == chat_id and phrase.lower() in s.text.lower()), None)

        if not await asyncio.to_thread(self.api.wait_for, lambda: _found() is not None, timeout):
            got = [s.text[:100] for s in self.api.outbox[after:] if s.chat_id == chat_id]
            raise AssertionError(f"no message with {phrase!r} to {chat_id} within {timeout}s; got {got}")
        found = _found()
        assert found is not None
        return found

    async def answered(self, phrase: str, *, after: Mark, timeout: float = DEFAULT_WAIT) -> dict[str, Any]:
        """The first answer to a button tap (toast or alert) since ``after`` whose text contains ``phrase``."""

        def _found() -> dict[str, Any] | None:
            return next((a for a in self.api.callback_answers[after.answers:]
                         if phrase.lower() in (a.get("text") or "").lower()), None)

        if not await asyncio.to_thread(self.api.wait_for, lambda: _found() is not None, timeout):
            got = [a.get("text") for a in self.api.callback_answers[after.answers:]]
            raise AssertionError(f"no button answer with {phrase!r} within {timeout}s; got {got}")
        found = _found()
        assert found is not None
        return found

    async def settled(self, *people: dict[str, Any], timeout: float = DEFAULT_WAIT) -> None:
        """Return once the bot has handled everything ``people`` sent so far.

        A round trip instead of a sleep: each person sends an inline query (a marker; the flood guard lets
        inline queries through) and the bot handles one person's updates in order, so when every marker has
        its answer, all that came before it has been handled, and what it sent is in the outbox.
        """
        ids = {self.api.inline(person, "partnership") for person in people}

        def _answered() -> bool:
            return ids <= {a["inline_query_id"] for a in self.api.inline_answers}

        if not await asyncio.to_thread(self.api.wait_for, _answered, timeout):
            raise AssertionError(f"the bot did not answer the marker of {[p['id'] for p in people]} in {timeout}s")

    async def quiet(self, chat_id: int, *, after: int, by: dict[str, Any] | list[dict[str, Any]]) -> list[Sent]:
        """What was sent to ``chat_id`` since ``after``, once the bot has handled everything ``by`` (a person
        or a list of people) did: for asserting that nothing (or nothing more) was sent."""
        await self.settled(*(by if isinstance(by, list) else [by]))
        return [s for s in self.api.outbox[after:] if s.chat_id == chat_id]

    async def api_wait(self, predicate: Any, timeout: float = DEFAULT_WAIT) -> bool:
        """Wait, without blocking the event loop, until ``predicate()`` holds."""
        return await asyncio.to_thread(self.api.wait_for, predicate, timeout)

    def sent_to_any(self, *chat_ids: int) -> list[Sent]:
        """Everything the bot sent to any of ``chat_ids`` so far."""
        return [s for s in self.api.outbox if s.chat_id in chat_ids]

    def mark(self) -> Mark:
        """The present position: pass it as ``after`` to look only at newer messages and button answers."""
        return Mark(len(self.api.outbox), answers=len(self.api.callback_answers))
