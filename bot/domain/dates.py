"""Due dates as a phone user types them, in Chinese or ISO form.

Understood (full-width digits and spaces tolerated; 前/之前/以前/为止 after a date,
内/以内/之内 after a period):
  2026年12月31日 · 2026年12月31号 · 2026-12-31 · 2026/12/31 · 2026.12.31
  12月31日 · 12-31 · 12/31 · 今年12月31日 · 明年3月1日 · 本月15日 · 下月15号 · 15号
  30个工作日内 · 十个工作日 · 15天内 · 15日内 · 两周内 · 3个月内
  今天 · 明天 · 后天 · 大后天
  周五 · 星期五 · 礼拜五 (next occurrence, today included) · 本周五 · 这周五 · 下周五 · 下下周五
  月底 · 本月底 · 下月底 · 年底 · 今年年底 · 明年年底
Numbers may be written in Chinese numerals (一 … 九十九, 两, 百, 廿); they are read by nlp.numbers,
the project's one number reader. A count whose span is beyond max_days (99999999个工作日内) is
refused as too far before any date arithmetic.
A month-day without a year that has already passed this year is ambiguous: the user is
asked to write the year.
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar
from nlp.numbers import NumberTooLarge, cn_to_int

__all__ = ["DateProblem", "parse_due_date", "split_date_and_text"]


class DateProblem(InvalidInput):
    """A due date we cannot accept. code: date_unreadable | date_past | date_ambiguous | date_too_far.

    params: text (what the user typed), example (a form that would work), and where it
    applies date (ISO, what we understood) or max_days.
    """

    code = "date_unreadable"


# --- numbers ---------------------------------------------------------------------------

_CN = "[零〇一二两三四五六七八九十百千廿卅]+"
_NUM = rf"(?:\d+|{_CN})"


def _num(text: str) -> int:
    """Digits or Chinese numerals (nlp.numbers, the project's one reader); _Unreadable otherwise or when huge."""
    try:
        value = cn_to_int(text, digit_sequence=False)
    except NumberTooLarge:
        raise _Unreadable from None
    if value is None:
        raise _Unreadable
    return value


class _Unreadable(Exception):
    pass


# --- grammar ---------------------------------------------------------------------------
# Each rule is (regex, handler). Regexes run on the NFKC-normalised text, anchored at the
# start; `_` between pieces stands for optional whitespace. A handler gets the match and
# `today` and returns (date, ambiguous_example_or_None) — or a date past this year's
# month-day, flagged as ambiguous by returning the example to show.

_S = r"\s*"
_BEFORE = r"(?:\s*(?:之前|以前|前|为止|止))?"
_WITHIN = r"(?:\s*(?:以内|之内|内))?"
_DAY_NAMES = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
              "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_PREFIX = r"(?:(?:在|于|截至|截止到|截止|最迟|最晚|到|至)\s*)?"


def _p(*pieces: str) -> str:
    return _S.join(pieces)


def _fmt(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _month_end(year: int, month: int) -> date:
    return date(year, month, _calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):  # 2月30日, 13月, a month of 10^20
        raise _Unreadable from None


Result = tuple[date, str | None]  # (date, example when the date is ambiguous)


def _full_date(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    return _make(int(m["y"]), _num(m["m"]), _num(m["d"])), None


def _year_word_date(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    year = today.year + (1 if m["yw"] == "明年" else 0)
    return _make(year, _num(m["m"]), _num(m["d"])), None


def _month_day(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    d = _make(today.year, _num(m["m"]), _num(m["d"]))
    if d < today:
        try:
            return d, _fmt(d.replace(year=today.year + 1))
        except ValueError:  # 2月29日 next year
            return d, _fmt(date(today.year + 1, 12, 31))
    return d, None


def _month_word_day(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    months = 1 if m["mw"].startswith("下") else 0
    first = _add_months(today.replace(day=1), months)
    return _make(first.year, first.month, _num(m["d"])), None


def _day_only(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    d = _make(today.year, today.month, _num(m["d"]))
    if d < today:
        nxt = _add_months(today.replace(day=1), 1)
        try:
            example = _fmt(date(nxt.year, nxt.month, d.day))
        except ValueError:
            example = _fmt(_month_end(nxt.year, nxt.month))
        return d, example
    return d, None


def _working_days(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    n = _num(m["n"])
    if n <= 0:
        raise _Unreadable
    return cal.add_working_days(today, n), None


def _calendar_days(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    n = _num(m["n"])
    if n <= 0:
        raise _Unreadable
    return today + timedelta(days=n), None


def _weeks(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    n = _num(m["n"])
    if n <= 0:
        raise _Unreadable
    return today + timedelta(weeks=n), None


def _months(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    n = _num(m["n"])
    if n <= 0:
        raise _Unreadable
    return _add_months(today, n), None


_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}


def _relative_day(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    return today + timedelta(days=_RELATIVE_DAYS[m["w"]]), None


def _weekday(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    target = _DAY_NAMES[m["d"]]
    which = (m["which"] or "").replace("个", "")
    monday = today - timedelta(days=today.weekday())
    if which == "":
        ahead = (target - today.weekday()) % 7
        return today + timedelta(days=ahead), None
    weeks = {"本": 0, "这": 0, "下": 1, "下下": 2}[which]
    return monday + timedelta(weeks=weeks, days=target), None


def _month_end_word(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    months = 1 if (m["mw"] or "").startswith("下") else 0
    first = _add_months(today.replace(day=1), months)
    return _month_end(first.year, first.month), None


def _year_end(m: re.Match, today: date, cal: WorkCalendar) -> Result:
    year = today.year + (1 if m["yw"] == "明年" else 0)
    return date(year, 12, 31), None


_DAY_SUFFIX = r"(?:日|号)"
_MD_SEP = r"[-/.]"
_RULES: list[tuple[str, Callable[[re.Match, date, WorkCalendar], Result]]] = [
    (_p(r"(?P<y>\d{4})", "年", rf"(?P<m>{_NUM})", "月", rf"(?P<d>{_NUM})", _DAY_SUFFIX) + r"?", _full_date),
    (_p(r"(?P<y>\d{4})", rf"(?P<sep>{_MD_SEP})", r"(?P<m>\d{1,2})", r"(?P=sep)", r"(?P<d>\d{1,2})") + r"(?!\d)"
     + rf"(?:{_S}{_DAY_SUFFIX})?", _full_date),
    (_p(r"(?P<yw>今年|明年)", rf"(?P<m>{_NUM})", "月", rf"(?P<d>{_NUM})", _DAY_SUFFIX) + "?", _year_word_date),
    (_p(r"(?P<yw>今年|明年)", r"(?:年底|年末|底)"), _year_end),
    (_p(r"(?P<n>" + _NUM + ")", r"个?", r"工作日") + _WITHIN, _working_days),
    (_p(r"(?P<n>" + _NUM + ")", r"个?", r"月") + r"(?:以内|之内|内)", _months),
    (_p(r"(?P<n>" + _NUM + ")", r"个?", r"(?:周|星期|礼拜)") + r"(?:以内|之内|内)", _weeks),
    (_p(r"(?P<n>" + _NUM + ")", r"天") + _WITHIN, _calendar_days),
    (_p(r"(?P<n>" + _NUM + ")", r"日") + r"\s*(?:以内|之内|内)", _calendar_days),
    (_p(rf"(?P<m>{_NUM})", "月", rf"(?P<d>{_NUM})", _DAY_SUFFIX) + "?", _month_day),
    (_p(r"(?P<m>\d{1,2})", _MD_SEP, r"(?P<d>\d{1,2})") + r"(?![\d.\-/])" + rf"(?:{_S}{_DAY_SUFFIX})?", _month_day),
    (_p(r"(?P<mw>本月|这个?月|下个?月)", rf"(?P<d>{_NUM})", _DAY_SUFFIX), _month_word_day),
    (_p(r"(?P<mw>本|这个?|下个?)?月", r"(?:底|末)"), _month_end_word),
    (r"(?P<yw>)(?:年底|年末)", _year_end),
    (r"(?P<w>大后天|今天|今日|明天|明日|后天)", _relative_day),
    (_p(r"(?P<which>下下|下个?|本|这个?)?", r"(?:周|星期|礼拜)", r"(?P<d>[一二三四五六日天1-7])")
     + r"(?!\d)", _weekday),
    (_p(rf"(?P<d>{_NUM})", _DAY_SUFFIX), _day_only),
]
_COMPILED = [(re.compile(_PREFIX + rx), fn) for rx, fn in _RULES]
_TAIL_BEFORE = re.compile(_BEFORE)
_PERIOD_HANDLERS = {_working_days, _calendar_days, _weeks, _months}
# The fewest calendar days one unit of each period spans: a count whose span is already beyond
# max_days is refused before any date arithmetic (99999999个工作日内 would otherwise loop for seconds).
_MIN_DAYS_PER_UNIT = {_working_days: 1, _calendar_days: 1, _weeks: 7, _months: 28}


def _normalize(text: str) -> tuple[str, list[int]]:
    """NFKC character by character (full-width digits, spaces, ／－．), with a map back to the original."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch):
            out.append(c)
            index.append(i)
    return "".join(out), index


def _period_days_at_least(count: str, fn: Callable) -> float:
    """The fewest calendar days `count` units of the period span (infinite for a number beyond reading)."""
    try:
        n = cn_to_int(count, digit_sequence=False)
    except NumberTooLarge:
        return float("inf")
    return 0 if n is None else n * _MIN_DAYS_PER_UNIT[fn]


def _match_at_start(norm: str) -> list[tuple[int, re.Match, Callable]]:
    """Every rule that matches at the start, with the end of its match (suffix 前/内 included)."""
    found = []
    for rx, fn in _COMPILED:
        m = rx.match(norm)
        if not m:
            continue
        end = m.end()
        if fn not in _PERIOD_HANDLERS:
            tail = _TAIL_BEFORE.match(norm, end)
            end = tail.end() if tail else end
        found.append((end, m, fn))
    return found


def _shown(text: str, limit: int = 60) -> str:
    """What the user typed, as quoted back in a refusal: a 5,000-character paste is cut, not echoed."""
    return text if len(text) <= limit else text[:limit] + "…"


def _example(today: date) -> str:
    return _fmt(today + timedelta(days=30))


def parse_due_date(text: str, *, today: date, calendar: WorkCalendar, max_days: int = 3 * 365) -> date:
    """The due date the user means; DateProblem when it is unreadable, past, ambiguous or too far."""
    raw = _shown(text or "")
    norm, _ = _normalize(text or "")
    norm = norm.strip()
    problem_example = _example(today)
    if not norm:
        raise DateProblem("date_unreadable", text=raw, example=problem_example)
    for end, m, fn in _match_at_start(norm):
        if norm[end:].strip():
            continue
        try:
            if fn in _PERIOD_HANDLERS and _period_days_at_least(m["n"], fn) > max_days:
                raise DateProblem("date_too_far", text=raw, example=problem_example, max_days=max_days)
            day, ambiguous_example = fn(m, today, calendar)
        except _Unreadable:
            raise DateProblem("date_unreadable", text=raw, example=problem_example) from None
        except OverflowError:  # past the last date Python knows
            raise DateProblem("date_too_far", text=raw, example=problem_example, max_days=max_days) from None
        if ambiguous_example is not None:
            raise DateProblem("date_ambiguous", text=raw, example=ambiguous_example, date=day.isoformat())
        if day < today:
            raise DateProblem("date_past", text=raw, example=problem_example, date=day.isoformat())
        if (day - today).days > max_days:
            raise DateProblem("date_too_far", text=raw, example=problem_example, date=day.isoformat(),
                              max_days=max_days)
        return day
    raise DateProblem("date_unreadable", text=raw, example=problem_example)


def split_date_and_text(args: str) -> tuple[str, str]:
    """("12月31日前", "完成工程款支付") from "12月31日前 完成工程款支付"; ("", args) when no date leads.

    Only the form is checked here (not whether the date is past or valid); pass the date
    part to parse_due_date.
    """
    if not args:
        return "", args
    norm, index = _normalize(args)
    lead = len(norm) - len(norm.lstrip())
    found = _match_at_start(norm[lead:])
    if not found:
        return "", args
    end = lead + max(end for end, _, _ in found)
    cut = index[end - 1] + 1
    date_part = args[:cut].strip()
    rest = args[cut:].strip().lstrip(",，:：;；、").strip()
    return date_part, rest
