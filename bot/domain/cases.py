"""Cases: opening, reading, and the one function that changes a case's status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, event, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.db.models import Account, Case, CaseEvent, Department, Evidence, Supplement
from bot.db.prepared import Prepared, new_row_values
from bot.domain.audit import append_event, first_case_event, row_seal, session_key
from bot.domain.errors import Forbidden, InvalidInput, InvalidTransition, NotFound, RateLimited
from bot.domain.lifecycle import OPEN_STATUSES, TRANSITIONS, Status
from bot.domain.obligations import Deadlines, apply_clock_effect, start_clock
from bot.domain.refs import CASE_SEQUENCE, bump_returning, case_ref, normalize_ref
from bot.domain import scope
from bot.domain.roles import Actor, Role
from nlp import mask_pii
from nlp.classifier import normalize_text


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _fold_for_search(_mapper, _connection, case: Case) -> None:
    """Keep Case.text_search (what /find matches) the folded `text`: traditional and simplified, full- and
    half-width, upper and lower case all meet there."""
    folded = normalize_text(case.text or "")
    if case.text_search != folded:
        case.text_search = folded


@dataclass(frozen=True)
class NewCase:
    """What a finished complaint conversation hands over to open a case."""

    text: str
    domain: str
    suggested_domain: str
    confidence: float
    terms: list[str]
    department_code: str | None
    contact_allowed: bool
    evidence: list[dict]
    commitment_id: int | None = None
    details: dict | None = None
    fingerprint: bytes | None = None


def masked_for_officials(text: str, complainant: Account, extra_names: Iterable[str] = ()) -> str:
    """The one masking function (nlp.pii.mask_pii) with the complainant's own names: their Telegram name in
    every order, their username, and `extra_names` they marked as theirs."""
    return mask_pii(text, names=[complainant.full_name or "", complainant.username or "", *extra_names])


def should_auto_assign(new: NewCase, recognised: list[str], *, enabled: bool, min_confidence: float) -> bool:
    """Route without a supervisor only when the classifier and the directory agree and the citizen confirmed both."""
    return (
        enabled
        and new.department_code is not None
        and new.department_code in recognised
        and new.domain == new.suggested_domain != "other"
        and new.confidence >= min_confidence
    )


def may_view(case: Case, actor: Actor) -> bool:
    """Whether the actor may open this case (the one scope function decides)."""
    return scope.may_see_case(actor, case)


async def is_co_complainant(*, session: AsyncSession, case: Case, actor: Actor) -> bool:
    from bot.db.models import CoComplainant

    return actor.account is not None and bool(await session.scalar(
        select(CoComplainant.id).where(CoComplainant.case_id == case.id, CoComplainant.account_id == actor.account_id)
    ))


async def lock_case(*, session: AsyncSession, ref: str) -> Case:
    """Load a case for change, holding its row so two writers cannot interleave (no-op on SQLite)."""
    case = await session.scalar(select(Case).where(Case.ref == ref).with_for_update(of=Case))
    if case is None:
        raise NotFound("case_not_found", ref=ref)
    return case


async def case_for(*, session: AsyncSession, raw_ref: str, actor: Actor, for_update: bool = False) -> Case:
    """The case a typed reference names, if this actor may see it; same refusal whether missing or not theirs."""
    ref = normalize_ref(raw_ref)
    if ref is None:
        raise NotFound("bad_ref", ref=raw_ref)
    if for_update:
        try:
            case = await lock_case(session=session, ref=ref)
        except NotFound:
            case = None
    else:
        case = await session.scalar(select(Case).where(Case.ref == ref))
    if case is None or not await scope.case_visible(session=session, actor=actor, case=case):
        # Never tell a stranger whether someone else's case exists.
        raise NotFound("case_not_found", ref=ref)
    return case


async def change_status(
    *,
    session: AsyncSession,
    case: Case,
    action: str,
    actor: Actor,
    now: datetime,
    deadlines: Deadlines,
    note: str | None = None,
) -> Status:
    """The only way a case's status changes: check role and source state, write it, move its clocks, audit it."""
    transition = TRANSITIONS[action]
    if actor.role not in transition.roles:
        raise Forbidden("forbidden", action=action)
    if actor.role is Role.CITIZEN and case.complainant_id != actor.account_id:
        raise Forbidden("forbidden", action=action)
    if actor.role in (Role.OFFICIAL, Role.SUPERVISOR) and not scope.may_see_case(actor, case):
        raise Forbidden("forbidden", action=action)
    current = Status(case.status)
    if current not in transition.sources:
        raise InvalidTransition("bad_transition", ref=case.ref, action=action, status=current)
    case.status = transition.target
    case.updated_at = now
    if transition.target in (Status.CLOSED, Status.REJECTED, Status.WITHDRAWN):
        case.closed_at = now
    elif case.closed_at is not None:
        case.closed_at = None
    await apply_clock_effect(session=session, case=case, effect=transition.clocks, now=now, deadlines=deadlines)
    await append_event(
        session=session, case=case, action=action, actor=actor, now=now,
        from_status=current, to_status=transition.target, note=note,
    )
    return transition.target


