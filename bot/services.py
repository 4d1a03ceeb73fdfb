"""What every handler needs, built once per process and kept in ``application.bot_data``.

Handlers reach the settings, the database and the knowledge base through :func:`services`, so no
module holds global state and tests can build as many bots side by side as they like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from db.engine import Database
from knowledge.loader import KnowledgeBase

SERVICES_KEY = "services"


@dataclass
class Services:
    """The settings, database and knowledge base of one running bot."""

    settings: Settings
    database: Database
    kb: KnowledgeBase
    matcher: Any = None  # knowledge.engine.Matcher, built from kb


def services(context: Any) -> Services:
    """The Services of the bot that received ``context`` (a CallbackContext)."""
    return context.application.bot_data[SERVICES_KEY]
