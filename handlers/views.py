"""Pieces of messages that several audiences' handlers show the same way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from bot import texts

from bot.domain.details import fields_for
from bot.domain.ladder import working_days_left
from bot.services import Services

MESSAGE_BUDGET = 3800  # Telegram's limit is 4096 characters; leave room for a closing line


def details_block(domain: str | None, details: dict | None, *, mask: Callable[[str], str] | None = None) -> str:
    """The answered follow-up questions, one line each; `mask` for a department or co-complainant (answers
    carry numbers and names too)."""
    if not domain or not details:
        return ""
    clean = mask or (lambda value: value)
    lines = [texts.DETAIL_LINE.format(label=f.label, value=texts.esc(clean(str(details[f.key]))))
             for f in fields_for(domain) if details.get(f.key)]
    return texts.DETAILS_BLOCK.format(lines="\n".join(lines)) if lines else ""


def days_left_text(svc: Services, due_at: datetime, now: datetime) -> str:
    """Working days left or late, in the one wording every audience sees."""
    return texts.days_left(working_days_left(due_at, now, calendar=svc.deadlines.calendar, tz=svc.settings.tz))


def due_text(svc: Services, due_at: datetime) -> str:
    return texts.local_date(due_at, svc.settings.tz)


def region_note(region: str | None) -> str:
    """（区域：…） after a supervision heading when the supervisor is limited to a region."""
    return texts.REGION_NOTE.format(region=texts.esc(region)) if region else ""


def today_of(now: datetime, svc: Services) -> date:
    """The local calendar day, which periods such as 本月 are counted from."""
    return now.astimezone(svc.settings.tz).date()


def fit_lines(lines: list[str], more: str | None = None) -> str:
    """Join lines, cutting before Telegram's message limit; `more` (with {n}) says how many were left out."""
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > MESSAGE_BUDGET:
            if more:
                out.append(more.format(n=len(lines) - index))
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)
