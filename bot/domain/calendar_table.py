"""The working-day calendar as a table, so the database counts working days late itself.

/score and /overdue add up working days late over tens of thousands of clocks. Computed in Python that
means one row per (department, due time[, closing day]) sent over and looked up; with `calendar_days`
(local day → running count of working days) it is an ordinal difference, summed per department in the
GROUP BY. The table is a copy of the bot's WorkCalendar (holidays package + override file) over a span
of years around today, filled at start (bot.app) and refilled when the calendar or the span changes.
A query uses it only while the state row's digest matches the calendar it was given and every day it
needs lies in the span (SQLite: and the zone keeps one UTC offset); otherwise the callers compute in
Python as before — slower, never different.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Interval, case, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CalendarDay, CalendarState
from bot.domain.workdays import WorkCalendar

# Clocks are due within weeks of filing; old cases and far-future dates fall back to Python.
YEARS_BACK = 5
YEARS_AHEAD = 3
STATE_ID = 1


def table_span(today: date) -> tuple[date, date]:
    """The days the table holds when filled on `today`: whole years, so it changes at most once a year."""
    return date(today.year - YEARS_BACK, 1, 1), date(today.year + YEARS_AHEAD, 12, 31)


def _calendar_rows(calendar: WorkCalendar, first: date, last: date) -> list[dict]:
    rows, ordinal = [], 0
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        working = calendar.is_working_day(day)
        ordinal += working
        rows.append({"day": day, "ordinal": ordinal, "is_workday": working})
    return rows


async def refresh_calendar_table(*, session: AsyncSession, calendar: WorkCalendar, today: date,
                                 now: datetime) -> bool:
    """Make calendar_days a copy of `calendar` over table_span(today); True when it had to be (re)filled.

    The state row is locked first (PostgreSQL; SQLite has one writer anyway), so instances starting
    together take turns and the second finds nothing left to do.
    """
    first, last = table_span(today)
    digest = calendar.digest(first, last)
    state = await session.scalar(select(CalendarState).where(CalendarState.id == STATE_ID).with_for_update())
    if state is None:  # the migration makes it; a hand-made schema might not have
        state = CalendarState(id=STATE_ID, digest="")
        session.add(state)
    if (state.first_day, state.last_day, state.digest) == (first, last, digest):
        return False
    connection = await session.connection()  # plain executemany: a few thousand rows, no ORM objects
    await connection.execute(delete(CalendarDay.__table__))
    await connection.execute(insert(CalendarDay.__table__), _calendar_rows(calendar, first, last))
    state.first_day, state.last_day, state.digest, state.filled_at = first, last, digest, now
    await session.flush()
    return True


@lru_cache(maxsize=16)
def _fixed_offset(tz: ZoneInfo, first: date, last: date) -> int | None:
    """The zone's UTC offset in seconds if it is the same all over [first, last] (checked on the first of
    every month, and the day after), else None."""
    offsets = {int(datetime(year, month, 1, tzinfo=tz).utcoffset().total_seconds())
               for year in range(first.year, last.year + 1) for month in range(1, 13)}
    offsets.add(int(datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).utcoffset().total_seconds()))
    return offsets.pop() if len(offsets) == 1 else None


def local_day_sql(column, tz: ZoneInfo, dialect: str, offset: int | None = None):
    """The local calendar day of a timestamp column, computed by the database.

    Given a fixed `offset` (seconds) that holds for every time concerned, PostgreSQL shifts by it, which
    costs a seventh of looking the zone up by name for each row; SQLite has no time zones and always
    shifts (by default, by the zone's offset now).
    """
    if dialect == "postgresql":
        if offset is not None:
            return func.date(func.timezone(literal(timedelta(seconds=offset), Interval()), column))
        return func.date(func.timezone(tz.key, column))
    if offset is None:
        offset = int(datetime.now(tz).utcoffset().total_seconds())
    return func.date(column, f"{offset:+d} seconds")


def days_late_sql(later, due):
    """max(0, later − due) for two ordinals: working days from the due day to a later day, never negative."""
    return case((later > due, later - due), else_=0)


@dataclass(frozen=True)
class StoredCalendar:
    """calendar_days, checked against the calendar a query was given, and the ordinal of its as-of day."""

    tz: ZoneInfo
    dialect: str
    offset: int | None
    as_of_ordinal: int

    def local_day(self, column):
        return local_day_sql(column, self.tz, self.dialect, self.offset)


async def stored_calendar(*, session: AsyncSession, calendar, tz: ZoneInfo, as_of: date) -> StoredCalendar | None:
    """The stored calendar if it may stand in for `calendar` (a WorkCalendar or a WorkdayIndex over one)
    on `as_of`'s day, else None: the caller then computes in Python."""
    calendar = getattr(calendar, "calendar", calendar)
    if not isinstance(calendar, WorkCalendar):
        return None
    as_of_ordinal = select(CalendarDay.ordinal).where(CalendarDay.day == as_of).scalar_subquery()
    row = (await session.execute(
        select(CalendarState.first_day, CalendarState.last_day, CalendarState.digest,
               as_of_ordinal.label("as_of_ordinal"))
        .where(CalendarState.id == STATE_ID)
    )).first()
    if row is None or row.first_day is None or row.as_of_ordinal is None:
        return None  # never filled, or the as-of day lies outside it
    first, last = row.first_day, row.last_day
    if row.digest != calendar.digest(first, last):
        return None  # filled from another calendar (another override file, holidays release or instance)
    dialect = session.bind.dialect.name
    offset = _fixed_offset(tz, first, last)
    if dialect != "postgresql" and offset is None:
        return None  # SQLite's local day would be off by an hour around a change of offset
    return StoredCalendar(tz=tz, dialect=dialect, offset=offset, as_of_ordinal=int(row.as_of_ordinal))
