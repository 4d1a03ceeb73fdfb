"""An in-memory stand-in for Telegram's Bot API, with a "person" side to talk to the bot.

Why it exists: ``partnerbot chat`` must run the very same python-telegram-bot ``Application`` as
Telegram, with no token and no network. The bot's HTTP requests are answered here instead of by
Telegram, and what it sends is kept in an outbox the terminal prints. The test suite wraps the same
object in an HTTP server on 127.0.0.1 so that ``partnerbot run`` can be driven as a real process.

It checks what Telegram checks and what a bot most often gets wrong: HTML that Telegram cannot parse,
texts over 4096 characters, callback data over 64 bytes. It is deliberately small: only the methods
the bot calls, with the fields the bot reads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "span", "blockquote", "tg-emoji"}


class BotApiError(Exception):
    """A Bot API error reply: the HTTP status code and Telegram's description."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class _TelegramHtml(HTMLParser):
    """Validates HTML the way Telegram does and measures the visible text length."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.visible = 0
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"unexpected end tag \"{tag}\""
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible += len(data.encode("utf-16-le")) // 2


def check_html(text: str) -> int:
    """Return the visible length of Telegram HTML, or raise BotApiError like Telegram would."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f"can't find end tag corresponding to start tag \"{parser.stack[-1]}\""
    if parser.rawdata:  # an unterminated '<...' left behind
        parser.error = parser.error or "unclosed start tag"
    if parser.error:
        raise BotApiError(400, f"Bad Request: can't parse entities: {parser.error}")
    return parser.visible


def _int(params: dict[str, Any], key: str, default: int | None = None) -> int:
    value = params.get(key, default)
    if value is None:
        raise BotApiError(400, f"Bad Request: {key} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BotApiError(400, f"Bad Request: {key} is invalid") from None


def _json(params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise BotApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return value


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")


class _FloodControl:
    """Telegram's flood limits for the benchmarks: about ``per_second`` messages a second in all and
    ``group_per_minute`` a minute per group, as token buckets (a full bucket allows a burst of that size,
    then it refills at the rate), the same model as the AIORateLimiter that paces the bot. A send over a
    limit is refused with 429 and ``retry_after``, and counted in ``rejections``."""

    SENDING = ("send", "copy", "forward")

    def __init__(self, per_second: float, group_per_minute: float) -> None:
        self.per_second = per_second
        self.group_per_minute = group_per_minute
        self.rejections = 0
        self.accepted = 0
        self._lock = threading.Lock()
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def _take(self, key: object, capacity: float, rate: float, now: float) -> float:
        """Take a token; returns 0 when taken, else the seconds until one is available."""
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate

    def check(self, method: str, params: dict[str, Any]) -> BotApiError | None:
        if not method.lower().startswith(self.SENDING):
            return None
        now = time.monotonic()
        with self._lock:
            wait = self._take("all", self.per_second, self.per_second, now)
            try:
                chat_id = int(params.get("chat_id") or 0)
            except (TypeError, ValueError):
                chat_id = 0
            if not wait and chat_id < 0:
                wait = self._take(chat_id, self.group_per_minute, self.group_per_minute / 60, now)
                if wait:  # give back the overall token: the message was not sent
                    tokens, last = self._buckets["all"]
                    self._buckets["all"] = (tokens + 1, last)
            if wait:
                self.rejections += 1
                seconds = max(1, int(wait + 0.999))
                return BotApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
            self.accepted += 1
        return None


@dataclass
class Sent:
    """Something the bot showed a person: a message, an edit, a document or a photo."""

    method: str
    chat_id: int
    message_id: int
    text: str = ""
    reply_markup: dict[str, Any] | None = None
    file_name: str | None = None
    file_bytes: bytes = b""
    params: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when the bot sent it (for reply-time figures)

    def button_rows(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of (label, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b.get("text", ""), b.get("callback_data") or b.get("url") or "") for b in row] for row in rows]

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data or url) of every inline button, in reading order."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b.get("text", ""), b.get("callback_data") or b.get("url") or b.get(
            "switch_inline_query_current_chat") or "") for row in rows for b in row]


