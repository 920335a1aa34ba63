"""Supervision (督办): find and filter cases, overdue clocks, statistics, the monthly review, department scores.

`register(application)` adds every trigger of this module (`register_supervision_handlers` is its old
name). /cases here takes filters and keeps `/cases [status] [page]` working. Every list, statistic and
export is limited to the acting supervisor's scope (bot.domain.scope).
"""

from __future__ import annotations

import math
from datetime import date

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Case, Department, Obligation
from bot.domain import filters, scope
from bot.domain.errors import DomainError, Forbidden
from bot.domain.ladder import working_days_left
from bot.domain.lifecycle import TRANSITIONS, Status
from bot.domain.reports import (
    TELEGRAM_DOCUMENT_LIMIT,
    monthly_review,
    record_report_read,
    report_filename,
    summary_line,
    trend_chart,
)
from bot.domain.roles import Role
from bot.domain.scores import (
    ON_TIME_WEIGHT, OVERDUE_CAP, OVERDUE_PER_DAY, RECORD_CAP, RECORD_POINTS, RECORD_WEIGHTS,
    REOPEN_WEIGHT, SATISFACTION_VALUES, SATISFACTION_WEIGHT, DepartmentScore, department_scores, ranking,
    standings,
)
from bot.domain.stats import (
    CaseFilter, Period, looks_like_period, overdue_by_department, parse_month, parse_period, period_stats,
    search_cases,
)
from bot.domain.supervision_reads import case_facts, department_in_scope, departments_in_scope
from bot.services import Services
from handlers.codec import BadData, Codec, Int, OneOf, Word
from handlers.door import SUPERVISORS, Turn, door

PAGE_SIZE = 10
MAX_PAGE = 100_000
MESSAGE_BUDGET = 3800  # Telegram's limit is 4096 characters; leave room for a closing line
STATUS_ORDER = [s.value for s in Status]
DOMAIN_ORDER = list(texts.DOMAIN_LABELS)
CALLBACK_LIMIT = 64
# Ordered, so the door refuses anyone else as it refuses a non-supervisor (没有权限), whatever the hash order.
SUPERVISORS_OR_OFFICIALS = (Role.SUPERVISOR, Role.OFFICIAL)


# --- callback data ---------------------------------------------------------------------------------


class FindQuery:
    """Free text typed by a supervisor (a /find query), kept in button data without ':'."""

    def parse(self, raw: str) -> str:
        if not raw or len(raw.encode()) > CALLBACK_LIMIT or not raw.strip():
            raise BadData(raw)
        return raw


class OrEmpty:
    """Empty, or what `part` parses."""

    def __init__(self, part) -> None:
        self.part = part

    def parse(self, raw: str):
        return None if raw == "" else self.part.parse(raw)


class Day:
    """A date as YYYYMMDD."""

    def parse(self, raw: str) -> date:
        if len(raw) != 8 or not raw.isascii() or not raw.isdigit():
            raise BadData(raw)
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError as error:
            raise BadData(raw) from error


class Flags:
    """Status index, domain index (or '-' for none) and the overdue flag: e.g. `3-1`."""

    def parse(self, raw: str) -> tuple[str | None, str | None, bool]:
        if len(raw) != 3 or not raw.isascii() or raw[2] not in "01":
            raise BadData(raw)
        return _index(raw[0], STATUS_ORDER), _index(raw[1], DOMAIN_ORDER), raw[2] == "1"


def _index(raw: str, choices: list[str]) -> str | None:
    if raw == "-":
        return None
    if not raw.isdigit() or int(raw) >= len(choices):
        raise BadData(raw)
    return choices[int(raw)]


PAGE = Int(1, MAX_PAGE)
FIND_PAGE = Codec("fd", FindQuery(), PAGE)
CASES_PAGE = Codec("cf", Flags(), OrEmpty(Int()), OrEmpty(Day()), OrEmpty(Day()), PAGE)
REPORT_READ = Codec("rr", Int(), Word(pattern=r"\d{4}-(0[1-9]|1[0-2])"))
# The decisions offered under the supervisor's /case (handled in handlers.supervisor).
_VERDICT = Word(("0", "1"))
COMMITMENT_DECISION = Codec("cmd", Int(), _VERDICT)
EXTENSION_DECISION = Codec("exd", Int(), _VERDICT)
OBJECTION_DECISION = Codec("obd", Int(), _VERDICT)
REPAIR_DECISION = Codec("rpd", Int(), _VERDICT)
DECISION = OneOf(COMMITMENT_DECISION, EXTENSION_DECISION, OBJECTION_DECISION, REPAIR_DECISION)


