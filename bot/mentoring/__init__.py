"""The rules of mentor buddies, free of Telegram: profiles, who may mentor whom, scores and reasons,
requests and answers, the waiting list, follow-ups, and the privacy hooks.

Why plain Python: the same rules serve the chat and its scheduled jobs (``handlers/``), the admins' command line
(``cli.py``, ``csv_import.py``) and the whole-cohort assignment (``matching.py``), and
they are tested without a bot. Everything that must survive a restart is a row (db/mentoring_models.py);
scheduled follow-ups are due times on rows that the scheduler claims, never timers held in memory.

The rules are split by concern; import each name from the module that defines it:

- ``lists``: the fixed lists (roles, topics, kinds of organisation, regions, stages) and their slugs;
- ``cleaning``: cleaning what people type (names, stories, organisations, usernames);
- ``drafts``: a profile as plain values and its validation;
- ``scoring``: the hard constraints, the score of a pair, the reason in words, the ranking;
- ``store``: match statuses, :class:`Parties` and the storage helpers the other modules share;
- ``profiles``: people and their stored profiles (linking, saving, pausing, deleting);
- ``suggestions``: suggestions for a mentee, the waiting list, admins' proposals;
- ``requests``: a request's life (ask, accept / decline / pause, withdraw, time out);
- ``followups``: the two-week check-in, the three-month review, ending and rating a match;
- ``relay``: passing messages between buddies without usernames;
- ``privacy``: export and forget (gathered by bot/privacy/gather.py);
- ``cohort``: the admins' whole-cohort view;
- ``matching``: the whole-cohort assignment; ``csv_import``: importing people from a CSV file.

Beside the rules: ``handlers/`` (the chat and, in ``handlers/jobs.py``, the scheduled work) and ``cli.py``
(``partnerbot mentors``).
"""
