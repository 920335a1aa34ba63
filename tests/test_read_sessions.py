"""Read sessions (`Database.read_session()`): a long read never holds up a writer, a read session refuses to
write, and the jobs and commands that only read (the monthly review's build, /report) use one — while the
monthly review still sends exactly once across a crash."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

import handlers.review
import scheduler.monthly
from bot.db.models import Case, Counter, JobRun, OutboundMessage
from bot.db.session import Database
from bot.domain.refs import CASE_SEQUENCE
from tests.test_supervision import monthly_job
from tests.conftest import SHANGHAI, SUPERVISOR_ID, make_settings, start_harness, stop_harness
from tests.flows import accepted_case, bind_official, case_by_ref, file_complaint

# Well under the write turn's 30 s: a writer that had to wait for the long read would miss it.
WRITER_DEADLINE_S = 20
DECEMBER_FIRST = datetime(2026, 12, 1, 9, 3, tzinfo=SHANGHAI)  # 09:03 on December's first working day


async def run_delivery_job(harness) -> None:
    await harness.app.job_queue.get_jobs_by_name("delivery_job")[0].run(harness.app)


def documents_to(harness, chat_id: int) -> list:
    return harness.request.sent(chat_id, "sendDocument")


class Gate:
    """Makes a step slow: it does its reads, then waits (its transaction still open) until the test opens it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.open = asyncio.Event()

    def slow(self, real):
        async def wrapper(**kwargs):
            result = await real(**kwargs)
            self.reached.set()
            await self.open.wait()
            return result
        return wrapper


async def _november_with_a_head(harness):
    """A head of 市财政局 and one case filed in November (the clock starts on 2026-11-27)."""
    citizen = harness.chat(4700)
    head = await bind_official(harness, 4701, head=True)
    official = await bind_official(harness, 4702)
    await accepted_case(harness, citizen, official)
    return head


# --- the session itself ------------------------------------------------------------------------------


async def test_a_read_session_refuses_to_write(database_url):
    db = Database(database_url)
    await db.upgrade()
    try:
        async with db.session() as session:
            before = await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE))
        async with db.read_session() as reader:
            assert await reader.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE)) == before
            with pytest.raises(DBAPIError):  # SQLite: readonly database; PostgreSQL: read-only transaction
                await reader.execute(update(Counter).where(Counter.name == CASE_SEQUENCE)
                                     .values(value=Counter.value + 1))
        async with db.session() as session:
            assert await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE)) == before
            # The pool's connections are not left read-only for the writers.
            await session.execute(update(Counter).where(Counter.name == CASE_SEQUENCE).values(value=Counter.value + 1))
            await session.commit()
        async with db.session() as session:
            assert await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE)) == before + 1
    finally:
        await db.dispose()


async def test_a_sqlite_read_session_takes_no_write_turn_and_reads_one_snapshot(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'snapshot.db'}")
    await db.upgrade()
    try:
        async with db.read_session() as reader:
            before = await reader.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE))
            assert not db.write_turn._lock or not db.write_turn._lock.locked()
            async with db.session() as session:  # a writer commits while the read is open
                await session.execute(update(Counter).where(Counter.name == CASE_SEQUENCE)
                                      .values(value=Counter.value + 1))
                await asyncio.wait_for(session.commit(), timeout=5)
            # Every statement of the read transaction sees the moment of its first read.
            assert await reader.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE)) == before
        async with db.read_session() as reader:
            assert await reader.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE)) == before + 1
    finally:
        await db.dispose()


# --- a long read and a citizen's filing ---------------------------------------------------------------


async def test_a_long_read_does_not_hold_up_a_citizens_filing(harness):
    citizen = harness.chat(4710)
    async with harness.services.db.read_session() as reader:
        await reader.scalar(select(func.count(Case.id)))  # the read transaction has begun
        # It stays open across the whole filing, as a workbook build would.
        ref = await asyncio.wait_for(file_complaint(citizen), timeout=WRITER_DEADLINE_S)
        assert reader.in_transaction()
    assert any(ref in text and "已立案" in text for text in citizen.texts())
    assert (await case_by_ref(harness, ref)).ref == ref


# --- the monthly review ------------------------------------------------------------------------------


async def test_monthly_build_does_not_hold_the_write_turn(harness, monkeypatch):
    head = await _november_with_a_head(harness)
    gate = Gate()
    monkeypatch.setattr(scheduler.monthly, "department_workbook", gate.slow(scheduler.monthly.department_workbook))
    harness.clock.set(DECEMBER_FIRST)
    job = asyncio.create_task(monthly_job(harness).run(harness.app))
    try:
        await asyncio.wait_for(gate.reached.wait(), timeout=WRITER_DEADLINE_S)
        # While the head's workbook is being built, a citizen files a complaint: it completes at once.
        ref = await asyncio.wait_for(file_complaint(harness.chat(4711)), timeout=WRITER_DEADLINE_S)
        assert ref and not documents_to(harness, head.user_id)
    finally:
        gate.open.set()
        await asyncio.wait_for(job, timeout=60)
    assert len(documents_to(harness, head.user_id)) == 1
    assert len(documents_to(harness, SUPERVISOR_ID)) == 1


