"""The monthly review (按月排查) as an .xlsx workbook, the per-department workbook, and the charts.

Workbooks are written with openpyxl's write-only mode: rows stream from the database (yield_per)
into the sheet and out to a temporary file, so memory stays flat however many rows a month has.
Charts are matplotlib (Agg, no display) PNGs in Chinese: the package ships a subset of Noto Sans CJK SC
(bot/data/fonts/, SIL OFL 1.1, made by tools/subset_chart_font.py), registered with matplotlib's font manager
at the first chart; only if that file were missing and no CJK font installed would they fall back to ASCII.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.db.models import Account, Case, Department, DishonestyRecord, Obligation, ReportRead
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.roles import Role
from bot.domain.scores import DepartmentScore, department_scores, standings
from bot.domain.stats import (
    CLOCK_OPEN,
    Period,
    PeriodStats,
    Trend,
    WorkdayIndex,
    in_region,
    monthly_trend,
    overdue_rows,
    period_stats,
    working_days_late,
)
from bot.domain.workdays import WorkCalendar
from nlp.numbers import MAX_AMOUNT_YUAN

TELEGRAM_DOCUMENT_LIMIT = 50 * 1024 * 1024
FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
# The shipped subset of Noto Sans CJK SC (SIL OFL 1.1, licence beside it), made by tools/subset_chart_font.py.
CHART_FONT_FAMILY = "Chengxin Chart Sans SC"
CHART_FONT_FILE = FONT_DIR / "ChengxinChartSansSC-Regular.otf"
CJK_FONT_NAMES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
    "AR PL UMing CN", "AR PL UKai CN", "Droid Sans Fallback", "Noto Sans CJK JP", "Noto Sans CJK TC",
)


@dataclass
class MonthlyReview:
    """What the review of one month (and scope) found; `workbook` is None when there was nothing."""

    period: Period
    region: str | None
    stats: PeriodStats
    overdue: int
    records: int
    scores: list[DepartmentScore]
    workbook: bytes | None

    @property
    def empty(self) -> bool:
        return self.stats.empty and not self.overdue and not self.records and not any(s.active for s in self.scores)

    @property
    def too_large(self) -> bool:
        return self.workbook is not None and len(self.workbook) > TELEGRAM_DOCUMENT_LIMIT


# --- data ------------------------------------------------------------------------------------------


async def _overdue_count(session: AsyncSession, now: datetime, region: str | None,
                         department_id: int | None = None) -> int:
    query = select(func.count()).select_from(Obligation).where(
        Obligation.state == CLOCK_OPEN, Obligation.due_at < now, in_region(Obligation.department_id, region))
    if department_id is not None:
        query = query.where(Obligation.department_id == department_id)
    return await session.scalar(query) or 0


async def _records_count(session: AsyncSession, period: Period, region: str | None,
                         department_id: int | None = None) -> int:
    query = select(func.count()).select_from(DishonestyRecord).where(
        DishonestyRecord.created_at >= period.start_at, DishonestyRecord.created_at < period.end_at,
        in_region(DishonestyRecord.department_id, region))
    if department_id is not None:
        query = query.where(DishonestyRecord.department_id == department_id)
    return await session.scalar(query) or 0


async def _per_department_counts(session: AsyncSession, period: Period, now: datetime,
                                 region: str | None) -> dict[int, dict[str, int]]:
    """New, closed, open and overdue counts by department, each one GROUP BY."""
    counts: dict[int, dict[str, int]] = {}
    scope_case = in_region(Case.department_id, region)
    queries = {
        "new": select(Case.department_id, func.count()).where(
            Case.created_at >= period.start_at, Case.created_at < period.end_at, scope_case),
        "closed": select(Case.department_id, func.count()).where(
            Case.closed_at >= period.start_at, Case.closed_at < period.end_at, scope_case),
        "open": select(Case.department_id, func.count()).where(Case.status.in_(OPEN_STATUSES), scope_case),
        "overdue": select(Obligation.department_id, func.count()).where(
            Obligation.state == CLOCK_OPEN, Obligation.due_at < now, in_region(Obligation.department_id, region)),
    }
    for key, query in queries.items():
        column = query.selected_columns[0]
        for department_id, n in (await session.execute(query.group_by(column))).all():
            if department_id is not None and n is not None:
                counts.setdefault(department_id, {})[key] = int(n)
    for department_id, total in (await _arrears(session, period, scope_case)).items():
        counts.setdefault(department_id, {})["arrears"] = total
    return counts


async def department_counts(*, session: AsyncSession, period: Period, now: datetime,
                            region: str | None) -> dict[int, dict[str, int]]:
    """The figures of `department_workbook` for every department of a region (None: the city), in one go:
    the monthly review builds thousands of workbooks and must not recount the region for each."""
    return await _per_department_counts(session, period, now, region)


async def _arrears(session: AsyncSession, period: Period, scope_case) -> dict[int, Decimal | int]:
    """Arrears citizens reported this period (the 拖欠金额 follow-up answer) by department, summed as exact
    decimals: the answers are stored as decimal strings, never above MAX_AMOUNT_YUAN (nlp.numbers), and
    neither database's float or double may round or overflow them. A stored value that is not a number or
    over the cap (written before the cap existed) is left out, not allowed to break the review."""
    amount = Case.details["amount_yuan"].as_string()
    query = (select(Case.department_id, amount)
             .where(Case.created_at >= period.start_at, Case.created_at < period.end_at, scope_case,
                    amount.is_not(None))
             .execution_options(yield_per=2000))
    totals: dict[int, Decimal] = {}
    async for department_id, raw in await session.stream(query):
        # Older SQLAlchemy hands a number stored as JSON back as a number, not its text.
        raw = None if raw is None else str(raw)
        if department_id is None or not raw or len(raw) > 40:
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:
            continue
        if not value.is_finite() or not 0 < value <= MAX_AMOUNT_YUAN:
            continue
        totals[department_id] = totals.get(department_id, Decimal(0)) + value
    return {d: int(t) if t == t.to_integral_value() else t for d, t in totals.items()}


async def _record_rows(session: AsyncSession, period: Period, region: str | None, department_id: int | None):
    query = (
        select(DishonestyRecord.id, Case.ref, Department.code, Department.name, DishonestyRecord.domain,
               DishonestyRecord.status, DishonestyRecord.created_at, DishonestyRecord.summary)
        .join(Department, Department.id == DishonestyRecord.department_id)
        .outerjoin(Case, Case.id == DishonestyRecord.case_id)
        .where(DishonestyRecord.created_at >= period.start_at, DishonestyRecord.created_at < period.end_at,
               in_region(DishonestyRecord.department_id, region))
        .order_by(DishonestyRecord.created_at, DishonestyRecord.id)
        .execution_options(yield_per=2000)
    )
    if department_id is not None:
        query = query.where(DishonestyRecord.department_id == department_id)
    result = await session.stream(query)
    async for row in result:
        yield tuple(row)


# --- workbooks -----------------------------------------------------------------------------------


def _workbook():
    from openpyxl import Workbook

    return Workbook(write_only=True)


# A text cell starting with one of these is a formula (or becomes one when re-typed or exported to CSV).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
EXCEL_CELL_LIMIT = 32767


def text_cell(sheet, value: str):
    """A cell that is text whatever the text says: written as a string (never a formula, however it starts),
    with Excel's quote-prefix flag on formula-leading text (what Excel itself stores for '=…) so editing
    the cell keeps it text; characters XML cannot carry become U+FFFD."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:EXCEL_CELL_LIMIT]
    cell = WriteOnlyCell(sheet)
    cell.value = value
    cell.data_type = "s"
    if value.lstrip(" ").startswith(FORMULA_LEADS):
        cell.quotePrefix = True
    return cell


