"""The working-day calendar table: working days late summed by the database are exactly the WorkCalendar's,
across holidays, 调休 make-up days and overrides; the table is refilled when the calendar or the year changes,
and a calendar it does not match (or a day outside it) falls back to Python rather than to a wrong number."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.db.models import CalendarDay, CalendarState, Department, Obligation
from bot.db.session import Database
from bot.domain.calendar_table import YEARS_AHEAD, YEARS_BACK, refresh_calendar_table, stored_calendar, table_span
from bot.domain.scores import department_scores
from bot.domain.stats import month_period, overdue_by_department, working_days_late
from bot.domain.workdays import WorkCalendar
from tests.conftest import SHANGHAI

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
OCTOBER = month_period(2026, 10, SHANGHAI)
# Around National Day 2026: 09-25 中秋 off, 10-01..10-07 off, Saturday 10-10 a 调休 working day.
DUE_DAYS = [date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 30), date(2026, 10, 3), date(2026, 10, 9),
            date(2026, 10, 10), date(2026, 10, 12)]
CLOSING_MOMENTS = [datetime(2026, 10, d, h, m, tzinfo=SHANGHAI)
                   for d, h, m in ((2, 9, 0), (8, 0, 30), (10, 7, 59), (10, 23, 30), (11, 12, 0), (31, 23, 59))]


@pytest.fixture
async def db(migrated_database_url):
    database = Database(migrated_database_url)
    await database.upgrade()
    yield database
    await database.dispose()


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def overrides_file(tmp_path, days: dict[str, str]):
    path = tmp_path / "overrides.toml"
    path.write_text("[days]\n" + "".join(f'"{d}" = "{v}"\n' for d, v in days.items()), encoding="utf-8")
    return path


async def refill(db: Database, calendar: WorkCalendar, today: date = NOW.date()) -> bool:
    async with db.session() as session:
        refilled = await refresh_calendar_table(session=session, calendar=calendar, today=today, now=NOW)
        await session.commit()
    return refilled


async def add_department(session, code: str) -> int:
    department = Department(code=code, name=code, kind="bureau", region="r1")
    session.add(department)
    await session.flush()
    return department.id


async def add_clocks(db: Database) -> int:
    """Missed clocks for every (due day, closing moment) pair, and clocks open or closed late at the month's end."""
    async with db.session() as session:
        dept = await add_department(session, "d1")
        created = datetime(2026, 9, 1, tzinfo=SHANGHAI)
        clocks = [Obligation(kind="reply", department_id=dept, due_at=end_of(due), state="missed", created_at=created,
                             closed_at=closed) for due, closed in product(DUE_DAYS, CLOSING_MOMENTS)]
        clocks += [Obligation(kind="accept", department_id=dept, due_at=end_of(due), state="open", created_at=created)
                   for due in DUE_DAYS]
        clocks += [Obligation(kind="accept", department_id=dept, due_at=end_of(due), state="met", created_at=created,
                              closed_at=datetime(2026, 11, 3, tzinfo=SHANGHAI)) for due in DUE_DAYS]
        session.add_all(clocks)
        await session.commit()
    return dept


def expected_overdue_days(calendar: WorkCalendar) -> int:
    """Worked out clock by clock with WorkCalendar.working_days_between, as the score defines it."""
    missed = sum(max(0, calendar.working_days_between(due, closed.date()))
                 for due, closed in product(DUE_DAYS, CLOSING_MOMENTS))
    as_of = OCTOBER.end_at  # the period ends before now
    late = sum(working_days_late(calendar, end_of(due), as_of, SHANGHAI) for due in DUE_DAYS)
    return missed + 2 * late  # the open clocks and the ones met only after the period


