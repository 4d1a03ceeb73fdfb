"""Every multi-step flow is a :class:`Form`: python-telegram-bot's ConversationHandler, persistent through
the project's own database persistence, ended quietly after :data:`FORM_TIMEOUT` without an answer.

Why more than ``conversation_timeout``: PTB's timeout is a JobQueue job, and jobs do not survive a
restart; the terminal chat and the tests also move time with the injected clock, not the wall clock.
So each form also records, in the person's ``user_data`` (persisted), when it last heard from them, and
:func:`expire_stale_forms` (run before any other handler sees an update) ends a form that has been left
longer than :data:`FORM_TIMEOUT`. Either way the person is told once, the next time they write, and from
then on their text is a question again. No wait for typed text is ever unbounded.

The flows' shared pieces live here too: the Back and Cancel buttons, the note for a button of a finished
flow, and asking the knowledge base about a question typed into a form.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    TypeHandler,
)
from telegram.warnings import PTBUserWarning

from bot.core.forms.questions import reads_as_question
from bot.core.groups import HandlerGroup
from bot.core.messages import send_html
from bot.core.services import SERVICES_KEY, services

log = logging.getLogger(__name__)

FORM_TIMEOUT = timedelta(minutes=30)
END = ConversationHandler.END
TOUCHED = "forms_touched"    # user_data: {"<form>:<chat>": ISO time of the person's last answer}
EXPIRED = "forms_expired"    # user_data: {"<form>": what to send to carry on}, told on their next message
FORMS_KEY = "forms"          # bot_data: every Form, so the janitor can check them
ANSWERER_KEY = "form_question_answerer"  # bot_data: the questions feature's "answer if confident"
CANCEL_DATA = "fx"           # the Cancel button of every form
BACK_DATA = "fb"             # the Back button of every form

FINISHED = "That form has finished, so this button does nothing now."
NOTHING_TO_CANCEL = "There's nothing to cancel: you're not in the middle of anything."

#: A question-answerer: (update, context, text) -> True when it answered (confidently) and sent the answer.
Answerer = Callable[[Update, ContextTypes.DEFAULT_TYPE, str], Awaitable[bool]]


class Form(ConversationHandler):  # type: ignore[type-arg]
    """A named, persistent ConversationHandler with a timeout that holds across restarts and clock moves.

    ``resume`` is what the person is told to send to carry on ("/mentor"), shown when the form expires.
    Every state also accepts /cancel and the Cancel button (the fallbacks given plus :func:`cancel_handlers`).
    """

    def __init__(self, *, name: str, title: str, resume: str, entry_points: Sequence[BaseHandler[Any, Any, Any]],
                 states: dict[object, list[BaseHandler[Any, Any, Any]]],
                 fallbacks: Sequence[BaseHandler[Any, Any, Any]] = (),
                 on_cancel: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]] | None = None,
                 cancelled: str = "", per_chat: bool = True) -> None:
        self.title, self.resume = title, resume
        #: What /cancel says: it must be true for this form ("nothing was changed" only where nothing was).
        self.cancelled = cancelled or f"OK, I've stopped the {title}. Nothing was changed."
        self._on_cancel_extra = on_cancel
        states = {**states, ConversationHandler.TIMEOUT: [TypeHandler(Update, self._timed_out)]}
        cancel: list[BaseHandler[Any, Any, Any]] = [
            CommandHandler("cancel", self._cancel), CallbackQueryHandler(self._cancel, pattern=f"^{CANCEL_DATA}$")]
        with warnings.catch_warnings():
            # PTB warns that with per_message=False a button is tracked per person, not per message: that is
            # what a form wants (one conversation with the person); an old message's button is answered by
            # the form's in-state checks or the stale-button handlers of register_form.
            warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
            super().__init__(entry_points=list(entry_points), states=states, fallbacks=[*cancel, *fallbacks],
                             name=name, persistent=True, conversation_timeout=FORM_TIMEOUT, allow_reentry=True,
                             per_chat=per_chat, per_user=True, per_message=False)

    # -- timeouts ---------------------------------------------------------------------------------
    def _touch_key(self, key: tuple[int | str, ...]) -> str:
        return f"{self.name}:{key[0]}"

    async def handle_update(self, update: Update, application: Application,  # type: ignore[override,type-arg]
                            check_result: Any, context: Any) -> object | None:
        key = check_result[1]
        heard_at = services(context).clock()  # when the person wrote, not when the reply went out
        try:
            return await super().handle_update(update, application, check_result, context)
        finally:
            touched = context.user_data.setdefault(TOUCHED, {}) if context.user_data is not None else {}
            if key in self._conversations:
                touched[self._touch_key(key)] = heard_at.isoformat()
            else:
                touched.pop(self._touch_key(key), None)
            if context.user_data is not None and not touched:
                context.user_data.pop(TOUCHED, None)

    async def _timed_out(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's timeout job: end quietly, and remember to tell the person when they next write."""
        if context.user_data is not None:
            context.user_data.setdefault(EXPIRED, {})[self.name] = self.resume
            key = self._get_key(update)
            context.user_data.get(TOUCHED, {}).pop(self._touch_key(key), None)

    def expire_if_stale(self, update: Update, user_data: dict[str, Any] | None, now: datetime) -> bool:
        """End this person's form when it was left longer than FORM_TIMEOUT (also across a restart)."""
        try:
            key = self._get_key(update)
        except RuntimeError:
            return False
        if key not in self._conversations:
            return False
        touched = (user_data or {}).get(TOUCHED, {}).get(self._touch_key(key))
        try:
            fresh = touched is not None and now - datetime.fromisoformat(touched) <= FORM_TIMEOUT
        except (TypeError, ValueError):
            fresh = False
        if fresh:
            return False
        self._update_state(END, key)
        if user_data is not None:
            user_data.get(TOUCHED, {}).pop(self._touch_key(key), None)
        return True

    # -- cancelling -------------------------------------------------------------------------------
    async def _cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if update.callback_query is not None:
            await update.callback_query.answer()
            await drop_buttons(update.callback_query)
        if self._on_cancel_extra is not None:
            await self._on_cancel_extra(update, context)
        chat = update.effective_chat
        if chat is not None:
            await send_html(context, chat.id, self.cancelled)
        return END

    def open_for(self, *, chat_id: int, user_id: int, state: object, user_data: dict[str, Any] | None,
                 now: datetime) -> None:
        """Open this form in another chat than the update's: "Answer privately" on a group's nudge puts the
        person's check-in in their private chat, where their typed answers then arrive."""
        key = (chat_id, user_id) if self.per_chat else (user_id,)
        self._conversations[key] = state  # a TrackingDict: persisted like any other state change
        if user_data is not None:
            user_data.setdefault(TOUCHED, {})[self._touch_key(key)] = now.isoformat()

    def is_active(self, update: Update) -> bool:
        try:
            return self._get_key(update) in self._conversations
        except RuntimeError:
            return False


