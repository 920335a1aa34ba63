"""Settings, read once from the environment (and an optional .env) and passed down."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

# A step mostly waits for Telegram's answers, not for the CPU: many can be in flight at once. At a 100 ms
# round trip (often more from a city's servers) a step takes 150-200 ms, so 16 in flight held a 2-core
# instance to ~90 updates/s while its CPU could do ~300 (docs/benchmarks.md, latency): 64 lets fifty
# citizens' updates all be in flight. Over a webhook it is also max_connections, which Telegram caps at
# 100 for all instances together; PostgreSQL connections are opened only as updates need them.
DEFAULT_CONCURRENT_UPDATES = 64
PLACEHOLDER_TOKENS = {"", "changeme", "your-token-here", "<token>", "TOKEN", "123456:ABC"}
PLACEHOLDER_WORDS = ("your", "token", "botfather", "xxxx", "example", "changeme")


class Settings(BaseSettings):
    """Everything the bot can be configured with; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr = Field(default=SecretStr(""), alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")
    database_url: str = Field(default="sqlite+aiosqlite:///chengxin.db", alias="DATABASE_URL")
    supervisors: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="CHENGXIN_SUPERVISORS"
    )
    timezone: str = Field(default="Asia/Shanghai", alias="CHENGXIN_TIMEZONE")
    case_prefix: str = Field(default="YC", alias="CHENGXIN_CASE_PREFIX", pattern=r"^[A-Z]{1,8}$")
    daily_case_limit: int = Field(default=10, alias="CHENGXIN_DAILY_CASE_LIMIT", ge=1)
    draft_reminder_hours: int = Field(default=24, alias="CHENGXIN_DRAFT_REMINDER_HOURS", ge=1)
    draft_expiry_days: int = Field(default=7, alias="CHENGXIN_DRAFT_EXPIRY_DAYS", ge=1)
    flood_messages: int = Field(default=40, alias="CHENGXIN_FLOOD_MESSAGES", ge=1)
    flood_seconds: int = Field(default=60, alias="CHENGXIN_FLOOD_SECONDS", ge=1)
    rate_limit: bool = Field(default=True, alias="CHENGXIN_RATE_LIMIT")
    draft_sweep_seconds: int = Field(default=600, alias="CHENGXIN_DRAFT_SWEEP_SECONDS", ge=10)
    policy_file: str | None = Field(default=None, alias="CHENGXIN_POLICY_FILE")
    calendar_file: str | None = Field(default=None, alias="CHENGXIN_CALENDAR_FILE")
    follow_up_sweep_seconds: int = Field(default=900, alias="CHENGXIN_FOLLOW_UP_SWEEP_SECONDS", ge=10)
    supervisor_chat: int | None = Field(default=None, alias="CHENGXIN_SUPERVISOR_CHAT")
    sweep_seconds: int = Field(default=60, alias="CHENGXIN_SWEEP_SECONDS", ge=5)
    delivery_seconds: int = Field(default=5, alias="CHENGXIN_DELIVERY_SECONDS", ge=1)
    log_level: str = Field(default="INFO", alias="CHENGXIN_LOG_LEVEL")
    # Production mode (docs/deploy/README.md): webhook behind a reverse proxy, /healthz, /metrics.
    log_format: Literal["text", "json"] = Field(default="text", alias="CHENGXIN_LOG_FORMAT")
    webhook_url: str | None = Field(default=None, alias="CHENGXIN_WEBHOOK_URL", pattern=r"^https?://")
    webhook_secret: SecretStr = Field(default=SecretStr(""), alias="CHENGXIN_WEBHOOK_SECRET")
    listen: str = Field(default="127.0.0.1", alias="CHENGXIN_LISTEN")
    # The web server (webhook, /healthz, /metrics); in polling mode it runs only when a port is set.
    port: int | None = Field(default=None, alias="CHENGXIN_PORT", ge=1, le=65535)
    # Public disclosure pages, open-data feed and dashboard (bot/web, docs/open-data.md): off by default.
    web_enabled: bool = Field(default=False, alias="CHENGXIN_WEB")
    # Port of the web server in polling mode (webhook mode serves the pages on the webhook port).
    web_port: int | None = Field(default=None, alias="CHENGXIN_WEB_PORT", ge=1, le=65535)
    # The public address of the pages (login links point here), e.g. https://xinyong.example.gov.cn
    web_base_url: str | None = Field(default=None, alias="CHENGXIN_WEB_BASE_URL", pattern=r"^https?://")
    # Signs the dashboard's session cookie; empty: a random secret per process (sessions end at restart).
    web_cookie_secret: SecretStr = Field(default=SecretStr(""), alias="CHENGXIN_WEB_COOKIE_SECRET")
    # The bot's @username for t.me deep links (举报未兑现); empty: taken from getMe.
    bot_username: str | None = Field(default=None, alias="CHENGXIN_BOT_USERNAME")
    # A claimed outbound message not confirmed within this many seconds is claimed again.
    outbox_lease_seconds: int = Field(default=600, alias="CHENGXIN_OUTBOX_LEASE_SECONDS", ge=1)
    # The audit log's HMAC key: the key itself (32+ characters), or file:/path/to/key (made there if absent).
    # Unset: audit.key beside the SQLite file (PostgreSQL: in the working directory), made on first start.
    audit_key: SecretStr = Field(default=SecretStr(""), alias="CHENGXIN_AUDIT_KEY")

    @field_validator("audit_key")
    @classmethod
    def _audit_key_shape(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if key and not key.startswith("file:") and len(key.strip()) < 32:
            raise ValueError("CHENGXIN_AUDIT_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`) "
                             "or file:/path/to/keyfile")
        return value

    # Updates of different chats handled at once (one chat's are always one after another); also
    # sizes the database pool and should match the webhook's max_connections (docs/deploy/README.md).
    concurrent_updates: int = Field(default=DEFAULT_CONCURRENT_UPDATES, alias="CHENGXIN_CONCURRENT_UPDATES",
                                    ge=1, le=100)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("CHENGXIN_WEBHOOK_SECRET must be 1-256 characters A-Z, a-z, 0-9, _ or -")
        return value

    @field_validator("database_url")
    @classmethod
    def _driver_installed(cls, value: str) -> str:
        from bot.db.drivers import driver_problem

        if problem := driver_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("supervisors", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("CHENGXIN_SUPERVISORS must be comma-separated Telegram user ids") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def api_root(self) -> str:
        """TELEGRAM_API_URL without a trailing /bot, so both the method and file URLs can be built."""
        root = self.telegram_api_url.rstrip("/")
        return root[: -len("/bot")] if root.endswith("/bot") else root

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str:
        return self.telegram_bot_token.get_secret_value()

    @property
    def secret_token(self) -> str:
        return self.webhook_secret.get_secret_value()

    def has_real_token(self) -> bool:
        """True when the token looks like one BotFather issues: digits, a colon, 30+ of [A-Za-z0-9_-].

        Placeholders from documentation ("123456789:your-token-from-BotFather", "123456789:AAH…") fail here,
        before anything is sent to Telegram.
        """
        token = self.token.strip()
        if token in PLACEHOLDER_TOKENS:
            return False
        bot_id, _, secret = token.partition(":")
        lowered = secret.lower()
        if any(word in lowered for word in PLACEHOLDER_WORDS):
            return False
        return bot_id.isascii() and bot_id.isdigit() and re.fullmatch(r"[A-Za-z0-9_-]{30,}", secret) is not None