# A job that raises has PTB hand the error to the error handler through Application.create_task, which warns
# when the Application is not running, as in these tests (the jobs are run by hand; the crash is the point).
crash_of_a_job = pytest.mark.filterwarnings("ignore:Tasks created via `Application.create_task`")


@crash_of_a_job
async def test_monthly_review_crash_while_building_sends_nothing_and_the_next_run_sends_once(harness, monkeypatch):
    head = await _november_with_a_head(harness)
    real = scheduler.monthly.department_workbook

    async def crashing(**kwargs):
        raise RuntimeError("the build died")

    monkeypatch.setattr(scheduler.monthly, "department_workbook", crashing)
    harness.clock.set(DECEMBER_FIRST)
    job = monthly_job(harness)
    await job.run(harness.app)
    assert not harness.request.sent(method="sendDocument")
    async with harness.session() as session:
        assert await session.scalar(select(func.count(JobRun.id))) == 0
        assert await session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.kind == "monthly")) == 0

    monkeypatch.setattr(scheduler.monthly, "department_workbook", real)
    await job.run(harness.app)
    await job.run(harness.app)
    assert len(documents_to(harness, head.user_id)) == 1
    assert len(documents_to(harness, SUPERVISOR_ID)) == 1


@crash_of_a_job
async def test_monthly_review_crash_while_queueing_leaves_neither_claim_nor_rows(harness, monkeypatch):
    head = await _november_with_a_head(harness)
    real = scheduler.monthly._enqueue
    calls = []

    def dies_on_the_second(session, d, now):
        calls.append(d)
        if len(calls) == 2:
            raise RuntimeError("killed while queueing")
        return real(session, d, now)

    monkeypatch.setattr(scheduler.monthly, "_enqueue", dies_on_the_second)
    harness.clock.set(DECEMBER_FIRST)
    job = monthly_job(harness)
    await job.run(harness.app)
    async with harness.session() as session:  # the claim was flushed, then rolled back with the row before it
        assert await session.scalar(select(func.count(JobRun.id))) == 0
        assert await session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.kind == "monthly")) == 0

    monkeypatch.setattr(scheduler.monthly, "_enqueue", real)
    await job.run(harness.app)
    assert len(documents_to(harness, head.user_id)) == 1
    assert len(documents_to(harness, SUPERVISOR_ID)) == 1


@crash_of_a_job
async def test_monthly_review_crash_after_the_commit_is_delivered_once_after_a_restart(
        harness, database_url, classifier, monkeypatch):
    head = await _november_with_a_head(harness)

    async def crash(context, ids):
        raise RuntimeError("the process died before sending")

    with monkeypatch.context() as patch:
        patch.setattr(scheduler.monthly.delivery, "deliver_pending", crash)
        harness.clock.set(DECEMBER_FIRST)
        await monthly_job(harness).run(harness.app)
    assert not harness.request.sent(method="sendDocument")
    await stop_harness(harness)

    again = await start_harness(make_settings(database_url), classifier, harness.clock)
    try:
        await monthly_job(again).run(again.app)  # already claimed: builds nothing, queues nothing
        assert not again.request.sent(method="sendDocument")
        await run_delivery_job(again)  # the owed rows go out
        await run_delivery_job(again)
        assert len(documents_to(again, head.user_id)) == 1
        assert len(documents_to(again, SUPERVISOR_ID)) == 1
        async with again.session() as session:
            assert await session.scalar(select(func.count(JobRun.id))) == 1
    finally:
        await stop_harness(again)


# --- a supervisor's report -------------------------------------------------------------------------


async def test_report_is_built_in_a_read_session_while_citizens_file(harness, monkeypatch):
    await _november_with_a_head(harness)
    gate = Gate()
    monkeypatch.setattr(handlers.review, "monthly_review", gate.slow(handlers.review.monthly_review))
    harness.clock.set(DECEMBER_FIRST)
    supervisor = harness.supervisor()
    report = asyncio.create_task(supervisor.send("/report 2026-11"))
    try:
        await asyncio.wait_for(gate.reached.wait(), timeout=WRITER_DEADLINE_S)
        ref = await asyncio.wait_for(file_complaint(harness.chat(4712)), timeout=WRITER_DEADLINE_S)
        assert ref
    finally:
        gate.open.set()
        await asyncio.wait_for(report, timeout=60)
    (document,) = documents_to(harness, SUPERVISOR_ID)
    assert "2026-11" in document.text