async def overdue_days(db: Database, calendar: WorkCalendar, *, expect_table: bool) -> int:
    async with db.session() as session:
        stored = await stored_calendar(session=session, calendar=calendar, tz=SHANGHAI,
                                       as_of=OCTOBER.end_at.date())
        assert (stored is not None) == expect_table
        score, = await department_scores(session=session, period=OCTOBER, now=NOW, region=None, calendar=calendar)
    assert score.missed == len(DUE_DAYS) * len(CLOSING_MOMENTS)
    return score.overdue_working_days


async def test_database_lateness_equals_the_calendars_across_holidays_and_make_up_days(db, tmp_path):
    # A Sunday made a working day and a Monday made a day off by the override file, on top of the package.
    calendar = WorkCalendar.china(overrides_file(tmp_path, {"2026-10-11": "work", "2026-10-12": "off"}))
    await add_clocks(db)
    assert await overdue_days(db, calendar, expect_table=False) == expected_overdue_days(calendar)
    assert await refill(db, calendar)
    assert await overdue_days(db, calendar, expect_table=True) == expected_overdue_days(calendar)

    async with db.session() as session:
        groups = await overdue_by_department(session=session, now=NOW, region=None, calendar=calendar, tz=SHANGHAI)
    late = [working_days_late(calendar, end_of(due), NOW, SHANGHAI) for due in DUE_DAYS]
    assert [(g.count, g.working_days, g.max_working_days) for g in groups] == [(len(DUE_DAYS), sum(late), max(late))]


async def test_a_calendar_the_table_was_not_filled_from_is_computed_in_python(db, tmp_path):
    official = WorkCalendar.china()
    changed = WorkCalendar.china(overrides_file(tmp_path, {"2026-10-10": "off"}))  # the 调休 Saturday cancelled
    await add_clocks(db)
    await refill(db, official)
    assert expected_overdue_days(changed) != expected_overdue_days(official)
    assert await overdue_days(db, changed, expect_table=False) == expected_overdue_days(changed)
    assert await overdue_days(db, official, expect_table=True) == expected_overdue_days(official)


async def test_a_due_day_outside_the_table_falls_back_to_python(db):
    calendar = WorkCalendar.china()
    dept = await add_clocks(db)
    first, _ = table_span(NOW.date())
    async with db.session() as session:
        session.add(Obligation(kind="reply", department_id=dept, due_at=end_of(first - timedelta(days=3)),
                               state="open", created_at=datetime(2020, 1, 1, tzinfo=SHANGHAI)))
        await session.commit()
    await refill(db, calendar)
    old = working_days_late(calendar, end_of(first - timedelta(days=3)), OCTOBER.end_at, SHANGHAI)
    assert old > 1000
    assert await overdue_days(db, calendar, expect_table=True) == expected_overdue_days(calendar) + old


async def test_the_table_is_filled_once_and_refilled_when_the_calendar_or_the_year_changes(db, tmp_path):
    official = WorkCalendar.china()
    assert await refill(db, official)
    assert not await refill(db, WorkCalendar.china())  # the same calendar again: nothing to do
    first, last = table_span(NOW.date())
    assert (first, last) == (date(2026 - YEARS_BACK, 1, 1), date(2026 + YEARS_AHEAD, 12, 31))

    async def table() -> dict[date, tuple[int, bool]]:
        async with db.session() as session:
            return {d: (o, w) for d, o, w in (await session.execute(
                select(CalendarDay.day, CalendarDay.ordinal, CalendarDay.is_workday))).all()}

    rows = await table()
    assert min(rows) == first and max(rows) == last and len(rows) == (last - first).days + 1
    assert rows[date(2026, 10, 10)][1] and not rows[date(2026, 10, 11)][1]
    for a, b in ((date(2026, 9, 30), date(2026, 10, 12)), (date(2026, 2, 13), date(2026, 3, 2))):
        assert rows[b][0] - rows[a][0] == official.working_days_between(a, b)

    # The override file changes: a Sunday becomes a working day; every later ordinal moves by one.
    changed = WorkCalendar.china(overrides_file(tmp_path, {"2026-10-11": "work"}))
    assert await refill(db, changed)
    refilled = await table()
    assert refilled[date(2026, 10, 11)] == (rows[date(2026, 10, 11)][0] + 1, True)
    assert refilled[last][0] == rows[last][0] + 1 and refilled[date(2026, 10, 10)] == rows[date(2026, 10, 10)]

    # A new year: the span moves on with it.
    assert await refill(db, changed, today=date(2027, 1, 2))
    async with db.session() as session:
        state = await session.get(CalendarState, 1)
        assert (state.first_day, state.last_day) == table_span(date(2027, 1, 2))
        assert await session.scalar(select(func.min(CalendarDay.day))) == date(2027 - YEARS_BACK, 1, 1)
        # A day beyond the table (as of a date after its last day) is not answered from it.
        assert await stored_calendar(session=session, calendar=changed, tz=SHANGHAI,
                                     as_of=date(2027 + YEARS_AHEAD + 1, 1, 1)) is None
        assert await stored_calendar(session=session, calendar=changed, tz=SHANGHAI, as_of=date(2027, 1, 4))


