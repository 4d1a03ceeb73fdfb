"""The handler groups, named in one place: python-telegram-bot tries groups from the lowest number up and runs
at most one handler per group, so the order here is the order in which each update meets the features.

Every group below the default (0) sees an update before the commands and questions do; a handler there either
lets the update go on or stops it (``ApplicationHandlerStop``).
"""

from __future__ import annotations

from enum import IntEnum


class HandlerGroup(IntEnum):
    THROTTLE = -10           # the per-person rate limit, before everything else
    MENTOR_LINK = -9         # link an imported mentor or mentee when they first talk to the bot
    MENTOR_RELAY = -7        # a reply passed between mentor buddies
    BUTTON_CHECK = -6        # a button press with forged or damaged data: refused before any feature sees it
    PANEL_REPLY = -5         # a panel member's reply in the panel chat: always an answer, never a question
    FORM_JANITOR = -4        # end forms left alone too long (bot/core/forms), and say so once
    DEFAULT = 0              # forms (ConversationHandlers), commands, buttons, questions
    BUTTON_FALLBACK = 99     # a button press nobody answered (stale or unknown): answered with a short note
