"""The console as people start it: `partnerbot web` on its own, and inside `partnerbot run` (long polling
and webhook mode), each a separate process, against the fake Telegram server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from bot.console.web import PAGES
from tests.conftest import TEST_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.process_support import (
    SECRET,
    clean_env,
    free_port,
    partnerbot_command,
    post_update,
    read_line,
    start_update,
    stop_process,
)

pytestmark = pytest.mark.slow  # starts processes: CI runs it, `-m 'not slow'` skips it

ADMIN = 4242
GUARDED = ["/", *(href for href, _ in PAGES), "/entries/new", "/entries/bot-mentor-offer", "/mentors/match"]


def _check_console(base: str, link: str, *, secure: bool = False) -> None:
    """Refused before sign-in; the link signs in once; then the home page links to every page, each 200.

    ``secure``: the console's address is https (behind a proxy), so its cookie is marked Secure; this test
    talks plain http to the server behind the proxy and hands the cookie over itself."""
    with httpx.Client(base_url=base, timeout=20) as anonymous:
        for path in GUARDED:
            response = anonymous.get(path)
            assert response.status_code in (401, 403) or response.is_redirect, path
            assert "memorandum" not in response.text.lower() and "Sign out" not in response.text
    with httpx.Client(base_url=base, timeout=20) as browser:
        token = link.split("t=", 1)[1]
        assert browser.get(link).status_code == 200
        signed = browser.post("/signin", data={"t": token})
        assert signed.status_code == 303 and ("secure" in signed.headers["set-cookie"].lower()) == secure
        if secure:
            value = signed.cookies["pb_console"]
            browser.cookies.clear()
            browser.cookies.set("pb_console", value)
        assert "pb_console" in browser.cookies
        home = browser.get("/")
        assert home.status_code == 200
        for href, name in PAGES:
            assert f'href="{href}"' in home.text, name
            assert browser.get(href).status_code == 200, href
    with httpx.Client(base_url=base, timeout=20) as second:
        refused = second.post("/signin", data={"t": token})
        assert refused.status_code == 403 and "pb_console" not in second.cookies
        assert second.get("/").status_code == 401


async def test_partnerbot_web_prints_a_one_time_link_first(tmp_path: Path) -> None:
    env = clean_env(tmp_path)  # no token, SQLite
    process = subprocess.Popen([*partnerbot_command(), "web", "--port", "8099"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        first = (await read_line(process)).strip()
        assert first.startswith("http://127.0.0.1:8099/"), first
        await asyncio.to_thread(_check_console, "http://127.0.0.1:8099", first)
    finally:
        stop_process(process)
    assert process.returncode is not None


async def test_partnerbot_web_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = await asyncio.to_thread(subprocess.run, [*partnerbot_command(), "web", "--port", str(port)],
                                         cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True,
                                         timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and result.stdout == ""
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        line for line in result.stderr.splitlines() if "Setting WEB_PORT: cannot listen on 127.0.0.1" in line]


async def _console_link(fake: FakeTelegram, chat_id: int) -> str:
    person = fake.person(chat_id, "Ada")
    fake.say(person, "/console")
    [reply] = await fake.replies(chat_id, timeout=30)
    match = re.search(r"(http://\S+/signin\?t=[\w-]+)", reply.text)
    assert match, reply.text
    return match.group(1)


async def test_run_with_web_port_serves_the_console_beside_long_polling(fake_telegram: FakeTelegram,
                                                                       tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_API_BASE_URL=fake_telegram.base_url,
                    ADMIN_IDS=str(ADMIN), WEB_PORT=str(port))
    process = subprocess.Popen([*partnerbot_command(), "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        polled = await fake_telegram.api_wait(lambda: "getUpdates" in fake_telegram.api.calls, 45)
        assert polled, "the bot never polled for updates"
        link = await _console_link(fake_telegram, ADMIN)
        assert link.startswith(f"http://127.0.0.1:{port}/signin?t=")
        await asyncio.to_thread(_check_console, f"http://127.0.0.1:{port}", link)
        fake_telegram.say(fake_telegram.person(55, "Bo"), "/console")
        [refused] = await fake_telegram.replies(55, timeout=20)
        assert "isn't available" in refused.text and "http" not in refused.text
    finally:
        output = stop_process(process)
    assert "Traceback" not in output and TEST_TOKEN not in output


async def test_webhook_mode_serves_the_webhook_and_the_console_on_one_server(fake_telegram: FakeTelegram,
                                                                            tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_API_BASE_URL=fake_telegram.base_url,
                    ADMIN_IDS=str(ADMIN), WEBHOOK_URL="https://bot.example.org/telegram", WEBHOOK_SECRET=SECRET,
                    WEB_PORT=str(port), WEB_BASE_URL="https://bot.example.org")
    process = subprocess.Popen([*partnerbot_command(), "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        registered = await fake_telegram.api_wait(lambda: bool(fake_telegram.api.webhook), 45)
        assert registered, "the bot never called setWebhook"
        assert fake_telegram.api.webhook["secret_token"] == SECRET
        status = 0
        for _ in range(100):  # the server may take a moment to listen
            try:
                status = await asyncio.to_thread(post_update, port, start_update(1, 31), None)
                break
            except (ConnectionError, OSError):
                await asyncio.sleep(0.2)
        assert status == 403
        assert await asyncio.to_thread(post_update, port, start_update(3, ADMIN), SECRET) == 200
        [welcome] = await fake_telegram.replies(ADMIN, timeout=20)
        assert "PartnerBot" in welcome.text
        update = start_update(4, ADMIN)
        update["message"]["text"] = "/console"
        update["message"]["entities"][0]["length"] = 8
        mark = len(fake_telegram.api.outbox)
        assert await asyncio.to_thread(post_update, port, update, SECRET) == 200
        ok = await fake_telegram.api_wait(lambda: any("signin?t=" in s.text for s in fake_telegram.api.outbox[mark:]),
                                          20)
        assert ok, "no sign-in link sent"
        text = next(s.text for s in fake_telegram.api.outbox[mark:] if "signin?t=" in s.text)
        link = re.search(r"(https://bot\.example\.org/signin\?t=[\w-]+)", text)
        assert link, text
        # The same server (same port) serves the console: the proxy forwards https://bot.example.org to it.
        local = link.group(1).replace("https://bot.example.org", f"http://127.0.0.1:{port}")
        await asyncio.to_thread(lambda: _check_console(f"http://127.0.0.1:{port}", local, secure=True))
    finally:
        output = stop_process(process)
    assert "Traceback" not in output


def test_partnerbot_ask_answers_from_knowledge_dir_without_a_database(tmp_path: Path) -> None:
    """`ask` loads only the knowledge base (KNOWLEDGE_DIR when set): it never opens or creates a database."""
    import json

    from tests.console.console_support import copy_knowledge
    from tests.core.test_run_process import run_once

    kb_dir = copy_knowledge(tmp_path / "kb")
    theme = kb_dir / "themes" / "getting-started.yaml"
    theme.write_text(theme.read_text(encoding="utf-8").rstrip("\n") + """

  - id: console-test-minibus
    question: "Can two charities share a minibus?"
    alternates: ["sharing a minibus", "one minibus two groups", "split the cost of a minibus", "minibus sharing"]
    keywords: [minibus]
    answer: |
      Yes: agree in writing who books it and who pays for fuel, insurance and repairs.
    source: PartnerBot
    related: [bot-what-can-you-do]
""", encoding="utf-8")
    result = run_once(tmp_path, "ask", "--json", "can two charities share a minibus", KNOWLEDGE_DIR=str(kb_dir),
                      DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'never' / 'made.db'}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "console-test-minibus"
    assert not (tmp_path / "never").exists()
    bad = run_once(tmp_path, "ask", "hello", KNOWLEDGE_DIR=str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "KNOWLEDGE_DIR" in bad.stderr and "themes/" in bad.stderr
