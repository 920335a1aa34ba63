"""Unfinished complaints: one nudge after a day, discarded with a notice after a week — from the database."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import texts
from bot.db.models import Draft
from tests.conftest import make_settings, start_harness, stop_harness
from tests.flows import DEBT_TEXT


def sweep_job(harness):
    return harness.app.job_queue.get_jobs_by_name("draft_sweep_job")[0]


async def test_idle_draft_gets_one_nudge_then_expires(harness):
    chat = harness.chat(5001)
    await chat.send(DEBT_TEXT)
    harness.clock.advance(hours=23)
    await sweep_job(harness).run(harness.app)
    assert texts.DRAFT_NUDGE not in chat.texts()

    harness.clock.advance(hours=2)
    await sweep_job(harness).run(harness.app)
    await sweep_job(harness).run(harness.app)
    assert chat.texts().count(texts.DRAFT_NUDGE) == 1

    harness.clock.advance(days=7)
    await sweep_job(harness).run(harness.app)
    assert "已自动清除" in chat.last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Draft.id))) == 0


async def test_activity_restarts_the_nudge_clock(harness):
    chat = harness.chat(5002)
    await chat.send(DEBT_TEXT)
    harness.clock.advance(hours=25)
    await sweep_job(harness).run(harness.app)
    await chat.tap("✅ 是，地方政府债务")
    harness.clock.advance(hours=25)
    await sweep_job(harness).run(harness.app)
    assert chat.texts().count(texts.DRAFT_NUDGE) == 2


async def test_nudge_is_not_repeated_after_a_restart(harness, classifier):
    chat = harness.chat(5003)
    await chat.send(DEBT_TEXT)
    harness.clock.advance(hours=25)
    await sweep_job(harness).run(harness.app)
    await stop_harness(harness)
    restarted = await start_harness(make_settings(harness.settings.database_url), classifier, harness.clock)
    try:
        await sweep_job(restarted).run(restarted.app)
        assert restarted.request.messages_to(5003) == []
    finally:
        await stop_harness(restarted)
