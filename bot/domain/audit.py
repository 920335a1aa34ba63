"""The case audit log: append-only events, each hashing its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, CaseEvent
from bot.domain.roles import Actor

GENESIS = "0" * 64


def event_digest(event: CaseEvent, case_ref: str) -> str:
    """SHA-256 over the event's content and the hash it chains to."""
    content = [
        event.prev_hash,
        case_ref,
        event.seq,
        event.action,
        event.actor_id,
        event.actor_role,
        event.from_status,
        event.to_status,
        event.note,
        event.created_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


async def append_event(
    *,
    session: AsyncSession,
    case: Case,
    action: str,
    actor: Actor,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> CaseEvent:
    """Add one event to the case's chain. The caller holds the case row (see cases.lock_case)."""
    last = (
        await session.execute(
            select(CaseEvent.seq, CaseEvent.hash)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.seq.desc())
            .limit(1)
        )
    ).first()
    event = CaseEvent(
        case_id=case.id,
        seq=(last.seq + 1) if last else 1,
        action=action,
        actor_id=actor.account_id,
        actor_role=str(actor.role),
        from_status=from_status,
        to_status=to_status,
        note=note,
        created_at=now,
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event_digest(event, case.ref)
    session.add(event)
    await session.flush()
    return event


async def case_events(*, session: AsyncSession, case_id: int) -> list[CaseEvent]:
    return list(
        (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))).all()
    )


@dataclass(frozen=True)
class BrokenLink:
    case_ref: str
    seq: int
    reason: str


async def verify_chains(*, session: AsyncSession) -> tuple[int, list[BrokenLink]]:
    """Check every case's chain; returns cases checked and the first broken link of each bad one."""
    broken: list[BrokenLink] = []
    checked = 0
    cases = await session.stream(select(Case.id, Case.ref).order_by(Case.id))
    async for case_id, ref in cases:
        checked += 1
        previous = GENESIS
        expected_seq = 1
        for event in await case_events(session=session, case_id=case_id):
            if event.seq != expected_seq:
                broken.append(BrokenLink(ref, event.seq, f"missing event {expected_seq}"))
                break
            if event.prev_hash != previous:
                broken.append(BrokenLink(ref, event.seq, "prev_hash does not match the previous event"))
                break
            if event_digest(event, ref) != event.hash:
                broken.append(BrokenLink(ref, event.seq, "content does not match its hash"))
                break
            previous, expected_seq = event.hash, expected_seq + 1
    return checked, broken