def _append(sheet, row) -> None:
    """Every row of every workbook goes through here: strings become text cells, numbers stay numbers."""
    sheet.append([text_cell(sheet, value) if isinstance(value, str) else value for value in row])


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rate(value: float | None):
    return None if value is None else round(value, 4)


def _score_row(score: DepartmentScore, counts: dict[str, int], rank: int | None) -> list:
    """A department's row; one without anything to judge is 不参与排名 (no score, no grade), as in /score."""
    d = score.deductions
    verdict = [score.score, texts.GRADE_LABELS[score.grade], rank] if rank is not None \
        else [None, texts.NOT_RANKED, None]
    return [
        score.code, score.name, score.region, counts.get("new", 0), counts.get("closed", 0), counts.get("open", 0),
        counts.get("overdue", 0), counts.get("arrears", 0), score.met, score.missed, _rate(score.on_time_rate), score.overdue_working_days,
        score.closings, score.reopens, _rate(score.reopen_rate), score.rated, _rate(score.satisfaction_index),
        score.substantiated_records, score.records.get("repaired", 0),
        d["on_time"], d["overdue"], d["reopen"], d["satisfaction"], d["records"], *verdict,
    ]


def _summary_sheet(workbook, stats: PeriodStats, now: datetime, overdue: int, records: int) -> None:
    tz = stats.period.tz
    sheet = workbook.create_sheet(texts.SHEET_SUMMARY)
    b, p = stats.backlog, stats.previous
    _append(sheet, [texts.WB_TITLE.format(month=stats.period.label)])
    _append(sheet, [texts.WB_PERIOD, stats.period.start.isoformat(), stats.period.end.isoformat()])
    _append(sheet, [texts.WB_SCOPE, stats.region or texts.WB_SCOPE_CITY])
    _append(sheet, [texts.WB_GENERATED, texts.local_time(now, tz)])
    _append(sheet, [])
    for label, value in zip(texts.WB_BACKLOG_ROWS,
                            (b.open_at_start, b.new, b.closed, b.open_at_end, p.new, p.closed, p.open_at_end)):
        _append(sheet, [label, value])
    _append(sheet, [texts.WB_OVERDUE_TOTAL, overdue])
    _append(sheet, [texts.WB_RECORDS_TOTAL, records])
    _append(sheet, [])
    _append(sheet, [texts.WB_BY_DOMAIN])
    for domain, n in stats.by_domain:
        _append(sheet, [texts.domain_label(domain), n])
    _append(sheet, [])
    _append(sheet, [texts.WB_BY_STATUS])
    for status, n in stats.by_status:
        _append(sheet, [texts.status_label(status), n])


