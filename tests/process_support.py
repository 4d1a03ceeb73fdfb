"""Starting ``partnerbot`` as a separate process, as a person would: the command and a clean environment
(nothing from the developer's own settings)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path


def partnerbot_command() -> list[str]:
    script = shutil.which("partnerbot", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bot.cli"]


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "LOG_LEVEL": "INFO"})
    env.update(values)
    return env


SECRET = "s3cret_Token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_update(port: int, update: dict, secret: str | None) -> int:  # type: ignore[type-arg]
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def start_update(update_id: int, user_id: int) -> dict:  # type: ignore[type-arg]
    user = {"id": user_id, "is_bot": False, "first_name": "Web"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": user_id, "type": "private", "first_name": "Web"},
        "from": user, "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


def stop_process(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=5)
    return output or ""


async def read_line(process: subprocess.Popen[str], timeout: float = 60) -> str:
    assert process.stdout is not None
    return await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout)
