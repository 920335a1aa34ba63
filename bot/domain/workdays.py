"""Working days on China's official calendar (法定节假日 and 调休 make-up working days).

The official calendar comes from the `holidays` package (`holidays.China`): its holidays
are days off, and its `weekend_workdays` are the Saturdays and Sundays that are working
days because of 调休. A local override file (TOML, see docs/policy.md) corrects or
completes a year the package has wrong or has not published yet; an override always wins.
"""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path

DEFAULT_OVERRIDE_FILE = Path(__file__).resolve().parent.parent / "data" / "calendar_overrides.toml"

_WORK_WORDS = {"work": True, "off": False}


def load_overrides(path: Path) -> dict[date, bool]:
    """Read a calendar override file: `[days]` table of "YYYY-MM-DD" = "work" | "off".

    A missing file is an error (the caller asked for it); bad content raises ValueError
    naming the entry.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"days"})
    if unknown:
        raise ValueError(f"{path.name}: unknown table or key {unknown[0]!r}; only [days] is allowed")
    days = data.get("days", {})
    if not isinstance(days, dict):
        raise ValueError(f"{path.name}: 'days' must be a table: [days]")
    overrides: dict[date, bool] = {}
    for key, value in days.items():
        try:
            day = date.fromisoformat(str(key))
            if len(str(key)) != 10:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{path.name}: [days] {key!r} is not a date; write it as \"YYYY-MM-DD\""
            ) from None
        word = value.strip().lower() if isinstance(value, str) else None
        if word not in _WORK_WORDS:
            raise ValueError(
                f"{path.name}: [days] {key!r} = {value!r}: the value must be \"work\" or \"off\""
            )
        overrides[day] = _WORK_WORDS[word]
    return overrides


class WorkCalendar:
    """Which days are working days, and arithmetic over them.

    `WorkCalendar()` alone is a plain Monday–Friday calendar; `official` (a `holidays`
    calendar object) adds public holidays and make-up working weekends; `overrides`
    (date -> True working / False day off) win over both.
    """

    def __init__(self, *, overrides: dict[date, bool] | None = None, official=None) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._official = official
        self._cache: dict[date, bool] = {}
        self._digests: dict[tuple[date, date], str] = {}
        self.override_file: Path | None = None  # where the overrides came from (china())

    @classmethod
    def china(cls, override_file: Path | None = None) -> "WorkCalendar":
        """China's official calendar plus an override file (default: bot/data/calendar_overrides.toml, if present)."""
        import holidays

        if override_file is None:
            override_file = DEFAULT_OVERRIDE_FILE if DEFAULT_OVERRIDE_FILE.exists() else None
        overrides = load_overrides(override_file) if override_file is not None else {}
        this_year = date.today().year
        official = holidays.China(years=range(this_year - 1, this_year + 4))
        calendar = cls(overrides=overrides, official=official)
        calendar.override_file = Path(override_file) if override_file is not None else None
        return calendar

    # -- coverage ---------------------------------------------------------------------------

    def schedule_source(self, year: int) -> str | None:
        """Where `year`'s official schedule (holidays and 调休 make-up working days) comes from:
        "overrides" (the override file lists days of that year), "holidays" (the package has the
        year's make-up working days), "weekdays" (a plain Monday–Friday calendar, no official one), or
        None: neither has it, so the year's 调休 is missing and deadlines that fall in it can be wrong."""
        if any(day.year == year for day in self._overrides):
            return "overrides"
        if self._official is None:
            return "weekdays"
        date(year, 1, 1) in self._official  # noqa: B015 - populates that year
        if any(day.year == year for day in getattr(self._official, "weekend_workdays", ())):
            return "holidays"
        return None

    def missing_years(self, today: date) -> list[int]:
        """Of the current and the next year, those whose 调休 neither the package nor the override file has."""
        return [year for year in (today.year, today.year + 1) if self.schedule_source(year) is None]

    def coverage_problem(self, today: date) -> str | None:
        """One line for the log, /healthz and `chengxin doctor` when a year's 调休 is missing; None when covered."""
        missing = self.missing_years(today)
        if not missing:
            return None
        years = "、".join(str(y) for y in missing)
        where = self.override_file or DEFAULT_OVERRIDE_FILE
        return (f"working-day calendar: no {years} 调休 (make-up working days) in the holidays package "
                f"(version {_holidays_version()}) or in {where}; add the days to the override file (or set "
                f"CHENGXIN_CALENDAR_FILE) when the State Council publishes them, or upgrade holidays")

    # -- days -------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self._overrides:
            result = self._overrides[day]
        elif self._official is None:
            result = day.weekday() < 5
        else:
            is_holiday = day in self._official  # also populates that year (and its make-up days)
            if day.weekday() >= 5:
                result = day in getattr(self._official, "weekend_workdays", ())
            else:
                result = not is_holiday
        self._cache[day] = result
        return result

    def digest(self, first: date, last: date) -> str:
        """A fingerprint of which days in [first, last] are working days: a stored copy of the calendar
        (bot.domain.calendar_table) is used only while its digest matches. Remembered per span."""
        digest = self._digests.get((first, last))
        if digest is None:
            bits = bytes(self.is_working_day(first + timedelta(days=i)) for i in range((last - first).days + 1))
            digest = self._digests[(first, last)] = hashlib.sha256(bits).hexdigest()
        return digest

    def next_working_day(self, day: date) -> date:
        """First working day strictly after `day`."""
        d = day + timedelta(days=1)
        for _ in range(400):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no working day within 400 days after {day}")

    def previous_working_day(self, day: date) -> date:
        """Last working day strictly before `day`."""
        d = day - timedelta(days=1)
        for _ in range(400):
            if self.is_working_day(d):
                return d
            d -= timedelta(days=1)
        raise ValueError(f"no working day within 400 days before {day}")

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start not counted); n == 0 -> start if working, else the next one."""
        if n < 0:
            raise ValueError("add_working_days needs n >= 0")
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        d = start
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def subtract_working_days(self, start: date, n: int) -> date:
        """The n-th working day before `start` (start not counted); n == 0 -> start if working, else the previous one."""
        if n < 0:
            raise ValueError("subtract_working_days needs n >= 0")
        if n == 0:
            return start if self.is_working_day(start) else self.previous_working_day(start)
        d = start
        for _ in range(n):
            d = self.previous_working_day(d)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; when end < start, minus the working days in (end, start]."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start + timedelta(days=1)
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += timedelta(days=1)
        return count

    # -- moments ----------------------------------------------------------------------

    def next_allowed_moment(self, moment: datetime, *, quiet_start: time, quiet_end: time) -> datetime:
        """Earliest moment >= `moment` on a working day and outside quiet hours [quiet_start, quiet_end).

        Quiet hours may wrap midnight (21:00–08:00). Computed in `moment`'s own timezone;
        quiet_start == quiet_end means no quiet hours.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("next_allowed_moment needs a timezone-aware datetime")
        tz = moment.tzinfo
        qs, qe = _plain(quiet_start), _plain(quiet_end)

        def quiet(t: time) -> bool:
            if qs == qe:
                return False
            if qs < qe:
                return qs <= t < qe
            return t >= qs or t < qe

        day, t = moment.date(), _plain(moment.timetz())
        if self.is_working_day(day):
            if not quiet(t):
                return moment
            # In quiet hours on a working day: its end, if that is still today and later.
            if qe > t and not quiet(qe):
                return datetime.combine(day, qe, tzinfo=tz)
        nxt = self.next_working_day(day)
        start = datetime.combine(nxt, time(0, 0), tzinfo=tz)
        return datetime.combine(nxt, qe, tzinfo=tz) if quiet(time(0, 0)) else start


def _holidays_version() -> str:
    try:
        from importlib.metadata import version

        return version("holidays")
    except Exception:  # noqa: BLE001 - only for the message
        return "unknown"


def _plain(t: time) -> time:
    return t.replace(tzinfo=None)
