"""Masking personal data: the one function every department-, co-complainant- or public-bound text goes through.

`mask_pii(text, names=...)` matches on a normalised copy of the text (NFKC, so full-width digits and
letters, ＠ and － count; zero-width and bidi control characters removed) and replaces the matches in
the text as written, so everything it does not mask is left exactly as the citizen typed it (only
invisible bidi/zero-width characters are dropped).

Masked:
- mainland ID-card numbers (18 digits or 17+X with a plausible birth date; old 15-digit ones), also
  typed in groups ("3209 0219 9001 0112 34");
- mobile numbers (1[3-9]x, optional +86/0086/86) with any separators between digits: spaces, - － . ·,
  underscores, zero-width characters; not when an amount unit (元/万/亿) follows;
- landlines (0515-88888888, (0515)88888888, 0515 8888 8888) and, after a cue word (电话, 座机…), a
  7-8 digit local number;
- bank-card numbers (16-19 digits, optionally grouped; Luhn-valid, or any such run after a card/account
  keyword);
- e-mail addresses; QQ numbers and WeChat ids after a cue word (QQ, 扣扣, 微信, vx, wx…), wxid_… ids;
- licence plates (苏J12345, 苏J·12345, 粤B·D12345);
- the complainant's own names (`names`): each name, its parts in every order, with or without spaces
  (a Telegram name "三 张" masks 张三 and 三张 in the text, also written "张 三"); usernames with or without @.

Left alone: money amounts, dates (2026年12月31日, 2026-12-31, 20261127), case numbers such as
（2023）苏0902执1234号, document numbers 〔2023〕12号, complaint references such as YC-20261127-0042 and
commitment references CN-2026-0001.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from itertools import permutations

__all__ = ["mask_pii", "neutral_file_name", "NAME_MASK"]

NAME_MASK = "某某"

# Removed before matching. Bidi controls are also dropped from the output (they can make a masked text
# display misleadingly); ZWJ/ZWNJ stay outside masked spans (emoji sequences need them).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
_INVISIBLE = _BIDI | _ZERO_WIDTH
_KEEP_OUTSIDE = frozenset("\u200c\u200d")

# Between the digits of one number: spaces, hyphens/dashes, dots, middle dots, underscores (after NFKC,
# so － ． and the ideographic space are among them).
_SEP_CHARS = " \t\u00a0-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63.\u00b7\u30fb\u2027_"
_SEP = "[" + re.escape(_SEP_CHARS) + "]"
_RUN = re.compile(r"(?<![0-9A-Za-z])(\+\s?)?(\d(?:" + _SEP + r"{0,3}\d)*)(?:([Xx])(?![0-9A-Za-z]))?")
_GROUP_SPLIT = re.compile(_SEP + "+")
_CARD_SEPS = frozenset(" -")  # cards and ID numbers are grouped with spaces or hyphens only

_PAREN_LANDLINE = re.compile(
    r"\(\s?(0\d{2,3})\s?\)\s?(\d{3,4})" + _SEP + r"?(\d{4})(?!\d)"
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
_QQ = re.compile(r"(?i)(qq|扣扣|企鹅号?)(\s{0,2}号码?)?(\s{0,2}[:：是为]?\s{0,2})(\d(?:" + _SEP + r"?\d){4,11})(?!\d)")
_WECHAT = re.compile(
    r"(?i)(微信号?|威信号?|薇信号?|v信号?|wechat|weixin|vx|wx(?!id_))(\s{0,2}号码?)?(\s{0,2}[:：是为]?\s{0,2})"
    r"([A-Za-z][-_A-Za-z0-9]{5,19}|\d{5,11})(?![-_A-Za-z0-9])"
)
_WXID = re.compile(r"(?i)(?<![A-Za-z0-9])wxid_[A-Za-z0-9_-]{4,30}")
_PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])\s?([A-HJ-NP-Za-hj-np-z])"
    r"(\s?[·•・.\-]?\s?)([A-HJ-NP-Za-hj-np-z0-9]{5,6})(?![A-Za-z0-9])"
)
_CARD_CUE = re.compile(r"(卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|卡)")
_PHONE_CUE = re.compile(r"(?i)(电话|座机|固话|手机|联系|致电|拨打|打|tel|phone)")
_AMOUNT_AFTER = re.compile(r"\s?(元|万|亿|块|美元|%)")

# spans never touched: case numbers, document numbers, complaint and commitment references
_PROTECTED = re.compile(
    r"[(\[〔【]\d{4}[)\]〕】][\u4e00-\u9fff]{1,2}\d{0,6}[\u4e00-\u9fff]{1,4}\d+号"
    r"|[\u4e00-\u9fff]{1,8}[(\[〔【]\d{4}[)\]〕】]\d+号"
    r"|(?<![A-Za-z0-9])[A-Za-z]{1,6}-\d{6,8}-\d{1,8}(?![0-9])"
    r"|(?<![A-Za-z0-9])[A-Z]{2}-\d{4}-\d{3,8}(?![0-9])"
)


class _Text:
    """The text as written and its normalised copy, with the written position of every normalised character."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        origin: list[int] = []
        for index, ch in enumerate(text):
            if ch in _INVISIBLE:
                continue
            normal = unicodedata.normalize("NFKC", ch) if ord(ch) > 0x7F else ch
            for c in normal:
                if c in _INVISIBLE:
                    continue
                chars.append(c)
                origin.append(index)
        self.norm = "".join(chars)
        self.origin = origin
        self.spans: list[tuple[int, int, str]] = []  # in normalised positions, sorted, never overlapping
        self._starts: list[int] = []
        self.protected = [m.span() for m in _PROTECTED.finditer(self.norm)]  # sorted, never overlapping
        self._protected_starts = [a for a, _ in self.protected]

    @staticmethod
    def _overlaps(starts: list[int], spans: list, a: int, b: int) -> bool:
        index = bisect_right(starts, a)
        if index and spans[index - 1][1] > a:
            return True
        return index < len(spans) and spans[index][0] < b

    def free(self, a: int, b: int) -> bool:
        return not self._overlaps(self._starts, self.spans, a, b) and \
            not self._overlaps(self._protected_starts, self.protected, a, b)

    def add(self, a: int, b: int, replacement: str) -> bool:
        if a >= b or not self.free(a, b):
            return False
        index = bisect_right(self._starts, a)
        self._starts.insert(index, a)
        self.spans.insert(index, (a, b, replacement))
        return True

    def render(self) -> str:
        if not self.spans and not any(ch in _INVISIBLE and ch not in _KEEP_OUTSIDE for ch in self.text):
            return self.text
        out: list[str] = []
        position = 0
        for a, b, replacement in self.spans:
            start, end = self.origin[a], self.origin[b - 1] + 1
            out.append(_visible(self.text[position:start]))
            out.append(replacement)
            position = end
        out.append(_visible(self.text[position:]))
        return "".join(out)


