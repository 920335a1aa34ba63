"""Production mode: two instances over one database, and a database outage behind a TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot import texts
from bot.app import build_application
from bot.clock import FrozenClock
from bot.db.models import Case, Draft, OutboundMessage, Reminder
from bot.simulator import Chat, LocalRequest
from bot.web.server import web_app
from tests.conftest import PG_URL_VARIABLE, START, Harness, make_settings, stop_harness
from tests.flows import PROCUREMENT_TEXT, file_complaint


async def start_on(request: LocalRequest, settings, classifier, clock) -> Harness:
    app = build_application(settings, request=request, clock=clock, classifier=classifier)
    await app.initialize()
    await app.post_init(app)
    return Harness(app=app, request=request, clock=clock, settings=settings)


class Alternating:
    """One citizen whose every next update reaches the other instance (as a load balancer may do)."""

    def __init__(self, chats: list[Chat]) -> None:
        self.chats, self.turn = chats, 0

    def _next(self) -> Chat:
        chat = self.chats[self.turn % len(self.chats)]
        self.turn += 1
        return chat

    async def send(self, text):
        return await self._next().send(text)

    async def press(self, data):
        return await self._next().press(data)

    async def tap(self, label):
        return await self._next().tap(label)

    async def photo(self, caption=None):
        return await self._next().photo(caption=caption)

    def __getattr__(self, name):  # what only reads (last, texts, request): the same for both
        return getattr(self.chats[0], name)


async def finish_complaint(chat: Chat) -> str:
    """After the department question: skip details and evidence, agree to contact, submit."""
    for _ in range(10):
        if "已立案" in chat.last().text:
            return chat.last().text
        buttons = dict(chat.last().buttons)
        label = next(label for label in (texts.BTN_SUBMIT, texts.BTN_CONTACT_YES, texts.BTN_EVIDENCE_SKIP)
                     if label in buttons)
        await chat.press(buttons[label])
    raise AssertionError(chat.last().text)


async def test_two_instances_take_alternate_updates_of_one_conversation(database_url, classifier):
    request = LocalRequest()                        # what the citizen sees, whoever answered
    clock = FrozenClock(START)
    first = await start_on(request, make_settings(database_url), classifier, clock)
    second = await start_on(request, make_settings(database_url), classifier, clock)
    try:
        citizen = Alternating([Chat(first.app, 7001), Chat(second.app, 7001)])
        ref = await file_complaint(citizen, evidence=1)
        assert citizen.turn >= 8                      # both instances took part
        async with first.session() as session:
            cases = (await session.scalars(select(Case))).all()
            drafts = await session.scalar(select(func.count()).select_from(Draft))
        assert [c.ref for c in cases] == [ref]        # opened once
        case = cases[0]
        assert case.contact_allowed and case.domain and "38万元" in case.text
        assert drafts == 0 or drafts is None          # the half-filled complaint was consumed
        # Either instance now knows the case.
        await Chat(second.app, 7001).send("/mycases")
        assert ref in request.last_to(7001).text
    finally:
        await stop_harness(second)
        await stop_harness(first)


# --- database outage -----------------------------------------------------------------------------------

class TcpProxy:
    """127.0.0.1:<port> → the database; `down()` closes the listener and cuts every connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.pipes: set[asyncio.Task] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        for task in list(self.pipes):
            task.cancel()
        await asyncio.sleep(0)

    async def _serve(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src, dst):
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        for task in (asyncio.create_task(pipe(reader, up_writer)), asyncio.create_task(pipe(up_reader, writer))):
            self.pipes.add(task)
            task.add_done_callback(self.pipes.discard)


def job_errors(harness) -> float:
    errors = harness.app.metrics.errors
    return sum(errors.labels(source="job", kind=kind)._value.get() for kind in ("database", "connection"))


async def own_database(url: str, name: str) -> str:
    """A database of this run's own on the test server."""
    from tests.pg import run_database

    return await run_database(url, name)


@pytest.fixture
async def pg_url():
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(f"the outage test needs PostgreSQL ({PG_URL_VARIABLE}): SQLite has no connection to lose")
    return await own_database(url, "outage")


async def test_database_outage_is_answered_and_survived(pg_url, classifier):
    target = make_url(pg_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.up()
    via_proxy = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    clock = FrozenClock(START)
    harness = await start_on(LocalRequest(), make_settings(via_proxy), classifier, clock)
    client = TestClient(TestServer(web_app(harness.app), host="127.0.0.1"))
    await client.start_server()
    await harness.app.start()
    sweep = harness.app.job_queue.get_jobs_by_name("reminder_sweep_job")[0]
    try:
        citizen = Chat(harness.app, 7101)
        await citizen.send(texts.BTN_COMPLAIN)
        await citizen.send(PROCUREMENT_TEXT)
        domain_button = citizen.last().buttons[0][1]
        assert (await client.get("/healthz")).status == 200

        await proxy.down()
        await asyncio.wait_for(citizen.press(domain_button), 30)
        assert citizen.last().text == texts.DB_UNAVAILABLE
        await asyncio.wait_for(citizen.send("/mycases"), 30)
        assert citizen.last().text == texts.DB_UNAVAILABLE
        response = await asyncio.wait_for(client.get("/healthz"), 10)
        assert response.status == 503 and (await response.json())["database"] == "unreachable"
        await asyncio.wait_for(sweep.run(harness.app), 30)     # the job fails, the JobQueue does not
        await asyncio.sleep(0.05)                              # process_error runs in its own task
        assert job_errors(harness) == 1
        assert harness.app.job_queue.scheduler.running

        await proxy.up()                                       # same port
        assert (await asyncio.wait_for(client.get("/healthz"), 10)).status == 200
        await citizen.press(domain_button)                     # the retry the user was asked for
        await citizen.tap(texts.BTN_DEPT_UNKNOWN)
        assert "已立案" in await finish_complaint(citizen)
        await sweep.run(harness.app)                           # the sweep resumes
        async with harness.session() as session:
            assert await session.scalar(select(func.count()).select_from(Case)) == 1
            assert await session.scalar(select(func.count()).select_from(Draft)) == 0
            sending = await session.scalar(select(func.count()).select_from(OutboundMessage)
                                           .where(OutboundMessage.state == "sending"))
            assert sending == 0                                # nothing left half-claimed
            assert await session.scalar(select(func.count()).select_from(Reminder)) >= 0
    finally:
        await client.close()
        if harness.app.running:
            await harness.app.stop()
        await proxy.up() if proxy.server is None else None
        await stop_harness(harness)
        await proxy.down()