# Built once: every submit runs them (a statement built per call pays construction and cache-key
# generation each time).
_FILED_SINCE = select(func.count(Case.id)).where(Case.complainant_id == bindparam("account_id"),
                                                 Case.created_at >= bindparam("since"))
_DEPARTMENT_ID = select(Department.id).where(Department.code == bindparam("code"))
_INSERT_EVENT = Prepared(insert(CaseEvent.__table__))
_INSERT_CASE = Prepared(insert(Case.__table__).returning(*Case.__table__.c))
_CASE_KEYS = tuple(Case.__mapper__.get_property_by_column(column).key for column in Case.__table__.c)
_INSERT_EVIDENCE = Prepared(insert(Evidence.__table__))


# Every submit needs both the next case number and the complainant's count for the day: one statement. A
# refusal over the daily limit rolls the bump back with the transaction, so no number is used up.
_NEXT_SEQUENCE_AND_FILED_SINCE = Prepared(bump_returning(_FILED_SINCE.scalar_subquery()))


async def _next_sequence_and_filed_today(session: AsyncSession, *, account_id: int, now: datetime,
                                         tz: ZoneInfo) -> tuple[int, int]:
    local_midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    row = await _NEXT_SEQUENCE_AND_FILED_SINCE.first(await session.connection(), {
        "counter_name": CASE_SEQUENCE, "account_id": account_id, "since": local_midnight})
    if row is None:
        raise LookupError(f"counter {CASE_SEQUENCE!r} is missing: the migrations create it")
    return row[0], row[1] or 0


async def open_case(
    *,
    session: AsyncSession,
    new: NewCase,
    actor: Actor,
    now: datetime,
    prefix: str,
    tz: ZoneInfo,
    daily_limit: int,
    deadlines: Deadlines,
) -> Case:
    """File a complaint as a case in state `submitted`, with its evidence and first audit event."""
    sequence, filed_today = await _next_sequence_and_filed_today(session, account_id=actor.account_id, now=now, tz=tz)
    if filed_today >= daily_limit:
        raise RateLimited("rate_limited", limit=daily_limit)
    department_id = None
    if new.department_code:
        department_id = await session.scalar(_DEPARTMENT_ID, {"code": new.department_code})
    case = Case(
        ref=case_ref(prefix=prefix, now=now, tz=tz, sequence=sequence),
        status=Status.SUBMITTED,
        domain=new.domain,
        suggested_domain=new.suggested_domain,
        domain_confidence=new.confidence,
        domain_terms=list(new.terms),
        department_id=department_id,
        complainant_id=actor.account_id,
        text=new.text,
        text_masked=masked_for_officials(new.text, actor.account),
        contact_allowed=new.contact_allowed,
        commitment_id=new.commitment_id,
        details=new.details or None,
        fingerprint=new.fingerprint,
        created_at=now,
        updated_at=now,
    )
    # The creation event is hashed before the INSERT, so the case row carries its chain head and seal at once.
    event = first_case_event(session=session, case=case, action="create", actor=actor, now=now,
                             to_status=Status.SUBMITTED, note=f"evidence={len(new.evidence)}")
    connection = await session.connection()
    await _insert_case(session, connection, case)
    # Its event and evidence are plain INSERTs too: nothing reads them back as objects in this transaction.
    event.case_id = case.id
    await _INSERT_EVENT.rowcount(connection, new_row_values(event))
    for item in new.evidence:
        await _INSERT_EVIDENCE.rowcount(connection, new_row_values(_evidence_row(case, item, actor, now)))
    await start_clock(session=session, case=case, kind="assign", now=now, due_at=deadlines.default_due("assign", now),
                      deadlines=deadlines, flush=False)
    return case


async def _insert_case(session: AsyncSession, connection, case: Case) -> None:
    """INSERT a new case with one prepared statement instead of a flush of the unit of work, doing what the
    flush would do around it — `_fold_for_search` (its before_insert hook) and the row's seal
    (`audit._seal_rows`, its before_flush hook); tests/test_db_prepared.py checks those are all the hooks
    there are — and leave it in the session as if loaded: every column as written, nothing to write."""
    _fold_for_search(None, connection, case)
    case.audit_seal = row_seal(session_key(session), case)
    written = await _INSERT_CASE.first(connection, new_row_values(case))
    for key, value in zip(_CASE_KEYS, written):
        setattr(case, key, value)
    make_transient_to_detached(case)
    session.add(case)


def _evidence_row(case: Case, item: dict, actor: Actor, now: datetime) -> Evidence:
    caption = item.get("caption")
    return Evidence(
        case_id=case.id,
        kind=item["kind"],
        file_id=item["file_id"],
        file_unique_id=item["file_unique_id"],
        file_name=item.get("file_name"),
        mime_type=item.get("mime_type"),
        caption=caption,
        caption_masked=masked_for_officials(caption, actor.account) if caption else None,
        added_by_id=actor.account_id,
        created_at=now,
    )


