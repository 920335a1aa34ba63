"""Updates of different chats run concurrently, one chat's in arrival order; overlapping transactions are safe.

Updates go the way production feeds them: onto `application.update_queue` of a started Application, and
`handle_and_wait` (the webhook's and the poller's path) returns when the update has been handled. The
transport answers each Bot API call after a short random delay, so the order in which concurrent updates
finish varies from run to run, as it does against Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections import defaultdict

from sqlalchemy import select, update
from telegram import Update
from telegram.ext import ApplicationBuilder, TypeHandler

from bot import texts
from bot.app import OFFLINE_TOKEN, build_application
from bot.clock import FrozenClock
from bot.db.models import Account, Case, Counter, Draft
from bot.db.session import Database
from bot.domain.refs import CASE_SEQUENCE
from bot.simulator import Chat, LocalRequest
from bot.web.processor import ChatOrderedProcessor, chat_key
from bot.web.server import handle_and_wait, serve
from handlers.commands import help_text
from tests.conftest import START, Harness, make_settings
from tests.flows import DEBT_TEXT, PROCUREMENT_TEXT, file_complaint, reach_confirmation
from tests.standin_api import StandinApi, text_update

_update_ids = itertools.count(5_000_000)


class JitteryRequest(LocalRequest):
    """The local transport, answering each call 0-3 ms late: concurrent updates finish in varying order.
    Messages are also kept per chat, so fifty citizens' taps do not each scan every call."""

    def __init__(self) -> None:
        super().__init__()
        self.by_chat: dict[int, list] = defaultdict(list)

    async def do_request(self, url, method, request_data=None, *args, **kwargs):
        await asyncio.sleep(random.uniform(0, 0.003))
        seen = len(self.calls)
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        for call in self.calls[seen:]:
            # What the person sees arrive or change (a pressed button's message edited into the next step).
            if call.method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText"):
                self.by_chat[call.chat_id].append(call)
        return result

    def messages_to(self, chat_id: int) -> list:
        return list(self.by_chat[chat_id])


class QueuedChat(Chat):
    """A citizen whose updates go through the update queue and the concurrent processor."""

    async def _process(self, payload: dict) -> Update:
        update = self.make(payload)
        await handle_and_wait(self.app, update)
        return update

    def make(self, payload: dict) -> Update:
        update = Update.de_json({"update_id": next(_update_ids), **payload}, self.app.bot)
        self.sent_updates.append(update)
        return update

    async def burst(self, *commands: str) -> None:
        """Several commands sent at once, as a client does when the network comes back."""
        updates = [self.make({"message": self._message(
            text=command, entities=[{"type": "bot_command", "offset": 0, "length": len(command)}])})
            for command in commands]
        await asyncio.gather(*(handle_and_wait(self.app, update) for update in updates))


# --- the processor alone ------------------------------------------------------------------------------

async def _plain_application(processor: ChatOrderedProcessor, work):
    app = (ApplicationBuilder().token(OFFLINE_TOKEN).request(LocalRequest()).get_updates_request(LocalRequest())
           .concurrent_updates(processor).updater(None).build())
    app.add_handler(TypeHandler(Update, work))
    await app.initialize()
    await app.start()
    return app


def _update(update_id: int, chat_id: int) -> Update:
    return Update.de_json({"update_id": update_id, **text_update(chat_id, f"#{update_id}")}, None)


async def test_one_chat_in_order_different_chats_at_once_within_the_bound():
    processor = ChatOrderedProcessor(4)
    running: dict[int, int] = defaultdict(int)
    handled: dict[int, list[int]] = defaultdict(list)
    peak = {"all": 0, "overlap_in_a_chat": 0}

    async def work(update: Update, context) -> None:
        chat = update.effective_chat.id
        running[chat] += 1
        peak["overlap_in_a_chat"] = max(peak["overlap_in_a_chat"], running[chat])
        peak["all"] = max(peak["all"], sum(running.values()))
        await asyncio.sleep(random.uniform(0, 0.01))
        handled[chat].append(update.update_id)
        running[chat] -= 1

    app = await _plain_application(processor, work)
    try:
        updates = [_update(i, 100 + random.randrange(12)) for i in range(1, 301)]
        for update in updates:
            app.update_queue.put_nowait(update)
        await asyncio.wait_for(app.update_queue.join(), 30)
    finally:
        await app.stop()
        await app.shutdown()
    sent: dict[int, list[int]] = defaultdict(list)
    for update in updates:
        sent[update.effective_chat.id].append(update.update_id)
    assert handled == sent                        # every update once, each chat's in arrival order
    assert peak["overlap_in_a_chat"] == 1         # never two of one chat at once
    assert 1 < peak["all"] <= 4                   # concurrent, within the bound
    assert processor.chats_in_flight == 0         # nothing left behind


