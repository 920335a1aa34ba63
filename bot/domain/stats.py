"""Supervision statistics: periods, case counts, the backlog (清存量、防增量), overdue clocks and case search.

Everything is aggregated in the database (GROUP BY, COUNT over indexed ranges); Python only sees one
row per group. A regional supervisor's scope is `region` (Department.region): only cases and clocks
of that region's departments count, and unassigned cases (no department yet) are city-wide only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, and_, case, func, literal_column, or_, select, true, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CalendarDay, Case, Department, DepartmentAlias, Obligation
from bot.domain.calendar_table import StoredCalendar, days_late_sql, stored_calendar
from bot.domain import scope
from bot.domain.periods import (  # noqa: F401  (re-exported)
    Period, looks_like_period, month_period, parse_month, parse_period,
)
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.roles import Actor
from bot.domain.workdays import WorkCalendar
from nlp.classifier import normalize_text



# --- periods: one parser, in bot.domain.periods (re-exported here for the callers that import them from stats) ---

# --- scope ---------------------------------------------------------------------------------------


def in_region(department_column, region: str | None):
    """A condition limiting a department-id column to a region's departments (None: no limit)."""
    if region is None:
        return true()
    return department_column.in_(select(Department.id).where(Department.region == region))


# --- counts and backlog --------------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    """清存量、防增量: open at the start, new, closed (left the open states), open at the end."""

    open_at_start: int
    new: int
    closed: int
    open_at_end: int


@dataclass
class PeriodStats:
    period: Period
    region: str | None
    by_domain: list[tuple[str, int]]
    by_department: list[tuple[int | None, str | None, int]]
    by_status: list[tuple[str, int]]
    backlog: Backlog
    previous: Backlog

    @property
    def empty(self) -> bool:
        b = self.backlog
        return b.new == 0 and b.closed == 0 and b.open_at_start == 0 and b.open_at_end == 0


def _created_in(period: Period):
    return and_(Case.created_at >= period.start_at, Case.created_at < period.end_at)


def _bucket(column, moments: list[datetime]):
    """0 for [moments[0], moments[1]), 1 for the next span, …, len − 1 for [moments[-1], ∞)."""
    return case(*[(column < moment, i) for i, moment in enumerate(moments[1:])], else_=len(moments) - 1)


async def _open_and_flows(
    *, session: AsyncSession, moments: list[datetime], region: str | None, created: list[int] | None = None
) -> tuple[list[int], list[int], list[int]]:
    """Open cases at each moment, and cases created and closed in each span from one moment to the next
    (the last span running on to now and beyond), for ascending moments.

    Open at T = created before T − closed before T; counted from T forwards, that is the cases not closed
    now (partial index) − created since T + closed since T — exactly, as counting NULLs and ranges is
    exact. So the cost is the cases since the first moment, not the whole history as counting backwards.
    `created`, when the caller has already counted the cases created in each span, saves that count.
    """
    assert all(a <= b for a, b in zip(moments, moments[1:])), "moments must be ascending"
    scope = in_region(Case.department_id, region)
    unclosed = await session.scalar(
        select(func.count()).select_from(Case).where(Case.closed_at.is_(None), scope)) or 0
    flows = []
    for column in ((Case.created_at,) if created is None else ()) + (Case.closed_at,):
        bucket = _bucket(column, moments)
        counts = [0] * len(moments)
        for index, n in (await session.execute(
            select(bucket, func.count()).where(column >= moments[0], scope).group_by(bucket)
        )).all():
            counts[int(index)] += int(n)
        flows.append(counts)
    created, closed = flows if created is None else (created, *flows)
    open_at = []
    created_since = closed_since = 0
    for index in range(len(moments) - 1, -1, -1):
        created_since += created[index]
        closed_since += closed[index]
        open_at.append(unclosed - created_since + closed_since)
    return open_at[::-1], created, closed


