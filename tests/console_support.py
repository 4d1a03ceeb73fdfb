"""The console served in-process through httpx's ASGI transport, over a temporary copy of the knowledge base."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.console.auth import create_signin
from bot.console.web import Console, create_app
from bot.services import Services
from bot.startup import prepare
from knowledge.loader import KNOWLEDGE_DIR
from tests.conftest import ADMIN_ID, make_settings

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def copy_knowledge(to: Path) -> Path:
    """A private copy of themes/ and templates/: tests write entries here, never into the repository."""
    shutil.copytree(KNOWLEDGE_DIR / "themes", to / "themes")
    shutil.copytree(KNOWLEDGE_DIR / "templates", to / "templates")
    return to


@dataclass
class ConsoleHarness:
    client: httpx.AsyncClient
    services: Services
    console: Console
    kb_dir: Path
    clock: list[datetime] = field(default_factory=lambda: [START])

    def move_to(self, instant: datetime) -> None:
        self.clock[0] = instant

    async def sign_in(self) -> str:
        """Sign in with a fresh one-time link; returns the session's CSRF secret (from the home page)."""
        token = await create_signin(self.services.database, ADMIN_ID, self.clock[0])
        shown = await self.client.get(f"/signin?t={token}")
        assert shown.status_code == 200 and "Sign in" in shown.text
        done = await self.client.post("/signin", data={"t": token})
        assert done.status_code == 303 and done.headers["location"] == "/"
        return csrf_of((await self.client.get("/")).text)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@asynccontextmanager
async def console_harness(db_url: str, tmp_path: Path) -> AsyncIterator[ConsoleHarness]:
    kb_dir = copy_knowledge(tmp_path / "kb")
    settings = make_settings(db_url, knowledge_dir=str(kb_dir), telegram_bot_token="")
    services = await prepare(settings)
    clock = [START]
    services.clock = lambda: clock[0]
    console = Console(services=services, themes_dir=settings.themes_dir, templates_dir=settings.templates_dir)
    transport = httpx.ASGITransport(app=create_app(console))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield ConsoleHarness(client, services, console, kb_dir, clock)
    finally:
        await services.database.dispose()
