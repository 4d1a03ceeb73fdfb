"""Review nudges: the rules, free of Telegram. Schedules, occurrences, dispatch, check-ins, history.

A partnership asks to be nudged to review itself regularly ("not just at the end of the year"). Its
schedule is computed in its own local time with :mod:`zoneinfo`, so 09:00 Europe/London stays 09:00 on
the wall in winter and in summer:

* a local time that does not exist on the spring-forward day moves forward by the gap (01:30 on the
  day the clocks go from 01:00 to 02:00 becomes 02:30);
* a local time that happens twice on the fall-back day is sent once, at the first of the two.

Every occurrence is a row (``review_occurrence``); exactly one ``pending`` row per active partnership
holds its next nudge. Nothing lives only in memory.

The rules live in small modules; every public name is re-exported here, so ``from bot import reviews``
and ``from bot.reviews import ...`` keep working:

* :mod:`bot.reviews.errors`: the exceptions (a friendly input error, a forged button, a closed nudge);
* :mod:`bot.reviews.inputs`: reading what people type, with friendly errors;
* :mod:`bot.reviews.schedule`: schedules, cadences and occurrence computation in local time;
* :mod:`bot.reviews.partnerships`: create, list, change, pause, resume and stop partnerships;
* :mod:`bot.reviews.dispatch`: claim, send and mark due nudges, and the delivery guarantee;
* :mod:`bot.reviews.nudges`: snooze and skip a nudge;
* :mod:`bot.reviews.questions`: the questionnaire, averages and tips;
* :mod:`bot.reviews.checkins`: answering a check-in, closing it and its summary;
* :mod:`bot.reviews.history`: the history of a partnership's check-ins, and as CSV;
* :mod:`bot.reviews.privacy`: export and forget a person's data.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.reviews.checkins import (
    CHECKIN_WINDOW,
    MIN_GROUP,
    Change,
    Progress,
    Summary,
    close_expired_checkins,
    finish_answering,
    record_score,
    start_answering,
)
from bot.reviews.dispatch import (
    CLAIM_BATCH,
    LATE_AFTER,
    MAX_SEND_ATTEMPTS,
    STALE_CLAIM_AFTER,
    Claimed,
    DispatchReport,
    DuePreview,
    Outcome,
    Sender,
    claim_due,
    dispatch_due,
    due_at,
    mark_stale_claims,
    record_outcomes,
)
from bot.reviews.errors import NotAllowed, NudgeClosed, ReviewInputError
from bot.reviews.history import HistoryRow, history, history_csv
from bot.reviews.inputs import (
    CADENCES,
    LAST_DAY,
    MAX_FUTURE_START,
    MAX_PARTNER_NAME,
    MAX_PARTNERS,
    WEEKDAY_NAMES,
    WEEKDAYS,
    parse_cadence,
    parse_date,
    parse_day,
    parse_instant,
    parse_name,
    parse_partners,
    parse_time,
    parse_timezone,
    parse_weekday,
)
from bot.reviews.nudges import LIVE_STATUSES, NudgeContext, skip, snooze
from bot.reviews.partnerships import (
    DeliveryProblem,
    PartnershipView,
    change_schedule,
    create_partnership,
    get_partnership,
    is_group_chat,
    list_partnerships,
    pause,
    resume,
    stop,
)
from bot.reviews.privacy import describe_user_data, export_user_data, forget_user
from bot.reviews.questions import (
    COMMENT_STEP,
    LOW_SCORE,
    LOW_STAGES,
    NUMERIC_KEYS,
    QUESTION_BY_KEY,
    QUESTIONS,
    SCALE_OPTIONS,
    STAGE_OPTIONS,
    STAGE_TIPS,
    STAGES,
    YNP_OPTIONS,
    Question,
    Tip,
    missing_tip_entries,
    next_step,
    options_for,
    tip_entry_ids,
    tips_for,
)
from bot.reviews.schedule import (
    Occurrence,
    Schedule,
    describe_schedule,
    format_local,
    next_occurrences,
    occurrence,
    slot_date,
)
from db.review_models import MAX_COMMENT

__all__ = [
    "CADENCES",
    "CHECKIN_WINDOW",
    "CLAIM_BATCH",
    "COMMENT_STEP",
    "LAST_DAY",
    "LATE_AFTER",
    "LIVE_STATUSES",
    "LOW_SCORE",
    "LOW_STAGES",
    "MAX_COMMENT",
    "MAX_FUTURE_START",
    "MAX_PARTNERS",
    "MAX_PARTNER_NAME",
    "MAX_SEND_ATTEMPTS",
    "MIN_GROUP",
    "NUMERIC_KEYS",
    "QUESTIONS",
    "QUESTION_BY_KEY",
    "SCALE_OPTIONS",
    "STAGES",
    "STAGE_OPTIONS",
    "STAGE_TIPS",
    "STALE_CLAIM_AFTER",
    "WEEKDAYS",
    "WEEKDAY_NAMES",
    "YNP_OPTIONS",
    "Change",
    "Claimed",
    "DeliveryProblem",
    "DispatchReport",
    "DuePreview",
    "HistoryRow",
    "NotAllowed",
    "NudgeClosed",
    "NudgeContext",
    "Occurrence",
    "Outcome",
    "PartnershipView",
    "Progress",
    "Question",
    "ReviewInputError",
    "Schedule",
    "Sender",
    "Summary",
    "Tip",
    "ZoneInfo",
    "change_schedule",
    "claim_due",
    "close_expired_checkins",
    "create_partnership",
    "describe_schedule",
    "describe_user_data",
    "dispatch_due",
    "due_at",
    "export_user_data",
    "finish_answering",
    "forget_user",
    "format_local",
    "get_partnership",
    "history",
    "history_csv",
    "is_group_chat",
    "list_partnerships",
    "mark_stale_claims",
    "missing_tip_entries",
    "next_occurrences",
    "next_step",
    "occurrence",
    "options_for",
    "parse_cadence",
    "parse_date",
    "parse_day",
    "parse_instant",
    "parse_name",
    "parse_partners",
    "parse_time",
    "parse_timezone",
    "parse_weekday",
    "pause",
    "record_outcomes",
    "record_score",
    "resume",
    "skip",
    "slot_date",
    "snooze",
    "start_answering",
    "stop",
    "tip_entry_ids",
    "tips_for",
]
