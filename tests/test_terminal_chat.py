"""The terminal chat runs the same flows as Telegram: answers with buttons, did-you-mean, the panel
(with ::panel standing in for a panel member), groups (::group) and inline mode (::inline)."""

from __future__ import annotations

import io

from bot.core.startup import prepare
from bot.terminal import TerminalChat
from tests.conftest import PANEL_CHAT_ID, make_settings


async def _chat(db_url: str, lines: list[str]) -> str:
    services = await prepare(make_settings(db_url, panel_chat_id=PANEL_CHAT_ID, telegram_bot_token=None))
    out = io.StringIO()
    async with TerminalChat(services, out, name="Tess") as chat:
        for line in lines:
            await chat.handle_line(line)
    await services.database.dispose()
    return out.getvalue()


async def test_question_follow_up_and_template_in_the_terminal(db_url: str) -> None:
    text = await _chat(db_url, ["what goes in a memorandum of understanding", "1", "99"])
    assert "From:" in text and "[1] ➡️" in text and "👍 Helpful" in text
    assert "(you pressed: ➡️" in text
    assert "There is no button 99" in text


async def test_decline_panel_and_relayed_reply_in_the_terminal(db_url: str) -> None:
    text = await _chat(db_url, ["what's the weather like", "2", "2", "::panel Ask a meteorologist <b>please</b>"])
    assert "don't have an answer" in text
    assert f"bot → chat {PANEL_CHAT_ID}: ❓ Question #1 from someone (anonymous)" in text
    assert "A panel member answered your question #1" in text
    assert "Ask a meteorologist <b>please</b>" in text  # shown as typed: escaped for Telegram, unescaped here


async def test_groups_and_inline_mode_in_the_terminal(db_url: str) -> None:
    text = await _chat(db_url, ["::group what is due diligence", "::group /ask what is due diligence",
                                "::inline memorandum", "::help"])
    assert text.count("bot → group:") == 1
    assert "inline results:" in text and "memorandum" in text.split("inline results:")[1].lower()
    assert "::panel TEXT" in text
