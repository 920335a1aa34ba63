"""Masking personal data in complaint text before officials see it.

Masked: mainland ID-card numbers (18 digits or 17+X with a plausible birth date;
old 15-digit ones), mobile numbers (1[3-9]x, optional +86/86, spaces or dashes
inside), bank-card numbers (16-19 digits, optionally grouped; Luhn-valid, or any
16-19 digit run next to a card/account keyword), landlines (0515-88888888,
(0515)88888888, 0515 8888 8888).

Left alone: money amounts, dates (2026年12月31日, 20261127), case numbers such as
（2023）苏0902执1234号 and complaint references such as YC-20261127-0042.
"""

from __future__ import annotations

import re

__all__ = ["mask_pii"]

_D = r"(?<![0-9A-Za-z])"  # no digit/letter immediately before
_E = r"(?![0-9A-Za-z])"  # ... or after

_ID18 = re.compile(
    _D + r"([1-9]\d{5})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})([0-9Xx])" + _E
)
_ID15 = re.compile(_D + r"([1-9]\d{5})(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})" + _E)
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z-])((?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})" + _E
)
_CARD = re.compile(_D + r"(\d{4}(?:[ -]?\d){12,15})" + _E)
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z-])(?:(0\d{2,3})[\s-]|[(（](0\d{2,3})[)）]\s?|(0\d{2,3}))(\d{3,4})[\s-]?(\d{4})" + _E
)
_CARD_CONTEXT = re.compile(r"(卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|卡)")

# spans never touched: case numbers and complaint references
_PROTECTED = re.compile(
    r"[(（]\d{4}[)）][\u4e00-\u9fff]{1,2}\d{0,6}[\u4e00-\u9fff]{1,4}\d+号"
    r"|(?<![A-Za-z0-9])[A-Za-z]{1,6}-\d{6,8}-\d{1,8}(?![0-9])"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _mask_id18(m: re.Match) -> str:
    # keep region (6) and the last 4; the birth date is starred
    return m.group(1) + "*" * 8 + m.group(3) + m.group(4).upper()


def _mask_id15(m: re.Match) -> str:
    return m.group(1) + "*" * 5 + m.group(0)[-4:]


def _mask_mobile(m: re.Match) -> str:
    return f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}"


def _mask_landline(m: re.Match) -> str:
    prefix = m.string[m.start() : m.start(4)]  # area code as typed, with its separator
    local = m.group(4) + m.group(5)
    return prefix + "*" * (len(local) - 4) + local[-4:]


def _apply(pattern: re.Pattern, text: str, repl, protected: list[tuple[int, int]]) -> str:
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        if any(a < y and b > x for x, y in protected):
            continue
        r = repl(m, text)
        if r is None:
            continue
        out.append(text[last:a])
        out.append(r)
        last = b
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _card_repl(m: re.Match, text: str) -> str | None:
    digits = re.sub(r"[ -]", "", m.group(1))
    if not 16 <= len(digits) <= 19:
        return None
    if not _luhn_ok(digits):
        before = text[max(0, m.start() - 8) : m.start()]
        if not _CARD_CONTEXT.search(before):
            return None
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_pii(text: str) -> str:
    if not text:
        return text
    protected = [m.span() for m in _PROTECTED.finditer(text)]

    def run(pattern, repl):
        nonlocal text, protected
        text = _apply(pattern, text, repl, protected)
        protected = [m.span() for m in _PROTECTED.finditer(text)]

    run(_ID18, lambda m, t: _mask_id18(m))
    run(_ID15, lambda m, t: _mask_id15(m))
    run(_CARD, _card_repl)
    run(_MOBILE, lambda m, t: _mask_mobile(m))
    run(_LANDLINE, lambda m, t: _mask_landline(m))
    return text
