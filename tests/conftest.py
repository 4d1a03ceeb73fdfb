"""Shared fixtures: a database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL), the fake
Telegram server, and a running bot wired to it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application
from bot.core.config import Settings, load_settings
from bot.core.services import Services
from bot.core.startup import prepare
from tests.fake_telegram import FakeTelegram

TEST_TOKEN = "123456789:TEST_token_for_the_fake_telegram_server_00"
ADMIN_ID = 9001
PANEL_CHAT_ID = -1001234567890


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    """A fresh, empty database for one test: PostgreSQL when TEST_DATABASE_URL is set, else SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        await _reset_postgres(url)
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


def make_settings(db_url: str, **overrides: Any) -> Settings:
    """Settings for a test: nothing read from the developer's .env."""
    values: dict[str, Any] = {"_env_file": None, "database_url": db_url, "telegram_bot_token": TEST_TOKEN,
                              "admin_ids": str(ADMIN_ID), "log_level": "WARNING"}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.stop()


@dataclass
class Harness:
    """A bot running in this process, long-polling the fake Telegram server."""

    fake: FakeTelegram
    application: Any
    services: Services


async def start_bot(fake: FakeTelegram, settings: Settings) -> Harness:
    services = await prepare(settings)
    application = build_application(services, rate_limiter=False)
    await application.initialize()
    await application.post_init(application)  # run_polling would call it; we start by hand
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    return Harness(fake, application, services)


async def stop_bot(harness: Harness) -> None:
    application = harness.application
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    await harness.services.database.dispose()


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, db_url: str) -> AsyncIterator[Harness]:
    """The real bot, started against the fake Telegram server, stopped after the test."""
    settings = make_settings(db_url, telegram_api_base_url=fake_telegram.base_url, panel_chat_id=PANEL_CHAT_ID)
    harness = await start_bot(fake_telegram, settings)
    try:
        yield harness
    finally:
        await stop_bot(harness)
