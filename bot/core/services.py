"""What every handler needs, built once per process and kept in ``application.bot_data``.

Handlers reach the settings, the database and the knowledge base through :func:`services`, so no
module holds global state and tests can build as many bots side by side as they like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.config import Settings
from db.engine import Database
from db.types import utcnow
from knowledge.engine import Matcher
from knowledge.loader import KnowledgeBase

SERVICES_KEY = "services"
#: ``bot_data`` key: when set (a list of chat ids), scheduled messages go only to these chats. The terminal chat
#: sets it to its one person, so a terminal session never swallows the real bot's nudges from a shared database.
SCHEDULED_ONLY_TO_KEY = "scheduled_only_to"


@dataclass
class Services:
    """The settings, database and knowledge base of one running bot."""

    settings: Settings
    database: Database
    kb: KnowledgeBase
    matcher: Matcher  # built from kb; /reload replaces both together
    #: The current instant; tests replace it to move time on (72-hour timeouts, 30-day retention).
    clock: Callable[[], datetime] = field(default=utcnow)


def services(context: Any) -> Services:
    """The Services of the bot that received ``context`` (a CallbackContext)."""
    return context.application.bot_data[SERVICES_KEY]
