"""Facts a complaint states in passing: amounts of money, dates, court case numbers.

Everything runs on the 1:1-folded text (traditional -> simplified, full-width digits ->
ASCII), so ``start`` offsets and ``raw`` slices refer to the text as the citizen wrote it.

- :func:`extract_amounts` -- 380万元, 38万, 1200000元, 二十多万 (approximate), 1.5亿,
  5千元, ￥3,800, 八百块, 三万五.  A number is an amount only with a money unit
  (元/块/万/亿/...) or a currency sign, so phone numbers, years and case numbers are not.
- :func:`extract_dates` -- 2023年3月15日, 2023-03-15, 2022年底 (approximate 12-31),
  去年8月 (partial: year and month), 昨天, 三个月前 ...; relative forms resolved
  against ``today``.
- :func:`extract_case_number` / :func:`extract_case_numbers` -- （2023）苏0902执1234号,
  (2022)苏09民终567号.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .classifier import normalize_text
from .numbers import CN_NUMERAL_CHARS, DIGITS, MAX_AMOUNT_YUAN, NumberTooLarge, cn_to_int, parse_number

__all__ = [
    "Amount",
    "CaseNumber",
    "Mention",
    "cn_to_int",
    "extract_amounts",
    "extract_case_number",
    "extract_case_numbers",
    "extract_dates",
    "oversized_amounts",
]

# --------------------------------------------------------------------------- numerals
# One reader of numbers for the whole project (nlp.numbers); re-exported here for callers of cn_to_int.
_CN_DIGIT = DIGITS
_CN_CHARS = CN_NUMERAL_CHARS


# --------------------------------------------------------------------------- amounts
@dataclass(frozen=True)
class Amount:
    value_yuan: Decimal
    raw: str  # as written
    start: int  # offset in the original text
    approximate: bool = False  # 二十多万, 100余万, 几万


_MULT = {"": 1, "十": 10, "百": 100, "千": 1000, "k": 1000, "万": 10_000, "w": 10_000,
         "十万": 100_000, "百万": 1_000_000, "千万": 10_000_000, "亿": 100_000_000, "万亿": 10**12}
_AMOUNT_RE = re.compile(
    r"(?P<sign>[￥¥]|rmb|人民币)?\s*"
    r"(?:(?P<arabic>(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\d.,])\d+(?:\.\d+)?)"
    rf"|(?P<cn>[{_CN_CHARS}]+))"
    r"(?P<approx>多|余|来)?"
    r"(?P<mult>万亿|十万|百万|千万|亿|万|千|百|w|k(?![a-z]))?"
    r"(?P<approx2>多)?"
    r"(?P<cur>元|块钱|块|圆|rmb)?"
)
# a counted noun after the number: not money (5千人, 三万平方米, 两千亩)
_NOT_MONEY_AFTER = re.compile(
    r"\s*(?:多|余)?(?:人|个|户|名|家|次|天|日|年|月|周|小时|分钟|平|亩|米|公里|千米|吨|斤|公斤|克|套|间|件|台|辆|份|字|条|张|页|株|头|只|所|栋|层|号|岁|度|倍|%|％|块地|块田|块砖)"
)


def _scan_amounts(text: str):
    """(value in yuan, or None when it is over MAX_AMOUNT_YUAN; raw; start; approximate) for each money mention."""
    folded = normalize_text(text)
    for m in _AMOUNT_RE.finditer(folded):
        arabic, cn = m.group("arabic"), m.group("cn")
        mult = m.group("mult") or ""
        cur, sign = m.group("cur"), m.group("sign")
        approx = bool(m.group("approx") or m.group("approx2"))
        if arabic is not None:
            if not (mult or cur or sign):
                continue  # bare number: phone, year, ID
            if mult in ("十", "百") and not cur:
                continue  # 3百 without 元: too ambiguous
            number = arabic
        else:
            if cn[0] not in _CN_DIGIT and cn[0] not in "十拾廿卅":
                continue  # 万一, 千万别, 百万富翁
            if mult in ("w", "k"):
                continue
            if not (cur or sign or mult or "万" in cn or "亿" in cn):
                continue  # 一千多 (people? yuan?) -- not sure enough
            number = cn
        if not cur and not sign and _NOT_MONEY_AFTER.match(folded, m.end()):
            continue  # 5千人, 三万平方米
        start = m.start("arabic") if arabic is not None else m.start("cn")
        if sign:
            start = m.start("sign")
        end = m.end()
        while end > start and folded[end - 1].isspace():
            end -= 1
        raw = text[start:end]
        try:
            base = parse_number(number)
        except NumberTooLarge:
            yield None, raw, start, approx
            continue
        if base is None:
            continue
        if base > MAX_AMOUNT_YUAN:  # before multiplying: the product of two huge numbers is never made
            yield None, raw, start, approx
            continue
        value = base * _MULT[mult]
        if value <= 0:
            continue
        if value > MAX_AMOUNT_YUAN:
            yield None, raw, start, approx
            continue
        value = Decimal(int(value)) if value == value.to_integral_value() else value.normalize()
        yield value, raw, start, approx


def extract_amounts(text: str) -> list[Amount]:
    """Money amounts in yuan.  Needs a unit (元, 块, 万, 亿, 千/k, w) or a currency sign:
    bare numbers (phone numbers, years, IDs) are never amounts.  An amount over MAX_AMOUNT_YUAN
    (10^13 元) is not one (see :func:`oversized_amounts`)."""
    if not text:
        return []
    return [Amount(value, raw, start, approx) for value, raw, start, approx in _scan_amounts(text)
            if value is not None]


def oversized_amounts(text: str) -> list[str]:
    """Money mentions (as written) larger than MAX_AMOUNT_YUAN: refused where an amount is asked for."""
    if not text:
        return []
    return [raw for value, raw, _start, _approx in _scan_amounts(text) if value is None]


# --------------------------------------------------------------------------- dates
@dataclass(frozen=True)
class Mention:
    """A date mention.  ``value`` is a :class:`datetime.date` when the day is known (or
    implied, e.g. 年底 -> 12-31 with ``approximate``), else a ``(year, month)`` tuple;
    ``month`` is None when only the year is known."""

    value: date | tuple[int, int | None]
    raw: str
    start: int
    approximate: bool = False

    @property
    def is_partial(self) -> bool:
        return not isinstance(self.value, date)


_Y = r"(?P<y>(?:19|20)\d{2}|[一二〇零○][〇零○一二三四五六七八九]{3})"
_M = r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_D = r"(?P<d>3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_REL_YEAR = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "大前年": -3, "明年": 1}
_PART = {"初": "start", "头": "start", "底": "end", "末": "end", "尾": "end", "中": "mid"}

_DATE_RE = re.compile(
    "|".join(
        [
            # 2023-03-15, 2023/3/15, 2023.3.15
            r"(?P<iso>(?<!\d)(?P<iy>(?:19|20)\d{2})(?P<sep>[-/.])(?P<im>1[0-2]|0?[1-9])(?P=sep)(?P<id>3[01]|[12]\d|0?[1-9])(?!\d))",
            # 2023年3月15日 / 2023年3月 / 2022年底 / 2022年
            rf"(?P<abs>(?<!\d){_Y}年(?:{_M}月(?:份)?(?:{_D}[日号])?|(?P<yp>初|底|末|中|头|尾))?)",
            # 去年8月 / 去年底 / 今年3月15号
            r"(?P<rel>(?P<ry>大前年|前年|去年|上年|今年|本年|明年)(?:(?P<rm>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月(?:份)?"
            r"(?:(?P<rd>3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])[日号])?"
            r"|(?P<rp>初|底|末|中|头|尾))?)",
            # 3月15日 / 3月15号 (year from today)
            r"(?P<md>(?<![\d年])(?P<mm>1[0-2]|0?[1-9])月(?P<mdd>3[01]|[12]\d|0?[1-9])[日号])",
            # 上个月 / 这个月 / 本月 / 上月
            r"(?P<relm>上个月|上月|这个月|本月)",
            # 昨天 / 前天 / 今天
            r"(?P<reld>大前天|前天|昨天|今天)",
            # 三个月前 / 3天前 / 两年前 / 半年前
            r"(?P<ago>(?P<an>(?<!\d)\d+|(?<![一二两三四五六七八九十百千廿卅])[一二两三四五六七八九十百千廿卅]+|半)(?:个)?(?P<au>天|日|周|星期|月|年)(?:以前|之前|前))",
        ]
    )
)


# A relative date further back than this is not a date anyone means ("99999999天前").
_MAX_AGO_YEARS = 200


def _small(s: str | None) -> int | None:
    """A small whole number (digits or Chinese numerals); NumberTooLarge (a ValueError) when huge."""
    if s is None:
        return None
    return cn_to_int(s)


def _shift_month(y: int, m: int, delta: int) -> tuple[int, int]:
    k = y * 12 + (m - 1) + delta
    return k // 12, k % 12 + 1


def _year_part(y: int, part: str) -> tuple[date | tuple[int, int | None], bool]:
    kind = _PART[part]
    if kind == "start":
        return date(y, 1, 1), True
    if kind == "end":
        return date(y, 12, 31), True
    return date(y, 6, 30), True


def extract_dates(text: str, today: date) -> list[Mention]:
    """Date mentions, relative ones resolved against ``today``."""
    if not text:
        return []
    folded = normalize_text(text)
    out: list[Mention] = []
    for m in _DATE_RE.finditer(folded):
        raw, start = text[m.start():m.end()], m.start()
        value: date | tuple[int, int | None] | None = None
        approx = False
        try:
            if m.group("iso"):
                value = date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
            elif m.group("abs"):
                y = _small(m.group("y"))
                if y is None or not 1900 <= y <= today.year + 10:
                    continue
                mo, d, part = _small(m.group("m")), _small(m.group("d")), m.group("yp")
                if part:
                    value, approx = _year_part(y, part)
                elif mo and d:
                    value = date(y, mo, d)
                elif mo:
                    value = (y, mo)
                else:
                    value = (y, None)
            elif m.group("rel"):
                y = today.year + _REL_YEAR[m.group("ry")]
                mo, d, part = _small(m.group("rm")), _small(m.group("rd")), m.group("rp")
                if part:
                    value, approx = _year_part(y, part)
                elif mo and d:
                    value = date(y, mo, d)
                elif mo:
                    value = (y, mo)
                else:
                    value = (y, None)
            elif m.group("md"):
                mo, d = int(m.group("mm")), int(m.group("mdd"))
                value = date(today.year, mo, d)
                if value > today:  # complaints look back: 12月5日 said in January
                    value = date(today.year - 1, mo, d)
            elif m.group("relm"):
                delta = -1 if m.group("relm") in ("上个月", "上月") else 0
                value = _shift_month(today.year, today.month, delta)
            elif m.group("reld"):
                value = today - timedelta(days={"今天": 0, "昨天": 1, "前天": 2, "大前天": 3}[m.group("reld")])
            elif m.group("ago"):
                n_raw, unit = m.group("an"), m.group("au")
                if n_raw == "半":
                    if unit != "年":
                        continue
                    value, approx = _shift_month(today.year, today.month, -6), True
                else:
                    n = _small(n_raw)
                    if n is None:
                        continue
                    if n > {"天": 366, "日": 366, "周": 53, "星期": 53, "月": 12, "年": 1}[unit] * _MAX_AGO_YEARS:
                        continue
                    if unit in ("天", "日"):
                        value = today - timedelta(days=n)
                    elif unit in ("周", "星期"):
                        value, approx = today - timedelta(weeks=n), True
                    elif unit == "月":
                        value, approx = _shift_month(today.year, today.month, -n), True
                    else:
                        value, approx = (today.year - n, None), True
        except (ValueError, OverflowError):  # 2月30日, a number too large for a date, and the like
            continue
        if value is None:
            continue
        out.append(Mention(value, raw, start, approx))
    return out


# --------------------------------------------------------------------------- case numbers
@dataclass(frozen=True)
class CaseNumber:
    raw: str  # as written
    start: int
    year: int
    court: str  # 苏0902, 苏09, 最高法
    kind: str  # 执, 民终, 行初, 执恢 ...
    seq: int

    @property
    def normalized(self) -> str:
        """Canonical form with full-width brackets: （2023）苏0902执1234号."""
        return f"（{self.year}）{self.court}{self.kind}{self.seq}号"


_CASE_RE = re.compile(
    r"[(（〔\[]\s*(?P<year>(?:19|20)\d{2})\s*[)）〕\]]\s*"
    r"(?P<court>[\u4e00-\u9fff]{1,3}?\d{1,4}|最高法|[\u4e00-\u9fff]{1,2}(?=[民刑行执赔知破商]))\s*"
    r"(?P<kind>[\u4e00-\u9fff]{1,4}?)\s*(?P<seq>\d{1,6})\s*号"
)


def extract_case_numbers(text: str) -> list[CaseNumber]:
    """Chinese court case numbers (案号): （2023）苏0902执1234号, (2022)苏09民终567号."""
    if not text:
        return []
    folded = normalize_text(text)
    out = []
    for m in _CASE_RE.finditer(folded):
        out.append(
            CaseNumber(
                raw=text[m.start():m.end()],
                start=m.start(),
                year=int(m.group("year")),
                court=m.group("court"),
                kind=m.group("kind"),
                seq=int(m.group("seq")),
            )
        )
    return out


def extract_case_number(text: str) -> CaseNumber | None:
    """The first case number in ``text``, or None."""
    found = extract_case_numbers(text)
    return found[0] if found else None
