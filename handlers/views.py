"""Pieces of messages that several audiences' handlers show the same way."""

from __future__ import annotations

from bot import texts
from collections.abc import Callable
from datetime import datetime

from bot.domain.details import fields_for
from bot.domain.ladder import working_days_left
from bot.services import Services


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
