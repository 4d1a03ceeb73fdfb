"""The web console for the people who run the bot: curate answers, match mentors, see partnerships.

Rules are plain Python here (``auth``: one-time links and sessions; ``entries``: writing checked entries into
the theme files; ``views``: what each page shows, from the other features' rules; ``privacy``: /mydata and
/forget); ``web`` is the Starlette app and its Jinja2 ``templates/``, ``server`` serves it alone or beside the
bot, ``handlers`` is /console in Telegram and ``cli`` is ``partnerbot web``. It calls other features' rules,
never their handlers.
"""
