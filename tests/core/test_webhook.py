"""Webhook mode: `partnerbot run` with WEBHOOK_URL registers the webhook with its secret; the bot's webhook
server refuses any update that does not carry that secret, and answers an update Telegram delivers twice once
(each update is written into the inbox before Telegram gets its 200)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.process_support import SECRET, clean_env, free_port, partnerbot_command, post_update, start_update

pytestmark = pytest.mark.slow  # starts processes or runs a load: CI runs it, `-m 'not slow'` skips it


async def test_webhook_mode_checks_the_secret_token(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_API_BASE_URL=fake_telegram.base_url,
                    WEBHOOK_URL="https://bot.example.org/telegram", WEBHOOK_SECRET=SECRET,
                    WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))
    process = subprocess.Popen([*partnerbot_command(), "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        registered = await fake_telegram.api_wait(lambda: bool(fake_telegram.api.webhook), 45)
        assert registered, "the bot never called setWebhook"
        assert fake_telegram.api.webhook["url"] == "https://bot.example.org/telegram"
        assert fake_telegram.api.webhook["secret_token"] == SECRET
        status = 0
        for _ in range(100):  # the webhook server may take a moment to listen
            try:
                status = await asyncio.to_thread(post_update, port, start_update(1, 31), None)
                break
            except (ConnectionError, urllib.error.URLError):
                await asyncio.sleep(0.2)
        assert status == 403
        assert await asyncio.to_thread(post_update, port, start_update(2, 32), "wrong") == 403
        assert await asyncio.to_thread(post_update, port, start_update(3, 33), SECRET) == 200
        [welcome] = await fake_telegram.replies(33, timeout=20)
        assert "PartnerBot" in welcome.text
        assert fake_telegram.sent_to_any(31, 32) == []
        # Telegram delivers update 3 again (it does when it missed our 200): acknowledged, not answered again.
        assert await asyncio.to_thread(post_update, port, start_update(3, 33), SECRET) == 200
        assert await asyncio.to_thread(post_update, port, start_update(4, 34), SECRET) == 200
        await fake_telegram.replies(34, timeout=20)
        assert len(fake_telegram.sent_to_any(33)) == 1
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=5)
