"""``partnerbot reviews add|list|next|due``: ids, JSON shapes, clock changes, and one friendly line for
each bad value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in ("DATABASE_URL", "DEFAULT_TIMEZONE", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    return CliRunner()


ADD = ["reviews", "add", "--chat-id", "-1001", "--name", "Riverside", "--cadence", "monthly", "--day", "last",
       "--time", "09:00", "--tz", "Europe/London", "--start", "2027-01-01"]


def test_add_list_next_and_due(cli: CliRunner) -> None:
    added = cli.invoke(app, ADD)
    assert added.exit_code == 0, added.output
    assert added.output.splitlines() == [
        "Added partnership 1, “Riverside”, nudged in a group (chat -1001): monthly on the last day of the month "
        "at 09:00 (Europe/London).",
        "First nudge: Sun 31 Jan 2027, 09:00 Europe/London (2027-01-31 09:00 UTC)."]
    weekly = cli.invoke(app, ["reviews", "add", "--chat-id", "42", "--name", "Sydney", "--cadence", "fortnightly",
                              "--weekday", "sun", "--time", "02:30", "--tz", "Australia/Sydney",
                              "--start", "2027-09-01", "--json"])
    created = json.loads(weekly.output)
    assert created["id"] == 2 and created["schedule"].startswith("fortnightly: every other Sunday at 02:30")
    # 02:30 local on Sun 5 Sep 2027 in Sydney (AEST, +10) is 16:30 UTC the day before.
    assert created["first_nudge_local"] == "2027-09-05T02:30:00+10:00"
    assert created["first_nudge_utc"] == "2027-09-04T16:30:00+00:00"

    listed = json.loads(cli.invoke(app, ["reviews", "list", "--json"]).output)
    assert [(p["id"], p["cadence"], p["day"], p["weekday"], p["status"]) for p in listed] == [
        (1, "monthly", "last", None, "active"), (2, "fortnightly", None, "sun", "active")]

    upcoming = json.loads(cli.invoke(app, ["reviews", "next", "1", "--count", "3", "--after",
                                           "2027-02-01T00:00:00+00:00", "--json"]).output)
    assert upcoming == [
        {"local": "2027-02-28T09:00:00+00:00", "utc": "2027-02-28T09:00:00+00:00"},
        {"local": "2027-03-31T09:00:00+01:00", "utc": "2027-03-31T08:00:00+00:00"},
        {"local": "2027-04-30T09:00:00+01:00", "utc": "2027-04-30T08:00:00+00:00"}]
    sydney = json.loads(cli.invoke(app, ["reviews", "next", "2", "--count", "2", "--after", "2027-09-20",
                                         "--json"]).output)
    assert sydney[0]["local"] == "2027-10-03T03:30:00+11:00"  # 02:30 falls in the spring-forward gap

    due = json.loads(cli.invoke(app, ["reviews", "due", "--at", "2027-06-01T12:00:00+00:00", "--json"]).output)
    assert [(d["partnership_id"], d["due_local"], d["late"]) for d in due] == [(1, "2027-01-31T09:00:00+00:00", True)]
    assert json.loads(cli.invoke(app, ["reviews", "due", "--at", "2027-01-31T08:59", "--json"]).output) == []
    again = json.loads(cli.invoke(app, ["reviews", "due", "--at", "2027-06-01T12:00:00+00:00", "--json"]).output)
    assert again == due  # nothing was claimed or sent


@pytest.mark.parametrize(("change", "named"), [
    (["--tz", "Mars/Base"], "--tz"), (["--tz", "Europe/Londn"], "Did you mean Europe/London"),
    (["--time", "9 o'clock"], "--time"), (["--day", "30"], "--day"), (["--start", "01/01/2027"], "--start"),
    (["--cadence", "yearly"], "--cadence"), (["--weekday", "mon"], "--weekday"),
])
def test_a_bad_value_is_one_friendly_line(cli: CliRunner, change: list[str], named: str) -> None:
    args = list(ADD)
    flag = change[0]
    if flag in args:
        args[args.index(flag) + 1] = change[1]
    else:
        args += change
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], result.output
    assert "Traceback" not in result.output


def test_next_and_due_errors(cli: CliRunner) -> None:
    assert cli.invoke(app, ADD).exit_code == 0
    missing = cli.invoke(app, ["reviews", "next", "99"])
    assert missing.exit_code == 2 and "No partnership with id 99" in missing.output
    bad_after = cli.invoke(app, ["reviews", "next", "1", "--after", "tomorrow"])
    assert bad_after.exit_code == 2 and "--after" in bad_after.output
    bad_count = cli.invoke(app, ["reviews", "next", "1", "--count", "0"])
    assert bad_count.exit_code == 2 and "--count" in bad_count.output
    bad_at = cli.invoke(app, ["reviews", "due", "--at", "soon"])
    assert bad_at.exit_code == 2 and "--at" in bad_at.output
    weekly = cli.invoke(app, ["reviews", "add", "--chat-id", "1", "--name", "x", "--cadence", "weekly",
                              "--time", "09:00", "--start", "2027-01-01"])
    assert weekly.exit_code == 2 and "needs --weekday" in weekly.output
