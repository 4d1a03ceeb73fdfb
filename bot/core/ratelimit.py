"""A per-person limit on messages, so one person (or a stuck client) cannot crowd out everyone else.

Kept in memory on purpose: it protects this process's capacity for the next minute, and nothing about
it needs to survive a restart. Memory stays bounded: people idle for a full window are dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    allowed: bool
    warn: bool  # True once per burst: tell the person, then stay quiet until they slow down


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._windows: dict[int, _Window] = {}
        self._last_sweep = 0.0

    def check(self, key: int, now: float) -> Decision:
        self._sweep(now)
        window = self._windows.setdefault(key, _Window())
        while window.times and window.times[0] <= now - self.window:
            window.times.popleft()
        if len(window.times) < self.limit:
            window.times.append(now)
            window.warned = False
            return Decision(True, False)
        warn = not window.warned
        window.warned = True
        return Decision(False, warn)

    def next_free(self, key: int, now: float) -> float:
        """When ``key`` may next send (``now`` when it already may)."""
        window = self._windows.get(key)
        if window is None or len(window.times) < self.limit:
            return now
        return max(now, window.times[0] + self.window)

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        idle = [key for key, w in self._windows.items() if not w.times or w.times[-1] <= now - self.window]
        for key in idle:
            del self._windows[key]

    def __len__(self) -> int:
        return len(self._windows)
