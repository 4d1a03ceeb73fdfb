"""python-telegram-bot persistence in the project's own database.

Conversations (which step of a profile or a check-in a person is at) and each person's scratch data
(``context.user_data``: the answers given so far) are stored as JSON rows, so that a restart in the
middle of a conversation loses nothing. Only JSON-serialisable values belong in ``user_data``.

Guarantee: PTB flushes changes every ``update_interval`` seconds and on shutdown, so a clean restart
loses nothing and a crash at most the last ``update_interval`` seconds of conversation steps.

Why this class keeps a ``Database`` and opens its own transactions instead of taking a handler's session:
python-telegram-bot calls a ``BasePersistence`` on its own schedule (after each update, every
``update_interval`` seconds, at shutdown), outside any handler's unit of work; a conversation step must be
saved even when the handler's own transaction rolled back. Each row written is its own small transaction.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from db.engine import Database
from db.models import PersistedState
from db.types import utcnow

log = logging.getLogger(__name__)

USER = "user"
CONVERSATION = "conversation:"


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Stores user_data and conversation states; bot_data, chat_data and callback data are not kept."""

    def __init__(self, database: Database, update_interval: float = 1.0) -> None:
        super().__init__(store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True,
                                                     callback_data=False), update_interval=update_interval)
        self.database = database

    async def _load(self, kind: str) -> list[PersistedState]:
        try:
            async with self.database.transaction() as session:
                return list((await session.exec(select(PersistedState).where(PersistedState.kind == kind))).all())
        except SQLAlchemyError as exc:
            log.warning("Could not load saved conversations (%s): starting without them", type(exc).__name__)
            return []

    async def _save(self, kind: str, key: str, data: Any | None) -> None:
        """Insert, update or (with ``data`` None) delete one row; failures are logged, not raised."""
        try:
            async with self.database.transaction() as session:
                row = (await session.exec(select(PersistedState).where(
                    PersistedState.kind == kind, PersistedState.key == key))).first()
                if data is None:
                    if row is not None:
                        await session.delete(row)
                elif row is None:
                    session.add(PersistedState(kind=kind, key=key, data=json.dumps(data)))
                else:
                    row.data, row.updated_at = json.dumps(data), utcnow()
                    session.add(row)
        except (SQLAlchemyError, TypeError, ValueError) as exc:
            log.warning("Could not save conversation state (%s)", type(exc).__name__)

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return {int(row.key): json.loads(row.data) for row in await self._load(USER)}

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._save(USER, str(user_id), data or None)

    async def drop_user_data(self, user_id: int) -> None:
        await self._save(USER, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Nothing to do: this process is the only writer of a person's data."""

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._load(CONVERSATION + name)
        return {tuple(json.loads(row.key)): json.loads(row.data) for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        await self._save(CONVERSATION + name, json.dumps(list(key)), new_state)

    # -- not stored ---------------------------------------------------------------------------
    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        pass

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        pass

    async def update_callback_data(self, data: Any) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        pass

    async def flush(self) -> None:
        """Every change is written as it is reported; nothing is buffered here."""
