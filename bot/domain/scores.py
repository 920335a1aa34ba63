"""The department integrity score (政务诚信评价): 100 points minus deductions, per department and period.

The formula is documented in docs/scoring.md and shown by `/score formula`; the weights below are the
only place it lives. Every input is a GROUP BY in the database; Python only combines one row per
department. Working days overdue are summed by the database too, over the calendar table
(bot.domain.calendar_table); without a usable table, per distinct due day in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import CalendarDay, Case, CaseEvent, Department, DishonestyRecord, Obligation
from bot.domain.calendar_table import StoredCalendar, days_late_sql, local_day_sql, stored_calendar
from bot.domain.stats import (
    CLOCK_OPEN,
    Period,
    WorkdayIndex,
    core_rows,
    in_region,
    lateness_by_department,
    raw_time,
)
from bot.domain.workdays import WorkCalendar

FULL_MARKS = 100.0
# Deductions (扣分): weight × the shortfall, each with its cap.
ON_TIME_WEIGHT = 30.0            # × (1 − on-time rate)
OVERDUE_PER_DAY = 0.5            # per working day overdue …
OVERDUE_CAP = 20.0               # … at most
REOPEN_WEIGHT = 15.0             # × reopen (重办) rate
SATISFACTION_WEIGHT = 15.0       # × (1 − satisfaction index)
RECORD_POINTS = 10.0             # per substantiated dishonesty record …
RECORD_CAP = 30.0                # … at most
# How much a record counts by its status now; revoked records count nothing.
RECORD_WEIGHTS = {"active": 1.0, "objection_pending": 1.0, "repair_pending": 1.0, "repaired": 0.3, "revoked": 0.0}
# The satisfaction index: each rating's value.
SATISFACTION_VALUES = {"satisfied": 1.0, "basically_satisfied": 0.6, "unsatisfied": 0.0}
# The weights as the published formula names them (texts.SCORE_FORMULA: /score formula and the public page).
FORMULA_WEIGHTS = {
    "on_time_weight": ON_TIME_WEIGHT, "per_day": OVERDUE_PER_DAY, "overdue_cap": OVERDUE_CAP,
    "reopen_weight": REOPEN_WEIGHT, "satisfied": SATISFACTION_VALUES["satisfied"],
    "basic": SATISFACTION_VALUES["basically_satisfied"], "unsatisfied": SATISFACTION_VALUES["unsatisfied"],
    "satisfaction_weight": SATISFACTION_WEIGHT, "repaired": RECORD_WEIGHTS["repaired"],
    "record_points": RECORD_POINTS, "record_cap": RECORD_CAP,
}
GRADES = ((90.0, "excellent"), (80.0, "good"), (60.0, "pass"), (0.0, "fail"))
CLOSING_ACTIONS = ("verify", "tolerate")


@dataclass
class DepartmentScore:
    department_id: int
    name: str
    code: str
    region: str
    met: int = 0
    missed: int = 0
    overdue_working_days: int = 0
    closings: int = 0
    reopens: int = 0
    ratings: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)

    # -- components ---------------------------------------------------------------------------

    @property
    def on_time_rate(self) -> float | None:
        total = self.met + self.missed
        return self.met / total if total else None

    @property
    def reopen_rate(self) -> float | None:
        if not self.reopens and not self.closings:
            return None
        return min(1.0, self.reopens / max(self.closings, self.reopens))

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def satisfaction_index(self) -> float | None:
        if not self.rated:
            return None
        return sum(SATISFACTION_VALUES.get(k, 0.0) * n for k, n in self.ratings.items()) / self.rated

    @property
    def weighted_records(self) -> float:
        return sum(RECORD_WEIGHTS.get(status, 0.0) * n for status, n in self.records.items())

    @property
    def substantiated_records(self) -> int:
        """Records that count fully (active, under objection, awaiting repair)."""
        return sum(n for status, n in self.records.items() if RECORD_WEIGHTS.get(status) == 1.0)

    # -- deductions ---------------------------------------------------------------------------

    @property
    def deductions(self) -> dict[str, float]:
        on_time, reopen, satisfaction = self.on_time_rate, self.reopen_rate, self.satisfaction_index
        return {
            "on_time": round(ON_TIME_WEIGHT * (1 - on_time), 2) if on_time is not None else 0.0,
            "overdue": round(min(OVERDUE_CAP, OVERDUE_PER_DAY * self.overdue_working_days), 2),
            "reopen": round(REOPEN_WEIGHT * reopen, 2) if reopen is not None else 0.0,
            "satisfaction": round(SATISFACTION_WEIGHT * (1 - satisfaction), 2) if satisfaction is not None else 0.0,
            "records": round(min(RECORD_CAP, RECORD_POINTS * self.weighted_records), 2),
        }

    @property
    def score(self) -> float:
        return round(max(0.0, FULL_MARKS - sum(self.deductions.values())), 1)

    @property
    def grade(self) -> str:
        return next(grade for floor, grade in GRADES if self.score >= floor)

    @property
    def active(self) -> bool:
        """Anything to judge in the period; departments without activity are left out of rankings."""
        return bool(self.met or self.missed or self.overdue_working_days or self.closings or self.reopens
                    or self.rated or self.records)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def department_scores(
    *, session: AsyncSession, period: Period, now: datetime, region: str | None, calendar: WorkCalendar,
    department_ids: list[int] | None = None,
) -> list[DepartmentScore]:
    """Scores of every department in scope (or the given ones) for the period, best first."""
    tz = period.tz
    calendar = WorkdayIndex(calendar) if isinstance(calendar, WorkCalendar) else calendar
    start, end = period.start_at, period.end_at
    as_of = min(now, end)
    query = select(Department.id, Department.name, Department.code, Department.region)
    if region is not None:
        query = query.where(Department.region == region)
    if department_ids is not None:
        query = query.where(Department.id.in_(department_ids))
    scores = {i: DepartmentScore(i, name, code, reg) for i, name, code, reg in (await session.execute(query)).all()}
    if not scores:
        return []

    def scoped(column):
        return column.in_(list(scores)) if department_ids is not None else in_region(column, region)

    # On-time: clocks closed in the period, met vs missed (the missed ones counted with their lateness below).
    rows = await core_rows(session,
        select(Obligation.department_id, func.count())
        .where(Obligation.state == "met", Obligation.closed_at >= start, Obligation.closed_at < end,
               Obligation.department_id.is_not(None), scoped(Obligation.department_id))
        .group_by(Obligation.department_id)
    )
    for department_id, n in rows:
        if department_id in scores:
            scores[department_id].met = int(n)

    # Working days overdue: clocks missed in the period (due day → closing day) …
    stored = await stored_calendar(session=session, calendar=calendar, tz=tz, as_of=as_of.astimezone(tz).date())
    missed = and_(Obligation.state == "missed", Obligation.closed_at >= start, Obligation.closed_at < end,
                  Obligation.department_id.is_not(None), scoped(Obligation.department_id))
    if stored is None or not await _missed_in_database(session, scores, missed, stored):
        await _missed_in_python(session, scores, missed, calendar, tz)
    # … and clocks still open and overdue at the end of the period (or now, if that is earlier): open ones
    # (partial index ix_obligations_open), and ones closed only after that moment (a closed clock always has
    # its closed_at, so `closed_at IS NULL` is only ever an open one) — two index ranges instead of an OR.
    # The second range is not bounded by due time: a clock due after that moment is 0 days late anyway,
    # and with the bound SQLite walks (state, due_at) over every closed clock instead of the few closed since.
    common = (Obligation.created_at < end, Obligation.department_id.is_not(None), scoped(Obligation.department_id))
    for where in (
        (Obligation.state == CLOCK_OPEN, or_(Obligation.closed_at.is_(None), Obligation.closed_at >= as_of),
         Obligation.due_at < as_of),
        (Obligation.state.in_(("met", "missed")), Obligation.closed_at >= as_of),
    ):
        for department_id, _, late, _ in await lateness_by_department(
                session=session, where=and_(*where, *common), calendar=calendar, as_of=as_of, tz=tz, stored=stored):
            if department_id in scores:
                scores[department_id].overdue_working_days += late

    # Reopen (重办) rate: reopenings against closings (verify, tolerate) in the period.
    rows = await session.execute(
        select(Case.department_id, CaseEvent.action, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.created_at >= start, CaseEvent.created_at < end,
               CaseEvent.action.in_((*CLOSING_ACTIONS, "reopen")), scoped(Case.department_id))
        .group_by(Case.department_id, CaseEvent.action)
    )
    for department_id, action, n in rows.all():
        if department_id in scores:
            target = scores[department_id]
            if action == "reopen":
                target.reopens += int(n)
            else:
                target.closings += int(n)

    # Satisfaction: ratings given in the period.
    rows = await session.execute(
        select(Case.department_id, Case.satisfaction, func.count())
        .where(Case.satisfaction_at >= start, Case.satisfaction_at < end, Case.satisfaction.is_not(None),
               scoped(Case.department_id))
        .group_by(Case.department_id, Case.satisfaction)
    )
    for department_id, rating, n in rows.all():
        if department_id in scores:
            scores[department_id].ratings[rating] = int(n)

    # Dishonesty records made in the period, by their status now (tolerated cases make none).
    rows = await session.execute(
        select(DishonestyRecord.department_id, DishonestyRecord.status, func.count())
        .where(DishonestyRecord.created_at >= start, DishonestyRecord.created_at < end,
               scoped(DishonestyRecord.department_id))
        .group_by(DishonestyRecord.department_id, DishonestyRecord.status)
    )
    for department_id, status, n in rows.all():
        if department_id in scores:
            scores[department_id].records[status] = int(n)

    return sorted(scores.values(), key=lambda s: (-s.score, s.code))


async def _missed_in_database(session: AsyncSession, scores: dict[int, DepartmentScore], where,
                              stored: StoredCalendar) -> bool:
    """Missed clocks and their working days late (due day → closing day) per department, summed by the
    database over calendar_days; False, counting nothing, when a day lies outside the table."""
    due, closed = aliased(CalendarDay), aliased(CalendarDay)
    rows = await core_rows(session,
        select(Obligation.department_id, func.count(), func.sum(days_late_sql(closed.ordinal, due.ordinal)),
               func.count(due.ordinal + closed.ordinal))
        .select_from(Obligation)
        .outerjoin(due, due.day == stored.local_day(Obligation.due_at))
        .outerjoin(closed, closed.day == stored.local_day(Obligation.closed_at))
        .where(where)
        .group_by(Obligation.department_id)
    )
    if any(n != known for _, n, _, known in rows):
        return False
    for department_id, n, late, _ in rows:
        if department_id in scores:
            scores[department_id].missed += n
            scores[department_id].overdue_working_days += late
    return True


async def _missed_in_python(session: AsyncSession, scores: dict[int, DepartmentScore], where,
                            calendar: WorkdayIndex, tz: ZoneInfo) -> None:
    """As _missed_in_database, grouped per (department, due time, closing day) and computed here."""
    closed_day = local_day_sql(Obligation.closed_at, tz, session.bind.dialect.name)
    rows = await core_rows(session,
        select(Obligation.department_id, raw_time(Obligation.due_at), closed_day, func.count())
        .where(where)
        .group_by(Obligation.department_id, Obligation.due_at, closed_day)
    )
    late_by: dict = {}   # (due time, closing day) → working days late; the same pairs recur across departments
    for department_id, due_at, day, n in rows:
        target = scores.get(department_id)
        if target is None:
            continue
        late = late_by.get((due_at, day))
        if late is None:
            aware = due_at if due_at.tzinfo is not None else due_at.replace(tzinfo=timezone.utc)
            late = late_by[(due_at, day)] = max(0, calendar.working_days_between(
                aware.astimezone(tz).date(), _as_date(day)))
        target.missed += n
        target.overdue_working_days += late * n


def standings(scores: list[DepartmentScore]) -> dict[int, int | None]:
    """Each department's rank (1 = best, ties share) or None when it is not ranked (不参与排名: nothing to
    judge in the period). The one answer /score, `/score DEPT` and the workbook's 各部门 sheet all give."""
    ranks: dict[int, int | None] = {s.department_id: None for s in scores}
    ranks.update({s.department_id: rank for rank, s in ranking(scores)})
    return ranks


def ranking(scores: list[DepartmentScore]) -> list[tuple[int, DepartmentScore]]:
    """Rank (1 = best, ties share a rank) of the departments with anything to judge."""
    ranked: list[tuple[int, DepartmentScore]] = []
    previous, rank = None, 0
    for position, item in enumerate((s for s in scores if s.active), start=1):
        if item.score != previous:
            rank, previous = position, item.score
        ranked.append((rank, item))
    return ranked
