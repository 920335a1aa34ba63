"""The programme's policy: periods (时限), the reminder ladder, quiet hours, escalation.

Read from a TOML file (default bot/data/policy.toml) grouped in tables; each file key maps
onto one flat `Policy` field (see FILE_KEYS and docs/policy.md). Keys left out keep the
dataclass default. Anything wrong raises PolicyError naming the key and its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from typing import Any

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "data" / "policy.toml"


@dataclass(frozen=True)
class Policy:
    # [periods]
    accept_days: int = 2  # working days to accept (受理) an assignment
    reply_days: int = 10  # working days to reply
    rectification_days: int = 30  # working days for rectification when no date is given
    assign_days: int = 2  # working days for a supervisor to assign a new case
    follow_up_days: int = 7  # calendar days after closing before the satisfaction question (回访)
    reopen_window_days: int = 15  # calendar days in which 不满意 reopens
    retention_years: int = 3  # [privacy] closed cases lose their complainant's identity after this
    # [reminders]
    ladder_before: tuple[int, ...] = (3, 1)  # working days before the due day
    remind_on_due_day: bool = True
    overdue_every_working_day: bool = True
    send_time: time = time(9, 0)
    # [quiet_hours]
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    # [escalation]
    escalate_head_after: int = 3  # working days overdue -> department head
    escalate_supervisors_after: int = 5  # working days overdue -> supervisors
    # [digests]
    morning_digest: time = time(9, 0)
    supervisor_digest: time = time(9, 30)
    # [assignment]
    auto_assign: bool = True
    auto_assign_min_confidence: float = 0.95
    # [delivery]
    max_send_attempts: int = 5
    retry_base_seconds: int = 30
    # [disclosure] — the public 政务失信记录公示 page and open-data feed (docs/open-data.md)
    disclose_repaired: str = "mark"  # a repaired (信用修复) record: "mark" 已修复 and keep it public, or "hide" it
    disclose_tolerated: str = "hide"  # a record whose case was later found tolerable (容错纠错): "hide" or "mark"
    disclose_objection_pending: str = "mark"  # under objection (异议处理中): "mark" it, or "hide" until decided
    disclose_years: int = 3  # years a record stays public after it was made (公示期)


# (table, key in the file) -> (Policy field, kind)
FILE_KEYS: dict[tuple[str, str], tuple[str, str]] = {
    ("periods", "accept_days"): ("accept_days", "period"),
    ("periods", "reply_days"): ("reply_days", "period"),
    ("periods", "rectification_days"): ("rectification_days", "period"),
    ("periods", "assign_days"): ("assign_days", "period"),
    ("periods", "follow_up_days"): ("follow_up_days", "period"),
    ("periods", "reopen_window_days"): ("reopen_window_days", "period"),
    ("reminders", "before_due_days"): ("ladder_before", "ladder"),
    ("reminders", "on_due_day"): ("remind_on_due_day", "bool"),
    ("reminders", "overdue_every_working_day"): ("overdue_every_working_day", "bool"),
    ("reminders", "send_time"): ("send_time", "time"),
    ("quiet_hours", "start"): ("quiet_start", "time"),
    ("quiet_hours", "end"): ("quiet_end", "time"),
    ("escalation", "head_after_days"): ("escalate_head_after", "period"),
    ("escalation", "supervisors_after_days"): ("escalate_supervisors_after", "period"),
    ("digests", "morning"): ("morning_digest", "time"),
    ("digests", "supervisor"): ("supervisor_digest", "time"),
    ("assignment", "auto_assign"): ("auto_assign", "bool"),
    ("assignment", "min_confidence"): ("auto_assign_min_confidence", "fraction"),
    ("delivery", "max_send_attempts"): ("max_send_attempts", "period"),
    ("delivery", "retry_base_seconds"): ("retry_base_seconds", "period"),
    ("privacy", "retention_years"): ("retention_years", "period"),
    ("disclosure", "repaired"): ("disclose_repaired", "mark_or_hide"),
    ("disclosure", "tolerated"): ("disclose_tolerated", "mark_or_hide"),
    ("disclosure", "objection_pending"): ("disclose_objection_pending", "mark_or_hide"),
    ("disclosure", "public_years"): ("disclose_years", "period"),
}
_TABLES = {table for table, _ in FILE_KEYS}
_FIELD_TO_KEY = {fieldname: key for key, (fieldname, _) in FILE_KEYS.items()}
assert set(_FIELD_TO_KEY) == {f.name for f in fields(Policy)}


class PolicyError(ValueError):
    """A policy file we refuse; the message names the file, the key and its line."""

    def __init__(self, message: str, *, key: str | None = None, line: int | None = None,
                 path: Path | None = None) -> None:
        self.key, self.line, self.path = key, line, path
        where = f"{path.name}" if path else "policy"
        if line is not None:
            where += f", line {line}"
        if key:
            where += f", {key}"
        super().__init__(f"{where}: {message}")


def load_policy(path: Path | None = None) -> Policy:
    """Read and check a policy file (default: bot/data/policy.toml)."""
    path = Path(path) if path is not None else DEFAULT_POLICY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise PolicyError(f"not valid TOML ({exc})", line=int(m[1]) if m else None, path=path) from None
    lines = _key_lines(text)

    def fail(table: str, key: str | None, message: str) -> PolicyError:
        name = f"[{table}] {key}" if key else f"[{table}]"
        line = lines.get((table, key)) or lines.get((table, None))
        return PolicyError(message, key=name, line=line, path=path)

    values: dict[str, Any] = {}
    for table, content in data.items():
        if table not in _TABLES:
            line = lines.get((table, None)) or lines.get(("", table))
            known = ", ".join(f"[{t}]" for t in sorted(_TABLES))
            raise PolicyError(f"unknown table or key {table!r}; the tables are {known}",
                              key=table, line=line, path=path)
        if not isinstance(content, dict):
            raise fail(table, None, "must be a table")
        for key, value in content.items():
            if (table, key) not in FILE_KEYS:
                known = ", ".join(k for t, k in FILE_KEYS if t == table)
                raise fail(table, key, f"unknown key {key!r}; [{table}] knows {known}")
            fieldname, kind = FILE_KEYS[(table, key)]
            try:
                values[fieldname] = _convert(kind, value)
            except ValueError as exc:
                raise fail(table, key, str(exc)) from None

    policy = Policy(**values)
    if policy.escalate_supervisors_after < policy.escalate_head_after:
        raise fail("escalation", "supervisors_after_days",
                   f"must not be less than head_after_days ({policy.escalate_head_after})")
    return policy


def _convert(kind: str, value: Any) -> Any:
    if kind == "period":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {value!r}")
        if value <= 0:
            raise ValueError(f"must be at least 1, not {value}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {value!r}")
        return value
    if kind == "time":
        return _parse_time(value)
    if kind == "mark_or_hide":
        if value not in ("mark", "hide"):
            raise ValueError(f'must be "mark" or "hide", not {value!r}')
        return value
    if kind == "fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number between 0 and 1, not {value!r}")
        if not 0 <= value <= 1:
            raise ValueError(f"must be between 0 and 1, not {value}")
        return float(value)
    if kind == "ladder":
        if not isinstance(value, list):
            raise ValueError(f"must be a list of working days such as [3, 1], not {value!r}")
        days = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
                raise ValueError(f"must list whole numbers of at least 1, not {item!r}")
            days.append(item)
        if len(set(days)) != len(days):
            raise ValueError(f"lists a day twice: {value!r}")
        return tuple(sorted(days, reverse=True))
    raise AssertionError(kind)


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _parse_time(value: Any) -> time:
    if isinstance(value, time):  # a TOML local time, 09:00:00
        if value.tzinfo is not None:
            raise ValueError("must be a local time without an offset")
        return value
    m = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ValueError(f'must be a time like "09:00", not {value!r}')
    try:
        return time(int(m[1]), int(m[2]), int(m[3] or 0))
    except ValueError:
        raise ValueError(f'{value!r} is not a time of day (00:00 to 23:59)') from None


_HEADER = re.compile(r"\s*\[\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _key_lines(text: str) -> dict[tuple[str, str | None], int]:
    """Line of each table header (table, None) and key (table, key), for error messages.

    A light scan, enough for this file's shape: [table] headers, key = value, and dotted
    keys (periods.reply_days = 10) at the top level.
    """
    lines: dict[tuple[str, str | None], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if (m := _HEADER.match(line)):
            table = m[1].strip('"')
            lines.setdefault((table, None), number)
            continue
        if (m := _KEY.match(line)):
            parts = [p.strip().strip("\"'") for p in m[1].split(".")]
            if table:
                lines.setdefault((table, parts[0]), number)
            else:
                lines.setdefault(("", parts[0]), number)
                lines.setdefault((parts[0], None), number)
                if len(parts) > 1:
                    lines.setdefault((parts[0], parts[1]), number)
    return lines