def _visible(text: str) -> str:
    return "".join(ch for ch in text if ch not in _INVISIBLE or ch in _KEEP_OUTSIDE)


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


_DATE8 = re.compile(r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_DATE6 = re.compile(r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _classify(t: _Text, digits: str, positions: list[int], seps: set[str], x: str | None, start: int,
              end: int, plus: bool) -> str | None:
    """The replacement for one run of digits (normalised positions start..end), or None when it is not PII."""
    before = t.norm[max(0, start - 8):start]
    plain = seps <= _CARD_SEPS
    n = len(digits)
    if x and n == 17 and plain and digits[0] != "0" and _DATE8.fullmatch(digits[6:14]):
        return digits[:6] + "*" * 8 + digits[14:17] + "X"
    if x:
        return None
    if n == 18 and plain and digits[0] != "0" and _DATE8.fullmatch(digits[6:14]):
        return digits[:6] + "*" * 8 + digits[14:]
    if 16 <= n <= 19 and plain and (_luhn_ok(digits) or _CARD_CUE.search(before)):
        return f"{digits[:4]} **** **** {digits[-4:]}"
    if n == 15 and plain and digits[0] != "0" and _DATE6.fullmatch(digits[6:12]):
        return digits[:6] + "*" * 5 + digits[-4:]
    for prefix in ("0086", "86", ""):
        if n == 11 + len(prefix) and digits.startswith(prefix) and re.fullmatch(r"1[3-9]\d{9}", digits[len(prefix):]):
            if _AMOUNT_AFTER.match(t.norm, end):
                return None
            mobile = digits[len(prefix):]
            typed_prefix = t.norm[start:positions[len(prefix)]]
            if plus and prefix:
                typed_prefix = t.norm[t.norm.rindex("+", 0, start):start] + typed_prefix
            return f"{typed_prefix}{mobile[:3]}****{mobile[-4:]}"
    if digits[0] == "0" and 10 <= n <= 12 and digits[1] != "0":
        # area code (3-4 digits, 010-0999) and a 7-8 digit local number
        area_len = 3 if digits[1] in "12" else 4
        local = digits[area_len:]
        if 7 <= len(local) <= 8 and (seps or n >= 11) and not _AMOUNT_AFTER.match(t.norm, end):
            typed_area = t.norm[start:positions[area_len]]
            return typed_area + "*" * (len(local) - 4) + local[-4:]
    if 7 <= n <= 8 and digits[0] in "23456789" and _PHONE_CUE.search(t.norm[max(0, start - 6):start]) \
            and not _AMOUNT_AFTER.match(t.norm, end):
        return "*" * (n - 4) + digits[-4:]
    return None


def _could_be_pii(digits: str) -> bool:
    """A cheap first look before _classify: the leading digit each length needs."""
    n, first = len(digits), digits[0]
    if n <= 8:
        return first != "0" and first != "1"
    if n <= 12:
        return first in "01"
    if n == 13:
        return digits.startswith("86")
    return True


_MAX_GROUPS = 8
# digit counts of what _classify masks: local, landline/mobile with prefixes, ID numbers, cards
_PII_LENGTHS = frozenset({7, 8, 10, 11, 12, 13, 15, 16, 17, 18, 19})


def _mask_numbers(t: _Text) -> None:
    for m in _RUN.finditer(t.norm):
        run_start = m.start(2)
        plus = m.group(1) is not None
        groups: list[tuple[str, int, int]] = []  # digits, start, end (normalised)
        position = run_start
        for part in _GROUP_SPLIT.split(m.group(2)):
            groups.append((part, position, position + len(part)))
            position += len(part)
            sep = _GROUP_SPLIT.match(t.norm, position)
            if sep:
                position = sep.end()
        lengths = [0]
        for group in groups:
            lengths.append(lengths[-1] + len(group[0]))
        i = 0
        while i < len(groups):
            # The longest number masked has 19 digits in at most 8 groups; a longer run is tried in windows.
            for j in range(min(len(groups), i + _MAX_GROUPS), i, -1):
                if (lengths[j] - lengths[i]) not in _PII_LENGTHS:
                    continue
                start, end = groups[i][1], groups[j - 1][2]
                last = j == len(groups)
                x = m.group(3) if last else None
                digits = "".join(g[0] for g in groups[i:j])
                if not _could_be_pii(digits) or (
                        len(digits) <= 8 and not _PHONE_CUE.search(t.norm, max(0, start - 6), start)):
                    continue
                positions = [k for g in groups[i:j] for k in range(g[1], g[2])]
                seps = set(t.norm[start:end]) - set("0123456789")
                replacement = _classify(t, digits, positions, seps, x, start, end, plus and i == 0)
                if replacement is None:
                    continue
                a = start
                if plus and i == 0 and replacement.startswith("+"):
                    a = m.start(1)
                b = end + (1 if x else 0)
                if t.add(a, b, replacement):
                    i = j - 1
                    break
            i += 1


def _mask_paren_landlines(t: _Text) -> None:
    for m in _PAREN_LANDLINE.finditer(t.norm):
        local = m.group(2) + m.group(3)
        if len(local) < 7:
            continue
        prefix = t.norm[m.start():m.start(2)]
        t.add(m.start(), m.end(), prefix + "*" * (len(local) - 4) + local[-4:])


def _mask_cued_ids(t: _Text) -> None:
    for m in _QQ.finditer(t.norm):
        number = re.sub(r"\D", "", m.group(4))
        if 5 <= len(number) <= 11:
            t.add(m.start(4), m.end(4), number[:2] + "*" * (len(number) - 4) + number[-2:])
    for m in _WXID.finditer(t.norm):
        t.add(m.start(), m.end(), "wxid_****")
    for m in _WECHAT.finditer(t.norm):
        ident = m.group(4)
        if ident.isdigit() and len(ident) == 11:
            continue  # a mobile number: the number rule masks it the usual way
        t.add(m.start(4), m.end(4), ident[:2] + "*" * max(3, len(ident) - 4) + ident[-2:])


def _mask_emails(t: _Text) -> None:
    for m in _EMAIL.finditer(t.norm):
        local = m.group(1)
        t.add(m.start(), m.end(), f"{local[0]}***@{m.group(2)}")


def _mask_plates(t: _Text) -> None:
    for m in _PLATE.finditer(t.norm):
        serial = m.group(4)
        if sum(ch.isdigit() for ch in serial) < 3:
            continue
        t.add(m.start(), m.end(), f"{m.group(1)}{m.group(2).upper()}{m.group(3)}" + "*" * len(serial))


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _name_variants(names: Iterable[str]) -> list[str]:
    """Every form of the given names worth masking: whole, parts in every order, parts of two or more characters."""
    variants: set[str] = set()
    for raw in names:
        if not raw:
            continue
        name = _Text(str(raw)).norm.strip().lstrip("@")
        parts = [p for p in re.split(r"[\s·•・]+", name) if p]
        if not parts:
            continue
        if len(parts) <= 4:
            for order in permutations(parts):
                variants.add("".join(order))
                if not _CJK.search("".join(order)):
                    variants.add(" ".join(order))
        variants.add("".join(parts))
        for part in parts:
            if len(part) >= 2 and not part.isdigit() and (_CJK.search(part) or len(part) >= 3):
                variants.add(part)
    return sorted((v for v in variants if len(v) >= 2), key=len, reverse=True)


def _mask_names(t: _Text, names: Iterable[str]) -> None:
    variants = _name_variants(names)
    if not variants:
        return
    alternatives = []
    for variant in variants:
        chars = [re.escape(c) for c in variant if not c.isspace()]
        body = r"\s{0,2}".join(chars)
        if _CJK.search(variant):
            alternatives.append(body)
        else:
            alternatives.append(r"(?<![A-Za-z0-9])@?" + body + r"(?![A-Za-z0-9])")
    pattern = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)
    for m in pattern.finditer(t.norm):
        t.add(m.start(), m.end(), NAME_MASK)


def mask_pii(text: str, *, names: Iterable[str] = ()) -> str:
    """`text` with personal numbers, addresses, ids, plates and the given `names` masked.

    `names`: the complainant's own names (Telegram full name, username, names they marked as theirs).
    Idempotent: masking a masked text changes nothing.
    """
    if not text:
        return text
    t = _Text(text)
    _mask_emails(t)
    _mask_cued_ids(t)
    _mask_plates(t)
    _mask_paren_landlines(t)
    _mask_numbers(t)
    _mask_names(t, names)
    return t.render()


_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")


def neutral_file_name(number: int, original: str | None = None, mime_type: str | None = None) -> str:
    """A file name that says nothing about who sent it: 证据{number} plus the original's extension
    ("张三身份证.PDF" → "证据1.pdf"), or one guessed from the MIME type; none if neither is known."""
    extension = ""
    if original:
        name = unicodedata.normalize("NFKC", original).strip()
        dot = name.rfind(".")
        if dot > 0 and _SAFE_EXTENSION.fullmatch(name[dot:]):
            extension = name[dot:].lower()
    if not extension and mime_type:
        extension = {"image/jpeg": ".jpg"}.get(mime_type) or mimetypes.guess_extension(mime_type) or ""
    return f"证据{number}{extension}"