def _satisfaction_rows(scores: list[DepartmentScore]):
    totals = {"satisfied": 0, "basically_satisfied": 0, "unsatisfied": 0}
    for score in scores:
        if not score.rated:
            continue
        row = [score.ratings.get(k, 0) for k in totals]
        for key, n in zip(totals, row):
            totals[key] += n
        yield [score.code, score.name, *row, score.rated, _rate(score.satisfaction_index)]
    rated = sum(totals.values())
    if rated:
        index = (totals["satisfied"] + 0.6 * totals["basically_satisfied"]) / rated
        yield ["", texts.WB_TOTAL, *totals.values(), rated, round(index, 4)]


async def _stream_overdue(sheet, session, now, region, calendar, tz, department_id=None, before=None) -> None:
    calendar = WorkdayIndex(calendar) if isinstance(calendar, WorkCalendar) else calendar
    async for name, code, ref, kind, due_at in overdue_rows(session=session, now=now, region=region,
                                                           department_id=department_id, before=before):
        _append(sheet, [code or "", name or texts.OVERDUE_UNASSIGNED, ref or "", texts.CLOCK_LABELS.get(kind, kind),
                      texts.local_date(due_at, tz), working_days_late(calendar, due_at, now, tz)])


async def _stream_records(sheet, session, period, region, department_id=None) -> None:
    tz = period.tz
    async for record_id, ref, code, name, domain, status, created_at, summary in _record_rows(
            session, period, region, department_id):
        _append(sheet, [record_id, ref or "", code, name, texts.domain_label(domain),
                      texts.RECORD_STATUS_LABELS.get(status, status), texts.local_time(created_at, tz), summary])


