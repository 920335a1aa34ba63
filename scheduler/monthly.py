"""The monthly review (按月排查): on the first working day of a month at 09:00, last month's review goes to the
supervisors (a region's supervisors get their region's) and each department head gets their department's
own workbook with an 已阅 button.

`monthly_review_job` runs every few minutes from the JobQueue. It sends once per month across restarts and
instances: a `job_runs` row ('monthly_review', '2026-11') is claimed in the same transaction that writes the
outbound rows, so a crash before that commit leaves the month unclaimed and nothing owed (the next run does it
all again) and a crash after it leaves the rows for the delivery job (nothing is built or queued twice).
The workbooks and charts (tens of seconds for thousands of departments) are built before, in a read session
(`Database.read_session()`): the write transaction that follows is a few inserts, so no citizen's update
waits for the build. Two instances may both build; only one claims, the other drops its work.
If the bot was down at 09:00 on the first working day, it catches up on its next run within
CATCH_UP_WORKING_DAYS working days; after that the month is skipped (supervisors can still ask /report).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from telegram import InlineKeyboardMarkup
from telegram.ext import ContextTypes

from bot import delivery, keyboards, texts
from bot.domain import outbox
from bot.domain.departments import departments_by_id
from bot.domain.jobruns import claim_period_run, period_ran
from bot.domain.reports import (
    department_counts,
    department_workbook,
    monthly_review,
    report_filename,
    review_recipients,
    summary_line,
    trend_chart,
)
from bot.domain.scores import department_scores, standings
from bot.domain.stats import Period, month_period
from bot.domain.workdays import WorkCalendar
from bot.services import services

log = logging.getLogger(__name__)

JOB_NAME = "monthly_review"
SEND_AT = time(9, 0)
CATCH_UP_WORKING_DAYS = 2


def first_working_day(year: int, month: int, calendar: WorkCalendar) -> date:
    return calendar.add_working_days(date(year, month, 1), 0)


def review_due(local_now: datetime, calendar: WorkCalendar) -> Period | None:
    """The month to review now, or None: from 09:00 on the month's first working day (plus a short catch-up)."""
    today = local_now.date()
    first = first_working_day(today.year, today.month, calendar)
    if today < first or (today == first and local_now.time() < SEND_AT):
        return None
    if calendar.working_days_between(first, today) > CATCH_UP_WORKING_DAYS:
        return None
    return month_period(today.year, today.month, local_now.tzinfo).previous()


@dataclass
class _Delivery:
    chat_id: int
    account_id: int | None
    text: str | None = None
    document: bytes | None = None
    filename: str | None = None
    photo: bytes | None = None
    markup: InlineKeyboardMarkup | None = None


async def monthly_review_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    now = svc.clock.now()
    tz = svc.settings.tz
    calendar = svc.deadlines.calendar
    period = review_due(now.astimezone(tz), calendar)
    if period is None:
        return
    deliveries: list[_Delivery] = []
    async with svc.db.read_session() as reader:  # the long part: holds no lock a writer waits for
        if await period_ran(session=reader, name=JOB_NAME, period=period.month_key):
            return
        supervisors, heads = await review_recipients(session=reader, configured=svc.settings.supervisors)
        for region in sorted({r.region for r in supervisors}, key=lambda r: r or ""):
            deliveries += await _supervisor_deliveries(reader, period, now, region, calendar,
                                                       [r for r in supervisors if r.region == region])
        if heads:
            deliveries += await _head_deliveries(reader, period, now, calendar, heads)
    async with svc.db.session() as session:  # the short part: the claim and the rows, committed together
        if not await claim_period_run(session=session, name=JOB_NAME, period=period.month_key, now=now):
            await session.rollback()
            return
        # Owed in the same transaction as the claim: a crash after it loses nothing and sends nothing twice.
        rows = [_enqueue(session, d, now) for d in deliveries]
        await session.flush()
        ids = [row.id for row in rows]
        await session.commit()
    log.info("monthly review %s: %d deliveries", period.month_key, len(deliveries))
    await delivery.deliver_pending(context, ids)


async def _supervisor_deliveries(session, period: Period, now: datetime, region: str | None, calendar,
                                 recipients) -> list[_Delivery]:
    note = texts.REGION_NOTE.format(region=texts.esc(region)) if region else ""
    review = await monthly_review(session=session, period=period, now=now, region=region, calendar=calendar)
    if review.workbook is None:
        return [_Delivery(r.chat_id, r.account_id, text=texts.MONTHLY_EMPTY.format(month=period.label, region=note))
                for r in recipients]
    png, chinese = await trend_chart(session=session, period=period, region=region)
    intro = texts.MONTHLY_SUPERVISOR_INTRO.format(month=period.label, region=note, summary=summary_line(review))
    out = []
    for r in recipients:
        if review.too_large:
            out.append(_Delivery(r.chat_id, r.account_id, text=texts.REPORT_TOO_LARGE.format(
                month=period.label, size=f"{len(review.workbook) / 1024 / 1024:.0f}", summary=summary_line(review))))
        else:
            out.append(_Delivery(r.chat_id, r.account_id, text=intro, document=review.workbook,
                                 filename=report_filename(period, region)))
        out.append(_Delivery(r.chat_id, r.account_id, photo=png, text=texts.STATS_CHART_CAPTION.format(
            note="" if chinese else texts.CHART_ASCII_NOTE)))
    return out


async def _head_deliveries(session, period: Period, now: datetime, calendar, heads) -> list[_Delivery]:
    department_ids = sorted({h.department_id for h in heads})
    everyone = await department_scores(session=session, period=period, now=now, region=None, calendar=calendar)
    scores = {s.department_id: s for s in everyone}
    ranks = standings(everyone)  # the ranks /score gives
    departments = await departments_by_id(session=session, ids=department_ids)
    counts_by_region: dict[str | None, dict] = {}  # counted once per region, not once per head
    out = []
    for department_id in department_ids:
        department = departments[department_id]
        if department.region not in counts_by_region:
            counts_by_region[department.region] = await department_counts(session=session, period=period, now=now,
                                                                          region=department.region)
        workbook = await department_workbook(session=session, period=period, now=now, department=department,
                                             calendar=calendar, score=scores.get(department_id),
                                             ranks=ranks, counts=counts_by_region[department.region])
        if workbook is None:
            continue
        markup = keyboards.report_read(department_id, period.month_key)
        caption = texts.MONTHLY_HEAD_CAPTION.format(department=texts.esc(department.name), month=period.label)
        filename = texts.DEPARTMENT_REPORT_FILENAME.format(month=period.label, code=department.code)
        out += [_Delivery(h.chat_id, h.account_id, text=caption, document=workbook, filename=filename, markup=markup)
                for h in heads if h.department_id == department_id]
    return out


def _enqueue(session, d: _Delivery, now: datetime):
    media = "document" if d.document is not None else "photo" if d.photo is not None else None
    return outbox.enqueue(session=session, chat_id=d.chat_id, account_id=d.account_id, kind="monthly",
                          text=d.text or "", now=now, markup=d.markup.to_dict() if d.markup else None, media=media,
                          attachment=d.document if d.document is not None else d.photo, filename=d.filename)
