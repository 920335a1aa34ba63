"""Once-per-period jobs (daily digests, the monthly review): the first instance to insert the row runs it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import JobRun


async def claim_period_run(*, session: AsyncSession, name: str, period: str, now: datetime) -> bool:
    """True for exactly one caller per (name, period), across restarts and instances.

    Uses a savepoint so a lost race leaves the caller's transaction usable.
    """
    try:
        async with session.begin_nested():
            session.add(JobRun(name=name, period=period, created_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def period_ran(*, session: AsyncSession, name: str, period: str) -> bool:
    """Whether the job already ran for this period (a cheap check before preparing its work)."""
    return await session.scalar(select(JobRun.id).where(JobRun.name == name, JobRun.period == period)) is not None
