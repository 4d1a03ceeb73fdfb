"""Timing each message the first time the bot sees it: shared by bench_matching.py and bench_footprint.py.

Imports the engine only when called and leaves ``sys.path`` alone, so ``PYTHONPATH=<another checkout>`` still
decides which engine bench_footprint.py measures.
"""

from __future__ import annotations

import time
from typing import Any


def first_seen(kb: Any, questions: list[str], *, by_meaning: bool = True) -> tuple[list[float], list[float]]:
    """CPU and wall ms of ``Matcher.ask`` for each message, asked once of a new matcher.

    Nothing seen before helps: the per-word caches of the process are cleared and the matcher is new, so no
    outcome, typo correction or term score is kept from an earlier pass. That is what a message nobody has sent
    yet costs. Two unrelated questions go first: a process's very first call also pays for numpy's and
    onnxruntime's first use.
    """
    from knowledge import normalise
    from knowledge.engine import Matcher

    for cached in (normalise.british, normalise.stem, normalise._analyse):
        cached.cache_clear()
    matcher = Matcher(kb, by_meaning=by_meaning)
    for text in ("hello", "what is a partnership"):
        matcher.ask(text)
    cpu, wall = [], []
    for text in questions:
        started, started_cpu = time.perf_counter(), time.process_time()
        matcher.ask(text)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return cpu, wall