async def period_stats(*, session: AsyncSession, period: Period, region: str | None) -> PeriodStats:
    """Counts by domain, department and status of the cases filed in the period, and the backlog picture."""
    scope = in_region(Case.department_id, region)
    where = and_(_created_in(period), scope)
    by_domain = (await session.execute(
        select(Case.domain, func.count()).where(where).group_by(Case.domain).order_by(func.count().desc(), Case.domain)
    )).all()
    per_department = (
        select(Case.department_id.label("department_id"), func.count().label("n"))
        .where(where).group_by(Case.department_id).subquery()
    )
    by_department = (await session.execute(
        select(per_department.c.department_id, Department.name, per_department.c.n)
        .outerjoin(Department, Department.id == per_department.c.department_id)
        .order_by(per_department.c.n.desc(), Department.name)
    )).all()
    by_status = (await session.execute(
        select(Case.status, func.count()).where(where).group_by(Case.status).order_by(func.count().desc())
    )).all()
    previous = period.previous()
    open_at, created, closed = await _open_and_flows(
        session=session, moments=[previous.start_at, period.start_at, period.end_at], region=region)
    return PeriodStats(
        period=period, region=region,
        by_domain=[(d, int(n)) for d, n in by_domain],
        by_department=[(i, name, int(n)) for i, name, n in by_department],
        by_status=[(s, int(n)) for s, n in by_status],
        backlog=Backlog(open_at[1], created[1], closed[1], open_at[2]),
        previous=Backlog(open_at[0], created[0], closed[0], open_at[1]),
    )


@dataclass
class Trend:
    """For charts: cases filed per month by domain, and open cases at each month's end."""

    months: list[Period]
    by_domain: dict[str, list[int]]
    open_at_end: list[int]


async def monthly_trend(*, session: AsyncSession, period: Period, region: str | None, months: int = 6) -> Trend:
    spans = period.months_back(months)
    scope = in_region(Case.department_id, region)
    # One pass over the cases filed since the first month: by domain and month for the bars, and in total per
    # span between month ends (the last running on past the period) for the open-at-month-end line.
    # Grouped by month first: grouped by domain first, SQLite reads the cases in domain-index order to skip
    # the sort, which walks every case ever filed (2 s at a million) instead of the created_at range.
    bucket = case(*[(Case.created_at < m.end_at, i) for i, m in enumerate(spans)], else_=len(spans))
    rows = await core_rows(session,
        select(Case.domain, bucket.label("bucket"), func.count())
        .where(Case.created_at >= spans[0].start_at, scope)
        .group_by(bucket, Case.domain)
    )
    by_domain: dict[str, list[int]] = {}
    created = [0] * len(spans)   # created[i]: from the end of month i to the end of month i + 1 (or on)
    for domain, index, n in rows:
        if int(index) < len(spans):
            by_domain.setdefault(domain, [0] * len(spans))[int(index)] += int(n)
        if int(index) > 0:
            created[int(index) - 1] += int(n)
    open_at_end, _, _ = await _open_and_flows(session=session, moments=[m.end_at for m in spans], region=region,
                                              created=created)
    return Trend(months=spans, by_domain=by_domain, open_at_end=open_at_end)


# --- overdue clocks ------------------------------------------------------------------------------


@dataclass
class OverdueItem:
    ref: str | None
    kind: str
    due_at: datetime
    working_days: int


@dataclass
class OverdueGroup:
    department_id: int | None
    name: str | None
    count: int = 0
    working_days: int = 0
    max_working_days: int = 0
    items: list[OverdueItem] = field(default_factory=list)


