"""Messages the bot owes people, as rows: enqueued in the transaction that decided them, delivered with
retries and backoff by whichever sweep claims them first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db.models import OutboundMessage
from bot.db.prepared import Prepared

# A claimed message not confirmed within the lease is assumed lost with its sender and claimed again.
LEASE = timedelta(minutes=10)
# The states of a message still owed: waiting for its time, or claimed by a sender (until its claim runs out).
OWED = ("pending", "sending")


def enqueue(*, session: AsyncSession, chat_id: int, account_id: int | None, kind: str, text: str, now: datetime,
            markup: dict[str, Any] | None = None, media: str | None = None, file_id: str | None = None,
            attachment: bytes | None = None, filename: str | None = None,
            not_before: datetime | None = None, sender: str | None = None) -> OutboundMessage:
    """A message owed to a chat, as a row of the caller's transaction.

    `media` photo/document sends `file_id` (a Telegram file) or `attachment` (bytes we made, named `filename`),
    with `text` as its caption. `sender`: the row is written claimed by this sender (the update's own, which
    sends it right after the commit), its claim running out at `not_before`: only then may a sweep take it
    (its writer died). Otherwise it is pending from `not_before` (default `now`).
    """
    due = not_before or now
    claimed = {"state": "sending", "claimed_at": now, "claimed_by": sender} if sender else {"state": "pending"}
    message = OutboundMessage(chat_id=chat_id, account_id=account_id, kind=kind, text=text, markup=markup,
                              attempts=0, next_attempt_at=due, created_at=now, media=media, file_id=file_id,
                              attachment=attachment, filename=filename, **claimed)
    session.add(message)
    return message


# Built once, on the table: every update that confirms a change marks its rows sent.
_TABLE = OutboundMessage.__table__
# A job's rows, claimed by the job right after its commit; the rows another sender holds (PostgreSQL: locked by
# its claim) are skipped, not waited for.
_CLAIM_ROWS = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(
        select(_TABLE.c.id)
        .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)), _TABLE.c.state == "pending")
        .with_for_update(skip_locked=True)
        .scalar_subquery()))
    .values(state="sending", claimed_at=bindparam("now"), claimed_by=bindparam("worker"),
            next_attempt_at=bindparam("until"))
    .returning(*_TABLE.c)
)
_MARK_SENT = Prepared(
    update(_TABLE).where(_TABLE.c.id == bindparam("message_id"))
    .values(state="sent", sent_at=bindparam("now"), attempts=_TABLE.c.attempts + 1)
)


async def claim_rows(*, session: AsyncSession | AsyncConnection, ids, now: datetime, worker: str,
                     lease: timedelta = LEASE) -> list[OutboundMessage]:
    """These pending rows, for the job that wrote them (pending, so any sweep may also take them); rows another
    sender already holds are skipped. One UPDATE … RETURNING; the rows come back as detached OutboundMessage
    objects in id order, not loaded into any session."""
    result = await session.execute(_CLAIM_ROWS, {"ids": list(ids), "now": now, "worker": worker,
                                                 "until": now + lease})
    return sorted((OutboundMessage(**row._mapping) for row in result), key=lambda message: message.id)


async def record_sent(*, session: AsyncSession | AsyncConnection, message_id: int, now: datetime) -> None:
    """The message went out: state sent, its send time, one more attempt counted; one UPDATE by id."""
    connection = session if isinstance(session, AsyncConnection) else await session.connection()
    await _MARK_SENT.rowcount(connection, {"message_id": message_id, "now": now})


async def claim_deliverable(*, session: AsyncSession, now: datetime, worker: str, limit: int = 200,
                            lease: timedelta = LEASE) -> list[OutboundMessage]:
    """Owed messages whose time has come, oldest first: pending ones that are due, and claimed ones whose claim
    ran out (their sender vanished mid-send, or the writer of a held row died after its commit). A claim runs
    out at `next_attempt_at`: `lease` from now for this one."""
    rows = list((await session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.state.in_(OWED), OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )).all())
    for message in rows:
        message.state, message.claimed_at, message.claimed_by = "sending", now, worker
        message.next_attempt_at = now + lease
    return rows


def mark_retry(message: OutboundMessage, now: datetime, *, delay: timedelta, error: str, count: bool = True) -> None:
    message.state, message.next_attempt_at, message.last_error = "pending", now + delay, error[:500]
    if count:
        message.attempts += 1


def mark_failed(message: OutboundMessage, *, error: str, state: str = "failed") -> None:
    message.state, message.last_error = state, error[:500]
    message.attempts += 1


async def pending_count(*, session: AsyncSession) -> int:
    from sqlalchemy import func

    return await session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.state == "pending")) or 0


async def release_claims(*, session: AsyncSession, worker: str, now: datetime) -> int:
    """On a clean shutdown: messages this worker claimed and never attempted become pending again at once."""
    result = await session.execute(
        update(OutboundMessage).where(OutboundMessage.state == "sending", OutboundMessage.claimed_by == worker)
        .values(state="pending", claimed_at=None, claimed_by=None, next_attempt_at=now)
    )
    return result.rowcount or 0