async def monthly_review(
    *, session: AsyncSession, period: Period, now: datetime, region: str | None, calendar: WorkCalendar,
) -> MonthlyReview:
    """The review of a period for a scope; the workbook is built only when there is something in it."""
    stats = await period_stats(session=session, period=period, region=region)
    overdue = await _overdue_count(session, now, region)
    records = await _records_count(session, period, region)
    scores = await department_scores(session=session, period=period, now=now, region=region, calendar=calendar)
    review = MonthlyReview(period, region, stats, overdue, records, scores, None)
    if review.empty:
        return review
    counts = await _per_department_counts(session, period, now, region)
    workbook = _workbook()
    _summary_sheet(workbook, stats, now, overdue, records)

    sheet = workbook.create_sheet(texts.SHEET_DEPARTMENTS)
    _append(sheet, list(texts.WB_DEPARTMENT_HEADERS))
    ranks = standings(scores)
    for score in sorted(scores, key=lambda s: s.code):
        counts_of = counts.get(score.department_id, {})
        if score.active or counts_of:
            _append(sheet, _score_row(score, counts_of, ranks[score.department_id]))

    sheet = workbook.create_sheet(texts.SHEET_OVERDUE)
    _append(sheet, list(texts.WB_OVERDUE_HEADERS))
    await _stream_overdue(sheet, session, now, region, calendar, period.tz)

    sheet = workbook.create_sheet(texts.SHEET_RECORDS)
    _append(sheet, list(texts.WB_RECORD_HEADERS))
    await _stream_records(sheet, session, period, region)

    sheet = workbook.create_sheet(texts.SHEET_SATISFACTION)
    _append(sheet, list(texts.WB_SATISFACTION_HEADERS))
    for row in _satisfaction_rows(sorted(scores, key=lambda s: s.code)):
        _append(sheet, row)
    review.workbook = await asyncio.to_thread(_save, workbook)
    return review


async def department_workbook(
    *, session: AsyncSession, period: Period, now: datetime, department: Department, calendar: WorkCalendar,
    score: DepartmentScore | None = None, ranks: dict[int, int | None] | None = None,
    counts: dict[int, dict[str, int]] | None = None,
) -> bytes | None:
    """One department's own sheet for its head: its figures, its overdue clocks and its records; None if empty.
    `score`, `ranks`, `counts` (department_counts of its region): computed once by a caller building many."""
    if score is None:
        found = await department_scores(session=session, period=period, now=now, region=None, calendar=calendar,
                                        department_ids=[department.id])
        score = found[0] if found else None
    new = await session.scalar(select(func.count()).select_from(Case).where(
        Case.department_id == department.id, Case.created_at >= period.start_at, Case.created_at < period.end_at))
    overdue = await _overdue_count(session, now, None, department.id)
    if not new and not overdue and (score is None or not score.active):
        return None
    if counts is None:
        counts = await _per_department_counts(session, period, now, department.region)
    counts = counts.get(department.id, {})
    workbook = _workbook()
    sheet = workbook.create_sheet(texts.SHEET_DEPARTMENT)
    _append(sheet, [texts.WB_TITLE.format(month=period.label), department.name])
    _append(sheet, [texts.WB_GENERATED, texts.local_time(now, period.tz)])
    _append(sheet, list(texts.WB_DEPARTMENT_HEADERS))
    if score is not None:
        rank = None
        if score.active:  # its rank among the city's departments, as /score gives it
            if ranks is None:
                ranks = standings(await department_scores(session=session, period=period, now=now, region=None,
                                                          calendar=calendar))
            rank = ranks.get(department.id)
        _append(sheet, _score_row(score, counts, rank))
    _append(sheet, [])
    _append(sheet, [texts.SHEET_OVERDUE])
    _append(sheet, list(texts.WB_OVERDUE_HEADERS))
    await _stream_overdue(sheet, session, now, None, calendar, period.tz, department_id=department.id)
    _append(sheet, [])
    _append(sheet, [texts.SHEET_RECORDS])
    _append(sheet, list(texts.WB_RECORD_HEADERS))
    await _stream_records(sheet, session, period, None, department_id=department.id)
    return await asyncio.to_thread(_save, workbook)


def summary_line(review: MonthlyReview) -> str:
    b = review.stats.backlog
    return texts.REPORT_SUMMARY.format(new=b.new, closed=b.closed, open_at_end=b.open_at_end,
                                       overdue=review.overdue, records=review.records)


def report_filename(period: Period, region: str | None = None) -> str:
    return texts.REPORT_FILENAME.format(month=period.label, suffix=f"-{region}" if region else "")


# --- charts --------------------------------------------------------------------------------------


