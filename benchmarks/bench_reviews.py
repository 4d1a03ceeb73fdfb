"""Benchmark: review nudges due at once, dispatched by the real claim-send-mark loop against the fake Bot API.

Two runs:

1. **Without the rate limiter**: N partnerships (default 10,000) all due at the same instant, dispatched
   through the bot's own Application (ExtBot, HTML defaults) to the in-process fake Bot API
   (``LocalBotApi`` through ``LocalRequest``). Reports the wall-clock rate and the rate of the bot's own
   work (wall time minus the time spent inside the fake API answering), which is the target (> 1,000/s).
2. **With PTB's AIORateLimiter at Telegram's limit**: a smaller number (default 300: at 30 messages a
   second that is ten seconds) against the fake with its flood control on (30 sends a second, 20 a minute
   per group), counting every 429 the fake answered. The target is zero.

Run: ``uv run python benchmarks/bench_reviews.py`` (options: --count, --limited-count,
--database-url for PostgreSQL; the default is a fresh SQLite file in a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bot.app import build_application
from bot.core.config import load_settings
from bot.core.local_api import LocalBotApi
from bot.core.local_request import LocalRequest
from bot.core.startup import prepare
from bot.reviews.handlers.jobs import dispatch_due, make_sender
from db.review_models import Partnership, ReviewOccurrence

NOW = datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC)


class TimedApi(LocalBotApi):
    """The fake Bot API, timing its own share of the work so it can be taken out of the bot's figure.

    The shared fake finds a chat by scanning every message it ever stored (fine for tests, quadratic for
    10,000 chats), so chats are looked up in a dict here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds_inside = 0.0
        self.status: dict[int, int] = {}
        self._chats: dict[int, dict[str, Any]] = {}

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "Someone"}
            self._chats[chat_id] = chat
        return chat

    def call(self, method: str, params: dict[str, Any], files: Any = None) -> dict[str, Any]:
        started = clock.perf_counter()
        envelope = super().call(method, params, files)
        self.seconds_inside += clock.perf_counter() - started
        code = 200 if envelope.get("ok") else int(envelope.get("error_code", 400))
        self.status[code] = self.status.get(code, 0) + 1
        return envelope


async def seed(database: Any, count: int, first_chat: int) -> None:
    """``count`` weekly partnerships, each with its pending nudge due at NOW (bulk inserts: fast set-up)."""
    partnerships = [{"chat_id": first_chat + i, "created_by": first_chat + i, "name": f"Partnership {i}",
                     "partners": "Age UK, Food Bank", "cadence": "weekly", "weekday": 0, "day": None,
                     "local_time": "09:00", "timezone": "Europe/London", "start_date": NOW.date(),
                     "status": "active", "schedule_version": 1, "created_at": NOW, "updated_at": NOW}
                    for i in range(count)]
    async with database.session() as session:
        for start in range(0, count, 2000):
            await session.exec(insert(Partnership.__table__), params=partnerships[start:start + 2000])  # type: ignore[attr-defined]
        rows = (await session.exec(text("SELECT id FROM review_partnership WHERE chat_id >= :a AND chat_id < :b")
                                   .bindparams(a=first_chat, b=first_chat + count))).all()  # type: ignore[call-overload]
        due = datetime.combine(NOW.date(), time(9), tzinfo=UTC)
        occurrences = [{"partnership_id": row[0], "schedule_version": 1, "slot_date": NOW.date(), "slot_at": due,
                        "due_at": due, "status": "pending", "late": False, "snoozes": 0, "attempts": 0}
                       for row in rows]
        for start in range(0, len(occurrences), 2000):
            await session.exec(insert(ReviewOccurrence.__table__), params=occurrences[start:start + 2000])  # type: ignore[attr-defined]
        await session.commit()


async def run(count: int, limited_count: int, database_url: str) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, log_level="WARNING")
    services = await prepare(settings)
    database = services.database
    try:
        # -- 1. no rate limiter ----------------------------------------------------------------------
        await seed(database, count, 1_000_000)
        api = TimedApi()
        application = build_application(services, request=LocalRequest(api), rate_limiter=False)
        await application.initialize()
        api.seconds_inside = 0.0
        started = clock.perf_counter()
        report = await dispatch_due(database, NOW, make_sender(application.bot, NOW))
        wall = clock.perf_counter() - started
        sent = len([s for s in api.outbox if s.method == "sendMessage"])
        own = wall - api.seconds_inside
        print(f"[no rate limiter] {count} due at once on {database.url.split(':')[0]}: claimed {report.claimed}, "
              f"sent {sent}, in {wall:.2f} s wall = {sent / wall:,.0f} nudges/s; fake API {api.seconds_inside:.2f} s, "
              f"the bot's own work {own:.2f} s = {sent / own:,.0f} nudges/s")
        again = await dispatch_due(database, NOW + timedelta(seconds=5), make_sender(application.bot, NOW))
        print(f"    a second run finds {again.claimed} to send (each nudge once); next week's occurrences "
              f"created: {await _pending(database)}")
        await application.shutdown()

        # -- 2. AIORateLimiter at Telegram's limit, fake flood control on ------------------------------
        await seed(database, limited_count, 2_000_000)
        flood_api = TimedApi(flood_limit_per_second=30)
        limited = build_application(services, request=LocalRequest(flood_api), rate_limiter=True)
        await limited.initialize()
        moment = NOW + timedelta(minutes=1)
        started = clock.perf_counter()
        report = await dispatch_due(database, moment, make_sender(limited.bot, moment))
        wall = clock.perf_counter() - started
        assert flood_api.flood is not None
        sent = len([s for s in flood_api.outbox if s.method == "sendMessage"])
        print(f"[AIORateLimiter, fake flood control 30/s] {limited_count} due at once: sent {sent} "
              f"({report.sent} marked sent) in {wall:.2f} s = {sent / wall:.1f} nudges/s; "
              f"429 answers: {flood_api.flood.rejections}")
        await limited.shutdown()
    finally:
        await database.dispose()


async def _pending(database: Any) -> int:
    async with database.session() as session:
        return int((await session.exec(text("SELECT count(*) FROM review_occurrence WHERE status = 'pending'")
                                       )).one()[0])  # type: ignore[call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="nudges due at once without the limiter")
    parser.add_argument("--limited-count", type=int, default=300, help="nudges for the rate-limited run")
    parser.add_argument("--database-url", default=None, help="an EMPTY database (default: temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(args.count, args.limited_count, url))


if __name__ == "__main__":
    main()
