"""The database layer on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from db.engine import Database
from db.migrate import current_revision, head_revision, upgrade_database
from db.models import AnswerVote, QuestionLog

BIG_TELEGRAM_ID = 7_123_456_789  # more than 32 bits, as real Telegram ids can be


@pytest.fixture
async def database(db_url: str) -> Database:
    database = Database(db_url)
    await upgrade_database(database)
    yield database
    await database.dispose()


async def test_migrations_reach_head_and_can_run_again(empty_db_url: str) -> None:
    database = Database(empty_db_url)
    try:
        assert await current_revision(database) is None
        assert await upgrade_database(database) == head_revision()
        assert await current_revision(database) == head_revision()
        assert await upgrade_database(database) == head_revision()
    finally:
        await database.dispose()


async def test_times_come_back_aware_in_utc_and_big_ids_fit(database: Database) -> None:
    asked = datetime(2027, 3, 28, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    async with database.session() as session:
        session.add(QuestionLog(user_id=BIG_TELEGRAM_ID, text="é ✓ 🙂", outcome="decline", asked_at=asked))
        await session.commit()
    async with database.session() as session:
        row = (await session.exec(select(QuestionLog))).one()
    assert row.asked_at == asked and row.asked_at.tzinfo is not None
    assert row.asked_at.utcoffset() == UTC.utcoffset(None)
    assert row.user_id == BIG_TELEGRAM_ID and row.text == "é ✓ 🙂"


async def test_a_person_votes_once_per_entry(database: Database) -> None:
    async with database.session() as session:
        session.add(AnswerVote(user_id=1, entry_id="mou-what-is", helpful=True))
        await session.commit()
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            session.add(AnswerVote(user_id=1, entry_id="mou-what-is", helpful=False))
            await session.commit()


async def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with database.session() as session:
            session.add(QuestionLog(text="x", outcome="decline", asked_at=datetime(2027, 1, 1)))
            await session.commit()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite only")
    async with database.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() >= 1000


async def test_a_transaction_keeps_all_of_one_action_or_none_of_it(database: Database) -> None:
    """One tap is one unit of work: when a rule fails half-way, nothing it wrote before the failure stays."""
    when = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(LookupError):
        async with database.transaction() as session:
            session.add(QuestionLog(text="first half", outcome="decline", asked_at=when))
            await session.flush()  # written inside the transaction, as a rule does to get an id
            raise LookupError("the second half of the action was refused")
    async with database.transaction() as session:
        session.add(QuestionLog(text="whole", outcome="decline", asked_at=when))
    async with database.session() as session:
        assert [row.text for row in (await session.exec(select(QuestionLog))).all()] == ["whole"]
