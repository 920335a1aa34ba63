"""The case audit log: append-only events, each hashing its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, CaseEvent, Commitment, CommitmentEvent
from bot.domain.roles import Actor

GENESIS = "0" * 64


def event_digest(event: CaseEvent | CommitmentEvent, case_ref: str) -> str:
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
    first: bool = False,
) -> CaseEvent:
    """Add one event to the case's chain. The caller holds the case row (see cases.lock_case);
    `first` says the case was created in this transaction, so there is no chain to read yet."""
    return await _append(session, CaseEvent, CaseEvent.case_id, case.id, case.ref, action=action, actor=actor,
                         now=now, from_status=from_status, to_status=to_status, note=note, first=first)


async def append_commitment_event(
    *,
    session: AsyncSession,
    commitment: Commitment,
    action: str,
    actor: Actor,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> CommitmentEvent:
    """Add one event to a register commitment's chain."""
    return await _append(session, CommitmentEvent, CommitmentEvent.commitment_id, commitment.id, commitment.ref,
                         action=action, actor=actor, now=now, from_status=from_status, to_status=to_status, note=note)


async def _append(session: AsyncSession, model, subject_column, subject_id: int, subject_ref: str, *, action: str,
                  actor: Actor, now: datetime, from_status: str | None, to_status: str | None, note: str | None,
                  first: bool = False):
    last = None if first else (
        await session.execute(
            select(model.seq, model.hash).where(subject_column == subject_id).order_by(model.seq.desc()).limit(1)
        )
    ).first()
    event = model(
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
    setattr(event, subject_column.key, subject_id)
    event.hash = event_digest(event, subject_ref)
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
    """Check every case's and register commitment's chain; returns chains checked and the first broken
    link of each bad one."""
    broken: list[BrokenLink] = []
    checked = 0
    subjects = [(case_id, ref, CaseEvent, CaseEvent.case_id)
                for case_id, ref in (await session.execute(select(Case.id, Case.ref).order_by(Case.id))).all()]
    subjects += [(commitment_id, ref, CommitmentEvent, CommitmentEvent.commitment_id)
                 for commitment_id, ref in (await session.execute(
                     select(Commitment.id, Commitment.ref).where(Commitment.ref.is_not(None)).order_by(Commitment.id)
                 )).all()]
    for subject_id, ref, model, column in subjects:
        checked += 1
        previous = GENESIS
        expected_seq = 1
        events = (await session.scalars(select(model).where(column == subject_id).order_by(model.seq))).all()
        for event in events:
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


# --- account changes ------------------------------------------------------------------------------

account_log = logging.getLogger("chengxin.audit")
account_log.setLevel(logging.INFO)  # kept whatever CHENGXIN_LOG_LEVEL says: this is the record


def record_account_change(*, session: AsyncSession, action: str, actor: Actor, account, before: dict,
                          now: datetime) -> None:
    """An account's role taken away or changed (/unbind of an official or an invited supervisor).

    Stop-gap: both event tables (case_events, commitment_events) require their subject, so there is no
    table yet for account-level events; until a migration adds one (hash-chained like the others), the
    event is written as one structured line to the `chengxin.audit` log, which production keeps, once
    the transaction that made the change has committed (a rolled-back change writes nothing).
    """
    args = (action, actor.account_id, str(actor.role), account.id, account.telegram_id,
            json.dumps(before, ensure_ascii=False, sort_keys=True),
            now.astimezone(timezone.utc).isoformat(timespec="seconds"))
    audit = {"action": action, "actor_id": actor.account_id, "account_id": account.id, "before": before}

    def committed(_session) -> None:
        account_log.info("audit action=%s actor_id=%s actor_role=%s account_id=%s telegram_id=%s before=%s at=%s",
                         *args, extra={"audit": audit})

    event.listen(session.sync_session, "after_commit", committed, once=True)
