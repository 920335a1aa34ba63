"""Fixtures: the real Application over the local transport, on SQLite and (when a URL is given) PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_application
from bot.clock import FrozenClock
from bot.config import Settings
from bot.db.session import Database
from bot.domain.departments import seed_sample_directory
from bot.domain.workdays import WorkCalendar
from bot.services import SERVICES_KEY, Services
from bot.simulator import Chat, LocalRequest
from nlp import Classifier
from scheduler.calendar_table import refresh_calendar
from tests.pg import PG_URL_VARIABLE, drop_run_databases, prepared_database, server_url

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


async def migrate(url: str) -> None:
    """The schema at the newest revision, as `Database.upgrade` makes it on every start."""
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()


async def first_start(url: str) -> None:
    """What the bot's first start at START leaves in a new database (bot/app.py's post_init): the schema at
    the newest revision, the shipped sample directory and the working-day calendar table. Each test's start
    still runs post_init, which finds nothing left to do here (or refills the calendar for another clock)."""
    db = Database(url)
    try:
        await db.upgrade()
        async with db.session() as session:
            await seed_sample_directory(session=session)
            await session.commit()
        await refresh_calendar(db, WorkCalendar.china(), START, SHANGHAI)
    finally:
        await db.dispose()


# Each state is built once per run (per pytest-xdist worker) and copied for every test that asks for it:
# running the migrations and loading the directory for each test took most of the suite's time.
STAGES = {"migrated": migrate, "started": first_start}


class SqliteTemplates:
    """The SQLite template file of each stage, built on first use in this run's own temporary directory."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.built: dict[str, Path] = {}

    async def copy(self, stage: str, target: Path) -> str:
        template = self.built.get(stage)
        if template is None:
            template = self.factory.mktemp(f"template-{stage}") / "chengxin.db"
            await STAGES[stage](f"sqlite+aiosqlite:///{template}")
            self.built[stage] = template
        # The backup API copies a consistent database whatever the journal (WAL) holds.
        source, copy = sqlite3.connect(template), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory)


async def fresh_database(kind: str, stage: str, tmp_path: Path, templates: SqliteTemplates) -> str:
    """A database of `kind` of this test's own, in the state STAGES[stage] leaves a new one in."""
    if kind == "sqlite":
        return await templates.copy(stage, tmp_path / "chengxin.db")
    url = server_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE}")
    return await prepared_database(url, stage, STAGES[stage])


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path, _sqlite_templates) -> str:
    """A database of each kind of this test's own, as the bot's first start at START leaves a new one
    (first_start); PostgreSQL only when CHENGXIN_TEST_DATABASE_URL is set. A start on an empty database
    (the migrations themselves) runs when each state is built, once a run, and in the tests that make
    their own database file."""
    return await fresh_database(request.param, "started", tmp_path, _sqlite_templates)


@pytest.fixture(params=["sqlite", "postgresql"])
async def migrated_database_url(request, tmp_path, _sqlite_templates) -> str:
    """A database of each kind of this test's own with the schema at the newest revision and no rows
    but the migrations' own."""
    return await fresh_database(request.param, "migrated", tmp_path, _sqlite_templates)


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


@pytest.fixture
async def api():
    """The local HTTP Bot API stand-in (tests/standin_api.py), running for one test."""
    from tests.standin_api import StandinApi

    standin = StandinApi()
    await standin.start()
    yield standin
    await standin.stop()