def region_note(region: str | None) -> str:
    return texts.REGION_NOTE.format(region=texts.esc(region)) if region else ""


def scope_of(actor) -> str | None:
    """The region a supervisor is limited to (None: the whole city); the one scope function decides."""
    return scope.supervisor_region(actor)


def _template(template: str, key: str, value: str) -> str:
    """Put `value` (already escaped HTML) into a template that is formatted again later."""
    return template.replace("{" + key + "}", value.replace("{", "{{").replace("}", "}}"))


def today_of(turn: Turn) -> date:
    return turn.now.astimezone(turn.svc.settings.tz).date()


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


def _clock_state(svc: Services, clock: Obligation, now) -> str:
    if clock.state != "open":
        return texts.CLOCK_STATE_LABELS.get(clock.state, clock.state)
    left = working_days_left(clock.due_at, now, calendar=svc.deadlines.calendar, tz=svc.settings.tz)
    return (texts.CLOCK_LATE_STATE if left < 0 else texts.CLOCK_OPEN_STATE).format(left=texts.days_left(left))


def _decision_row(codec: Codec, item_id: int, template: str, yes: str, no: str, **fill) -> list[Button]:
    return [Button(template.format(label=label, **fill), callback_data=codec.build(item_id, verdict))
            for label, verdict in ((yes, 1), (no, 0))]


async def supervisor_case_extras(*, session, case: Case, svc: Services, now=None) -> tuple[str, list[list[Button]]]:
    """Lines for the supervisor's /case (every clock, commitments, record, allowed actions) and decision buttons."""
    tz = svc.settings.tz
    now = now or svc.clock.now()
    facts = await case_facts(session=session, case_id=case.id)
    commitments, record = facts.commitments, facts.record

    lines = [texts.CASE_CLOCK_LINE.format(kind=texts.CLOCK_LABELS.get(c.kind, c.kind),
                                          due=texts.local_date(c.due_at, tz), state=_clock_state(svc, c, now))
             for c in facts.clocks]
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
            rows.append(_decision_row(COMMITMENT_DECISION, commitment.id, texts.BTN_DECIDE_COMMITMENT,
                                      texts.BTN_APPROVE, texts.BTN_RETURN))
    for extension in facts.extensions:
        rows.append(_decision_row(EXTENSION_DECISION, extension.id, texts.BTN_DECIDE_EXTENSION, texts.BTN_GRANT,
                                  texts.BTN_DENY, due=extension.requested_due_on.isoformat()))
    if record is not None and record.status == "objection_pending":
        rows.append(_decision_row(OBJECTION_DECISION, record.id, texts.BTN_DECIDE_OBJECTION, texts.BTN_UPHOLD,
                                  texts.BTN_OVERRULE))
    elif record is not None and record.status == "repair_pending":
        rows.append(_decision_row(REPAIR_DECISION, record.id, texts.BTN_DECIDE_REPAIR, texts.BTN_REPAIR_OK,
                                  texts.BTN_REPAIR_NO))

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


def _fit_callback(prefix: str, query: str, reserve: int = 7) -> str:
    """The longest start of `query` (without ':') whose callback `prefix:query:PAGE` stays within 64 bytes."""
    query = " ".join(query.replace(":", " ").split())
    budget = CALLBACK_LIMIT - len(prefix.encode()) - 1 - 1 - reserve
    while len(query.encode()) > budget:
        query = query[:-1]
    return query.strip()


