"""One period parser for every command that takes a period (/stats, /report, /score, /cases, /commitments rate,
`chengxin report`).

Accepted (texts.PERIOD_FORMS says the same to users):
    本月 这个月 这月 当月 · 上月 上个月 上一个月 · 本季度 这个季度 · 上季度 上个季度 · 今年 本年 · 去年
    2026-11 2026/11 2026年11月 11月 (this year's, or last year's when it has not begun yet) · 2026 2026年
    2026-11..2026-12 (whole months) · 2026-11-01..2026-11-30 (days; `~`, `～`, `至`, `—` also join a range)
A range is at most MAX_RANGE_DAYS days. Anything else raises InvalidInput('bad_period'), or 'bad_month' when
only a month will do (`months_only`, for the monthly workbook).
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import InvalidInput

MAX_RANGE_DAYS = 366
_MONTH = re.compile(r"^(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?(?:份)?$")
_SHORT_MONTH = re.compile(r"^(\d{1,2})\s*月(?:份)?$")
_YEAR = re.compile(r"^(\d{4})\s*年?$")
_DAY = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_JOIN = r"\s*(?:\.\.|~|～|至|—|－|到)+\s*"
_DAY_RANGE = re.compile(rf"^{_DAY}{_JOIN}{_DAY}$")
_MONTH_TEXT = r"\d{4}\s*(?:-|/|年)\s*\d{1,2}\s*月?"
_MONTH_RANGE = re.compile(rf"^({_MONTH_TEXT}){_JOIN}({_MONTH_TEXT})$")

THIS_MONTH = ("本月", "这个月", "这月", "当月", "this")
LAST_MONTH = ("上月", "上个月", "上一个月", "上一月", "last")
THIS_QUARTER = ("本季度", "这个季度", "本季", "这季度")
LAST_QUARTER = ("上季度", "上个季度", "上一季度", "上季")
THIS_YEAR = ("今年", "本年", "本年度")
LAST_YEAR = ("去年", "上一年", "上年")


@dataclass(frozen=True)
class Period:
    """Local calendar days [start, end] (end inclusive); a month or an arbitrary range."""

    start: date
    end: date
    tz: ZoneInfo
    is_month: bool = False

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """Exclusive upper bound: local midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=self.tz)

    @property
    def month_key(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        return self.month_key if self.is_month else f"{self.start.isoformat()}..{self.end.isoformat()}"

    def previous(self) -> Period:
        """The month before (for a month), else the same number of days just before."""
        if self.is_month:
            last = self.start - timedelta(days=1)
            return month_period(last.year, last.month, self.tz)
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1), self.tz)

    def months_back(self, count: int) -> list[Period]:
        """`count` whole months ending with the month this period ends in, oldest first."""
        months = [month_period(self.end.year, self.end.month, self.tz)]
        while len(months) < count:
            months.insert(0, months[0].previous())
        return months


def month_period(year: int, month: int, tz: ZoneInfo) -> Period:
    last = _calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), tz, is_month=True)


def _month_of(text: str, today: date, tz: ZoneInfo) -> Period | None:
    """A single month: 2026-11, 2026/11, 2026年11月, 11月; None when `text` is not one."""
    text = text.strip()
    match = _MONTH.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = _SHORT_MONTH.match(text)
        if not match:
            return None
        month = int(match.group(1))
        year = today.year if month <= today.month else today.year - 1
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return month_period(year, month, tz)


def _quarter(year: int, quarter: int, tz: ZoneInfo) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    last_month = 3 * quarter
    return Period(first, date(year, last_month, _calendar.monthrange(year, last_month)[1]), tz)


def _year(year: int, tz: ZoneInfo) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), tz)


def _span(start: date, end: date, tz: ZoneInfo) -> Period | None:
    if start > end or (end - start).days >= MAX_RANGE_DAYS:
        return None
    return Period(start, end, tz)


def _parse(raw: str, today: date, tz: ZoneInfo) -> Period | None:
    lowered = raw.lower()
    this_month = month_period(today.year, today.month, tz)
    if lowered in THIS_MONTH:
        return this_month
    if lowered in LAST_MONTH:
        return this_month.previous()
    quarter = (today.month - 1) // 3 + 1
    if raw in THIS_QUARTER:
        return _quarter(today.year, quarter, tz)
    if raw in LAST_QUARTER:
        return _quarter(today.year, quarter - 1, tz) if quarter > 1 else _quarter(today.year - 1, 4, tz)
    if raw in THIS_YEAR:
        return _year(today.year, tz)
    if raw in LAST_YEAR:
        return _year(today.year - 1, tz)
    month = _month_of(raw, today, tz)
    if month is not None:
        return month
    match = _YEAR.match(raw)
    if match and 2000 <= int(match.group(1)) <= 2100:
        return _year(int(match.group(1)), tz)
    match = _DAY_RANGE.match(raw)
    if match:
        try:
            start = date(*(int(g) for g in match.groups()[:3]))
            end = date(*(int(g) for g in match.groups()[3:]))
        except ValueError:
            return None
        return _span(start, end, tz)
    match = _MONTH_RANGE.match(raw)
    if match:
        first, last = _month_of(match.group(1), today, tz), _month_of(match.group(2), today, tz)
        if first is None or last is None:
            return None
        if first == last:
            return first
        return _span(first.start, last.end, tz)
    return None


def parse_period(text: str | None, *, today: date, tz: ZoneInfo, default: str = "month",
                 months_only: bool = False) -> Period:
    """The period `text` names (see the module docstring). Empty → this month (`default="year"`: this year).
    With `months_only`, anything but a single month is refused with 'bad_month'."""
    raw = " ".join((text or "").split())
    if not raw:
        return _year(today.year, tz) if default == "year" else month_period(today.year, today.month, tz)
    period = _parse(raw, today, tz)
    if months_only and (period is None or not period.is_month):
        raise InvalidInput("bad_month", value=raw[:40])
    if period is None:
        raise InvalidInput("bad_period", value=raw[:40])
    return period


def parse_month(text: str | None, *, today: date, tz: ZoneInfo) -> Period:
    """One month, for the monthly workbook (/report, `chengxin report`): the month forms of parse_period."""
    return parse_period(text, today=today, tz=tz, months_only=True)


def looks_like_period(text: str) -> bool:
    """True when `text` (one word of a command) names a period, so commands can tell it from other words."""
    if not text or not text.strip():
        return False
    return _parse(" ".join(text.split()), date(2050, 12, 31), ZoneInfo("UTC")) is not None


__all__ = ["MAX_RANGE_DAYS", "Period", "looks_like_period", "month_period", "parse_month", "parse_period"]