def require_own_open_case(case: Case, actor: Actor) -> None:
    """Only the complainant changes the content of their case, and only while it is open."""
    if actor.account_id != case.complainant_id:
        raise Forbidden("forbidden")
    if case.status not in OPEN_STATUSES:
        raise InvalidTransition("case_closed", ref=case.ref, status=case.status)


async def add_supplement(*, session: AsyncSession, case: Case, text: str, actor: Actor, now: datetime) -> Supplement:
    """A complainant adds text to their open case."""
    require_own_open_case(case, actor)
    supplement = Supplement(
        case_id=case.id, text=text, text_masked=masked_for_officials(text, actor.account), added_by_id=actor.account_id,
        created_at=now,
    )
    session.add(supplement)
    case.updated_at = now
    await append_event(session=session, case=case, action="supplement", actor=actor, now=now)
    return supplement


async def add_evidence(*, session: AsyncSession, case: Case, item: dict, actor: Actor, now: datetime) -> Evidence:
    """The complainant (open case) or the case's department (rectification evidence) adds a file."""
    if actor.is_official:
        if case.department_id is None or actor.account.department_id != case.department_id:
            raise Forbidden("forbidden")
    else:
        require_own_open_case(case, actor)
    evidence = _evidence_row(case, item, actor, now)
    session.add(evidence)
    case.updated_at = now
    # Whose file it is shows in every timeline: the department's rectification proof is not the complainant's.
    action = "rectification_evidence" if actor.is_official else "evidence"
    await append_event(session=session, case=case, action=action, actor=actor, now=now, note=item["kind"])
    return evidence


async def assign_case(
    *, session: AsyncSession, case: Case, department: Department, actor: Actor, now: datetime, deadlines: Deadlines
) -> None:
    """Route a case to a department (first assignment, reassignment, or insisting after a dispute)."""
    case.department_id = department.id
    case.department = department
    await change_status(session=session, case=case, action="assign", actor=actor, now=now, deadlines=deadlines,
                        note=department.code)


async def cases_of_complainant(
    *, session: AsyncSession, account_id: int, offset: int, limit: int
) -> tuple[list[Case], int]:
    """A citizen's own cases and those they joined, newest first, one page at a time, with the total."""
    from bot.db.models import CoComplainant

    joined = select(CoComplainant.case_id).where(CoComplainant.account_id == account_id)
    where = or_(Case.complainant_id == account_id, Case.id.in_(joined))
    total = await session.scalar(select(func.count(Case.id)).where(where)) or 0
    page = await session.scalars(
        select(Case).where(where).order_by(Case.created_at.desc(), Case.id.desc()).offset(offset).limit(limit)
    )
    return list(page.all()), total


async def list_cases(
    *, session: AsyncSession, status: str | None, offset: int, limit: int
) -> tuple[list[Case], int]:
    """All cases (optionally of one status), newest first, one page at a time, with the total."""
    conditions = [Case.status == status] if status else []
    total = await session.scalar(select(func.count(Case.id)).where(*conditions)) or 0
    page = await session.scalars(
        select(Case).where(*conditions).order_by(Case.created_at.desc(), Case.id.desc()).offset(offset).limit(limit)
    )
    return list(page.all()), total


async def evidence_count(*, session: AsyncSession, case_id: int) -> int:
    return await session.scalar(select(func.count(Evidence.id)).where(Evidence.case_id == case_id)) or 0


async def supplements_of(*, session: AsyncSession, case_id: int) -> list[Supplement]:
    return list(
        (await session.scalars(select(Supplement).where(Supplement.case_id == case_id).order_by(Supplement.id))).all()
    )


def is_open(case: Case) -> bool:
    return case.status in OPEN_STATUSES



async def change_domain(*, session: AsyncSession, case: Case, actor: Actor, domain: str, now: datetime) -> None:
    """A supervisor corrects the domain; the correction is kept for tuning the lexicon."""
    from bot.db.models import DomainCorrection
    from nlp import DOMAINS

    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    if domain not in DOMAINS:
        raise InvalidInput("domain_unknown", domain=domain)
    if domain == case.domain:
        return
    session.add(DomainCorrection(case_id=case.id, from_domain=case.domain, to_domain=domain,
                                 corrected_by_id=actor.account_id, created_at=now))
    await append_event(session=session, case=case, action="domain_changed", actor=actor, now=now,
                       note=f"{case.domain}->{domain}")
    case.domain, case.updated_at = domain, now


async def corrected_examples(*, session: AsyncSession) -> list[tuple[str, str]]:
    """(masked text, corrected domain) of every case a supervisor re-labelled, latest label per case."""
    from bot.db.models import DomainCorrection

    rows = (await session.execute(
        select(Case.text_masked, Case.domain).where(Case.id.in_(select(DomainCorrection.case_id)))
    )).all()
    return [(text, domain) for text, domain in rows]