async def test_an_empty_or_half_made_table_is_never_used(db):
    calendar = WorkCalendar.china()
    first, last = table_span(NOW.date())
    async with db.session() as session:
        assert await stored_calendar(session=session, calendar=calendar, tz=SHANGHAI, as_of=NOW.date()) is None
        # The state of a filled table but no days: the as-of day is missing, so nothing is answered from it.
        await session.execute(update(CalendarState).values(first_day=first, last_day=last,
                                                          digest=calendar.digest(first, last)))
        assert await stored_calendar(session=session, calendar=calendar, tz=SHANGHAI, as_of=NOW.date()) is None


async def test_a_zone_with_summer_time_is_exact_on_postgresql_and_left_to_python_on_sqlite(db):
    berlin = ZoneInfo("Europe/Berlin")
    calendar = WorkCalendar.china()
    async with db.session() as session:
        dept = await add_department(session, "d1")
        # Around the end of summer time (2026-10-25), a few minutes either side of local midnight.
        dues = [datetime(2026, 10, d, 23, 58, tzinfo=berlin) + timedelta(minutes=m) for d in (23, 24, 25, 26)
                for m in (0, 4)]
        session.add_all(Obligation(kind="reply", department_id=dept, due_at=due, state="open",
                                   created_at=datetime(2026, 10, 1, tzinfo=berlin)) for due in dues)
        await session.commit()
    await refill(db, calendar)
    now = datetime(2026, 11, 2, 0, 30, tzinfo=berlin)
    async with db.session() as session:
        stored = await stored_calendar(session=session, calendar=calendar, tz=berlin, as_of=now.date())
        assert (stored is not None) == (db.engine.dialect.name == "postgresql")
        group, = await overdue_by_department(session=session, now=now, region=None, calendar=calendar, tz=berlin)
    late = [working_days_late(calendar, due, now, berlin) for due in dues]
    assert (group.count, group.working_days, group.max_working_days) == (len(dues), sum(late), max(late))


async def test_the_running_bot_moves_the_table_on_at_new_year(harness):
    """Filled at start; the periodic job refills it once the year has turned, and only then."""

    async def span() -> tuple[date, date]:
        async with harness.session() as session:
            state = await session.scalar(select(CalendarState))
            return state.first_day, state.last_day

    job = harness.app.job_queue.get_jobs_by_name("calendar_table_job")[0]
    assert await span() == table_span(harness.clock.now().date())
    await job.run(harness.app)
    assert await span() == table_span(date(2026, 11, 27))

    harness.clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI))
    await job.run(harness.app)
    assert await span() == (date(2027 - YEARS_BACK, 1, 1), date(2027 + YEARS_AHEAD, 12, 31))
    async with harness.session() as session:
        assert await session.scalar(select(func.max(CalendarDay.day))) == date(2027 + YEARS_AHEAD, 12, 31)
