"""Prometheus metrics, and the Application / JobQueue subclasses that count updates, time them and tag logs.

Each Application has its own registry (not prometheus-client's global one), so a test can build several.
Process-side figures (updates, latency, errors, job runs) are counted as they happen; database-side
figures (cases by status, outbound messages by state, the oldest owed message) are read on each scrape.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application, JobQueue

from bot.db.models import Case, OutboundMessage
from bot.db.session import Database
from bot.logs import current_job, current_update

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OWED_STATES = ("pending", "sending")


def update_type(update: object) -> str:
    """message, callback_query, edited_message, … (the first field Telegram set), or 'other'."""
    if isinstance(update, Update):
        for name in Update.ALL_TYPES:
            if getattr(update, name, None) is not None:
                return name
    return "other"


def error_kind(error: BaseException | None) -> str:
    """database, telegram, connection (a refused or lost socket: usually the database) or other."""
    from telegram.error import TelegramError

    if isinstance(error, SQLAlchemyError):
        return "database"
    if isinstance(error, TelegramError):
        return "telegram"
    if isinstance(error, OSError):
        return "connection"
    return "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter("chengxin_updates_handled", "Updates handled, by update type", ["type"], registry=r)
        self.latency = Histogram("chengxin_update_seconds", "Time to handle one update (all handlers)",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.errors = Counter("chengxin_errors", "Exceptions that reached the error handler", ["source", "kind"],
                              registry=r)
        self.job_runs = Counter("chengxin_job_runs", "Scheduled job runs, by job", ["job"], registry=r)
        self.job_seconds = Histogram("chengxin_job_seconds", "Duration of scheduled job runs", ["job"],
                                     buckets=(0.05, 0.25, 1, 5, 15, 30, 60, 120), registry=r)
        self.cases = Gauge("chengxin_cases", "Cases by status (read from the database at scrape time)",
                           ["status"], registry=r)
        self.outbound = Gauge("chengxin_outbound_messages",
                              "Reminders and notices the bot owes or sent, by delivery state "
                              "(pending, sending, sent, failed, unreachable)", ["state"], registry=r)
        self.oldest_owed = Gauge("chengxin_outbound_oldest_pending_seconds",
                                 "Age of the oldest message not yet delivered (0 when none)", registry=r)
        self.database_up = Gauge("chengxin_database_up", "1 when the last scrape could read the database",
                                 registry=r)
        # The per-type children of `updates`, looked up once: labels() takes a lock and checks its
        # arguments on every call, and this runs for every update.
        self._updates_by_type: dict[str, Any] = {}

    def count_update(self, kind: str) -> None:
        child = self._updates_by_type.get(kind)
        if child is None:
            child = self._updates_by_type[kind] = self.updates.labels(type=kind)
        child.inc()

    async def refresh(self, db: Database, now: datetime, *, timeout: float = 2.0) -> bool:
        """Read the database-side figures; on failure or timeout they are dropped and database_up is 0."""
        try:
            cases, outbound, oldest = await asyncio.wait_for(self._read(db), timeout)
        except (asyncio.TimeoutError, SQLAlchemyError, OSError) as error:
            log.warning("metrics: database not readable: %s", type(error).__name__)
            for gauge in (self.cases, self.outbound):
                gauge.clear()
            self.database_up.set(0)
            return False
        self.cases.clear()
        for status, count in cases:
            self.cases.labels(status=status).set(count)
        self.outbound.clear()
        for state in ("pending", "sending", "sent", "failed", "unreachable"):
            self.outbound.labels(state=state).set(0)
        for state, count in outbound:
            self.outbound.labels(state=state).set(count)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        self.oldest_owed.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
        self.database_up.set(1)
        return True

    @staticmethod
    async def _read(db: Database) -> tuple[list, list, Any]:
        async with db.read_session() as session:  # counts over big tables: no writer should wait for them
            cases = (await session.execute(select(Case.status, func.count()).group_by(Case.status))).all()
            outbound = (await session.execute(
                select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state))).all()
            oldest = await session.scalar(
                select(func.min(OutboundMessage.created_at)).where(OutboundMessage.state.in_(OWED_STATES)))
            await session.rollback()
        return cases, outbound, oldest

    def render(self) -> bytes:
        return generate_latest(self.registry)


class InstrumentedApplication(Application):
    """The Application, plus: updates counted and timed, errors counted, the update id on every log line,
    and a way to wait until a given update has been handled (for acknowledging it only then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = Metrics()
        self._handled: dict[int, asyncio.Future] = {}
        # Updates that came by webhook and whose answer to a button press may ride on the webhook's response.
        self._webhook_answers: dict[int, dict | None] = {}

    def handled(self, update_id: int) -> asyncio.Future:
        """A future resolved when `process_update` has finished with this update (whatever the outcome)."""
        future = self._handled.get(update_id)
        if future is None:
            future = self._handled[update_id] = asyncio.get_running_loop().create_future()
        return future

    def expect_webhook_answer(self, update_id: int) -> None:
        """This update's webhook request waits for it: a method for Telegram may be returned with the 200."""
        self._webhook_answers.setdefault(update_id, None)

    def answer_by_webhook(self, update_id: int, method: dict) -> bool:
        """Put `method` into the webhook response of this update; False (call it yourself) when the update
        did not come by webhook or its one slot is taken."""
        if update_id not in self._webhook_answers or self._webhook_answers[update_id] is not None:
            return False
        self._webhook_answers[update_id] = method
        return True

    def webhook_answer(self, update_id: int) -> dict | None:
        """The method to return with this update's webhook response, if any (the slot is closed after)."""
        return self._webhook_answers.pop(update_id, None)

    async def process_update(self, update: object) -> None:
        update_id = getattr(update, "update_id", None)
        token = current_update.set(update_id)
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)
            self.metrics.count_update(update_type(update))
            current_update.reset(token)
            future = self._handled.pop(update_id, None) if update_id is not None else None
            if future is not None and not future.done():
                future.set_result(None)

    async def process_error(self, update: object | None, error: Exception, job: Any = None,
                            coroutine: Any = None) -> bool:
        self.metrics.errors.labels(source="job" if job is not None else "update", kind=error_kind(error)).inc()
        return await super().process_error(update, error, job=job, coroutine=coroutine)


class InstrumentedJobQueue(JobQueue):
    """Every scheduled run carries its job's name into the logs and is counted and timed."""

    @staticmethod
    async def job_callback(job_queue: JobQueue, job: Any) -> None:
        token = current_job.set(job.name)
        started = time.perf_counter()
        try:
            await job.run(job_queue.application)
        finally:
            metrics = getattr(job_queue.application, "metrics", None)
            if isinstance(metrics, Metrics):
                metrics.job_runs.labels(job=job.name).inc()
                metrics.job_seconds.labels(job=job.name).observe(time.perf_counter() - started)
            current_job.reset(token)
