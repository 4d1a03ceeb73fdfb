"""The k rule for group check-ins (SECURITY.md): with 1, 2, 3 and 4 people answering, nobody's answers can
be seen or worked out below k, whichever way the group looks (the summary, /reviews history, its chart and
the CSV), and a round gives one summary, never an update that differs by one person."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from bot.core.config import SettingsError, load_settings
from bot.core.startup import load_kb
from bot.reviews.checkins import Summary, close_expired_checkins, finish_answering, record_score, start_answering
from bot.reviews.errors import NudgeClosed
from bot.reviews.handlers.summaries import summary_text
from bot.reviews.history import HistoryRow, history, history_csv
from bot.reviews.questions import QUESTIONS
from tests.reviews.review_support import GOOD, SENT_AT, act, answer_all, migrated, nudged

#: Each person's answers are different, so any figure shown below k would give someone away.
PEOPLE = [
    (1, {**GOOD, "purpose": "1", "roles": "2", "stage": "failing"}, "one's secret"),
    (2, {**GOOD, "purpose": "2", "roles": "5", "stage": "frustration"}, "two's secret"),
    (3, {**GOOD, "purpose": "4", "roles": "1", "stage": "forming"}, "three's secret"),
    (4, {**GOOD, "purpose": "5", "roles": "3", "stage": "flying"}, "four's secret"),
]


def published(summaries: list[Summary], rows: list[HistoryRow], table: list[list[str]]
              ) -> list[tuple[str, object]]:
    """Every figure the group can see about the round: from summaries, the history (and chart) and CSV."""
    seen: list[tuple[str, object]] = []
    for s in summaries:
        seen += [("summary", dict(s.averages)), ("summary-stage", s.stage), ("summary-comments", s.comments)]
    for r in rows:
        seen += [("history", dict(r.averages)), ("history-stage", r.stage), ("history-comments", r.comments)]
    header = table[0]
    for line in table[1:]:
        seen.append(("csv", {h: v for h, v in zip(header, line, strict=True)
                             if h in {q.label for q in QUESTIONS} and v}))
        seen.append(("csv-raised", line[header.index("raised")]))
    return seen


@pytest.mark.parametrize("count", [1, 2, 3, 4])
async def test_nobody_can_be_seen_or_worked_out_below_k(db_url: str, count: int) -> None:
    kb = load_kb()
    async with migrated(db_url) as database:
        pid, occurrence_id = await nudged(database, -900 - count)
        summaries: list[Summary] = []
        for number, (user, values, comment) in enumerate(PEOPLE[:count], start=1):
            when = SENT_AT + timedelta(hours=number)
            if number <= 3:
                result = await answer_all(database, occurrence_id, chat_id=-900 - count, user_id=user,
                                          values=values, comment=comment, now=when)
                if result is not None:
                    summaries.append(result)
            else:  # the round closed at k: a fourth answer is refused, never an update by one person
                with pytest.raises(NudgeClosed, match="closed"):
                    await answer_all(database, occurrence_id, chat_id=-900 - count, user_id=user,
                                     values=values, comment=comment, now=when)
        summaries += await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=49))
        assert await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=50)) == []
        rows = await act(database, history, partnership_id=pid)
        table = list(csv.reader(io.StringIO(history_csv(rows).decode("utf-8-sig"))))

        assert len(summaries) == 1, "one summary per round"
        [summary] = summaries
        text, tips = summary_text(summary, kb)
        seen = published(summaries, rows, table)
        if count < 3:
            assert summary.withheld and summary.respondents == count
            assert all(not value for kind, value in seen), seen  # no figure, stage or comment anywhere
            assert tips == [] and "secret" not in text and "Purpose" not in text and "Stage" not in text
            assert "at least 3 people" in text
            assert [r.respondents for r in rows] == [count] and rows[0].withheld
        else:
            assert not summary.withheld and summary.respondents == 3
            assert summary.averages["purpose"] == pytest.approx((1 + 2 + 4) / 3, abs=0.01)
            assert sorted(summary.comments) == ["one's secret", "three's secret", "two's secret"]
            assert "four's secret" not in str(seen)
            # One aggregate per round, the same everywhere: nothing to subtract one person from another with.
            assert {str(v) for k, v in seen if k in ("summary", "history")} == {str(summary.averages)}
            assert "Raised</b> (no names)" in text
        assert "Dee" not in text and "user" not in text


async def test_the_k_setting_defaults_to_three_and_is_never_lower() -> None:
    assert load_settings(_env_file=None).review_min_group == 3
    assert load_settings(_env_file=None, review_min_group="5").review_min_group == 5
    for bad in ("2", "0", "-1", "three"):
        with pytest.raises(SettingsError) as caught:
            load_settings(_env_file=None, review_min_group=bad)
        message = str(caught.value)
        assert message.startswith("Setting REVIEW_MIN_GROUP:") and "\n" not in message and "3 or more" in message


async def test_a_larger_k_from_the_setting_is_applied(db_url: str) -> None:
    async with migrated(db_url) as database:
        pid, occurrence_id = await nudged(database, -951)
        for user, values, comment in PEOPLE[:3]:
            progress = await act(database, start_answering, occurrence_id=occurrence_id, chat_id=-951, user_id=user,
                                 now=SENT_AT)
            for step, question in enumerate(QUESTIONS):
                progress = await act(database, record_score, answer_id=progress.answer_id, user_id=user, step=step,
                                     value=values[question.key])
            assert await act(database, finish_answering, answer_id=progress.answer_id, user_id=user, comment=comment,
                             now=SENT_AT, min_group=4) is None
        [summary] = await act(database, close_expired_checkins, now=SENT_AT + timedelta(hours=49), min_group=4)
        assert summary.withheld and summary.averages == {} and summary.comments == []
        [row] = await act(database, history, partnership_id=pid, min_group=4)
        assert row.withheld and row.averages == {}
