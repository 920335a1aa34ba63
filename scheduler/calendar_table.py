"""The database's copy of the working-day calendar (/score, /overdue), kept current while the bot runs."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram.ext import ContextTypes

from bot.db.session import Database
from bot.domain.calendar_table import refresh_calendar_table
from bot.domain.workdays import WorkCalendar
from bot.services import services

log = logging.getLogger(__name__)

# The table's span moves by whole years; a few checks a day catch New Year without noticeable cost
# (an unchanged table is one locked row read and a cached digest).
CHECK_SECONDS = 6 * 3600


async def refresh_calendar(db: Database, calendar: WorkCalendar, now: datetime, tz: ZoneInfo) -> bool:
    """Refill the table when the holidays package, the override file or the year changed; True if it did."""
    async with db.session() as session:
        refilled = await refresh_calendar_table(session=session, calendar=calendar,
                                                today=now.astimezone(tz).date(), now=now)
        await session.commit()
    if refilled:
        log.info("working-day calendar table refilled")
    return refilled


async def calendar_table_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move the table's span on with the year, so a bot that runs for years never falls back to Python."""
    svc = services(context)
    await refresh_calendar(svc.db, svc.deadlines.calendar, svc.clock.now(), svc.settings.tz)


# Whether the calendar knows this year's and next year's 调休: checked at start and then once a day.
COVERAGE_CHECK_SECONDS = 24 * 3600


def check_calendar_coverage(calendar: WorkCalendar, today) -> str | None:
    """Log a WARNING naming the missing year(s) and what to do; the problem line, or None when covered."""
    problem = calendar.coverage_problem(today)
    if problem:
        log.warning("%s", problem)
    return problem


async def calendar_coverage_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start (+1 s) and once a day: when next year's 调休 is in neither the holidays package nor the
    override file, say so, so an operator adds it when the State Council publishes it (around November)."""
    svc = services(context)
    check_calendar_coverage(svc.deadlines.calendar, svc.deadlines.local_date(svc.clock.now()))
