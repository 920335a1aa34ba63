"""Government dishonesty records (政务失信记录), objections (异议申诉) and credit repair (信用修复)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, Commitment, DishonestyRecord
from bot.domain.audit import append_event
from bot.domain.errors import Forbidden, InvalidTransition, NotFound
from bot.domain.refs import next_sequence
from bot.domain.roles import Actor

SUMMARY_LIMIT = 300
# Bumped in the transaction of every change to a record's public face (new record, status, 容错纠错): the
# version the web's cached totals are kept by (bot.domain.disclosure.Totals), on every instance.
RECORDS_VERSION = "public_records"


async def records_changed(*, session: AsyncSession) -> None:
    await next_sequence(session=session, name=RECORDS_VERSION)


async def mark_case_tolerated(*, session: AsyncSession, case_id: int, tolerated: bool) -> None:
    """Keep the case's records' `case_tolerated` equal to `case.outcome == "tolerated"` (called where the
    outcome is set or cleared)."""
    changed = await session.execute(
        update(DishonestyRecord).where(DishonestyRecord.case_id == case_id,
                                       DishonestyRecord.case_tolerated != tolerated)
        .values(case_tolerated=tolerated).execution_options(synchronize_session="fetch"))
    if changed.rowcount:
        await records_changed(session=session)


async def create_record(
    *, session: AsyncSession, department_id: int, domain: str, summary: str, now: datetime,
    case: Case | None = None, commitment: Commitment | None = None,
) -> DishonestyRecord:
    """A record against the department; the summary is the masked text, so no complainant appears."""
    record = DishonestyRecord(
        case_id=case.id if case else None, commitment_id=commitment.id if commitment else None,
        department_id=department_id, domain=domain, summary=summary[:SUMMARY_LIMIT], status="active",
        created_at=now,
    )
    session.add(record)
    await session.flush()
    await records_changed(session=session)
    return record


async def record_of_case(*, session: AsyncSession, case_id: int) -> DishonestyRecord | None:
    return await session.scalar(
        select(DishonestyRecord).where(DishonestyRecord.case_id == case_id).order_by(DishonestyRecord.id.desc())
    )


def _require_department_official(record: DishonestyRecord, actor: Actor) -> None:
    if not actor.is_official or actor.account.department_id != record.department_id:
        raise Forbidden("forbidden")


async def _audit(session: AsyncSession, record: DishonestyRecord, action: str, actor: Actor, now: datetime,
                 note: str | None) -> None:
    if record.case_id is not None:
        case = await session.get(Case, record.case_id)
        await append_event(session=session, case=case, action=action, actor=actor, now=now, note=note)


async def _request(session: AsyncSession, record: DishonestyRecord, actor: Actor, now: datetime, *,
                   pending: str, field: str, text: str, action: str) -> None:
    """The department asks for something about an active record; a supervisor decides."""
    _require_department_official(record, actor)
    if record.status != "active":
        raise InvalidTransition("record_state", status=record.status)
    record.status = pending
    setattr(record, field, text)
    await records_changed(session=session)
    await _audit(session, record, action, actor, now, text)


async def _decide(session: AsyncSession, record: DishonestyRecord, actor: Actor, now: datetime, *, pending: str,
                  granted: bool, outcome: str, decision_field: str, words: tuple[str, str], action: str) -> None:
    """A supervisor grants (record becomes `outcome`) or refuses (it stays active) a pending request."""
    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    if record.status != pending:
        raise InvalidTransition("record_state", status=record.status)
    record.status = outcome if granted else "active"
    setattr(record, decision_field, words[0] if granted else words[1])
    record.decided_by_id, record.decided_at = actor.account_id, now
    await records_changed(session=session)
    await _audit(session, record, f"{action}_{words[0] if granted else words[1]}", actor, now, None)


async def file_objection(*, session: AsyncSession, record: DishonestyRecord, actor: Actor, reason: str,
                         now: datetime) -> None:
    """The department disputes the record (异议申诉)."""
    await _request(session, record, actor, now, pending="objection_pending", field="objection_reason", text=reason,
                   action="objection")


async def decide_objection(*, session: AsyncSession, record: DishonestyRecord, actor: Actor, uphold: bool,
                           now: datetime) -> None:
    """Upheld: the record is revoked. Rejected: it stands."""
    await _decide(session, record, actor, now, pending="objection_pending", granted=uphold, outcome="revoked",
                  decision_field="objection_decision", words=("upheld", "rejected"), action="objection")


async def apply_for_repair(*, session: AsyncSession, record: DishonestyRecord, actor: Actor, evidence: str,
                           now: datetime) -> None:
    """After rectification the department applies for credit repair (信用修复)."""
    await _request(session, record, actor, now, pending="repair_pending", field="repair_evidence", text=evidence,
                   action="repair")


async def decide_repair(*, session: AsyncSession, record: DishonestyRecord, actor: Actor, approve: bool,
                        now: datetime) -> None:
    """Approved: the record is marked repaired (weighted down in scores). Rejected: it stands."""
    await _decide(session, record, actor, now, pending="repair_pending", granted=approve, outcome="repaired",
                  decision_field="repair_decision", words=("approved", "rejected"), action="repair")


async def record_by_id(*, session: AsyncSession, record_id: int) -> DishonestyRecord:
    record = await session.get(DishonestyRecord, record_id)
    if record is None:
        raise NotFound("record_not_found")
    return record
