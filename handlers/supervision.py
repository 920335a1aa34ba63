"""Supervision (督办): find and filter cases, overdue clocks, statistics, the monthly review, department scores.

`register_supervision_handlers(application)` adds every trigger of this module; bot.app calls it
before the catch-all handlers. /cases here takes filters and keeps `/cases [status] [page]` working.
"""

from __future__ import annotations

import io
import math
from datetime import date

from sqlalchemy import select
from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot import keyboards, texts
from bot.db.models import Case, Commitment, Department, Extension, Obligation
from bot.domain.departments import find_departments
from bot.domain.errors import DomainError, Forbidden
from bot.domain.lifecycle import TRANSITIONS, Status
from bot.domain.records import record_of_case
from bot.domain.reports import (
    TELEGRAM_DOCUMENT_LIMIT,
    monthly_review,
    record_report_read,
    report_filename,
    summary_line,
    trend_chart,
)
from bot.domain.roles import Actor, Role
from bot.domain.scores import (
    ON_TIME_WEIGHT, OVERDUE_CAP, OVERDUE_PER_DAY, RECORD_CAP, RECORD_POINTS, RECORD_WEIGHTS,
    REOPEN_WEIGHT, SATISFACTION_VALUES, SATISFACTION_WEIGHT, DepartmentScore, department_scores, ranking,
)
from bot.domain.stats import (
    CaseFilter, Period, looks_like_period, overdue_by_department, parse_month, parse_period, period_stats,
    search_cases, working_days_late,
)
from bot.services import Services, services
from handlers.base import acting, answer, close_buttons, command_args, refuses_politely

PAGE_SIZE = 10
MESSAGE_BUDGET = 3800  # Telegram's limit is 4096 characters; leave room for a closing line
STATUS_ORDER = [s.value for s in Status]
DOMAIN_ORDER = list(texts.DOMAIN_LABELS)
DOMAIN_BY_NAME = {**{code: code for code in DOMAIN_ORDER}, **{label: code for code, label in texts.DOMAIN_LABELS.items()}}
CALLBACK_LIMIT = 64


def require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise Forbidden("forbidden")


def scope_of(actor: Actor) -> str | None:
    """A supervisor invited for a region sees that region; configured supervisors see the whole city."""
    return actor.account.region if actor.account is not None and actor.account.region else None


def region_note(region: str | None) -> str:
    return texts.REGION_NOTE.format(region=texts.esc(region)) if region else ""


def _template(template: str, key: str, value: str) -> str:
    """Put `value` (already escaped HTML) into a template that is formatted again later."""
    return template.replace("{" + key + "}", value.replace("{", "{{").replace("}", "}}"))


def today_of(svc: Services) -> date:
    return svc.clock.now().astimezone(svc.settings.tz).date()


def _fit(lines: list[str], more: str | None = None) -> str:
    """Join lines, cutting before Telegram's message limit; `more` (with {n}) says how many were left out."""
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > MESSAGE_BUDGET:
            if more:
                out.append(more.format(n=len(lines) - index))
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


# --- the supervisor's /case: clocks, commitments, what can be done now -----------------------------


def _clock_state(svc: Services, clock: Obligation) -> str:
    if clock.state != "open":
        return texts.CLOCK_STATE_LABELS.get(clock.state, clock.state)
    now = svc.clock.now()
    tz = svc.settings.tz
    calendar = svc.deadlines.calendar
    if clock.due_at < now:
        late = working_days_late(calendar, clock.due_at, now, tz)
        return texts.CLOCK_OPEN_LATE.format(n=late) if late else texts.CLOCK_OPEN_LATE_UNDER_ONE
    left = calendar.working_days_between(now.astimezone(tz).date(), clock.due_at.astimezone(tz).date())
    return texts.CLOCK_OPEN_LEFT.format(n=left) if left > 0 else texts.CLOCK_OPEN_TODAY