class LocalBotApi:
    """The Bot API answered in memory; thread-safe so an HTTP server thread can share it."""

    def __init__(self, bot_id: int = 7_000_000_001, bot_username: str = "partnerbot_local", *,
                 flood_limit_per_second: float | None = None, flood_group_limit_per_minute: float = 20) -> None:
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "PartnerBot", "username": bot_username,
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": True}
        self._cond = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self._next_callback = 1
        self.outbox: list[Sent] = []
        self.by_chat: dict[int, list[Sent]] = {}
        #: Called (from whichever thread answers the bot) with everything the bot sends; lets a test wait
        #: on an event instead of polling.
        self.on_record: Callable[[Sent], None] | None = None
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.inline_answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.member_status: dict[tuple[int, int], str] = {}
        self.webhook: dict[str, Any] = {}
        self.calls: list[str] = []
        self.fail_next: dict[str, BotApiError] = {}
        # Flood control as Telegram applies it (off by default): sends over the limit get 429 + retry_after.
        self.flood = _FloodControl(flood_limit_per_second, flood_group_limit_per_minute) \
            if flood_limit_per_second else None

    # -- the bot's side ------------------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any],
             files: dict[str, tuple[str, bytes]] | None = None) -> dict[str, Any]:
        """Answer one Bot API request; returns Telegram's JSON envelope."""
        handler: Callable[[dict[str, Any], dict[str, tuple[str, bytes]]], Any] | None = getattr(
            self, f"_api_{method.lower()}", None)
        with self._cond:
            self.calls.append(method)
            injected = self.fail_next.pop(method, None)
        if injected is not None:
            return self._error(injected)
        if self.flood is not None:
            refused = self.flood.check(method, params)
            if refused is not None:
                return self._error(refused)
        if handler is None:
            return {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        try:
            with self._cond:
                result = handler(params, files or {})
                self._cond.notify_all()
            return {"ok": True, "result": result}
        except BotApiError as exc:
            return self._error(exc)

    @staticmethod
    def _error(exc: BotApiError) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None:
            body["parameters"] = {"retry_after": exc.retry_after}
        return body

    def _api_getme(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return self.bot

    def _api_deletewebhook(self, params: dict[str, Any], files: Any) -> bool:
        self.webhook = {}
        return True

    def _api_setwebhook(self, params: dict[str, Any], files: Any) -> bool:
        self.webhook = dict(params)
        return True

    def _api_getwebhookinfo(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _api_setmycommands(self, params: dict[str, Any], files: Any) -> bool:
        self.commands = _json(params, "commands") or []
        return True

    def _api_getmycommands(self, params: dict[str, Any], files: Any) -> list[dict[str, Any]]:
        return self.commands

    def _api_setchatmenubutton(self, params: dict[str, Any], files: Any) -> bool:
        return True

    def _api_close(self, params: dict[str, Any], files: Any) -> bool:
        return True

    def _api_logout(self, params: dict[str, Any], files: Any) -> bool:
        return True

    def _api_sendchataction(self, params: dict[str, Any], files: Any) -> bool:
        return True

    def _api_getupdates(self, params: dict[str, Any], files: Any) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        return self._updates[:limit]

    def _chat(self, chat_id: int) -> dict[str, Any]:
        for (cid, _mid), message in reversed(self.messages.items()):
            if cid == chat_id:
                return message["chat"]
        return {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "Someone"}

    def _record(self, sent: Sent) -> None:
        self.outbox.append(sent)
        self.by_chat.setdefault(sent.chat_id, []).append(sent)
        if self.on_record is not None:
            self.on_record(sent)

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": self._next_message, "date": int(time.time()),
                   "chat": self._chat(chat_id), "from": self.bot, **content}
        self._next_message += 1
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _text_params(self, params: dict[str, Any], key: str = "text", limit: int = MAX_TEXT) -> str:
        text = str(params.get(key) or "")
        if key == "text" and not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        length = (check_html(text) if params.get("parse_mode", "").upper() == "HTML"
                  else len(text.encode("utf-16-le")) // 2)  # Telegram counts UTF-16 code units
        if length > limit:
            raise BotApiError(400, "Bad Request: message is too long")
        return text

    def _api_sendmessage(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat_id = _int(params, "chat_id")
        text = self._text_params(params)
        markup = _json(params, "reply_markup")
        _check_markup(markup)
        message = self._new_message(chat_id, text=text, **({"reply_markup": markup} if markup else {}))
        self._record(Sent("sendMessage", chat_id, message["message_id"], text, markup, params=params))
        return message

    def _api_editmessagetext(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat_id, message_id = _int(params, "chat_id"), _int(params, "message_id")
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        text = self._text_params(params)
        markup = _json(params, "reply_markup")
        _check_markup(markup)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise BotApiError(400, "Bad Request: message is not modified")
        message["text"] = text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self._record(Sent("editMessageText", chat_id, message_id, text, markup, params=params))
        return message

    def _api_editmessagereplymarkup(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat_id, message_id = _int(params, "chat_id"), _int(params, "message_id")
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        markup = _json(params, "reply_markup")
        _check_markup(markup)
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self._record(Sent("editMessageReplyMarkup", chat_id, message_id, message.get("text", ""),
                                markup, params=params))
        return message

    def _api_deletemessage(self, params: dict[str, Any], files: Any) -> bool:
        self.messages.pop((_int(params, "chat_id"), _int(params, "message_id")), None)
        return True

    def _send_file(self, method: str, kind: str, params: dict[str, Any],
                   files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
        chat_id = _int(params, "chat_id")
        ref = params.get(kind)
        name, content = "file", b""
        if isinstance(ref, str) and ref.startswith("attach://"):
            name, content = files.get(ref.removeprefix("attach://"), (name, content))
        elif kind in files:
            name, content = files[kind]
        elif not ref:
            raise BotApiError(400, f"Bad Request: there is no {kind} in the request")
        caption = self._text_params(params, "caption", MAX_CAPTION) if params.get("caption") else ""
        markup = _json(params, "reply_markup")
        _check_markup(markup)
        info = {"file_id": f"local-{self._next_message}", "file_unique_id": f"u{self._next_message}",
                "file_name": name, "file_size": len(content)}
        # Telegram describes a photo as a list of sizes, each with its width and height.
        content_field = {kind: [{**info, "width": 1280, "height": 720}] if kind == "photo" else info}
        message = self._new_message(chat_id, caption=caption, **content_field)
        self._record(Sent(method, chat_id, message["message_id"], caption, markup, name, content,
                                params=params))
        return message

    def _api_senddocument(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
        return self._send_file("sendDocument", "document", params, files)

    def _api_sendphoto(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
        return self._send_file("sendPhoto", "photo", params, files)

    def _api_answercallbackquery(self, params: dict[str, Any], files: Any) -> bool:
        self.callback_answers.append(dict(params))
        return True

    def _api_answerinlinequery(self, params: dict[str, Any], files: Any) -> bool:
        results = _json(params, "results") or []
        for result in results:
            content = result.get("input_message_content") or {}
            if content.get("parse_mode", "").upper() == "HTML":
                check_html(content.get("message_text", ""))
        self.inline_answers.append({"inline_query_id": params.get("inline_query_id"), "results": results})
        return True

    def _api_getchatmember(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat_id, user_id = _int(params, "chat_id"), _int(params, "user_id")
        status = self.member_status.get((chat_id, user_id), "member")
        return {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "Member"},
                **({"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                    "can_delete_messages": True, "can_manage_video_chats": True,
                    "can_restrict_members": True, "can_promote_members": False,
                    "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                    "can_edit_stories": False, "can_delete_stories": False}
                   if status == "administrator" else {})}

    def _api_getchat(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat = dict(self._chat(_int(params, "chat_id")))
        chat.setdefault("accent_color_id", 0)
        chat.setdefault("max_reaction_count", 11)
        return chat

    # -- the person's side ---------------------------------------------------------------------
    def _push(self, kind: str, payload: dict[str, Any]) -> int:
        with self._cond:
            update = {"update_id": self._next_update, kind: payload}
            self._next_update += 1
            self._updates.append(update)
            self._cond.notify_all()
            return update["update_id"]

    def send_text(self, user: dict[str, Any], chat: dict[str, Any], text: str,
                  reply_to_message_id: int | None = None) -> dict[str, Any]:
        """A person sends ``text`` in ``chat``; returns the update that the bot will receive."""
        with self._cond:
            message: dict[str, Any] = {"message_id": self._next_message, "date": int(time.time()),
                                       "chat": chat, "from": user, "text": text}
            self._next_message += 1
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            mention = f"@{self.bot['username']}"
            if mention in text:
                message.setdefault("entities", []).append(
                    {"type": "mention", "offset": text.index(mention), "length": len(mention)})
            if reply_to_message_id is not None:
                replied = self.messages.get((chat["id"], reply_to_message_id))
                if replied is not None:
                    message["reply_to_message"] = replied
            self.messages[(chat["id"], message["message_id"])] = message
        self._push("message", message)
        return message

    def press(self, user: dict[str, Any], chat_id: int, message_id: int, data: str) -> str:
        """A person taps an inline button with ``data`` under the bot's message; returns the query id."""
        with self._cond:
            message = self.messages.get((chat_id, message_id)) or {
                "message_id": message_id, "date": 0, "chat": self._chat(chat_id), "from": self.bot,
                "text": "(an old message)"}
            query_id = str(self._next_callback)
            self._next_callback += 1
        self._push("callback_query", {"id": query_id, "from": user, "message": message,
                                      "chat_instance": str(chat_id), "data": data})
        return query_id

    def inline(self, user: dict[str, Any], query: str) -> str:
        """A person types ``@bot query`` in any chat; returns the inline query id."""
        with self._cond:
            query_id = f"iq{self._next_callback}"
            self._next_callback += 1
        self._push("inline_query", {"id": query_id, "from": user, "query": query, "offset": ""})
        return query_id

    def take_updates(self) -> list[dict[str, Any]]:
        """Remove and return every pending update (the terminal chat feeds them to the bot itself)."""
        with self._cond:
            updates, self._updates = self._updates, []
            return updates

    def wait_updates(self, offset: int, timeout: float) -> None:
        """Block until an update at or after ``offset`` is pending, or ``timeout`` seconds pass."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while not any(u["update_id"] >= offset for u in self._updates):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds (checked whenever the bot calls the API), or time out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
            return True

    def sent_to(self, chat_id: int) -> list[Sent]:
        with self._cond:
            return [item for item in self.outbox if item.chat_id == chat_id]
