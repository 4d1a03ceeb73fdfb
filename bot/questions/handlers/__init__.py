"""The question feature in chat: /ask and private questions (ask.py), /topics (topics.py), inline mode
(inline.py) and the retention job (jobs.py). The rules are in the modules of :mod:`bot.questions`."""