def register_form(application: Application, form: Form, stale_patterns: Sequence[str] = (),  # type: ignore[type-arg]
                  stale_note: str = FINISHED) -> None:
    """Add a form, and after it a handler that answers its old buttons (from a finished, expired or
    someone else's form) with a short note and changes nothing."""
    application.add_handler(form)
    application.bot_data.setdefault(FORMS_KEY, []).append(form)
    for pattern in stale_patterns:
        application.add_handler(CallbackQueryHandler(_stale(stale_note), pattern=pattern))


def _stale(note: str) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]:
    async def on_stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer(note, show_alert=True)
    return on_stale


async def expire_stale_forms(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before any other handler: end forms left too long, and tell the person once about any that ended."""
    forms: list[Form] = context.application.bot_data.get(FORMS_KEY, [])
    now = context.application.bot_data[SERVICES_KEY].clock()
    user_data = context.user_data
    ended = [form for form in forms if form.expire_if_stale(update, user_data, now)]
    expired: dict[str, str] = dict(user_data.pop(EXPIRED, {})) if user_data is not None else {}
    expired.update({form.name: form.resume for form in ended})
    chat = update.effective_chat
    if not expired or chat is None or update.effective_user is None:
        return
    titles = {form.name: form.title for form in forms}
    for name, resume in expired.items():
        title = titles.get(name, "form")
        carry_on = f" Your answers so far are kept: send {resume} to carry on." if resume else ""
        await send_html(context, chat.id, f"(I stopped the {title} after 30 minutes without an answer.{carry_on})")


async def on_cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel with no form open."""
    if update.effective_chat is not None:
        await send_html(context, update.effective_chat.id, NOTHING_TO_CANCEL)


async def on_stale_cancel_or_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(FINISHED, show_alert=True)


def end_all_forms_of(application: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """After /forget: no form of this person stays open (their answers so far are gone with their data)."""
    for form in application.bot_data.get(FORMS_KEY, []):
        for key in [key for key in form._conversations if key and key[-1] == user_id]:
            form._update_state(END, key)


def form_named(application: Application, name: str) -> Form:  # type: ignore[type-arg]
    return next(form for form in application.bot_data.get(FORMS_KEY, []) if form.name == name)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """The janitor (early), and /cancel, Cancel and Back when no form is open (late)."""
    application.add_handler(TypeHandler(Update, expire_stale_forms), group=HandlerGroup.FORM_JANITOR)


def register_late(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("cancel", on_cancel_outside))
    application.add_handler(CallbackQueryHandler(on_stale_cancel_or_back, pattern=f"^({CANCEL_DATA}|{BACK_DATA})$"))


# -- the pieces every step uses --------------------------------------------------------------------------
def nav_row(*, back: bool = True) -> list[InlineKeyboardButton]:
    """The Back and Cancel buttons under every step."""
    row = [InlineKeyboardButton("⬅️ Back", callback_data=BACK_DATA)] if back else []
    return [*row, InlineKeyboardButton("✖️ Cancel", callback_data=CANCEL_DATA)]


def back_handler(callback: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]]
                 ) -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(callback, pattern=f"^{BACK_DATA}$")


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of the message just tapped, so an old step is not tapped again."""
    try:
        await query.edit_message_reply_markup(None)
    except Exception as exc:
        log.debug("Could not remove buttons: %s", type(exc).__name__)


async def answered_as_question(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """True when ``text`` reads as a question and the knowledge base answered it confidently (sent)."""
    if not reads_as_question(text):
        return False
    answerer: Answerer | None = context.application.bot_data.get(ANSWERER_KEY)
    return answerer is not None and await answerer(update, context, text)