async def supervisor_case_extras(*, session, case: Case, svc: Services) -> tuple[str, list[list[Button]]]:
    """Lines for the supervisor's /case (every clock, commitments, record, allowed actions) and decision buttons."""
    tz = svc.settings.tz
    clocks = (await session.scalars(
        select(Obligation).where(Obligation.case_id == case.id).order_by(Obligation.id))).all()
    commitments = (await session.scalars(
        select(Commitment).where(Commitment.case_id == case.id).order_by(Commitment.id))).all()
    extensions = (await session.scalars(
        select(Extension).where(Extension.case_id == case.id, Extension.state == "requested")
        .order_by(Extension.id))).all()
    record = await record_of_case(session=session, case_id=case.id)

    lines = [texts.CASE_CLOCK_LINE.format(kind=texts.CLOCK_LABELS.get(c.kind, c.kind),
                                          due=texts.local_date(c.due_at, tz), state=_clock_state(svc, c))
             for c in clocks]
    text = texts.CASE_CLOCKS_BLOCK.format(lines="\n".join(lines[-12:]) or texts.CASE_NO_CLOCKS)
    if commitments:
        text += texts.CASE_COMMITMENTS_BLOCK.format(lines="\n".join(
            texts.CASE_COMMITMENT_LINE.format(due=c.due_on.isoformat(), content=texts.excerpt(c.content, 200),
                                              status=texts.CASE_COMMITMENT_STATUS_LABELS.get(c.status, c.status))
            for c in commitments[-5:]))
    if record is not None:
        text += texts.CASE_RECORD_LINE.format(status=texts.RECORD_STATUS_LABELS.get(record.status, record.status))

    rows: list[list[Button]] = []
    for commitment in commitments:
        if commitment.status == "proposed":
            rows.append([Button(texts.BTN_DECIDE_COMMITMENT.format(label=label), callback_data=f"cmd:{commitment.id}:{v}")
                         for label, v in ((texts.BTN_APPROVE, 1), (texts.BTN_RETURN, 0))])
    for extension in extensions:
        due = extension.requested_due_on.isoformat()
        rows.append([Button(texts.BTN_DECIDE_EXTENSION.format(due=due, label=label), callback_data=f"exd:{extension.id}:{v}")
                     for label, v in ((texts.BTN_GRANT, 1), (texts.BTN_DENY, 0))])
    if record is not None and record.status in ("objection_pending", "repair_pending"):
        prefix, yes, no, template = (("obd", texts.BTN_UPHOLD, texts.BTN_OVERRULE, texts.BTN_DECIDE_OBJECTION)
                                     if record.status == "objection_pending"
                                     else ("rpd", texts.BTN_REPAIR_OK, texts.BTN_REPAIR_NO, texts.BTN_DECIDE_REPAIR))
        rows.append([Button(template.format(label=yes), callback_data=f"{prefix}:{record.id}:1"),
                     Button(template.format(label=no), callback_data=f"{prefix}:{record.id}:0")])

    hints = [texts.CASE_ACTION_HINTS[action].format(ref=case.ref)
             for action, transition in TRANSITIONS.items()
             if Role.SUPERVISOR in transition.roles and case.status in transition.sources
             and action in texts.CASE_ACTION_HINTS]
    if any(c.status == "approved" for c in commitments) and case.status != Status.CLOSED:
        hints.append(texts.CASE_ACTION_HINTS["broken"].format(ref=case.ref))
    if rows:
        hints.append(texts.CASE_ACTION_HINTS["decide"])
    if hints:
        text += texts.CASE_ACTIONS_BLOCK.format(lines="\n".join(hints))
    return text, rows


