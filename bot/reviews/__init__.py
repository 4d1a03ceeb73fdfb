"""Review nudges: the rules, free of Telegram. Schedules, occurrences, dispatch, check-ins, history.

A partnership asks to be nudged to review itself regularly ("not just at the end of the year"). Its
schedule is computed in its own local time with :mod:`zoneinfo`, so 09:00 Europe/London stays 09:00 on
the wall in winter and in summer:

* a local time that does not exist on the spring-forward day moves forward by the gap (01:30 on the
  day the clocks go from 01:00 to 02:00 becomes 02:30);
* a local time that happens twice on the fall-back day is sent once, at the first of the two.

Every occurrence is a row (``review_occurrence``); exactly one ``pending`` row per active partnership
holds its next nudge. Nothing lives only in memory.

The rules live in small modules; import each name from the module that defines it. Every rule that touches the
database takes ``session=`` (keyword-only) and never commits: the handler, job or command calling it owns the
transaction (``async with database.transaction() as session:``), one per user action.

* :mod:`bot.reviews.errors`: the exceptions (a friendly input error, a forged button, a closed nudge);
* :mod:`bot.reviews.inputs`: reading what people type, with friendly errors;
* :mod:`bot.reviews.schedule`: schedules, cadences and occurrence computation in local time;
* :mod:`bot.reviews.partnerships`: create, list, change, pause, resume and stop partnerships;
* :mod:`bot.reviews.dispatch`: claim and mark due nudges, and the delivery guarantee;
* :mod:`bot.reviews.nudges`: snooze and skip a nudge;
* :mod:`bot.reviews.questions`: the questionnaire, averages and tips;
* :mod:`bot.reviews.checkins`: answering a check-in, closing it and its summary;
* :mod:`bot.reviews.history`: the history of a partnership's check-ins, and as CSV;
* :mod:`bot.reviews.privacy`: export and forget a person's data.

Beside the rules: :mod:`bot.reviews.handlers` (the chat, and in ``handlers.jobs`` the dispatch job: claim, send,
mark, each claim and each set of marks its own transaction, and the Telegram sender), :mod:`bot.reviews.chart`
(the history chart), :mod:`bot.reviews.cli` (``partnerbot reviews``).
"""