async def test_an_update_reaches_its_handler_without_a_turn_of_the_event_loop():
    """handle_and_wait hands the update to the processor in its own task: under load every turn of the
    loop waits behind every update in flight, and the update queue's fetcher would cost two."""
    from bot.web.metrics import InstrumentedApplication
    from tests.loop_turns import LoopTurns

    seen: list[int] = []
    app = (ApplicationBuilder().token(OFFLINE_TOKEN).request(LocalRequest()).get_updates_request(LocalRequest())
           .application_class(InstrumentedApplication).concurrent_updates(ChatOrderedProcessor(4))
           .updater(None).build())
    await app.initialize()
    await app.start()
    try:
        async with LoopTurns() as turns:
            app.add_handler(TypeHandler(Update, lambda update, context: _note(seen, turns.count)))
            before = turns.count
            await handle_and_wait(app, _update(9001, 4242))
        assert seen == [before]
    finally:
        await app.stop()
        await app.shutdown()


async def _note(seen: list[int], count: int) -> None:
    seen.append(count)


async def test_a_chat_waiting_for_its_turn_does_not_hold_a_slot():
    """Twenty queued presses of one chat leave the other slot to everyone else."""
    processor = ChatOrderedProcessor(2)
    finished: list[int] = []
    release = asyncio.Event()

    async def work(update: Update, context) -> None:
        if update.update_id == 1:
            await release.wait()  # the busy chat's first update is slow
        finished.append(update.update_id)

    app = await _plain_application(processor, work)
    try:
        for i in range(1, 21):
            app.update_queue.put_nowait(_update(i, 500))
        app.update_queue.put_nowait(_update(21, 600))
        app.update_queue.put_nowait(_update(22, 700))
        for _ in range(100):
            if len(finished) == 2:
                break
            await asyncio.sleep(0.01)
        assert finished == [21, 22]
        release.set()
        await asyncio.wait_for(app.update_queue.join(), 10)
    finally:
        await app.stop()
        await app.shutdown()
    assert finished == [21, 22, *range(1, 21)]


def test_the_key_is_the_chat_else_the_user():
    message = Update.de_json({"update_id": 1, **text_update(42, "hi")}, None)
    inline = Update.de_json({"update_id": 2, "inline_query": {
        "id": "q", "from": {"id": 43, "is_bot": False, "first_name": "x"}, "query": "", "offset": ""}}, None)
    poll = Update(3)  # neither chat nor user (a poll's new state, for one)
    assert (chat_key(message), chat_key(inline), chat_key(poll), chat_key(object())) == (42, 43, "no-chat", "no-chat")


# --- overlapping transactions on SQLite ------------------------------------------------------------------

