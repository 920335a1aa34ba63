"""The composition root: builds the Application, opens every resource in post_init, closes it in post_shutdown."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import BotCommandScopeChat, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot.bot_api_http import BotApiHttp, pool_size_for
from bot.clock import Clock
from bot.config import Settings
from bot.db.session import Database
from bot.domain.audit import audit_key_for
from bot.domain.departments import directory_entries, seed_sample_directory
from bot.domain.obligations import Deadlines
from bot.domain.triage import Triager
from bot.domain.workdays import WorkCalendar
from bot.policy import load_policy
from bot.services import SERVICES_KEY, Services
from bot.web.metrics import InstrumentedApplication, InstrumentedJobQueue
from bot.web.processor import ChatOrderedProcessor
from bot.web.poller import POLLS_OUT
from handlers import (
    access, case_view, citizen, commands, common, commitments, complaint, official, privacy, review, supervision,
    supervisor, web_login,
)
from nlp import Classifier
from scheduler.anchor import CHECK_SECONDS as ANCHOR_CHECK_SECONDS
from scheduler.anchor import audit_anchor_job
from scheduler.calendar_table import CHECK_SECONDS as CALENDAR_CHECK_SECONDS
from scheduler.calendar_table import COVERAGE_CHECK_SECONDS, calendar_coverage_job, calendar_table_job, refresh_calendar
from scheduler.drafts import draft_sweep_job
from scheduler.follow_up import follow_up_job
from scheduler.monthly import monthly_review_job
from scheduler.reminders import DELIVERY_JOB_KWARGS, delivery_job, reminder_sweep_job
from scheduler.retention import CHECK_SECONDS as RETENTION_CHECK_SECONDS
from scheduler.retention import retention_job

log = logging.getLogger(__name__)

OFFLINE_TOKEN = "700000001:offline-local-transport-token"


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    classifier: Classifier | None = None,
) -> Application:
    """The Application production runs; tests and the console pass a local request and a controlled clock."""
    builder = (
        ApplicationBuilder()
        .token(settings.token if request is None else (settings.token or OFFLINE_TOKEN))
        .base_url(f"{settings.api_root}/bot")
        .base_file_url(f"{settings.api_root}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_open_resources(settings, clock or Clock(), classifier))
        .post_shutdown(_close_resources)
        # Counts and times updates and jobs for /metrics, and tags log lines with the update id / job name.
        .application_class(InstrumentedApplication)
        .job_queue(InstrumentedJobQueue())
        # Different chats concurrently, each chat's updates in arrival order (bot/web/processor.py).
        .concurrent_updates(ChatOrderedProcessor(settings.concurrent_updates))
    )
    if request is None:
        # Over HTTP to Telegram (or a local Bot API server): aiohttp, not PTB's default httpx, which
        # costs about five times the CPU per call (bot/bot_api_http.py). getUpdates has its own
        # connections, as in PTB's default, so a long poll never holds one a reply needs; one for each short
        # poll the poller keeps out while updates are in flight (bot/web/poller.py).
        builder = builder.request(BotApiHttp(connection_pool_size=pool_size_for(settings.concurrent_updates))) \
            .get_updates_request(BotApiHttp(connection_pool_size=POLLS_OUT))
    else:
        builder = builder.request(request).get_updates_request(request)
    if settings.rate_limit:
        # One message per 1/29 s instead of bursts of 30: a burst plus the next second's quota draws 429s.
        builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=3))
    application = builder.build()
    register_handlers(application, settings)
    return application


def register_handlers(application: Application, settings: Settings) -> None:
    """Every trigger the bot answers, in the order they are tried; each feature registers its own."""
    common.register_guards(application, flood_messages=settings.flood_messages, flood_seconds=settings.flood_seconds)
    for feature in (complaint, citizen, official, case_view, supervisor, access, supervision, review, commitments,
                    privacy, web_login):
        feature.register(application)
    common.register_fallbacks(application)
    citizen.register_messages(application)


def _open_resources(settings: Settings, clock: Clock, classifier: Classifier | None):
    async def post_init(application: Application) -> None:
        policy = load_policy(Path(settings.policy_file) if settings.policy_file else None)
        calendar = WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None)
        db = Database(settings.database_url, audit_key=audit_key_for(settings),
                      concurrency=settings.concurrent_updates)
        await db.upgrade()
        async with db.session() as session:
            await seed_sample_directory(session=session)
            entries = await directory_entries(session=session)
            await session.commit()
        await refresh_calendar(db, calendar, clock.now(), settings.tz)
        triager = Triager(classifier or Classifier.default(), entries)
        await asyncio.to_thread(triager.classifier.tokenize, "预热")  # load jieba now, off the event loop
        application.bot_data[SERVICES_KEY] = Services(
            settings=settings, db=db, clock=clock, triager=triager, policy=policy,
            deadlines=Deadlines(policy=policy, calendar=calendar, tz=settings.tz),
        )
        await _set_command_menus(application, settings)
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                draft_sweep_job, interval=settings.draft_sweep_seconds, first=30, name="draft_sweep_job"
            )
            application.job_queue.run_repeating(
                follow_up_job, interval=settings.follow_up_sweep_seconds, first=60, name="follow_up_job"
            )
            application.job_queue.run_repeating(
                reminder_sweep_job, interval=settings.sweep_seconds, first=5, name="reminder_sweep_job"
            )
            application.job_queue.run_repeating(
                delivery_job, interval=settings.delivery_seconds, first=10, name="delivery_job",
                job_kwargs=DELIVERY_JOB_KWARGS,
            )
            application.job_queue.run_repeating(
                monthly_review_job, interval=300, first=120, name="monthly_review_job"
            )
            application.job_queue.run_repeating(
                retention_job, interval=RETENTION_CHECK_SECONDS, first=RETENTION_CHECK_SECONDS // 6,
                name="retention_job",
            )
            application.job_queue.run_repeating(
                audit_anchor_job, interval=ANCHOR_CHECK_SECONDS, first=60, name="audit_anchor_job",
            )
            application.job_queue.run_repeating(
                calendar_table_job, interval=CALENDAR_CHECK_SECONDS, first=CALENDAR_CHECK_SECONDS,
                name="calendar_table_job",
            )
            application.job_queue.run_repeating(
                calendar_coverage_job, interval=COVERAGE_CHECK_SECONDS, first=1, name="calendar_coverage_job"
            )
        log.info("Chengxin ready: %d departments, database %s", len(entries), db.url.get_backend_name())

    return post_init


async def _set_command_menus(application: Application, settings: Settings) -> None:
    """The citizen menu for everyone, the supervisor menu in each configured supervisor's own chat; officials
    and invited supervisors get theirs when they bind or send /start."""
    try:
        await application.bot.set_my_commands(commands.menu(commands.CITIZEN))
        for supervisor_id in settings.supervisors:
            await application.bot.set_my_commands(commands.menu(commands.SUPERVISOR),
                                                  scope=BotCommandScopeChat(supervisor_id))
    except TelegramError as error:
        # A supervisor who never opened the bot has no chat yet; the menu is a convenience.
        log.warning("could not set every command menu: %s", error)


async def _close_resources(application: Application) -> None:
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.db.dispose()
