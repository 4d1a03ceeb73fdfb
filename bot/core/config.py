"""Settings, read once from the environment and ``.env`` (pydantic-settings).

Every setting is validated at start-up so that a mistake stops the bot with one line that names the
setting and what is wrong, instead of a traceback minutes later in the middle of a conversation.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from knowledge.pointers import RealHelp

TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,60}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/partnerbot.db"
TELEGRAM_API = "https://api.telegram.org"


class SettingsError(Exception):
    """A setting that cannot be used; ``str()`` is the one line shown to the person starting the bot."""


class Settings(BaseSettings):
    """What the running bot needs to know; see ``.env.example`` for each setting explained."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    telegram_bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    panel_chat_id: int | None = None
    #: The council for voluntary service running the bot, and how to reach it: named when the bot declines.
    cvs_name: str | None = Field(default=None, max_length=120)
    cvs_contact: str | None = Field(default=None, max_length=200)
    default_timezone: str = "Europe/London"
    telegram_api_base_url: str = TELEGRAM_API
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    log_level: str = "INFO"
    rate_limit_per_minute: int = Field(default=20, ge=1, le=1000)
    mentor_request_timeout_hours: int = Field(default=72, ge=1, le=24 * 30)
    panel_timeout_hours: int = Field(default=72, ge=1, le=24 * 30)
    #: The web console: served by ``partnerbot run`` when WEB_PORT is set (``partnerbot web`` always).
    web_port: int | None = Field(default=None, ge=1, le=65535)
    web_listen: str = "127.0.0.1"
    #: The console's address as admins open it (behind a reverse proxy: its https:// address).
    web_base_url: str | None = None
    #: The folder holding themes/ and templates/ (default: the knowledge base shipped with the bot).
    knowledge_dir: Path | None = None
    #: The k rule: a group's check-in figures and comments are shown only once this many people answered.
    review_min_group: int = 3

    @field_validator("telegram_bot_token", "webhook_secret", "webhook_url", "panel_chat_id", "web_port",
                     "web_base_url", "knowledge_dir", "cvs_name", "cvs_contact", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits, a colon, then letters)")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            bad = [part for part in parts if not part.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"must be numeric Telegram user ids separated by commas, not {bad[0]!r}")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (use an IANA name such as Europe/London)"
                             ) from None
        return value

    @field_validator("review_min_group", mode="before")
    @classmethod
    def _k_at_least_three(cls, value: object) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number (use 3 or more)") from None
        if number < 3:
            raise ValueError(f"{number} is too small: a group's check-in figures need at least 3 people "
                             "so that nobody's answers can be worked out (use 3 or more)")
        return number

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"{value!r} is not a log level (use DEBUG, INFO, WARNING or ERROR)")
        return level

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:/// or postgresql+asyncpg://")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.removesuffix("/bot")

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL that Telegram can reach")
        return value

    @field_validator("web_base_url")
    @classmethod
    def _console_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
            raise ValueError("must be the console's address, such as https://bot.example.org")
        return value

    @field_validator("knowledge_dir")
    @classmethod
    def _knowledge_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not (Path(value) / "themes").is_dir():
            raise ValueError(f"{str(value)!r} has no themes/ folder (it should hold themes/ and templates/)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError("may use only letters, digits, '_' and '-' (1 to 256 characters)")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET must be set when WEBHOOK_URL is set")
        return self

    # -- derived values -------------------------------------------------------------------------
    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value().strip() if self.telegram_bot_token else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite URLs (None for in-memory or PostgreSQL)."""
        if not self.database_url.startswith("sqlite"):
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        return Path(path) if path and path != ":memory:" else None

    def real_help(self) -> RealHelp:
        """Who the bot points people to when it cannot help: the CVS and, if configured, the panel."""
        return RealHelp(cvs_name=self.cvs_name, cvs_contact=self.cvs_contact,
                        has_panel=self.panel_chat_id is not None)

    @property
    def themes_dir(self) -> Path:
        from knowledge.loader import THEMES_DIR

        return self.knowledge_dir / "themes" if self.knowledge_dir else THEMES_DIR

    @property
    def templates_dir(self) -> Path:
        from knowledge.loader import TEMPLATES_DIR

        return self.knowledge_dir / "templates" if self.knowledge_dir else TEMPLATES_DIR

    @property
    def console_base_url(self) -> str:
        """Where sign-in links point: WEB_BASE_URL, else this machine's WEB_PORT (8080 when unset)."""
        if self.web_base_url:
            return self.web_base_url
        host = self.web_listen if self.web_listen not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.web_port or 8080}"

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


def _one_line(error: ValidationError) -> str:
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or "settings"
    message = str(problem["msg"]).removeprefix("Value error, ")
    if field == "settings" or not problem["loc"]:
        return f"Setting problem: {message}"
    extra = f" (and {len(error.errors()) - 1} more)" if len(error.errors()) > 1 else ""
    return f"Setting {field.upper()}: {message}{extra}"


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; raise SettingsError with one readable line when one is wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def mask_url(url: str) -> str:
    """A database URL fit for messages and logs: the password replaced by ***."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
