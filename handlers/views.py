"""Pieces of messages that several audiences' handlers show the same way."""

from __future__ import annotations

from bot import texts
from bot.domain.details import fields_for


def details_block(domain: str | None, details: dict | None) -> str:
    """The answered follow-up questions, one line each (shown to the citizen, the department, supervisors)."""
    if not domain or not details:
        return ""
    lines = [texts.DETAIL_LINE.format(label=f.label, value=texts.esc(details[f.key]))
             for f in fields_for(domain) if details.get(f.key)]
    return texts.DETAILS_BLOCK.format(lines="\n".join(lines)) if lines else ""