async def _case_page(turn: Turn, flt: CaseFilter, page: int, header: str, empty: str, prefix: str) -> None:
    tz = turn.svc.settings.tz
    cases, total = await search_cases(session=turn.session, flt=flt, now=turn.now, actor=turn.actor,
                                      offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if total == 0:
        turn.reply(empty)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = [header.format(total=total, page=page, pages=pages)] + [
        texts.CASE_LINE.format(ref=c.ref, status=texts.status_label(c.status), domain=texts.domain_label(c.domain),
                               date=texts.local_date(c.created_at, tz))
        + (f" · {texts.esc(c.department.name)}" if c.department else "")
        for c in cases
    ]
    turn.reply("\n".join(lines), reply_markup=keyboards.case_list([c.ref for c in cases], prefix, page, pages))


@door(roles=SUPERVISORS, reads=True)
async def find_command(turn: Turn) -> None:
    """Cases whose text, reference or department name matches every word, newest first (/find WORDS)."""
    query = _fit_callback(FIND_PAGE.prefix, " ".join(turn.args))
    if not query:
        turn.reply(texts.USAGE_FIND)
        return
    await _find_page(turn, query, 1)


async def _find_page(turn: Turn, query: str, page: int) -> None:
    flt = CaseFilter(words=tuple(query.split()[:5]))
    shown = texts.esc(query)
    await _case_page(turn, flt, page, _template(texts.FIND_HEADER, "query", shown),
                     texts.FIND_EMPTY.format(query=shown), f"{FIND_PAGE.prefix}:{query}")


@door(roles=SUPERVISORS, codec=FIND_PAGE, reads=True)
async def find_page_button(turn: Turn) -> None:
    """Pages of /find (fd:QUERY:PAGE)."""
    query, page = turn.data
    await _find_page(turn, query, page)


def _encode_filter(flt: CaseFilter) -> str:
    """A filter as callback data: cf:<status><domain><overdue>:<dept>:<start>:<end> (+ :PAGE by the pager)."""
    status = str(STATUS_ORDER.index(flt.status)) if flt.status else "-"
    domain = str(DOMAIN_ORDER.index(flt.domain)) if flt.domain else "-"
    start = f"{flt.period.start:%Y%m%d}" if flt.period else ""
    end = f"{flt.period.end:%Y%m%d}" if flt.period else ""
    return f"{CASES_PAGE.prefix}:{status}{domain}{1 if flt.overdue else 0}:{flt.department_id or ''}:{start}:{end}"


def _decode_filter(data: tuple, tz) -> tuple[CaseFilter, int]:
    (status, domain, overdue), department, first, last, page = data
    period = None
    if first and last:
        if last < first or (last - first).days > 366:
            raise DomainError("stale")
        candidate = parse_period(first.strftime("%Y-%m"), today=first, tz=tz)
        period = candidate if (candidate.start, candidate.end) == (first, last) else Period(first, last, tz)
    elif first or last:
        raise DomainError("stale")
    flt = CaseFilter(status=status, domain=domain, overdue=overdue, department_id=department, period=period)
    return flt, page


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


async def _filtered_page(turn: Turn, flt: CaseFilter, page: int, department_name: str | None = None) -> None:
    if flt.plain:
        header = _template(texts.CASES_HEADER, "status", f"：{texts.status_label(flt.status)}" if flt.status else "")
    else:
        header = _template(texts.CASES_FILTER_HEADER, "filters", _filter_label(flt, department_name))
    await _case_page(turn, flt, page, header, texts.CASES_EMPTY, _encode_filter(flt))


@door(roles=SUPERVISORS, reads=True)
async def cases_command(turn: Turn) -> None:
    """/cases [状态] [领域] [部门] [逾期] [时间段] [页码], in any order, in Chinese or codes (bot.domain.filters)."""
    tz = turn.svc.settings.tz
    status = domain = period = None
    department: Department | None = None
    overdue = False
    page = 1
    for arg in turn.args:
        lowered = arg.lower()
        if arg.isascii() and arg.isdigit() and 1 <= len(arg) <= 6 and int(arg) >= 1:
            page = int(arg)
        elif filters.status_of(arg):
            status = filters.status_of(arg)
        elif filters.domain_of(arg):
            domain = filters.domain_of(arg)
        elif filters.is_overdue_word(arg):
            overdue = True
        elif lowered.startswith(("dept=", "部门=")):
            query = arg.split("=", 1)[1]
            found = await departments_in_scope(session=turn.session, actor=turn.actor, query=query)
            if not found:
                raise DomainError("cases_department_not_found", query=query[:64])
            department = found[0]
        elif looks_like_period(arg):
            period = parse_period(arg, today=today_of(turn), tz=tz)
        elif department is None and (found := await departments_in_scope(session=turn.session, actor=turn.actor,
                                                                            query=arg)):
            department = found[0]  # a department's name, code or alias (市财政局, 财政局, city-czj)
        else:
            turn.reply(texts.CASES_BAD_FILTER.format(
                status=texts.esc(arg[:40]), statuses=filters.accepted_statuses(),
                domains=filters.accepted_domains(), periods=texts.PERIOD_FORMS))
            return
    flt = CaseFilter(status=status, domain=domain, department_id=department.id if department else None,
                     overdue=overdue, period=period)
    await _filtered_page(turn, flt, page, department.name if department else None)


@door(roles=SUPERVISORS, codec=CASES_PAGE, reads=True)
async def cases_filter_button(turn: Turn) -> None:
    """Pages of a filtered /cases (cf:...:PAGE)."""
    flt, page = _decode_filter(turn.data, turn.svc.settings.tz)
    name = None
    if flt.department_id is not None:
        department = await department_in_scope(session=turn.session, actor=turn.actor,
                                               department_id=flt.department_id)
        if department is None:
            raise DomainError("stale")
        name = department.name
    await _filtered_page(turn, flt, page, name)


# --- /overdue ----------------------------------------------------------------------------------------


@door(roles=SUPERVISORS, reads=True)
async def overdue_command(turn: Turn) -> None:
    """Every open clock past due, by department, in working days (/overdue)."""
    svc, now = turn.svc, turn.now
    tz = svc.settings.tz
    region = scope_of(turn.actor)
    groups = await overdue_by_department(session=turn.session, now=now, region=region,
                                         calendar=svc.deadlines.calendar, tz=tz)
    if not groups:
        turn.reply(texts.OVERDUE_EMPTY.format(region=region_note(region)))
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
    turn.reply(header + "\n" + _fit(blocks, texts.OVERDUE_MORE))


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


def _chart_caption(chinese: bool) -> str:
    return texts.STATS_CHART_CAPTION.format(note="" if chinese else texts.CHART_ASCII_NOTE)


@door(roles=SUPERVISORS, reads=True)
async def stats_command(turn: Turn) -> None:
    """Counts by domain, department and status, and the backlog, for a period; with a chart (/stats [period])."""
    region = scope_of(turn.actor)
    period = parse_period(" ".join(turn.args), today=today_of(turn), tz=turn.svc.settings.tz)
    stats = await period_stats(session=turn.session, period=period, region=region)
    if stats.empty:
        turn.reply(texts.STATS_EMPTY.format(period=period.label, region=region_note(region)))
        return
    png, chinese = await trend_chart(session=turn.session, period=period, region=region)
    turn.reply(_stats_text(stats, region))
    turn.reply_file("photo", png, caption=_chart_caption(chinese))


# --- /report -----------------------------------------------------------------------------------------


@door(roles=SUPERVISORS, reads=True)
async def report_command(turn: Turn) -> None:
    """The monthly review as an .xlsx workbook, with the chart (/report [2026-11])."""
    svc = turn.svc
    region = scope_of(turn.actor)
    period = parse_month(" ".join(turn.args), today=today_of(turn), tz=svc.settings.tz)
    review = await monthly_review(session=turn.session, period=period, now=turn.now, region=region,
                                  calendar=svc.deadlines.calendar)
    note = region_note(region)
    if review.workbook is None:
        turn.reply(texts.REPORT_EMPTY.format(month=period.label, region=note))
        return
    png, chinese = await trend_chart(session=turn.session, period=period, region=region)
    if review.too_large:
        turn.reply(texts.REPORT_TOO_LARGE.format(
            month=period.label, size=f"{len(review.workbook) / 1024 / 1024:.0f}", summary=summary_line(review)))
    else:
        turn.reply_file("document", review.workbook, filename=report_filename(period, region),
                        caption=texts.REPORT_CAPTION.format(month=period.label, region=note) + "\n"
                        + summary_line(review))
    if len(png) <= TELEGRAM_DOCUMENT_LIMIT:
        turn.reply_file("photo", png, caption=_chart_caption(chinese))


@door(roles=SUPERVISORS_OR_OFFICIALS, codec=REPORT_READ)
async def report_read_button(turn: Turn) -> None:
    """已阅 under a department's monthly workbook (rr:DEPARTMENT_ID:YYYY-MM): recorded once per person."""
    department_id, month = turn.data
    department = await department_in_scope(session=turn.session, actor=turn.actor, department_id=department_id)
    if department is None:
        raise Forbidden("forbidden")
    recorded = await record_report_read(session=turn.session, department_id=department.id, month=month,
                                        account_id=turn.actor.account_id, now=turn.now)
    if recorded:
        turn.close_buttons()
        turn.reply(texts.REPORT_READ_RECORDED.format(department=texts.esc(department.name), month=month))
    else:
        turn.alert(texts.REPORT_READ_ALREADY)


# --- /score ------------------------------------------------------------------------------------------


def formula_text() -> str:
    return texts.SCORE_FORMULA.format(
        on_time_weight=ON_TIME_WEIGHT, per_day=OVERDUE_PER_DAY, overdue_cap=OVERDUE_CAP, reopen_weight=REOPEN_WEIGHT,
        satisfied=SATISFACTION_VALUES["satisfied"], basic=SATISFACTION_VALUES["basically_satisfied"],
        unsatisfied=SATISFACTION_VALUES["unsatisfied"], satisfaction_weight=SATISFACTION_WEIGHT,
        repaired=RECORD_WEIGHTS["repaired"], record_points=RECORD_POINTS, record_cap=RECORD_CAP)


def score_detail(score: DepartmentScore, period: Period, rank: int | None = None, ranked: int = 0) -> str:
    """One department's score with its deductions and rank; 不参与排名 when it has nothing to judge."""
    if rank is None:
        return texts.SCORE_NOT_RANKED_DETAIL.format(department=texts.esc(score.name), period=period.label)
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
        records_revoked=score.records.get("revoked", 0), d_records=f"{d['records']:g}") \
        + texts.SCORE_RANK_LINE.format(rank=rank, ranked=ranked)


