"""Starting ``partnerbot`` as a separate process, as a person would: the command and a clean environment
(nothing from the developer's own settings)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def partnerbot_command() -> list[str]:
    script = shutil.which("partnerbot", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bot.cli"]


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "LOG_LEVEL": "INFO"})
    env.update(values)
    return env
