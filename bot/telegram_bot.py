"""The bot's own Telegram client: python-telegram-bot's ExtBot plus two promises it cannot keep by itself.

* Every button press is answered. A press nobody handled (old or forged data) would leave the button
  spinning on the person's phone; the client remembers which presses were answered so that a last-resort
  handler (``bot.handlers.buttons``) can answer the rest with a short note.
* Nothing is acknowledged to Telegram before it is recorded. Long polling acknowledges an update by asking
  for the next offset; with an ``inbox`` set, every fetched update is written to the database before
  ``get_updates`` returns it, so a crash after fetching loses nothing (see :mod:`bot.inbox`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from telegram import Update
from telegram.ext import ExtBot

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
        result = await super().answer_callback_query(callback_query_id, *args, **kwargs)
        self._answered[callback_query_id] = None
        while len(self._answered) > ANSWERED_MEMORY:
            self._answered.popitem(last=False)
        return result

    def was_answered(self, callback_query_id: str) -> bool:
        return callback_query_id in self._answered

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if self._inbox is None or not updates:
            return updates
        # Written down before python-telegram-bot asks for the next offset (which tells Telegram we have
        # them); a failure here raises, so the same updates are fetched again rather than lost.
        return tuple(await self._inbox.record(updates))