@door(roles=SUPERVISORS, reads=True)
async def score_command(turn: Turn) -> None:
    """/score: ranking; /score DEPT [period]: one department's score; /score formula: how it is computed."""
    svc, args = turn.svc, turn.args
    if args and args[0].lower() in ("formula", "公式", "计分办法"):
        turn.reply(formula_text())
        return
    region = scope_of(turn.actor)
    period_words = [a for a in args if looks_like_period(a)]
    words = [a for a in args if not looks_like_period(a)]
    period = parse_period(period_words[0] if period_words else "", today=today_of(turn), tz=svc.settings.tz)
    departments = None
    if words:
        query = " ".join(words)
        departments = await departments_in_scope(session=turn.session, actor=turn.actor, query=query,
                                                 refuse_outside=True)
        if not departments:
            raise DomainError("score_department_not_found", query=query[:64])
    # One computation: every department in scope, so a department's rank is the one the ranking shows.
    scores = await department_scores(session=turn.session, period=period, now=turn.now, region=region,
                                     calendar=svc.deadlines.calendar)
    ranked = ranking(scores)
    if departments:
        ranks = standings(scores)
        wanted = {d.id for d in departments[:3]}
        turn.reply("\n\n".join(score_detail(s, period, ranks[s.department_id], len(ranked))
                                for s in scores if s.department_id in wanted))
        return
    if not ranked:
        turn.reply(texts.SCORE_NO_ACTIVITY.format(period=period.label, region=region_note(region)))
        return
    lines = [texts.SCORE_RANKING_LINE.format(rank=rank, department=texts.esc(s.name), score=f"{s.score:g}",
                                             grade=texts.GRADE_LABELS[s.grade]) for rank, s in ranked]
    if len(lines) > 40:
        lines = lines[:20] + [texts.SCORE_RANKING_MORE.format(n=len(lines) - 40)] + lines[-20:]
    header = texts.SCORE_RANKING_HEADER.format(period=period.label, region=region_note(region))
    inactive = len(scores) - len(ranked)
    footer = texts.SCORE_INACTIVE_NOTE.format(n=inactive) if inactive else ""
    turn.reply(header + "\n" + _fit(lines) + footer)


# --- wiring ------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Add this module's commands and buttons (bot.app calls it before the catch-all handlers)."""
    for name, callback in {
        "find": find_command, "cases": cases_command, "overdue": overdue_command, "stats": stats_command,
        "report": report_command, "score": score_command,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    for codec, callback in ((FIND_PAGE, find_page_button), (CASES_PAGE, cases_filter_button),
                            (REPORT_READ, report_read_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))


register_supervision_handlers = register  # the name bot.app calls today

__all__ = ["register", "register_supervision_handlers", "supervisor_case_extras", "with_rows"]
