"""Working days on China's official calendar: holidays, 调休 make-up days, overrides, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.domain.workdays import DEFAULT_OVERRIDE_FILE, WorkCalendar, load_overrides

TZ = ZoneInfo("Asia/Shanghai")
QUIET = {"quiet_start": time(21, 0), "quiet_end": time(8, 0)}


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.china()


def test_holidays_data_has_2026_national_day_and_make_up_days():
    # Checked against the package, not assumed: the tests below rely on these facts.
    cn = holidays.China(years=2026)
    for d in range(1, 8):
        day = date(2026, 10, d)
        assert day in cn or day.weekday() >= 5
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= cn.weekend_workdays
    assert date(2026, 9, 20).weekday() == 6 and date(2026, 10, 10).weekday() == 5


def test_national_day_2026(cal):
    for d in range(1, 8):
        assert not cal.is_working_day(date(2026, 10, d)), f"2026-10-0{d}"
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday, 调休上班
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, 调休上班
    assert not cal.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert not cal.is_working_day(date(2026, 9, 25))  # 中秋节


def test_spring_festival_2026(cal):
    for d in range(15, 24):
        assert not cal.is_working_day(date(2026, 2, d)), f"2026-02-{d}"
    assert cal.is_working_day(date(2026, 2, 13))
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    assert cal.is_working_day(date(2026, 2, 24))
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, 调休上班


def test_ordinary_weekend(cal):
    assert cal.is_working_day(date(2026, 3, 13))  # Friday
    assert not cal.is_working_day(date(2026, 3, 14))
    assert not cal.is_working_day(date(2026, 3, 15))
    assert cal.next_working_day(date(2026, 3, 13)) == date(2026, 3, 16)


def test_plain_calendar_is_monday_to_friday():
    plain = WorkCalendar()
    assert plain.is_working_day(date(2026, 10, 1))  # no holidays without the official calendar
    assert not plain.is_working_day(date(2026, 10, 10))


def test_add_working_days_across_a_weekend(cal):
    assert cal.add_working_days(date(2026, 3, 12), 2) == date(2026, 3, 16)  # Thu + 2 -> Mon
    assert cal.add_working_days(date(2026, 3, 14), 1) == date(2026, 3, 16)  # from a Saturday


def test_add_working_days_zero(cal):
    assert cal.add_working_days(date(2026, 3, 13), 0) == date(2026, 3, 13)
    assert cal.add_working_days(date(2026, 3, 14), 0) == date(2026, 3, 16)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 3, 13), -1)


def test_add_working_days_across_national_day(cal):
    # Tue 29 Sep, Wed 30 Sep, (1–7 Oct off), Thu 8, Fri 9, Sat 10 (调休), Mon 12
    assert cal.add_working_days(date(2026, 9, 28), 1) == date(2026, 9, 29)
    assert cal.add_working_days(date(2026, 9, 28), 3) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 9, 28), 5) == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 9, 28), 6) == date(2026, 10, 12)
    # Through the 调休 Sunday before: Fri 18 -> Sun 20 -> Mon 21
    assert cal.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)


def test_add_working_days_across_spring_festival(cal):
    # Thu 12 Feb, Fri 13, Sat 14 (调休), then 15–23 off, Tue 24
    assert cal.add_working_days(date(2026, 2, 11), 3) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 11), 4) == date(2026, 2, 24)


def test_working_days_between_signs(cal):
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert cal.working_days_between(date(2026, 10, 8), date(2026, 9, 30)) == -1
    assert cal.working_days_between(date(2026, 9, 28), date(2026, 10, 12)) == 6
    assert cal.working_days_between(date(2026, 10, 12), date(2026, 9, 28)) == -6
    assert cal.working_days_between(date(2026, 3, 13), date(2026, 3, 13)) == 0
    assert cal.working_days_between(date(2026, 3, 13), date(2026, 3, 15)) == 0  # only the weekend


def test_add_and_between_agree(cal):
    start = date(2026, 9, 1)
    for n in range(0, 40):
        end = cal.add_working_days(start, n)
        assert cal.working_days_between(start, end) == n


def test_previous_working_day(cal):
    assert cal.previous_working_day(date(2026, 10, 8)) == date(2026, 9, 30)
    assert cal.subtract_working_days(date(2026, 10, 12), 2) == date(2026, 10, 9)


def test_quiet_hours_friday_night_moves_to_monday_morning(cal):
    friday_night = datetime(2026, 3, 13, 22, 30, tzinfo=TZ)
    assert cal.next_allowed_moment(friday_night, **QUIET) == datetime(2026, 3, 16, 8, 0, tzinfo=TZ)


def test_quiet_hours_before_national_day_moves_to_the_next_working_day(cal):
    night = datetime(2026, 9, 30, 22, 30, tzinfo=TZ)
    assert cal.next_allowed_moment(night, **QUIET) == datetime(2026, 10, 8, 8, 0, tzinfo=TZ)
    # Friday 9 Oct night -> the 调休 Saturday morning
    assert cal.next_allowed_moment(datetime(2026, 10, 9, 23, 0, tzinfo=TZ), **QUIET) == \
        datetime(2026, 10, 10, 8, 0, tzinfo=TZ)


def test_quiet_hours_early_morning_same_day(cal):
    early = datetime(2026, 3, 16, 6, 15, tzinfo=TZ)
    assert cal.next_allowed_moment(early, **QUIET) == datetime(2026, 3, 16, 8, 0, tzinfo=TZ)


def test_allowed_moment_is_unchanged(cal):
    moment = datetime(2026, 3, 16, 9, 0, tzinfo=TZ)
    assert cal.next_allowed_moment(moment, **QUIET) is moment
    # the boundaries: quiet_end is allowed, quiet_start is not
    assert cal.next_allowed_moment(datetime(2026, 3, 16, 8, 0, tzinfo=TZ), **QUIET).hour == 8
    assert cal.next_allowed_moment(datetime(2026, 3, 16, 21, 0, tzinfo=TZ), **QUIET) == \
        datetime(2026, 3, 17, 8, 0, tzinfo=TZ)


def test_holiday_daytime_moves_to_next_working_day(cal):
    assert cal.next_allowed_moment(datetime(2026, 10, 3, 10, 0, tzinfo=TZ), **QUIET) == \
        datetime(2026, 10, 8, 8, 0, tzinfo=TZ)


def test_allowed_moment_uses_the_moments_own_timezone(cal):
    # 14:30 UTC Friday is 22:30 in Shanghai, but in UTC it is an ordinary afternoon.
    utc = datetime(2026, 3, 13, 14, 30, tzinfo=timezone.utc)
    assert cal.next_allowed_moment(utc, **QUIET) == utc
    shanghai = utc.astimezone(TZ)
    assert cal.next_allowed_moment(shanghai, **QUIET) == datetime(2026, 3, 16, 8, 0, tzinfo=TZ)


def test_quiet_hours_not_wrapping_midnight(cal):
    lunch = {"quiet_start": time(12, 0), "quiet_end": time(13, 0)}
    assert cal.next_allowed_moment(datetime(2026, 3, 16, 12, 10, tzinfo=TZ), **lunch) == \
        datetime(2026, 3, 16, 13, 0, tzinfo=TZ)


def test_naive_moment_refused(cal):
    with pytest.raises(ValueError):
        cal.next_allowed_moment(datetime(2026, 3, 16, 9), **QUIET)


def test_overrides_flip_days():
    cal = WorkCalendar(overrides={date(2026, 3, 14): True, date(2026, 3, 16): False})
    assert cal.is_working_day(date(2026, 3, 14))
    assert not cal.is_working_day(date(2026, 3, 16))
    assert cal.add_working_days(date(2026, 3, 13), 2) == date(2026, 3, 17)


def test_override_file_flips_an_official_day(tmp_path: Path):
    path = tmp_path / "overrides.toml"
    path.write_text(
        '# corrections\n[days]\n"2026-10-08" = "off"   # say the city closes\n'
        '"2026-10-11" = "work"\n2026-10-12 = "off"\n',
        encoding="utf-8",
    )
    official = WorkCalendar.china()
    fixed = WorkCalendar.china(path)
    assert official.is_working_day(date(2026, 10, 8)) and not fixed.is_working_day(date(2026, 10, 8))
    assert not official.is_working_day(date(2026, 10, 11)) and fixed.is_working_day(date(2026, 10, 11))
    assert not fixed.is_working_day(date(2026, 10, 12))
    assert fixed.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 9)


@pytest.mark.parametrize("body, named", [
    ('[days]\n"2027-02-06" = "holiday"\n', "2027-02-06"),
    ('[days]\n"2027-02-30" = "off"\n', "2027-02-30"),
    ('[days]\n"tomorrow" = "work"\n', "tomorrow"),
    ('[days]\n"20270206" = "work"\n', "20270206"),
    ('[days]\n"2027-02-06" = true\n', "2027-02-06"),
    ('[holidays]\n"2027-02-06" = "off"\n', "holidays"),
    ('[days]\n"2027-02-06" = \n', "TOML"),
])
def test_override_file_bad_content_names_the_entry(tmp_path: Path, body: str, named: str):
    path = tmp_path / "overrides.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=named):
        load_overrides(path)


def test_shipped_override_file_loads_and_changes_nothing():
    assert DEFAULT_OVERRIDE_FILE.exists()
    assert load_overrides(DEFAULT_OVERRIDE_FILE) == {}


def test_long_range_is_consistent(cal):
    # 250 or so working days a year; the make-up days are counted.
    n = cal.working_days_between(date(2025, 12, 31), date(2026, 12, 31))
    weekdays = sum(1 for i in range(1, 366) if (date(2025, 12, 31) + timedelta(days=i)).weekday() < 5)
    assert 240 <= n < weekdays
