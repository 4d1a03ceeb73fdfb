"""The bot's own Telegram client: python-telegram-bot's ExtBot plus two promises it cannot keep by itself.

* Every button press is answered. A press nobody handled (old or forged data) would leave the button
  spinning on the person's phone; the client remembers which presses were answered so that a last-resort
  handler (``bot.handlers.buttons``) can answer the rest with a short note.
* Every message fits. Telegram refuses a text over 4,096 UTF-16 units ("message is too long"); a message
  that echoes what someone typed (a story of 3,000 emoji counts 6,000) is split into several, and an edit
  or a caption, which cannot be split, is trimmed with a note. :func:`bot.messages.send_html` splits its
  own messages already; this catches every other path (``reply_html``, edits) in one place.
* Nothing is acknowledged to Telegram before it is recorded. Long polling acknowledges an update by asking
  for the next offset; with an ``inbox`` set, every fetched update is written to the database before
  ``get_updates`` returns it, so a crash after fetching loses nothing (see :mod:`bot.inbox`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from telegram import Message, Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.core.text import ALERT_LIMIT, CAPTION_LIMIT, MESSAGE_LIMIT, fit_utf16, message_parts, trimmed

#: How many answered presses are remembered (only the last few seconds' matter).
ANSWERED_MEMORY = 4096


class UpdateRecorder(Protocol):
    async def record(self, updates: Sequence[Update]) -> list[Update]:
        """Write the updates down; return those not seen before, in order."""
        ...


class PartnerBot(ExtBot[Any]):
    """ExtBot that remembers answered button presses and records fetched updates before handing them on."""

    __slots__ = ("_answered", "_inbox")

    def __init__(self, *args: Any, inbox: UpdateRecorder | None = None, **kwargs: Any) -> None:
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._inbox = inbox
        super().__init__(*args, **kwargs)

    async def answer_callback_query(self, callback_query_id: str, *args: Any, **kwargs: Any) -> bool:
        if isinstance(kwargs.get("text"), str):
            kwargs["text"] = fit_utf16(kwargs["text"], ALERT_LIMIT)
        result = await super().answer_callback_query(callback_query_id, *args, **kwargs)
        self._answered[callback_query_id] = None
        while len(self._answered) > ANSWERED_MEMORY:
            self._answered.popitem(last=False)
        return result

    def _html(self, parse_mode: object) -> bool:
        if parse_mode is None:
            return False
        if isinstance(parse_mode, DefaultValue):
            parse_mode = self.defaults.parse_mode if self.defaults else None
        return str(parse_mode).upper() == ParseMode.HTML

    async def send_message(self, chat_id: int | str, text: str, *args: Any, **kwargs: Any) -> Message:
        parts = message_parts(text, html=self._html(kwargs.get("parse_mode", DEFAULT_NONE)))
        if len(parts) == 1 or args:
            return await super().send_message(chat_id, parts[0] if not args else text, *args, **kwargs)
        markup = kwargs.pop("reply_markup", None)
        message: Message | None = None
        for number, part in enumerate(parts, start=1):
            last = number == len(parts)
            message = await super().send_message(chat_id, part, **kwargs, **({"reply_markup": markup} if last
                                                                               else {}))
            kwargs.pop("reply_parameters", None)
            kwargs.pop("reply_to_message_id", None)
        assert message is not None
        return message

    async def edit_message_text(self, text: str, *args: Any, **kwargs: Any) -> Message | bool:
        fitted = trimmed(text, html=self._html(kwargs.get("parse_mode", DEFAULT_NONE)), limit=MESSAGE_LIMIT)
        return await super().edit_message_text(fitted, *args, **kwargs)

    async def send_document(self, chat_id: int | str, document: Any, *args: Any, **kwargs: Any) -> Message:
        self._fit_caption(kwargs)
        return await super().send_document(chat_id, document, *args, **kwargs)

    async def send_photo(self, chat_id: int | str, photo: Any, *args: Any, **kwargs: Any) -> Message:
        self._fit_caption(kwargs)
        return await super().send_photo(chat_id, photo, *args, **kwargs)

    def _fit_caption(self, kwargs: dict[str, Any]) -> None:
        if isinstance(kwargs.get("caption"), str):
            kwargs["caption"] = trimmed(kwargs["caption"], html=self._html(kwargs.get("parse_mode", DEFAULT_NONE)),
                                        limit=CAPTION_LIMIT)

    def was_answered(self, callback_query_id: str) -> bool:
        return callback_query_id in self._answered

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if self._inbox is None or not updates:
            return updates
        # Written down before python-telegram-bot asks for the next offset (which tells Telegram we have
        # them); a failure here raises, so the same updates are fetched again rather than lost.
        return tuple(await self._inbox.record(updates))
