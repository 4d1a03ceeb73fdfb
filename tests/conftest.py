"""Shared fixtures: a migrated database per test (a copy of one SQLite template, or an emptied PostgreSQL schema),
the knowledge base read once per run, the fake Telegram server, and a running bot wired to it.

Every test that uses a database runs on SQLite; with TEST_DATABASE_URL set it runs on PostgreSQL as well (its
id ends in ``[sqlite]`` or ``[postgresql]``), in the same run, so tests that touch no database run once.
``@pytest.mark.postgres_only`` marks a test that needs PostgreSQL's own behaviour.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
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
from bot.core.startup import open_database
from db.engine import Database
from db.migrate import head_revision, upgrade_database
from knowledge.engine import Matcher
from knowledge.loader import KnowledgeBase, load_knowledge_base
from tests.fake_telegram import FakeTelegram

TEST_TOKEN = "123456789:TEST_token_for_the_fake_telegram_server_00"
ADMIN_ID = 9001
PANEL_CHAT_ID = -1001234567890


@functools.cache
def shared_knowledge() -> tuple[KnowledgeBase, Matcher]:
    """The knowledge base and its matcher, read and built once per test run (the YAML files do not change
    under the tests; a test that needs another knowledge base builds its own)."""
    kb = load_knowledge_base()
    return kb, Matcher(kb)


async def build_services(settings: Settings) -> Services:
    """What ``prepare`` gives a running bot (database opened and migrated), with the shared knowledge base."""
    kb, matcher = shared_knowledge()
    return Services(settings=settings, database=await open_database(settings), kb=kb, matcher=matcher)


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade_database(database)
    finally:
        await database.dispose()


async def _empty_postgres(url: str) -> None:
    """Every table of the migrated schema emptied (ids restarted): as fresh as a new migrated database, in a
    fraction of the time of dropping and migrating again. A schema that is not at head is rebuilt."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            tables = (await connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars().all()
            revision = None
            if "alembic_version" in tables:
                revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            if revision == head_revision():
                others = [f'"{name}"' for name in tables if name != "alembic_version"]
                if others:
                    await connection.execute(text(f"TRUNCATE {', '.join(others)} RESTART IDENTITY CASCADE"))
                return
    finally:
        await engine.dispose()
    await _reset_postgres(url)
    await _migrate(url)


async def _create_database(url: str) -> None:
    """Create the database ``url`` names, if it does not exist yet, from the server's default database."""
    base, _, name = url.rpartition("/")
    engine = create_async_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            found = (await connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                              {"name": name})).first()
            if found is None:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """TEST_DATABASE_URL, or under pytest-xdist one database per worker beside it (``<name>_gw0``, ...), so
    that workers never empty each other's tables."""
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    url = f"{url}_{worker}"
    asyncio.run(_create_database(url))
    return url


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SQLite: one database migrated once per test run; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores. The end-to-end tests spend part of their time waiting
    (a bot process starting, a reply on its way), so a spare worker keeps the cores busy: on 2 cores the whole
    run took 301 s with 2 workers, 225 s with 3 and 250 s with 4."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests (a load, a browser, separate processes) first: under pytest-xdist the long ones start
    at once, side by side with the quick ones, instead of one of them running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


#: The databases every database test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL names one.
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses; a ``postgres_only`` test is skipped on SQLite."""
    if request.param == "sqlite" and request.node.get_closest_marker("postgres_only"):
        pytest.skip("needs PostgreSQL's own behaviour (set TEST_DATABASE_URL)")
    return str(request.param)


@pytest.fixture
async def db_url(backend: str, postgres_url: str | None, migrated_template: Path, tmp_path: Path) -> str:
    """A migrated database with no rows, for one test: an emptied PostgreSQL schema, or a copy of the migrated
    SQLite template."""
    if backend == "postgresql" and postgres_url:
        await _empty_postgres(postgres_url)
        return postgres_url
    target = tmp_path / "test.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def empty_db_url(backend: str, postgres_url: str | None, tmp_path: Path) -> str:
    """A database with no tables at all, for the tests of the migrations themselves."""
    if backend == "postgresql" and postgres_url:
        await _reset_postgres(postgres_url)
        return postgres_url
    return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


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
    services = await build_services(settings)
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
async def bot(request: pytest.FixtureRequest, fake_telegram: FakeTelegram, db_url: str) -> AsyncIterator[Harness]:
    """The real bot, started against the fake Telegram server, stopped after the test.

    Its settings are the test defaults (a panel chat, the usual flood limit) changed by the nearest
    ``@pytest.mark.bot_settings(name=value, ...)`` on the test, its class or its module.
    """
    marker = request.node.get_closest_marker("bot_settings")
    overrides: dict[str, Any] = {"panel_chat_id": PANEL_CHAT_ID, **(marker.kwargs if marker else {})}
    settings = make_settings(db_url, telegram_api_base_url=fake_telegram.base_url, **overrides)
    harness = await start_bot(fake_telegram, settings)
    try:
        yield harness
    finally:
        await stop_bot(harness)