async def test_sqlite_transactions_take_the_write_lock_in_the_order_they_asked(tmp_path):
    """Thirty transactions that each hold the lock across an await: none fails or is lost, none overtakes
    one that asked before it (SQLite's own busy handler would let them retry in any order)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", concurrency=30)
    await db.upgrade()
    began: list[int] = []
    committed: list[int] = []

    async def bump(i: int) -> None:
        async with db.session() as session:
            began.append(i)
            value = await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE))
            await asyncio.sleep(random.uniform(0, 0.003))  # a transaction that yields, holding the lock
            await session.execute(update(Counter).where(Counter.name == CASE_SEQUENCE).values(value=value + 1))
            await session.commit()
            committed.append(i)

    async def counter() -> int:
        async with db.session() as session:
            return await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE))

    try:
        await asyncio.gather(*(bump(i) for i in range(30)))  # opens the pool's connections
        before = await counter()
        began.clear()
        committed.clear()
        await asyncio.gather(*(bump(i) for i in range(30)))
        assert await counter() == before + 30
        assert committed == began == list(range(30))
        assert db.write_turn.waiting == 0
    finally:
        await db.dispose()


# --- fifty citizens through the real Application ------------------------------------------------------

CITIZENS = 50
CITIZEN_BASE = 8_800_000


async def test_fifty_citizens_file_at_once(database_url, classifier, caplog):
    settings = make_settings(database_url)
    request = JitteryRequest()
    app = build_application(settings, request=request, clock=FrozenClock(START), classifier=classifier)
    handled: dict[int, list[int]] = defaultdict(list)
    peak = {"concurrent": 0}

    async def record(update: Update, context) -> None:
        handled[chat_key(update)].append(update.update_id)
        peak["concurrent"] = max(peak["concurrent"], app.update_processor.current_concurrent_updates)

    app.add_handler(TypeHandler(Update, record), group=-10)
    await app.initialize()
    await app.post_init(app)
    await app.start()
    harness = Harness(app=app, request=request, clock=FrozenClock(START), settings=settings)
    chats = [QueuedChat(app, CITIZEN_BASE + i) for i in range(CITIZENS)]

    def marked(i: int) -> str:
        return f"{(PROCUREMENT_TEXT, DEBT_TEXT)[i % 2]}（第{i}号）"

    async def citizen(i: int) -> str | None:
        chat = chats[i]
        await asyncio.sleep(random.uniform(0, 0.05))
        await chat.burst("/start", "/help", "/start", "/help")
        if i % 5 == 4:
            await reach_confirmation(chat, marked(i))  # stops at the summary: the draft stays
            return None
        return await file_complaint(chat, marked(i))

    caplog.set_level(logging.WARNING)
    try:
        refs = await asyncio.wait_for(asyncio.gather(*(citizen(i) for i in range(CITIZENS))), 300)
    finally:
        await app.stop()
    try:
        filed = [(i, ref) for i, ref in enumerate(refs) if ref is not None]
        assert len({ref for _, ref in filed}) == len(filed) == CITIZENS * 4 // 5
        async with harness.session() as session:
            cases = {case.ref: case for case in (await session.scalars(select(Case))).unique()}
            drafts = {draft.account_id: draft for draft in await session.scalars(select(Draft))}
            accounts = {a.telegram_id: a.id for a in await session.scalars(select(Account))}
        # Every filing opened exactly one case, with its own citizen's text and consent.
        assert sorted(cases) == sorted(ref for _, ref in filed)
        for i, ref in filed:
            case = cases[ref]
            assert case.complainant.telegram_id == CITIZEN_BASE + i and f"（第{i}号）" in case.text
            assert case.contact_allowed
        # Every unfinished conversation kept its own draft, at the summary; the finished ones left none.
        for i in range(CITIZENS):
            draft = drafts.get(accounts[CITIZEN_BASE + i])
            if i % 5 == 4:
                assert draft is not None and draft.step == "confirm" and f"（第{i}号）" in draft.data["text"]
                assert draft.data.get("contact") is True
            else:
                assert draft is None or draft.case_id is not None

        for i, chat in enumerate(chats):
            # Each update handled once, in the order the citizen sent them.
            assert handled[chat.user_id] == [u.update_id for u in chat.sent_updates]
            # The burst's replies came in the order of its commands.
            replies = chat.texts()
            assert replies[:4] == [texts.WELCOME["citizen"], help_text("citizen")] * 2, i
            assert texts.ERROR_GENERIC not in replies and texts.DB_UNAVAILABLE not in replies
        assert 1 < peak["concurrent"] <= settings.concurrent_updates
        assert not [r for r in caplog.records if "locked" in r.getMessage() or r.levelno >= logging.ERROR]
    finally:
        await app.post_shutdown(app)
        await app.shutdown()


# --- polling: a slow update holds back only its own confirmation ------------------------------------------

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
SLOW, QUICK = 7501, (7502, 7503, 7504)


async def test_polling_keeps_taking_updates_while_one_is_slow_and_confirms_only_handled_ones(database_url, classifier):
    api = StandinApi()
    await api.start()
    settings = make_settings(database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url)
    application = build_application(settings, clock=FrozenClock(START), classifier=classifier)
    answered: dict[int, float] = {}  # id(call) -> when its answer left the stand-in
    api.faults.append(lambda call: 1.0 if call.method == "sendMessage" and call.chat_id == SLOW else None)
    api.late_faults.append(lambda call: answered.setdefault(id(call), time.monotonic()) and None)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(application, settings, stop=stop, install_signals=False))
    try:
        await api.wait_for(lambda: api.sent(method="getUpdates"), 30, "polling")
        slow_id = await api.push(text_update(SLOW, "/start"))
        await api.wait_for(lambda: api.sent(SLOW), 20, "the slow chat's reply to be on its way")
        quick_ids = [await api.push(text_update(user, "/help")) for user in QUICK]
        await api.wait_for(lambda: all(api.sent(user) for user in QUICK), 20, "the other chats' replies")
        slow_reply = api.sent(SLOW)[0]
        assert not slow_reply.answered  # the others were handled while the slow one still waited
        await api.wait_for(lambda: api.updates == [], 20, "every update confirmed")
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await api.stop()
    # Nothing doubled, though Telegram served the slow update again with each poll while it was in flight.
    assert [len(api.sent(user)) for user in (SLOW, *QUICK)] == [1, 1, 1, 1]
    polls = api.sent(method="getUpdates")
    assert sum(1 for call in polls if call.at < answered[id(slow_reply)] and int(call.params.get("offset") or 0)
               == slow_id) >= 2
    # No offset passed the slow update before its reply was answered, nor a quick one before its reply went.
    for call in polls:
        offset = int(call.params.get("offset") or 0)
        if offset > slow_id:
            assert call.at >= answered[id(slow_reply)]
        for user, update_id in zip(QUICK, quick_ids):
            if offset > update_id:
                assert call.at >= answered[id(api.sent(user)[0])]


def test_the_database_pool_fits_the_concurrency():
    """One connection per update in flight, plus the jobs, /healthz and /metrics (not opened here)."""
    for url in ("postgresql+asyncpg://chengxin@127.0.0.1/chengxin", "sqlite+aiosqlite:///unused.db"):
        db = Database(url, concurrency=30)
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (34, 4)
