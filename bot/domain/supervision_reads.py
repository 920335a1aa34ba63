"""Reads behind the supervisors' views and decisions, each through the one scope function.

A regional supervisor asking for something outside their region gets exactly the answer they would get
for something that does not exist: `StaleAction` for a decision button, `NotFound` for a lookup.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Account, Case, CoComplainant, Commitment, CommitmentVersion, Department, DishonestyRecord, Extension, Obligation,
)
from bot.domain import scope
from bot.domain.commitments import may_view as may_view_commitment
from bot.domain.departments import find_departments
from bot.domain.errors import DomainError, NotFound, StaleAction
from bot.domain.records import record_of_case
from bot.domain.roles import Actor, Role


@dataclass(frozen=True)
class CaseFacts:
    """What the supervisor's /case shows beyond the case row: every clock, commitment, pending extension, record."""

    clocks: list[Obligation]
    commitments: list[Commitment]
    extensions: list[Extension]
    record: DishonestyRecord | None


async def case_facts(*, session: AsyncSession, case_id: int) -> CaseFacts:
    clocks = (await session.scalars(
        select(Obligation).where(Obligation.case_id == case_id).order_by(Obligation.id))).all()
    commitments = (await session.scalars(
        select(Commitment).where(Commitment.case_id == case_id).order_by(Commitment.id))).all()
    extensions = (await session.scalars(
        select(Extension).where(Extension.case_id == case_id, Extension.state == "requested")
        .order_by(Extension.id))).all()
    record = await record_of_case(session=session, case_id=case_id)
    return CaseFacts(list(clocks), list(commitments), list(extensions), record)


async def co_complainant_count(*, session: AsyncSession, case_id: int) -> int:
    return await session.scalar(select(func.count(CoComplainant.id)).where(CoComplainant.case_id == case_id)) or 0


async def managed_supervisors(*, session: AsyncSession, actor: Actor, configured: Collection[int]) -> list[Account]:
    """Invited supervisors the actor may unbind (configured ones are supervisors by configuration)."""
    rows = await session.scalars(select(Account).where(Account.role == Role.SUPERVISOR).order_by(Account.id))
    return [a for a in rows if a.telegram_id not in configured and scope.may_manage_account(actor, a)]


async def departments_in_scope(*, session: AsyncSession, actor: Actor, query: str,
                               refuse_outside: bool = False) -> list[Department]:
    """Departments a code, name or alias names, limited to those the actor may see; with `refuse_outside`,
    naming only departments of another region is refused as such (out_of_region) rather than not found."""
    departments = await find_departments(session=session, query=query)
    mine = [d for d in departments if scope.may_see_department(actor, d)]
    if refuse_outside and departments and not mine:
        raise DomainError("out_of_region", query=query[:64])
    return mine


async def department_in_scope(*, session: AsyncSession, actor: Actor, department_id: int) -> Department | None:
    department = await session.get(Department, department_id)
    return department if department is not None and scope.may_see_department(actor, department) else None


# --- decisions: the pressed button's subject, if it exists and is the actor's to decide -------------------


async def commitment_to_decide(*, session: AsyncSession, actor: Actor, commitment_id: int) -> Commitment:
    commitment = await session.get(Commitment, commitment_id)
    if commitment is None or not scope.may_see_department(actor, commitment.department):
        raise StaleAction("stale")
    return commitment


async def extension_to_decide(*, session: AsyncSession, actor: Actor, extension_id: int) -> Extension:
    extension = await session.get(Extension, extension_id)
    case = await session.get(Case, extension.case_id) if extension is not None else None
    if case is None or not scope.may_see_case(actor, case):
        raise StaleAction("stale")
    return extension


async def record_to_decide(*, session: AsyncSession, actor: Actor,
                           record_id: int) -> tuple[DishonestyRecord, Case | None]:
    """A dishonesty record and the case it came from (None for a register commitment's record)."""
    record = await session.get(DishonestyRecord, record_id)
    if record is None or not scope.may_see_record(actor, record):
        raise StaleAction("stale")
    case = await session.get(Case, record.case_id) if record.case_id else None
    return record, case


async def version_to_decide(*, session: AsyncSession, actor: Actor, version_id: int) -> CommitmentVersion:
    version = await session.get(CommitmentVersion, version_id)
    commitment = await session.get(Commitment, version.commitment_id) if version is not None else None
    if commitment is None or not scope.may_see_department(actor, commitment.department):
        raise StaleAction("stale")
    return version


def require_decidable(actor: Actor, commitment: Commitment) -> None:
    """A register commitment found by reference: public ones are visible to all, decided only in scope."""
    if not scope.may_see_department(actor, commitment.department):
        raise NotFound("commitment_not_found", ref=commitment.ref or "")


async def commitment_by_key(*, session: AsyncSession, actor: Actor, key: str) -> Commitment:
    """A register commitment by id or reference (the web page's deep link), if the actor may see it."""
    from bot.domain.commitments import normalize_commitment_ref

    key = key.strip()
    if key.isascii() and key.isdigit() and len(key) <= 12:
        return await visible_commitment(session=session, actor=actor, commitment_id=int(key))
    ref = normalize_commitment_ref(key)
    commitment = await session.scalar(select(Commitment).where(Commitment.ref == ref)) if ref else None
    if commitment is None or not may_view_commitment(commitment, actor):
        raise NotFound("commitment_not_found", ref=key[:32])
    return commitment


async def visible_commitment(*, session: AsyncSession, actor: Actor, commitment_id: int) -> Commitment:
    """A register commitment by id (举报未兑现 button), if the actor may see it."""
    commitment = await session.get(Commitment, commitment_id)
    if commitment is None or not may_view_commitment(commitment, actor):
        raise NotFound("commitment_not_found", ref="")
    return commitment
