"""Handle different people's updates side by side, but each person's in the order they sent them.

python-telegram-bot handles updates one at a time by default, so one slow database write holds up
everyone. Fully concurrent handling fixes that but lets two taps from the same person race through a
conversation (both read the old step and the question is asked twice). This processor keeps a lock per
person (or per chat, for updates without a person), so the order within a conversation is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` at once; one at a time for the same person."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        #: Called once an update's handlers have all run (the inbox marks it handled: bot.core.inbox).
        self.after_handled: Callable[[object], Awaitable[None]] | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await coroutine
            await self._done(update)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
                await self._done(update)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued for this person: free the lock's memory
                del self._waiting[key]
                del self._locks[key]

    async def _done(self, update: object) -> None:
        if self.after_handled is not None:
            await self.after_handled(update)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def people_tracked(self) -> int:
        return len(self._locks)