class WorkdayIndex:
    """`working_days_between` in O(1) for many dates: a running count of working days, walked once per day.

    Aggregations meet the same few hundred due days many times; this keeps them from walking the calendar
    day by day for each.
    """

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._ordinal: dict[date, int] = {}
        self._lo: date | None = None
        self._hi: date | None = None

    def _reach(self, day: date) -> None:
        if self._lo is None or self._hi is None:
            self._lo = self._hi = day
            self._ordinal[day] = 0
            return
        while day > self._hi:
            following = self._hi + timedelta(days=1)
            self._ordinal[following] = self._ordinal[self._hi] + self.calendar.is_working_day(following)
            self._hi = following
        while day < self._lo:
            before = self._lo - timedelta(days=1)
            self._ordinal[before] = self._ordinal[self._lo] - self.calendar.is_working_day(self._lo)
            self._lo = before

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end], negative when end < start — as WorkCalendar.working_days_between."""
        self._reach(start)
        self._reach(end)
        return self._ordinal[end] - self._ordinal[start]


def working_days_late(calendar: WorkCalendar | WorkdayIndex, due_at: datetime, as_of: datetime,
                      tz: ZoneInfo) -> int:
    """Working days from the due day to `as_of`'s day (the due day itself not counted); never negative."""
    return max(0, calendar.working_days_between(due_at.astimezone(tz).date(), as_of.astimezone(tz).date()))


# Open clocks are matched with the literal 'open' (not a bound parameter), so that SQLite and PostgreSQL's
# generic plans can prove the partial index ix_obligations_open (WHERE state = 'open') applies.
CLOCK_OPEN = literal_column("'open'")


class LatenessMemo:
    """working_days_late(due_at → as_of) remembered per due time: grouped rows repeat the same few hundred."""

    def __init__(self, calendar: WorkCalendar | WorkdayIndex, as_of: datetime, tz: ZoneInfo) -> None:
        self.calendar, self.as_of, self.tz = calendar, as_of, tz
        self._days: dict[datetime, int] = {}

    def __call__(self, due_at: datetime) -> int:
        days = self._days.get(due_at)
        if days is None:
            aware = due_at if due_at.tzinfo is not None else due_at.replace(tzinfo=timezone.utc)
            days = self._days[due_at] = working_days_late(self.calendar, aware, self.as_of, self.tz)
        return days


def raw_time(column):
    """A UTCDateTime column read without its per-row conversion (naive UTC on SQLite, aware on PostgreSQL);
    for grouped rows whose times go through LatenessMemo, which converts each distinct value once."""
    return type_coerce(column, DateTime(timezone=True))


