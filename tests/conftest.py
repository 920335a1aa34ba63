"""Fixtures: the real Application over the local transport, on SQLite and (when a URL is given) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_application
from bot.clock import FrozenClock
from bot.config import Settings
from bot.services import SERVICES_KEY, Services
from bot.simulator import Chat, LocalRequest
from nlp import Classifier
from tests.pg import PG_URL_VARIABLE, drop_run_databases, run_database, server_url

SUPERVISOR_ID = 90001
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """jieba takes a second to load: one classifier for the whole run."""
    return Classifier.default()


@pytest.fixture(scope="session", autouse=True)
def _drop_run_databases():
    """The PostgreSQL databases this run created are dropped when it ends."""
    yield
    import asyncio

    if server_url():
        asyncio.run(drop_run_databases())


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind; PostgreSQL only when CHENGXIN_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'chengxin.db'}"
    url = server_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE}")
    return await run_database(url)


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "DATABASE_URL": database_url,
        "CHENGXIN_SUPERVISORS": str(SUPERVISOR_ID),
        "CHENGXIN_RATE_LIMIT": False,
        # The flood guard runs on real time; tests file many complaints in a second.
        "CHENGXIN_FLOOD_MESSAGES": 10_000,
        "TELEGRAM_BOT_TOKEN": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class Harness:
    """A running Application with its transport and clock, as a test sees it."""

    app: object
    request: LocalRequest
    clock: FrozenClock
    settings: Settings
    chats: dict[int, Chat] = field(default_factory=dict)
    stopped: bool = False

    @property
    def services(self) -> Services:
        return self.app.bot_data[SERVICES_KEY]

    def session(self) -> AsyncSession:
        return self.services.db.session()

    def chat(self, user_id: int, **kwargs) -> Chat:
        if user_id not in self.chats or kwargs:
            self.chats[user_id] = Chat(self.app, user_id, **kwargs)
        return self.chats[user_id]

    def supervisor(self) -> Chat:
        return self.chat(SUPERVISOR_ID, first_name="督办", last_name="李") if SUPERVISOR_ID not in self.chats \
            else self.chats[SUPERVISOR_ID]


async def start_harness(settings: Settings, classifier: Classifier, clock: FrozenClock) -> Harness:
    request = LocalRequest()
    app = build_application(settings, request=request, clock=clock, classifier=classifier)
    await app.initialize()
    await app.post_init(app)
    return Harness(app=app, request=request, clock=clock, settings=settings)


async def stop_harness(harness: Harness) -> None:
    if harness.stopped:
        return
    harness.stopped = True
    await harness.app.post_shutdown(harness.app)
    await harness.app.shutdown()


@pytest.fixture
async def harness(database_url, classifier) -> AsyncIterator[Harness]:
    running = await start_harness(make_settings(database_url), classifier, FrozenClock(START))
    yield running
    await stop_harness(running)
