"""Case references: YC-20261127-0042 — prefix, local filing date, a sequence that never repeats."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Counter

CASE_SEQUENCE = "case_ref"
REF_PATTERN = re.compile(r"^([A-Z]{1,8})-(\d{8})-(\d{4,9})$")
# Phones happily type full-width or dash look-alikes.
_DASHES = str.maketrans({"－": "-", "—": "-", "–": "-", "_": "-", "　": ""})


def normalize_ref(raw: str) -> str | None:
    """The canonical form of a typed reference, or None when it cannot be one."""
    candidate = raw.strip().translate(_DASHES).upper().replace(" ", "")
    return candidate if REF_PATTERN.match(candidate) else None


# Built once, on the table (no ORM objects to synchronise): every submit bumps it.
_COUNTERS = Counter.__table__
_BUMP = (update(_COUNTERS).where(_COUNTERS.c.name == bindparam("counter_name"))
         .values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value))


async def next_sequence(*, session: AsyncSession, name: str = CASE_SEQUENCE) -> int:
    """Atomically bump a named counter; the row lock serialises concurrent filers."""
    value = await session.scalar(_BUMP, {"counter_name": name})
    if value is None:
        raise LookupError(f"counter {name!r} is missing: the migrations create it")
    return value


def bump_returning(*also) -> Update:
    """The counter bump (parameter `counter_name`) returning the new value and `also` (scalar subqueries)
    in the same statement, for a caller that needs both."""
    return (update(_COUNTERS).where(_COUNTERS.c.name == bindparam("counter_name"))
            .values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value, *also))


def case_ref(*, prefix: str, now: datetime, tz: ZoneInfo, sequence: int) -> str:
    return f"{prefix}-{now.astimezone(tz):%Y%m%d}-{sequence:04d}"


async def current_sequence(*, session: AsyncSession, name: str = CASE_SEQUENCE) -> int:
    return await session.scalar(select(Counter.value).where(Counter.name == name)) or 0
