"""Telegram updates handled once: the update id is claimed in the transaction that holds its effects."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db.models import ProcessedUpdate
from bot.db.prepared import Prepared

# Telegram gives up redelivering an update after 24 hours; a day's margin on top.
KEEP = timedelta(hours=48)

# Built once per dialect, on the table rather than the mapped class: this insert runs on every update,
# and building it per call (values() coercion, an ORM bulk-insert plan) cost more than running it.
# The values come as execution parameters. Prepared: on SQLite it runs on the driver (bot/db/prepared.py).
_CLAIMS = {
    name: Prepared(dialect.insert(ProcessedUpdate.__table__).on_conflict_do_nothing(index_elements=["update_id"]))
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def claim_update(*, session: AsyncSession | AsyncConnection, update_id: int, now: datetime) -> bool:
    """True if this transaction is the first to handle the update.

    An insert that ignores a conflict: on PostgreSQL it waits while another transaction holds the same
    id and then reports the conflict if that one committed, so an update in flight elsewhere is never
    handled alongside it; on SQLite one writer at a time gives the same. `session` may be a Core connection
    (the door's Core mode).
    """
    connection = session if isinstance(session, AsyncConnection) else await session.connection()
    claim = _CLAIMS["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    return await claim.rowcount(connection, {"update_id": update_id, "created_at": now}) == 1


async def prune_processed_updates(*, session: AsyncSession, now: datetime) -> int:
    """Forget update ids past Telegram's redelivery horizon."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < now - KEEP))
    return result.rowcount or 0