async def core_rows(session: AsyncSession, query) -> list:
    """All rows of a plain column query, run on the session's connection (no ORM result machinery:
    aggregations can return tens of thousands of small rows)."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


async def lateness_by_department(
    *, session: AsyncSession, where, calendar: WorkCalendar | WorkdayIndex, as_of: datetime, tz: ZoneInfo,
    stored: StoredCalendar | None,
) -> list[tuple[int | None, int, int, int]]:
    """The clocks matching `where` per department: (department id, count, working days late as of `as_of`
    in total, the most for one clock).

    Summed by the database over calendar_days when `stored` (checked for the same as-of day) may stand in
    for the calendar: one row per department. Otherwise, or when a due day lies outside the table, grouped
    per (department, due time) and computed here, as before the table existed.
    """
    if stored is not None:
        rows = await _lateness_in_database(session, where, stored)
        if rows is not None:
            return rows
    return await _lateness_in_python(session, where, calendar, as_of, tz)


async def _lateness_in_database(session: AsyncSession, where, stored: StoredCalendar) -> list[tuple] | None:
    # Counted per (department, due time) first, along the index, and only then joined to the calendar: that
    # joins a few thousand groups instead of every clock, and keeps SQLite on the index the WHERE wants
    # (grouped by department alone, it would walk the department index over every clock instead).
    per_due = (
        select(Obligation.department_id.label("department_id"), Obligation.due_at.label("due_at"),
               func.count().label("n"))
        .where(where).group_by(Obligation.department_id, Obligation.due_at).subquery()
    )
    late = days_late_sql(stored.as_of_ordinal, CalendarDay.ordinal)
    rows = await core_rows(session,
        select(per_due.c.department_id, func.sum(per_due.c.n), func.sum(per_due.c.n * late), func.max(late),
               func.count(), func.count(CalendarDay.ordinal))
        .select_from(per_due)
        .outerjoin(CalendarDay, CalendarDay.day == stored.local_day(per_due.c.due_at))
        .group_by(per_due.c.department_id)
    )
    if any(groups != known for *_, groups, known in rows):
        return None  # a due day before (or after) the table's span
    return [(department_id, int(n), int(total), int(worst)) for department_id, n, total, worst, _, _ in rows]


async def _lateness_in_python(session: AsyncSession, where, calendar, as_of: datetime, tz: ZoneInfo) -> list[tuple]:
    late = LatenessMemo(calendar, as_of, tz)
    totals: dict[int | None, tuple[int, int, int]] = {}
    rows = await core_rows(session,
        select(Obligation.department_id, raw_time(Obligation.due_at), func.count()).where(where)
        .group_by(Obligation.department_id, Obligation.due_at)
    )
    for department_id, due_at, n in rows:
        days = late(due_at)
        count, total, worst = totals.get(department_id, (0, 0, 0))
        totals[department_id] = (count + n, total + days * n, max(worst, days))
    return [(department_id, *figures) for department_id, figures in totals.items()]


def _overdue_where(now: datetime, region: str | None):
    conditions = [Obligation.state == CLOCK_OPEN, Obligation.due_at < now]
    if region is not None:
        conditions.append(in_region(Obligation.department_id, region))
    return and_(*conditions)


async def overdue_by_department(
    *, session: AsyncSession, now: datetime, region: str | None, calendar: WorkCalendar, tz: ZoneInfo,
    items_per_department: int = 5,
) -> list[OverdueGroup]:
    """Open clocks past due, grouped by department (most overdue first), with their working days overdue.

    The count and day totals come from one GROUP BY department over calendar_days (see
    lateness_by_department). The listed items are the oldest few per department.
    """
    where = _overdue_where(now, region)
    calendar = WorkdayIndex(calendar) if isinstance(calendar, WorkCalendar) else calendar
    stored = await stored_calendar(session=session, calendar=calendar, tz=tz, as_of=now.astimezone(tz).date())
    groups = {
        department_id: OverdueGroup(department_id, None, count, total, worst)
        for department_id, count, total, worst in await lateness_by_department(
            session=session, where=where, calendar=calendar, as_of=now, tz=tz, stored=stored)
    }
    if not groups:
        return []
    names = dict((await session.execute(
        select(Department.id, Department.name).where(Department.id.in_([i for i in groups if i is not None]))
    )).all())
    for department_id, group in groups.items():
        group.name = names.get(department_id)
    # The oldest few per department: numbered along ix_obligations_open (department, due, id) without a
    # sort, then only those rows fetched — two statements, so the planner never guesses how many survive.
    ranked = (
        select(Obligation.id.label("id"), func.row_number().over(
            partition_by=Obligation.department_id, order_by=(Obligation.due_at, Obligation.id)).label("rn"))
        .where(where).subquery()
    )
    first = list((await session.scalars(select(ranked.c.id).where(ranked.c.rn <= items_per_department))).all())
    items = await session.execute(
        select(Obligation.department_id, Case.ref, Obligation.kind, Obligation.due_at)
        .outerjoin(Case, Case.id == Obligation.case_id)
        .where(Obligation.id.in_(first))
        .order_by(Obligation.department_id, Obligation.due_at, Obligation.id)
    )
    for department_id, ref, kind, due_at in items.all():
        groups[department_id].items.append(
            OverdueItem(ref, kind, due_at, working_days_late(calendar, due_at, now, tz)))
    return sorted(groups.values(), key=lambda g: (-g.working_days, -g.count, g.name or ""))


async def overdue_rows(
    *, session: AsyncSession, now: datetime, region: str | None, department_id: int | None = None,
    before: datetime | None = None,
) -> AsyncIterator[tuple]:
    """Every open overdue clock (department name, code, case ref, kind, due_at), streamed for workbooks."""
    where = _overdue_where(now, region)
    if before is not None:
        where = and_(where, Obligation.due_at < before)
    if department_id is not None:
        where = and_(where, Obligation.department_id == department_id)
    query = (
        select(Department.name, Department.code, Case.ref, Obligation.kind, Obligation.due_at)
        .select_from(Obligation)
        .outerjoin(Department, Department.id == Obligation.department_id)
        .outerjoin(Case, Case.id == Obligation.case_id)
        .where(where)
        .order_by(Department.code, Obligation.due_at, Obligation.id)
        .execution_options(yield_per=2000)
    )
    result = await session.stream(query)
    async for row in result:
        yield tuple(row)


# --- finding cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    domain: str | None = None
    department_id: int | None = None
    overdue: bool = False
    period: Period | None = None
    words: tuple[str, ...] = ()
    region: str | None = None

    @property
    def plain(self) -> bool:
        """Only a status (or nothing): the original /cases list."""
        return not (self.domain or self.department_id or self.overdue or self.period or self.words or self.region)


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filter_conditions(flt: CaseFilter, now: datetime) -> list:
    conditions = []
    if flt.status:
        conditions.append(Case.status == flt.status)
    if flt.domain:
        conditions.append(Case.domain == flt.domain)
    if flt.department_id is not None:
        conditions.append(Case.department_id == flt.department_id)
    if flt.region is not None:
        conditions.append(in_region(Case.department_id, flt.region))
    if flt.period is not None:
        conditions.append(_created_in(flt.period))
    if flt.overdue:
        conditions.append(Case.id.in_(
            select(Obligation.case_id).where(Obligation.state == "open", Obligation.due_at < now,
                                             Obligation.case_id.is_not(None))))
    for word in flt.words:
        pattern = _like(word)
        folded = _like(normalize_text(word))
        named = select(Department.id).where(or_(
            Department.name.like(pattern, escape="\\"),
            Department.name.like(folded, escape="\\"),
            Department.id.in_(select(DepartmentAlias.department_id)
                              .where(DepartmentAlias.alias.like(pattern, escape="\\"))),
        ))
        # The text is matched folded on both sides (nlp.normalize_text: traditional -> simplified), against
        # the stored column Case.text_search, so the scan costs what a plain LIKE on `text` did.
        conditions.append(or_(
            Case.text_search.like(folded, escape="\\"),
            func.upper(Case.ref).like(pattern.upper(), escape="\\"),
            Case.department_id.in_(named),
        ))
    return conditions


async def search_cases(
    *, session: AsyncSession, flt: CaseFilter, now: datetime, offset: int, limit: int, actor: Actor | None = None
) -> tuple[list[Case], int]:
    """Cases matching the filter, newest first, one page at a time, with the total; with `actor`, only the
    cases the one scope function lets them see."""
    conditions = _filter_conditions(flt, now)
    if actor is not None:
        conditions.append(scope.cases_clause(actor))
    total = await session.scalar(select(func.count(Case.id)).where(*conditions)) or 0
    page = await session.scalars(
        select(Case).where(*conditions).order_by(Case.created_at.desc(), Case.id.desc()).offset(offset).limit(limit)
    )
    return list(page.all()), total


__all__ = [
    "Backlog", "CaseFilter", "LatenessMemo", "WorkdayIndex", "OPEN_STATUSES", "OverdueGroup", "OverdueItem", "Period", "PeriodStats", "Trend",
    "core_rows", "in_region", "lateness_by_department", "raw_time", "looks_like_period", "month_period", "monthly_trend", "overdue_by_department",
    "overdue_rows", "parse_month", "parse_period", "period_stats", "search_cases", "working_days_late",
]
