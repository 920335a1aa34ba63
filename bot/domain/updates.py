"""Telegram updates handled once: the update id is claimed in the transaction that holds its effects."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProcessedUpdate

# Telegram gives up redelivering an update after 24 hours; a day's margin on top.
KEEP = timedelta(hours=48)


async def claim_update(*, session: AsyncSession, update_id: int, now: datetime) -> bool:
    """True if this transaction is the first to handle the update.

    An insert that ignores a conflict: on PostgreSQL it waits while another transaction holds the same
    id and then reports the conflict if that one committed, so an update in flight elsewhere is never
    handled alongside it; on SQLite one writer at a time gives the same.
    """
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(ProcessedUpdate).values(update_id=update_id, created_at=now)
                 .on_conflict_do_nothing(index_elements=["update_id"]))
    result = await session.execute(statement)
    return result.rowcount == 1


async def prune_processed_updates(*, session: AsyncSession, now: datetime) -> int:
    """Forget update ids past Telegram's redelivery horizon."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < now - KEEP))
    return result.rowcount or 0
