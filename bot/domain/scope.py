"""The one answer to "may this actor see or act on this?": cases, departments, commitments, records, people.

Every read, list, search, export, web page and choice of recipients asks here, so a rule changes in one
place. The rules:
- the system sees everything;
- a city-wide supervisor (configured, or invited without a region) sees everything;
- a regional supervisor sees what belongs to a department of their region; an unassigned case has no
  region yet and stays with the city-wide supervisors, who route it;
- an official sees their department's cases, commitments and records;
- a citizen sees the cases they filed or joined, and the public part of the commitment register.
Only supervisors in scope ever see who filed a case (`sees_identity`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, AccountEvent, Case, CoComplainant, Commitment, Department, DishonestyRecord
from bot.domain.roles import Actor, Role


def supervisor_region(actor: Actor) -> str | None:
    """The region a supervisor is limited to; None for a city-wide supervisor (and everyone else)."""
    if actor.role is Role.SUPERVISOR and actor.account is not None:
        return actor.account.region or None
    return None


def is_city_wide(actor: Actor) -> bool:
    return actor.role is Role.SYSTEM or (actor.role is Role.SUPERVISOR and supervisor_region(actor) is None)


def may_see_department(actor: Actor, department: Department | None) -> bool:
    """Supervisors of the city or the department's region, and the department's own officials."""
    if is_city_wide(actor):
        return True
    if department is None:
        return False
    if actor.role is Role.SUPERVISOR:
        return department.region == supervisor_region(actor)
    if actor.role is Role.OFFICIAL:
        return actor.account.department_id == department.id
    return False


def may_see_case(actor: Actor, case: Case, *, co_complainant: bool = False) -> bool:
    """Whether the actor may open this case at all (what they then see depends on their role)."""
    if actor.role in (Role.SYSTEM, Role.SUPERVISOR, Role.OFFICIAL):
        return may_see_department(actor, case.department)
    return actor.account is not None and (case.complainant_id == actor.account.id or co_complainant)


def sees_identity(actor: Actor, case: Case) -> bool:
    """Who filed a case is shown only to supervisors in whose scope the case is."""
    return actor.role in (Role.SYSTEM, Role.SUPERVISOR) and may_see_case(actor, case)


def sees_full_text(actor: Actor, case: Case) -> bool:
    """The unmasked text: the supervisors in scope and the person who wrote it; everyone else gets it masked."""
    return sees_identity(actor, case) or (actor.account is not None and case.complainant_id == actor.account.id)


async def case_visible(*, session: AsyncSession, actor: Actor, case: Case) -> bool:
    """`may_see_case`, looking up whether a citizen joined the case (联名) when it matters."""
    if may_see_case(actor, case):
        return True
    if actor.role is not Role.CITIZEN or actor.account is None:
        return False
    joined = await session.scalar(select(CoComplainant.id).where(
        CoComplainant.case_id == case.id, CoComplainant.account_id == actor.account_id))
    return joined is not None


def departments_clause(actor: Actor, department_column) -> ColumnElement[bool]:
    """A SQL condition keeping rows whose department the actor may see (lists, searches, statistics)."""
    if is_city_wide(actor):
        return true()
    if actor.role is Role.SUPERVISOR:
        return department_column.in_(select(Department.id).where(Department.region == supervisor_region(actor)))
    if actor.role is Role.OFFICIAL and actor.account.department_id is not None:
        return department_column == actor.account.department_id
    return false()


def cases_clause(actor: Actor) -> ColumnElement[bool]:
    """A SQL condition keeping the cases the actor may see."""
    if actor.role is Role.CITIZEN:
        if actor.account is None:
            return false()
        joined = select(CoComplainant.case_id).where(CoComplainant.account_id == actor.account.id)
        return or_(Case.complainant_id == actor.account.id, Case.id.in_(joined))
    return departments_clause(actor, Case.department_id)


def may_see_commitment(actor: Actor, commitment: Commitment, *, public_states: Collection[str]) -> bool:
    """Supervisors and officials in scope see every commitment of it; anyone sees the public register."""
    if actor.role is not Role.CITIZEN and may_see_department(actor, commitment.department):
        return True
    return bool(commitment.is_public) and commitment.status in public_states


def commitments_clause(actor: Actor, *, public_states: Collection[str]) -> ColumnElement[bool]:
    public = (Commitment.is_public.is_(True)) & Commitment.status.in_(list(public_states))
    if actor.role is Role.CITIZEN:
        return public
    return or_(departments_clause(actor, Commitment.department_id), public)


def may_see_record(actor: Actor, record: DishonestyRecord) -> bool:
    """A dishonesty record inside the system (the public page shows the published ones to anyone)."""
    return actor.role is not Role.CITIZEN and may_see_department(actor, record.department)


def may_invite(actor: Actor, *, role: str, department: Department | None, region: str | None) -> bool:
    """A supervisor invites officials of departments in scope, and supervisors of their own scope or narrower."""
    if actor.role is not Role.SUPERVISOR:
        return False
    if role == Role.SUPERVISOR:
        return is_city_wide(actor) or (region is not None and region == supervisor_region(actor))
    return may_see_department(actor, department)


def may_manage_account(actor: Actor, account: Account) -> bool:
    """Unbinding: an official of a department in scope, or a supervisor of the same scope or narrower."""
    if actor.role is not Role.SUPERVISOR or account.id == actor.account_id:
        return False
    if account.role == Role.OFFICIAL:
        return may_see_department(actor, account.department)
    if account.role == Role.SUPERVISOR:
        return is_city_wide(actor) or (account.region is not None and account.region == supervisor_region(actor))
    return False


def account_events_clause(actor: Actor) -> ColumnElement[bool]:
    """The access changes (/accesslog) the actor may read: a city-wide supervisor all of them; a regional
    supervisor those of an official of a department of their region or of a supervisor of their region,
    as the access was before or after the change (an invitation: the access it offers)."""
    if is_city_wide(actor):
        return true()
    if actor.role is not Role.SUPERVISOR:
        return false()
    region = supervisor_region(actor)
    in_region = select(Department.id).where(Department.region == region)
    sides = (AccountEvent.before, AccountEvent.after)
    return or_(*(side["department_id"].as_integer().in_(in_region) for side in sides),
               *(side["region"].as_string() == region for side in sides))


@dataclass(frozen=True)
class Supervisor:
    """Someone who receives supervisors' messages: a person (with an account once they wrote) or the group chat."""

    chat_id: int
    account_id: int | None
    region: str | None


async def supervisors_for(*, session: AsyncSession, configured: Collection[int], region: str | None | type = ...,
                          include_unreachable: bool = False) -> list[Supervisor]:
    """Supervisors who should hear about something of `region` (a department's region; None: city level).

    City-wide supervisors hear about everything; a regional supervisor only about their region.
    Pass no region to get every supervisor (each then gets only what is theirs, filtered by the caller).
    """
    query = select(Account).where(or_(Account.role == Role.SUPERVISOR, Account.telegram_id.in_(list(configured))))
    accounts = {a.telegram_id: a for a in (await session.scalars(query)).all()}
    people: list[Supervisor] = []
    for telegram_id in sorted(set(configured) | set(accounts)):
        account = accounts.get(telegram_id)
        if account is not None and account.unreachable and not include_unreachable:
            continue
        own_region = None if telegram_id in configured or account is None else (account.region or None)
        if region is not ... and own_region is not None and own_region != region:
            continue
        people.append(Supervisor(telegram_id, account.id if account else None, own_region))
    return people


def region_of_case(case: Case) -> str | None:
    return case.department.region if case.department is not None else None
