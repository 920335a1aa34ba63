"""The delivery job never overlaps itself and never logs a WARNING for a tick that comes while it drains."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

from bot.domain import outbox
from bot.simulator import LocalRequest
from tests.conftest import START, make_settings, stop_harness


class SlowRequest(LocalRequest):
    """The Bot API, answering each sendMessage after `delay` seconds (a busy server, a long backlog)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def do_request(self, url, method, request_data=None, **kwargs):
        if url.endswith("/sendMessage"):
            await asyncio.sleep(self.delay)
        return await super().do_request(url, method, request_data, **kwargs)


async def _slow_harness(database_url, classifier, delay: float, **settings):
    from bot.app import build_application
    from bot.clock import FrozenClock
    from tests.conftest import Harness

    request, clock = SlowRequest(delay), FrozenClock(START)  # Friday 10:00: a working hour
    config = make_settings(database_url, **settings)
    app = build_application(config, request=request, clock=clock, classifier=classifier)
    await app.initialize()
    await app.post_init(app)
    return Harness(app=app, request=request, clock=clock, settings=config)


async def _owe(harness, chats: range) -> None:
    async with harness.session() as session:
        for chat_id in chats:
            outbox.enqueue(session=session, chat_id=chat_id, account_id=None, kind="notice",
                           text=f"通知 {chat_id}", now=START)
        await session.commit()


def _sent_to(harness, chats: range) -> dict[int, int]:
    return {chat_id: len(harness.request.sent(chat_id, "sendMessage")) for chat_id in chats}


async def test_a_second_run_while_one_drains_returns_at_once_without_a_warning(database_url, classifier, caplog):
    harness = await _slow_harness(database_url, classifier, delay=0.15)
    try:
        chats = range(7001, 7007)
        await _owe(harness, chats)
        job = harness.app.job_queue.get_jobs_by_name("delivery_job")[0]
        caplog.set_level(logging.DEBUG)
        first = asyncio.create_task(job.run(harness.app))
        await asyncio.sleep(0.05)  # the first run has claimed the backlog and is sending
        started = time.monotonic()
        await job.run(harness.app)
        assert time.monotonic() - started < 0.1  # skipped, not queued behind the first
        assert not first.done()
        await first
        assert _sent_to(harness, chats) == {chat_id: 1 for chat_id in chats}  # each once, by the first run
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
        # The next run, after the first has finished, delivers again (the skip does not stick).
        await _owe(harness, range(7101, 7102))
        await job.run(harness.app)
        assert _sent_to(harness, range(7101, 7102)) == {7101: 1}
    finally:
        await stop_harness(harness)


async def test_the_scheduler_ticking_during_a_backlog_logs_no_warning(tmp_path, classifier, caplog):
    """Through APScheduler itself: a 1-second interval while one run takes ~2 s."""
    harness = await _slow_harness(f"sqlite+aiosqlite:///{tmp_path / 'chengxin.db'}", classifier, delay=0.2,
                                  CHENGXIN_DELIVERY_SECONDS=1)
    try:
        chats = range(7201, 7211)
        await _owe(harness, chats)
        queue = harness.app.job_queue
        for job in queue.jobs():  # only delivery runs here, starting now
            if job.name != "delivery_job":
                job.schedule_removal()
        caplog.set_level(logging.INFO)
        await queue.start()
        queue.get_jobs_by_name("delivery_job")[0].job.modify(next_run_time=datetime.now(timezone.utc))
        deadline = time.monotonic() + 10
        while sum(_sent_to(harness, chats).values()) < len(chats) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # at least one more tick while nothing is owed
        await queue.stop(wait=True)
        assert _sent_to(harness, chats) == {chat_id: 1 for chat_id in chats}
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == []
    finally:
        await stop_harness(harness)
