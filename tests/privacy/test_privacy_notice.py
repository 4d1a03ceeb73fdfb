"""/privacy states how long every kind of data is kept and what stays anonymously after /forget, with the
k rule's number as the bot is set up; SECURITY.md states the k rule and the crash guarantee."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]


async def test_privacy_gives_the_retention_of_every_kind_of_data(bot: Harness) -> None:
    person = bot.fake.person(9401)
    bot.fake.say(person, "/privacy")
    [notice] = await bot.fake.replies(9401)
    text = notice.text
    for kind, kept in [("Questions I couldn't answer", "30 days"), ("panel", "until /forget"),
                       ("👍 / 👎", "until /forget"), ("Mentor buddy profile", "until you delete it"),
                       ("Check-in schedules", "until its admins"),
                       ("Check-in answers", "least 3 people"), ("Half-finished answers", "until you finish"),
                       ("Messages you send me", "for a day"), ("knowledge base", "without your question")]:
        assert kind in text and kept in text, (kind, kept)
    assert "anonymous record stays after /forget" in text


def test_security_md_states_the_k_rule_and_the_crash_guarantee() -> None:
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "## Group check-ins: the k rule" in security and "REVIEW_MIN_GROUP" in security
    assert "differs by one person" in " ".join(security.split())
    assert "## Crashes and faults: what is guaranteed" in security and "SIGKILL" in security
    assert "tests/test_inbox_kill.py" in security and "tests/test_group_privacy.py" in security
