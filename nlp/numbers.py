"""The one reader of numbers as Chinese users write them: used by extraction (nlp.extract), due dates
(bot.domain.dates) and amounts (bot.domain.commitments, bot.domain.details).

Understood: Chinese numerals (一千二百万, 两百, 十五, 一万二 = 12000, 两千五 = 2500, 一千零五, 壹佰贰拾,
廿 = 20, 卅 = 30, 卌 = 40, 二〇二三 digit by digit where allowed, 一点五), Arabic digits (full-width
too: １２０), thousands separators (1,200,000), decimals (1.2), Arabic digits with Chinese units
(3千, 1.2亿, 120万, 3.5万亿), percentages (百分之五, 5%).

Bounded: every input is refused above :data:`LIMIT` (10^24) before any big arithmetic happens,
with :class:`NumberTooLarge`; a 4,096-character run of 亿 costs one pass over the text. Callers that
accept money cap it lower (:data:`MAX_AMOUNT_YUAN`).
"""

from __future__ import annotations

import decimal
import re
import unicodedata
from decimal import Decimal

__all__ = [
    "CN_NUMERAL_CHARS",
    "LIMIT",
    "MAX_AMOUNT_YUAN",
    "NumberTooLarge",
    "cn_to_int",
    "parse_number",
]

# No amount of money the programme deals with is larger: 10^13 元 (ten trillion yuan) is beyond any
# city's debt. Amounts above it are refused, never stored, so sums stay exact decimals.
MAX_AMOUNT_YUAN = Decimal(10) ** 13
# Nothing anyone means is larger; it is also well inside the exact range of the arithmetic below.
LIMIT = Decimal(10) ** 24
_MAX_DIGITS = 25  # an Arabic run longer than this is over LIMIT whatever it says

_CONTEXT = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.Overflow])


class NumberTooLarge(ValueError):
    """The text is a number, but larger than the caller's limit."""


DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "貳": 2, "两": 2, "兩": 2,
    "俩": 2, "倆": 2, "三": 3, "叁": 3, "參": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "陸": 6,
    "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
TENS = {"廿": 2, "卄": 2, "卅": 3, "卌": 4}  # 廿 = 二十, 卅 = 三十, 卌 = 四十
CN_NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "".join(TENS)
_ZEROS = "零〇○"

_ARABIC = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")
_TOKEN = re.compile(rf"[0-9]+(?:,[0-9]{{3}})*(?:\.[0-9]+)?|[{CN_NUMERAL_CHARS}]|点[{''.join(DIGITS)}0-9]+")


def _fold(text: str) -> str:
    """NFKC (full-width digits, ideographic spaces), no spaces, thousands separators as commas."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).replace("，", ",")


def cn_to_int(text: str, *, digit_sequence: bool = True, limit: Decimal = LIMIT) -> int | None:
    """A whole number in Chinese numerals (and digits): 一百二十万 -> 1200000, 三万五 -> 35000, 廿五 -> 25,
    二〇二三 -> 2023 (digit by digit; refused when ``digit_sequence`` is False). None when it is not one
    (or not whole); NumberTooLarge above ``limit``."""
    value = _parse_plain(_fold(text), digit_sequence=digit_sequence, limit=limit) if text else None
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def parse_number(text: str, *, limit: Decimal = LIMIT, digit_sequence: bool = True) -> Decimal | None:
    """Any number form above as an exact Decimal (百分之五 -> 0.05, 1.2亿 -> 120000000, 一万二 -> 12000);
    None when ``text`` is not a number; NumberTooLarge above ``limit``."""
    if not text:
        return None
    folded = _fold(text)
    if not folded:
        return None
    percent = False
    if folded.startswith("百分之"):
        folded, percent = folded[3:], True
    elif folded.endswith("%"):
        folded, percent = folded[:-1], True
    value = _parse_plain(folded, digit_sequence=digit_sequence, limit=limit)
    if value is None:
        return None
    return _CONTEXT.divide(value, 100) if percent else value


def _arabic(run: str) -> Decimal:
    digits = run.replace(",", "")
    whole = digits.split(".")[0].lstrip("0")
    if len(whole) > _MAX_DIGITS:
        raise NumberTooLarge(run[:40])
    return Decimal(digits[: _MAX_DIGITS + 40])  # a 4,000-digit fraction is cut, not computed


def _check(value: Decimal, limit: Decimal) -> Decimal:
    if value > limit:
        raise NumberTooLarge(str(limit))
    return value


def _parse_plain(s: str, *, digit_sequence: bool, limit: Decimal) -> Decimal | None:
    if not s:
        return None
    if _ARABIC.fullmatch(s):
        return _check(_arabic(s), limit)
    if digit_sequence and all(ch in DIGITS for ch in s):  # 二〇二三, read digit by digit
        if len(s) > _MAX_DIGITS:
            raise NumberTooLarge(s[:40])
        return _check(Decimal("".join(str(DIGITS[ch]) for ch in s)), limit)
    tokens = []
    pos = 0
    for m in _TOKEN.finditer(s):
        if m.start() != pos:
            return None
        tokens.append(m.group())
        pos = m.end()
    if pos != len(s) or not tokens:
        return None
    total = Decimal(0)  # finished 亿/万 sections
    section = Decimal(0)  # inside the current section
    digit: Decimal | None = None  # pending digit
    last_unit = 1  # last unit seen, for the 三万五 / 两千五 shorthand
    previous = ""
    ctx = _CONTEXT
    for token in tokens:
        if token[0].isdigit():
            if digit is not None:
                return None  # 3 4万: two numbers
            digit = _arabic(token)
        elif token.startswith("点"):  # 一点五 -> 1.5: the digits after 点 are read one by one
            fraction = "".join(str(DIGITS[c]) if c in DIGITS else c for c in token[1:])
            if len(fraction) > 40:
                fraction = fraction[:40]
            digit = ctx.add(digit or Decimal(0), Decimal("0." + fraction))
        elif token in DIGITS:
            if digit is not None and previous not in _ZEROS:
                return None  # 一二 inside a numeral: two digits in a row
            digit = Decimal(DIGITS[token])
        elif token in TENS:
            if digit is not None:
                return None
            section = ctx.add(section, Decimal(TENS[token] * 10))
            digit, last_unit = None, 10
        elif token in SMALL_UNITS:
            unit = SMALL_UNITS[token]
            section = ctx.add(section, ctx.multiply(Decimal(1) if digit is None else digit, unit))
            digit, last_unit = None, unit
        else:  # 万 / 亿
            unit = BIG_UNITS[token]
            section = ctx.add(section, digit or 0)
            if section == 0 and total == 0:
                section = Decimal(1)  # 万 alone, 亿元
            if unit == 10**8:
                total = ctx.multiply(ctx.add(total, section), unit)
            else:
                total = ctx.add(total, ctx.multiply(section, unit))
            _check(total, limit)
            section, digit, last_unit = Decimal(0), None, unit
        previous = token
    if digit is not None:
        # a digit after a unit means the next unit down: 三万五 = 35000, 两千五 = 2500 (not after 零: 一千零五)
        if last_unit >= 10 and len(tokens) >= 2 and tokens[-2] not in _ZEROS and not tokens[-2][0].isdigit() \
                and digit == digit.to_integral_value() and digit < 10:
            section = ctx.add(section, ctx.multiply(digit, last_unit // 10))
        else:
            section = ctx.add(section, digit)
    return _check(ctx.add(total, section), limit)