def chart_characters() -> set[str]:
    """Every character a chart may draw: titles, domain labels (legend), month keys and numbers (ASCII)."""
    strings = [*texts.CHART_TITLE_DOMAINS, *texts.CHART_TITLE_BACKLOG, *texts.DOMAIN_LABELS.values(),
               *texts.CHART_EXTRA_CHARACTERS]
    return {ch for s in strings for ch in s} | {chr(c) for c in range(0x20, 0x7F)}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of the shipped chart font (registered with matplotlib's font manager on first use),
    or else of an installed font that can draw Chinese; None only when neither is there."""
    from matplotlib import font_manager

    if FONT_DIR.is_dir():
        for path in sorted(FONT_DIR.iterdir()):
            if path.suffix.lower() in (".ttf", ".otf", ".ttc"):
                try:
                    font_manager.fontManager.addfont(str(path))
                    return font_manager.FontProperties(fname=str(path)).get_name()
                except (OSError, RuntimeError, ValueError):
                    continue
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONT_NAMES if name in installed), None)


def _render(trend: Trend, font: str | None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    chinese = font is not None
    rc = {"font.family": [font, "DejaVu Sans"]} if chinese else {}
    with matplotlib.rc_context(rc):
        figure = Figure(figsize=(10, 4.2), dpi=110)
        domains_axes, backlog_axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
        labels = [m.month_key for m in trend.months]
        positions = list(range(len(labels)))
        bottom = [0] * len(labels)
        for domain, values in sorted(trend.by_domain.items(), key=lambda item: -sum(item[1])):
            name = texts.domain_label(domain) if chinese else domain
            domains_axes.bar(positions, values, bottom=bottom, label=name)
            bottom = [a + b for a, b in zip(bottom, values)]
        domains_axes.set_xticks(positions, labels, fontsize=8)
        domains_axes.margins(y=0.25)  # room for the legend above the tallest bar
        domains_axes.set_title(texts.CHART_TITLE_DOMAINS[0 if chinese else 1], fontsize=10)
        if trend.by_domain:
            domains_axes.legend(fontsize=7, loc="upper left", ncols=2)
        backlog_axes.plot(positions, trend.open_at_end, marker="o", color="#c0392b")
        for x, y in zip(positions, trend.open_at_end):
            backlog_axes.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
        backlog_axes.set_xticks(positions, labels, fontsize=8)
        backlog_axes.margins(y=0.15)
        backlog_axes.set_ylim(bottom=0)
        for axes in (domains_axes, backlog_axes):  # counts: whole numbers only on the y axis
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        backlog_axes.set_title(texts.CHART_TITLE_BACKLOG[0 if chinese else 1], fontsize=10)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def trend_chart(*, session: AsyncSession, period: Period, region: str | None) -> tuple[bytes, bool]:
    """PNG of the last six months (cases by domain, open at month end); True when labelled in Chinese."""
    trend = await monthly_trend(session=session, period=period, region=region)
    font = await asyncio.to_thread(cjk_font)
    return await asyncio.to_thread(_render, trend, font), font is not None


# --- the monthly review's recipients and the heads' 已阅 -------------------------------------------


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    account_id: int | None
    region: str | None = None
    department_id: int | None = None


async def review_recipients(
    *, session: AsyncSession, configured: Collection[int]
) -> tuple[list[Recipient], list[Recipient]]:
    """Supervisors (configured ids city-wide, invited ones with their region) and department heads."""
    supervisors: dict[int, Recipient] = {chat_id: Recipient(chat_id, None) for chat_id in configured}
    accounts = (await session.execute(
        select(Account.telegram_id, Account.id, Account.role, Account.region, Account.department_id, Account.is_head)
        .where(Account.unreachable.is_(False),
               or_(Account.role == Role.SUPERVISOR, Account.telegram_id.in_(list(configured)),
                   and_(Account.role == Role.OFFICIAL, Account.is_head.is_(True))))
        .order_by(Account.id)
    )).all()
    heads: list[Recipient] = []
    for telegram_id, account_id, role, region, department_id, is_head in accounts:
        if telegram_id in configured:
            supervisors[telegram_id] = Recipient(telegram_id, account_id)
        elif role == Role.SUPERVISOR:
            supervisors[telegram_id] = Recipient(telegram_id, account_id, region or None)
        elif department_id is not None:
            heads.append(Recipient(telegram_id, account_id, None, department_id))
    return sorted(supervisors.values(), key=lambda r: r.chat_id), heads


async def record_report_read(*, session: AsyncSession, department_id: int, month: str, account_id: int,
                             now: datetime) -> bool:
    """Record a 已阅; False when this person had already confirmed this department's month."""
    exists = await session.scalar(select(ReportRead.id).where(
        ReportRead.department_id == department_id, ReportRead.month == month, ReportRead.account_id == account_id))
    if exists is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(ReportRead(department_id=department_id, month=month, account_id=account_id, read_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True