def with_rows(markup: InlineKeyboardMarkup | None, rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """An existing inline keyboard with more rows below it."""
    existing = [list(row) for row in markup.inline_keyboard] if markup is not None else []
    return InlineKeyboardMarkup(existing + rows) if existing or rows else None


# --- /find and filtered /cases ---------------------------------------------------------------------


def _fit_callback(prefix: str, query: str, reserve: int = 5) -> str:
    """The longest start of `query` whose callback `prefix:query:PAGE` stays within Telegram's 64 bytes."""
    budget = CALLBACK_LIMIT - len(prefix.encode()) - 1 - 1 - reserve
    while len(query.encode()) > budget:
        query = query[:-1]
    return query.strip()


async def _send_case_page(update: Update, context: ContextTypes.DEFAULT_TYPE, flt: CaseFilter, page: int,
                          header: str, empty: str, prefix: str) -> None:
    svc = services(context)
    tz = svc.settings.tz
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        cases, total = await search_cases(session=session, flt=flt, now=svc.clock.now(),
                                          offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        await session.commit()
    if total == 0:
        await answer(update, empty)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = [header.format(total=total, page=page, pages=pages)] + [
        texts.CASE_LINE.format(ref=c.ref, status=texts.status_label(c.status), domain=texts.domain_label(c.domain),
                               date=texts.local_date(c.created_at, tz))
        + (f" · {texts.esc(c.department.name)}" if c.department else "")
        for c in cases
    ]
    await answer(update, "\n".join(lines), reply_markup=keyboards.case_list([c.ref for c in cases], prefix, page, pages))


@refuses_politely
async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cases whose text, reference or department name matches every word, newest first (/find WORDS)."""
    query = _fit_callback("fd", " ".join(command_args(context)))
    if not query:
        async with acting(update, context) as (session, actor):
            require_supervisor(actor)
            await session.commit()
        await answer(update, texts.USAGE_FIND)
        return
    await _find_page(update, context, query, 1)


async def _find_page(update: Update, context: ContextTypes.DEFAULT_TYPE, query: str, page: int) -> None:
    flt = CaseFilter(words=tuple(query.split()[:5]))
    shown = texts.esc(query)
    await _send_case_page(update, context, flt, page, _template(texts.FIND_HEADER, "query", shown),
                          texts.FIND_EMPTY.format(query=shown), f"fd:{query}")


@refuses_politely
async def find_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pages of /find (fd:QUERY:PAGE)."""
    await update.callback_query.answer()
    body, _, page = update.callback_query.data[3:].rpartition(":")
    await _find_page(update, context, body, max(1, int(page) if page.isdigit() else 1))


def _encode_filter(flt: CaseFilter) -> str:
    """A filter as callback data: cf:<status><domain><overdue>:<dept>:<start>:<end> (+ :PAGE by the pager)."""
    status = str(STATUS_ORDER.index(flt.status)) if flt.status else "-"
    domain = str(DOMAIN_ORDER.index(flt.domain)) if flt.domain else "-"
    start = f"{flt.period.start:%Y%m%d}" if flt.period else ""
    end = f"{flt.period.end:%Y%m%d}" if flt.period else ""
    return f"cf:{status}{domain}{1 if flt.overdue else 0}:{flt.department_id or ''}:{start}:{end}"


def _decode_filter(data: str, tz) -> tuple[CaseFilter, int]:
    _, flags, department, start, end, page = data.split(":")
    period = None
    if start and end:
        first = date(int(start[:4]), int(start[4:6]), int(start[6:]))
        last = date(int(end[:4]), int(end[4:6]), int(end[6:]))
        candidate = parse_period(first.strftime("%Y-%m"), today=first, tz=tz)
        period = candidate if (candidate.start, candidate.end) == (first, last) else Period(first, last, tz)
    flt = CaseFilter(
        status=STATUS_ORDER[int(flags[0])] if flags[0] != "-" else None,
        domain=DOMAIN_ORDER[int(flags[1])] if flags[1] != "-" else None,
        overdue=flags[2] == "1",
        department_id=int(department) if department else None,
        period=period,
    )
    return flt, max(1, int(page))


def _filter_label(flt: CaseFilter, department_name: str | None) -> str:
    parts = []
    if flt.status:
        parts.append(texts.status_label(flt.status))
    if flt.domain:
        parts.append(texts.domain_label(flt.domain))
    if department_name:
        parts.append(texts.esc(department_name))
    if flt.overdue:
        parts.append(texts.FILTER_OVERDUE)
    if flt.period:
        parts.append(flt.period.label)
    return "：" + " · ".join(parts) if parts else ""


async def _filtered_page(update: Update, context: ContextTypes.DEFAULT_TYPE, flt: CaseFilter, page: int,
                         department_name: str | None = None) -> None:
    if flt.plain:
        header = _template(texts.CASES_HEADER, "status", f"：{texts.status_label(flt.status)}" if flt.status else "")
    else:
        header = _template(texts.CASES_FILTER_HEADER, "filters", _filter_label(flt, department_name))
    await _send_case_page(update, context, flt, page, header, texts.CASES_EMPTY, _encode_filter(flt))


@refuses_politely
async def cases_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cases [status] [domain] [dept=部门] [overdue] [2026-11 | 2026-11-01..2026-11-30] [page]."""
    svc = services(context)
    tz = svc.settings.tz
    status = domain = period = None
    department: Department | None = None
    overdue = False
    page = 1
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        for arg in command_args(context):
            lowered = arg.lower()
            if arg.isdigit():
                page = max(1, int(arg))
            elif arg in STATUS_ORDER:
                status = arg
            elif arg in DOMAIN_BY_NAME:
                domain = DOMAIN_BY_NAME[arg]
            elif lowered in ("overdue", "逾期"):
                overdue = True
            elif lowered.startswith(("dept=", "部门=")):
                query = arg.split("=", 1)[1]
                found = await find_departments(session=session, query=query)
                if not found:
                    raise DomainError("cases_department_not_found", query=query[:64])
                department = found[0]
            elif looks_like_period(arg):
                period = parse_period(arg, today=today_of(svc), tz=tz)
            else:
                await session.commit()
                await answer(update, texts.CASES_BAD_FILTER.format(
                    status=texts.esc(arg[:40]), choices="、".join(STATUS_ORDER),
                    domains="、".join(f"{code}（{label}）" for code, label in texts.DOMAIN_LABELS.items())))
                return
        await session.commit()
    flt = CaseFilter(status=status, domain=domain, department_id=department.id if department else None,
                     overdue=overdue, period=period)
    await _filtered_page(update, context, flt, page, department.name if department else None)


@refuses_politely
async def cases_filter_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pages of a filtered /cases (cf:...:PAGE)."""
    await update.callback_query.answer()
    flt, page = _decode_filter(update.callback_query.data, services(context).settings.tz)
    name = None
    if flt.department_id is not None:
        async with services(context).db.session() as session:
            name = await session.scalar(select(Department.name).where(Department.id == flt.department_id))
    await _filtered_page(update, context, flt, page, name)


# --- /overdue ----------------------------------------------------------------------------------------


@refuses_politely
async def overdue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every open clock past due, by department, in working days (/overdue)."""
    svc = services(context)
    tz = svc.settings.tz
    now = svc.clock.now()
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        region = scope_of(actor)
        groups = await overdue_by_department(session=session, now=now, region=region,
                                             calendar=svc.deadlines.calendar, tz=tz)
        await session.commit()
    if not groups:
        await answer(update, texts.OVERDUE_EMPTY.format(region=region_note(region)))
        return
    header = texts.OVERDUE_HEADER.format(region=region_note(region), now=texts.local_time(now, tz),
                                         count=sum(g.count for g in groups), departments=len(groups))
    blocks = []
    for group in groups:
        block = [texts.OVERDUE_DEPT_LINE.format(
            department=texts.esc(group.name) if group.name else texts.OVERDUE_UNASSIGNED, count=group.count,
            days=group.working_days, max_days=group.max_working_days)]
        block += [texts.OVERDUE_ITEM_LINE.format(ref=item.ref or texts.OVERDUE_NO_REF,
                                                 kind=texts.CLOCK_LABELS.get(item.kind, item.kind),
                                                 due=texts.local_date(item.due_at, tz),
                                                 late=texts.late_text(item.working_days))
                  for item in group.items]
        if group.count > len(group.items):
            block.append(texts.OVERDUE_ITEM_MORE.format(n=group.count - len(group.items)))
        blocks.append("\n".join(block))
    await answer(update, header + "\n" + _fit(blocks, texts.OVERDUE_MORE))


# --- /stats ------------------------------------------------------------------------------------------


def _stats_text(stats, region: str | None) -> str:
    b, p = stats.backlog, stats.previous
    lines = [texts.STATS_HEADER.format(period=stats.period.label, region=region_note(region))]
    lines.append(texts.STATS_BACKLOG.format(
        open_at_start=b.open_at_start, new=b.new, prev_new=p.new, new_change=texts.change_text(b.new, p.new),
        closed=b.closed, prev_closed=p.closed, closed_change=texts.change_text(b.closed, p.closed),
        open_at_end=b.open_at_end, prev_open=p.open_at_end,
        open_change=texts.change_text(b.open_at_end, p.open_at_end)))
    lines.append(texts.STATS_BY_DOMAIN)
    lines += [texts.STATS_LINE.format(label=texts.domain_label(d), n=n) for d, n in stats.by_domain] \
        or [texts.STATS_NO_NEW]
    top = stats.by_department[:10]
    lines.append(texts.STATS_BY_DEPARTMENT.format(n=len(top)))
    lines += [texts.STATS_LINE.format(label=texts.esc(name) if name else texts.STATS_UNASSIGNED, n=n)
              for _, name, n in top] or [texts.STATS_NO_NEW]
    if len(stats.by_department) > len(top):
        lines.append(texts.STATS_MORE_DEPARTMENTS.format(n=len(stats.by_department) - len(top)))
    lines.append(texts.STATS_BY_STATUS)
    lines += [texts.STATS_LINE.format(label=texts.status_label(s), n=n) for s, n in stats.by_status] \
        or [texts.STATS_NO_NEW]
    return _fit(lines)


@refuses_politely
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Counts by domain, department and status, and the backlog, for a period; with a chart (/stats [period])."""
    svc = services(context)
    args = command_args(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        region = scope_of(actor)
        period = parse_period(" ".join(args), today=today_of(svc), tz=svc.settings.tz)
        stats = await period_stats(session=session, period=period, region=region)
        chart = None
        if not stats.empty:
            chart = await trend_chart(session=session, period=period, region=region)
        await session.commit()
    if stats.empty:
        await answer(update, texts.STATS_EMPTY.format(period=period.label, region=region_note(region)))
        return
    await answer(update, _stats_text(stats, region))
    png, chinese = chart
    await update.effective_chat.send_photo(
        io.BytesIO(png), caption=texts.STATS_CHART_CAPTION.format(note="" if chinese else texts.CHART_ASCII_NOTE))


# --- /report -----------------------------------------------------------------------------------------


@refuses_politely
async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The monthly review as an .xlsx workbook, with the chart (/report [2026-11])."""
    svc = services(context)
    args = command_args(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        region = scope_of(actor)
        period = parse_month(" ".join(args), today=today_of(svc), tz=svc.settings.tz)
        review = await monthly_review(session=session, period=period, now=svc.clock.now(), region=region,
                                      calendar=svc.deadlines.calendar)
        chart = None
        if not review.empty:
            chart = await trend_chart(session=session, period=period, region=region)
        await session.commit()
    note = region_note(region)
    if review.workbook is None:
        await answer(update, texts.REPORT_EMPTY.format(month=period.label, region=note))
        return
    if review.too_large:
        await answer(update, texts.REPORT_TOO_LARGE.format(
            month=period.label, size=f"{len(review.workbook) / 1024 / 1024:.0f}", summary=summary_line(review)))
    else:
        await update.effective_chat.send_document(
            io.BytesIO(review.workbook), filename=report_filename(period, region),
            caption=texts.REPORT_CAPTION.format(month=period.label, region=note) + "\n" + summary_line(review))
    png, chinese = chart
    if len(png) <= TELEGRAM_DOCUMENT_LIMIT:
        await update.effective_chat.send_photo(
            io.BytesIO(png), caption=texts.STATS_CHART_CAPTION.format(note="" if chinese else texts.CHART_ASCII_NOTE))


@refuses_politely
async def report_read_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """已阅 under a department's monthly workbook (rr:DEPARTMENT_ID:YYYY-MM): recorded once per person."""
    query = update.callback_query
    _, raw_department, month = query.data.split(":", 2)
    svc = services(context)
    async with acting(update, context) as (session, actor):
        department = await session.get(Department, int(raw_department))
        if department is None or not (actor.is_supervisor or (
                actor.is_official and actor.account.department_id == department.id)):
            raise Forbidden("forbidden")
        recorded = await record_report_read(session=session, department_id=department.id, month=month,
                                            account_id=actor.account_id, now=svc.clock.now())
        name = department.name
        await session.commit()
    if recorded:
        await close_buttons(query)
        await answer(update, texts.REPORT_READ_RECORDED.format(department=texts.esc(name), month=month))
    else:
        await query.answer(texts.REPORT_READ_ALREADY, show_alert=True)


# --- /score ------------------------------------------------------------------------------------------


def formula_text() -> str:
    return texts.SCORE_FORMULA.format(
        on_time_weight=ON_TIME_WEIGHT, per_day=OVERDUE_PER_DAY, overdue_cap=OVERDUE_CAP, reopen_weight=REOPEN_WEIGHT,
        satisfied=SATISFACTION_VALUES["satisfied"], basic=SATISFACTION_VALUES["basically_satisfied"],
        unsatisfied=SATISFACTION_VALUES["unsatisfied"], satisfaction_weight=SATISFACTION_WEIGHT,
        repaired=RECORD_WEIGHTS["repaired"], record_points=RECORD_POINTS, record_cap=RECORD_CAP)


def score_detail(score: DepartmentScore, period: Period) -> str:
    d = score.deductions
    return texts.SCORE_DETAIL.format(
        department=texts.esc(score.name), period=period.label, score=f"{score.score:g}",
        grade=texts.GRADE_LABELS[score.grade], met=score.met, missed=score.missed,
        on_time=texts.percent(score.on_time_rate), d_on_time=f"{d['on_time']:g}",
        overdue_days=score.overdue_working_days, d_overdue=f"{d['overdue']:g}",
        closings=score.closings, reopens=score.reopens, reopen_rate=texts.percent(score.reopen_rate),
        d_reopen=f"{d['reopen']:g}", rated=score.rated, satisfied=score.ratings.get("satisfied", 0),
        basic=score.ratings.get("basically_satisfied", 0), unsatisfied=score.ratings.get("unsatisfied", 0),
        satisfaction=texts.percent(score.satisfaction_index), d_satisfaction=f"{d['satisfaction']:g}",
        records_full=score.substantiated_records, records_repaired=score.records.get("repaired", 0),
        records_revoked=score.records.get("revoked", 0), d_records=f"{d['records']:g}")


@refuses_politely
async def score_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/score: ranking; /score DEPT [period]: one department's score; /score formula: how it is computed."""
    svc = services(context)
    args = command_args(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if args and args[0].lower() in ("formula", "公式", "计分办法"):
            await session.commit()
            await answer(update, formula_text())
            return
        region = scope_of(actor)
        period_words = [a for a in args if looks_like_period(a)]
        words = [a for a in args if not looks_like_period(a)]
        period = parse_period(period_words[0] if period_words else "", today=today_of(svc), tz=svc.settings.tz)
        departments = None
        if words:
            query = " ".join(words)
            departments = await find_departments(session=session, query=query)
            if not departments:
                raise DomainError("score_department_not_found", query=query[:64])
            if region is not None:
                departments = [d for d in departments if d.region == region]
                if not departments:
                    raise DomainError("out_of_region", query=query[:64])
        scores = await department_scores(
            session=session, period=period, now=svc.clock.now(), region=region, calendar=svc.deadlines.calendar,
            department_ids=[d.id for d in departments[:3]] if departments else None)
        await session.commit()
    if departments:
        await answer(update, "\n\n".join(score_detail(s, period) for s in scores))
        return
    ranked = ranking(scores)
    if not ranked:
        await answer(update, texts.SCORE_NO_ACTIVITY.format(period=period.label, region=region_note(region)))
        return
    lines = [texts.SCORE_RANKING_LINE.format(rank=rank, department=texts.esc(s.name), score=f"{s.score:g}",
                                             grade=texts.GRADE_LABELS[s.grade]) for rank, s in ranked]
    if len(lines) > 40:
        lines = lines[:20] + [texts.SCORE_RANKING_MORE.format(n=len(lines) - 40)] + lines[-20:]
    header = texts.SCORE_RANKING_HEADER.format(period=period.label, region=region_note(region))
    inactive = len(scores) - len(ranked)
    footer = texts.SCORE_INACTIVE_NOTE.format(n=inactive) if inactive else ""
    await answer(update, header + "\n" + _fit(lines) + footer)


# --- wiring ------------------------------------------------------------------------------------------


def register_supervision_handlers(application: Application) -> None:
    """Add this module's commands and buttons (bot.app calls it before the catch-all handlers)."""
    private_messages = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    mine = [
        CommandHandler("find", find_command, filters=private_messages),
        CommandHandler("cases", cases_command, filters=private_messages),
        CommandHandler("overdue", overdue_command, filters=private_messages),
        CommandHandler("stats", stats_command, filters=private_messages),
        CommandHandler("report", report_command, filters=private_messages),
        CommandHandler("score", score_command, filters=private_messages),
        CallbackQueryHandler(find_page_button, pattern=r"^fd:"),
        CallbackQueryHandler(cases_filter_button, pattern=r"^cf:[-\d][-\d][01]:\d*:\d*:\d*:\d+$"),
        CallbackQueryHandler(report_read_button, pattern=r"^rr:\d+:\d{4}-\d{2}$"),
    ]
    application.add_handlers(mine)


__all__ = ["register_supervision_handlers", "supervisor_case_extras", "with_rows"]
