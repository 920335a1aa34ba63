"""The composition root: builds the Application, opens every resource in post_init, closes it in post_shutdown."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import texts
from bot.clock import Clock
from bot.config import Settings
from bot.db.session import Database
from bot.domain.departments import directory_entries, seed_sample_directory
from bot.domain.obligations import Deadlines
from bot.domain.triage import Triager
from bot.domain.workdays import WorkCalendar
from bot.policy import load_policy
from bot.services import SERVICES_KEY, Services
from bot.web.metrics import InstrumentedApplication, InstrumentedJobQueue
from bot.web.processor import ChatOrderedProcessor
from handlers import citizen, common, commitments, complaint, official, supervision, supervisor
from nlp import Classifier
from scheduler.calendar_table import CHECK_SECONDS as CALENDAR_CHECK_SECONDS
from scheduler.calendar_table import calendar_table_job, refresh_calendar
from scheduler.drafts import draft_sweep_job
from scheduler.follow_up import follow_up_job
from scheduler.monthly import monthly_review_job
from scheduler.reminders import delivery_job, reminder_sweep_job

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
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if settings.rate_limit:
        # One message per 1/29 s instead of bursts of 30: a burst plus the next second's quota draws 429s.
        builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=3))
    application = builder.build()
    register_handlers(application, settings)
    return application


def register_handlers(application: Application, settings: Settings) -> None:
    """Every trigger the bot answers, in the order they are tried."""
    application.add_handler(TypeHandler(Update, common.FloodGuard(settings.flood_messages, settings.flood_seconds)),
                            group=-2)
    application.add_handler(MessageHandler(~filters.ChatType.PRIVATE, common.group_chat_guard), group=-1)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, common.edited_message))

    commands = {
        "start": common.start_command,
        "help": common.help_command,
        "complain": complaint.complain_command,
        "cancel": complaint.cancel_command,
        "mycases": citizen.mycases_command,
        "status": citizen.status_command,
        "supplement": citizen.supplement_command,
        "withdraw": citizen.withdraw_command,
        "case": supervisor.case_command,
        "assign": supervisor.assign_command,
        "invite": supervisor.invite_command,
        "officials": supervisor.officials_command,
        "unbind": supervisor.unbind_command,
        "verify": supervisor.verify_command,
        "tolerate": supervisor.tolerate_command,
        "reject": supervisor.reject_command,
        "reopen": supervisor.reopen_command,
        "broken": supervisor.broken_command,
        "bind": official.bind_command,
        "tasks": official.tasks_command,
        "reply": official.reply_command,
        "commit": official.commit_command,
        "rectified": official.rectified_command,
        "extend": official.extend_command,
        "dispute": official.dispute_command,
        "objection": official.objection_command,
        "repair": official.repair_command,
        "register": commitments.register_command,
        "commitments": commitments.commitments_command,
        "commitment": commitments.commitment_command,
        "fulfilled": commitments.fulfilled_command,
        "kept": commitments.kept_command,
        "amend": commitments.amend_command,
        "domain": supervisor.domain_command,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=filters.ChatType.PRIVATE))

    menu = {
        texts.BTN_COMPLAIN: complaint.complain_command,
        texts.BTN_MY_CASES: citizen.mycases_command,
        texts.BTN_STATUS: citizen.status_command,
        texts.BTN_HELP: common.help_command,
    }
    for label, callback in menu.items():
        application.add_handler(MessageHandler(filters.Text([label]), callback))

    buttons = {
        r"^c:\d+:": complaint.complaint_button,
        r"^my:\d+$": citizen.mycases_page_button,
        r"^st:": citizen.status_button,
        r"^sup:": citizen.supplement_button,
        r"^sd:\d+$": citizen.supplement_done_button,
        r"^wd[yn]?:": citizen.withdraw_button,
        r"^as:": supervisor.assign_button,
        r"^ev:": supervisor.evidence_button,
        r"^acc:": official.accept_case_button,
        r"^dspr?:": official.dispute_case_button,
        r"^ef:\d+$": official.evidence_finished_button,
        r"^(cmd|exd|obd|rpd):\d+:[01]$": supervisor.decision_button,
        r"^ub:\d+$": supervisor.unbind_button,
        r"^sat:": citizen.satisfaction_button,
        r"^vc:": supervisor.view_case_button,
        r"^cm:": commitments.commitment_button,
        r"^cml:": commitments.commitments_page_button,
        r"^ck:\d+:[01]$": commitments.conclude_button,
        r"^cr:\d+:[01]$": commitments.registration_button,
        r"^cv:\d+:[dnr]$": commitments.amend_decision_button,
        r"^ru:\d+$": commitments.report_unkept_button,
    }
    for pattern, callback in buttons.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    supervision.register_supervision_handlers(application)
    application.add_handler(CallbackQueryHandler(common.unknown_button))

    application.add_handler(MessageHandler(filters.COMMAND, common.unknown_command))
    application.add_handler(MessageHandler(filters.TEXT, citizen.text_message))
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, citizen.media_message))
    application.add_handler(MessageHandler(filters.ALL, citizen.unsupported_message))
    application.add_error_handler(common.error_handler)


def _open_resources(settings: Settings, clock: Clock, classifier: Classifier | None):
    async def post_init(application: Application) -> None:
        policy = load_policy(Path(settings.policy_file) if settings.policy_file else None)
        calendar = WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None)
        db = Database(settings.database_url, concurrency=settings.concurrent_updates)
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
                delivery_job, interval=settings.delivery_seconds, first=10, name="delivery_job"
            )
            application.job_queue.run_repeating(
                monthly_review_job, interval=300, first=120, name="monthly_review_job"
            )
            application.job_queue.run_repeating(
                calendar_table_job, interval=CALENDAR_CHECK_SECONDS, first=CALENDAR_CHECK_SECONDS,
                name="calendar_table_job",
            )
        log.info("Chengxin ready: %d departments, database %s", len(entries), db.url.get_backend_name())

    return post_init


async def _set_command_menus(application: Application, settings: Settings) -> None:
    """The citizen menu for everyone, the supervisor menu in each supervisor's own chat."""
    try:
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in texts.COMMANDS["citizen"]])
        for supervisor_id in settings.supervisors:
            await application.bot.set_my_commands(
                [BotCommand(c, d) for c, d in texts.COMMANDS["supervisor"]],
                scope=BotCommandScopeChat(supervisor_id),
            )
    except TelegramError as error:
        # A supervisor who never opened the bot has no chat yet; the menu is a convenience.
        log.warning("could not set every command menu: %s", error)


async def _close_resources(application: Application) -> None:
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.db.dispose()
