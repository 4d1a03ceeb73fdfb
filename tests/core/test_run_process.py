"""`partnerbot run` as a person starts it: a separate process, settings from the environment.

These tests prove the real command line, start-up checks and long polling work together, against
the fake Telegram server on 127.0.0.1 (never the real one).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TEST_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.process_support import clean_env, partnerbot_command

pytestmark = pytest.mark.slow  # starts processes or runs a load: CI runs it, `-m 'not slow'` skips it


def run_once(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*partnerbot_command(), *args], cwd=tmp_path, env=clean_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


async def test_partnerbot_run_welcomes_a_person(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_API_BASE_URL=fake_telegram.base_url)
    process = subprocess.Popen([*partnerbot_command(), "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
    try:
        started = await _wait(fake_telegram, lambda: "getUpdates" in fake_telegram.api.calls, 45)
        assert started, "the bot never polled for updates"
        person = fake_telegram.person(77, "Gwen")
        fake_telegram.say(person, "/start")
        [welcome] = await fake_telegram.replies(77, timeout=20)
        assert "Hello Gwen" in welcome.text and "PartnerBot" in welcome.text
        assert {c["command"] for c in fake_telegram.api.commands} >= {"start", "help"}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate(timeout=5)
    assert TEST_TOKEN not in output, "the token must never be printed"
    assert "Traceback" not in output


async def _wait(fake: FakeTelegram, predicate: object, seconds: float) -> bool:
    import asyncio

    return await asyncio.to_thread(fake.api.wait_for, predicate, seconds)  # type: ignore[arg-type]


@pytest.mark.parametrize(("env", "named"), [
    ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
    ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "DEFAULT_TIMEZONE": "Mars/Base"}, "DEFAULT_TIMEZONE"),
    ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
    ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "DATABASE_URL": "mysql://somewhere/db"}, "DATABASE_URL"),
    ({}, "TELEGRAM_BOT_TOKEN"),
])
def test_a_bad_setting_stops_run_with_one_clear_line(tmp_path: Path, env: dict[str, str], named: str) -> None:
    result = run_once(tmp_path, "run", **env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_database_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    result = run_once(tmp_path, "run", TELEGRAM_BOT_TOKEN=TEST_TOKEN,
                      DATABASE_URL=f"sqlite+aiosqlite:///{blocker}/db.sqlite")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "DATABASE_URL" in lines[0], result.stderr


def test_the_terminal_chat_greets_on_start_from_a_pipe(tmp_path: Path) -> None:
    result = subprocess.run([*partnerbot_command(), "chat"], cwd=tmp_path, env=clean_env(tmp_path),
                            input="/start\n/help\n", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "I'm PartnerBot" in result.stdout
    assert "/help" in result.stdout


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_doctor_reports_what_is_ready_and_changes_nothing_on_disk(tmp_path: Path) -> None:
    before = _tree(tmp_path)
    result = run_once(tmp_path, "doctor", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}")
    assert "settings are valid" in result.stdout
    assert "knowledge base" in result.stdout
    assert "no TELEGRAM_BOT_TOKEN" in result.stdout
    assert "does not exist yet" in result.stdout
    assert _tree(tmp_path) == before, "doctor must not create folders or files"

    existing = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    assert run_once(tmp_path, "db", "upgrade", DATABASE_URL=existing).returncode == 0
    before = _tree(tmp_path)
    checked = run_once(tmp_path, "doctor", DATABASE_URL=existing)
    assert "(revision " in checked.stdout and checked.returncode == 0, checked.stdout
    assert _tree(tmp_path) == before, "doctor must not write to an existing database"


def test_doctor_flags_a_positive_panel_chat_id(tmp_path: Path) -> None:
    result = run_once(tmp_path, "doctor", PANEL_CHAT_ID="123456789")
    assert result.returncode == 1
    assert "NOT READY  Setting PANEL_CHAT_ID: 123456789 is a person's id, not a group's" in result.stdout
    assert "PANEL_CHAT_ID" not in run_once(tmp_path, "doctor", PANEL_CHAT_ID="-1001234567890").stdout


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    result = run_once(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout and "None" not in result.stdout
