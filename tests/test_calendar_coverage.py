"""The working-day calendar must know this year's and next year's 调休; when it does not, the operator hears
it: a WARNING at start and once a day, a line in /healthz, and `chengxin doctor` fails."""

from __future__ import annotations

import logging
from datetime import date

import holidays
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FrozenClock
from bot.domain.workdays import WorkCalendar
from bot.web.server import web_app
from scheduler.calendar_table import COVERAGE_CHECK_SECONDS
from tests.conftest import START, make_settings, start_harness, stop_harness

# START is 2026-11-27. The holidays package (>= 0.85) has China's 2026 调休; whether it has 2027 depends on
# its version, so these tests decide 2027 with a stand-in for the package (a year with no make-up days).


def calendar(overrides: dict[date, bool] | None = None) -> WorkCalendar:
    """China as the package has it, minus 2027's make-up working days (as before they are published)."""
    official = holidays.China(years=range(2025, 2029))
    official.weekend_workdays = {d for d in official.weekend_workdays if d.year != 2027}
    return WorkCalendar(overrides=overrides, official=official)


def use_calendar(harness, work_calendar: WorkCalendar) -> None:
    """The running bot's calendar (Deadlines is frozen: it is shared, read-only, by every handler)."""
    object.__setattr__(harness.services.deadlines, "calendar", work_calendar)


def test_the_years_schedules_come_from_the_package_or_the_override_file():
    missing = calendar()
    assert missing.schedule_source(2026) == "holidays"
    assert missing.schedule_source(2027) is None
    assert missing.missing_years(date(2026, 11, 27)) == [2027]
    problem = missing.coverage_problem(date(2026, 11, 27))
    assert "2027" in problem and "调休" in problem and "override" in problem
    assert missing.coverage_problem(date(2026, 1, 5)) == problem  # next year is checked all year round

    overridden = calendar({date(2027, 2, 20): True})  # the operator added 2027's make-up Saturday
    assert overridden.schedule_source(2027) == "overrides"
    assert overridden.coverage_problem(date(2026, 11, 27)) is None
    assert WorkCalendar().coverage_problem(date(2026, 11, 27)) is None  # a plain Mon-Fri calendar claims nothing


def test_the_shipped_holidays_package_has_this_years_schedule():
    """The floor in pyproject.toml (holidays>=0.85) is the first version with China's 2026 调休."""
    assert WorkCalendar.china().schedule_source(2026) == "holidays"


async def test_a_missing_year_is_a_daily_warning_and_a_healthz_line(tmp_path, classifier, caplog):
    harness = await start_harness(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"), classifier,
                                  FrozenClock(START))
    try:
        use_calendar(harness, calendar())
        job = harness.app.job_queue.get_jobs_by_name("calendar_coverage_job")[0]
        assert job.job.trigger.interval.total_seconds() == COVERAGE_CHECK_SECONDS == 24 * 3600
        caplog.set_level(logging.INFO)
        caplog.clear()   # start-up's own lines (a new audit key is announced as a warning)
        await job.run(harness.app)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "2027" in warnings[0] and "调休" in warnings[0]

        await harness.app.start()
        client = TestClient(TestServer(web_app(harness.app), host="127.0.0.1"))
        await client.start_server()
        try:
            response = await client.get("/healthz")
            body = await response.json()
            assert response.status == 200 and body["status"] == "ok"  # a warning, not an outage
            assert "2027" in body["calendar"] and "调休" in body["calendar"]

            use_calendar(harness, calendar({date(2027, 2, 20): True}))
            caplog.clear()
            await job.run(harness.app)
            assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
            assert (await (await client.get("/healthz")).json())["calendar"] == "ok"
        finally:
            await client.close()
            await harness.app.stop()
    finally:
        await stop_harness(harness)
