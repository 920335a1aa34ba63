"""What officials and supervisors do to a case beyond routing it: accept, dispute, reply, commit,
rectify, extend, verify, tolerate, reopen, reject — and the citizen's rating afterwards."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, Commitment, Extension, Obligation, Reply
from bot.domain.audit import append_event
from bot.domain.cases import change_status
from bot.domain.errors import DomainError, Forbidden, InvalidInput, InvalidTransition
from bot.domain.lifecycle import Status
from bot.domain.obligations import Deadlines, close_clock, extend_clock, open_clocks, start_clock
from bot.domain.records import create_record, mark_case_tolerated
from bot.domain.roles import Actor, Role

RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")


def require_case_official(case: Case, actor: Actor) -> None:
    """Only an official of the department the case is assigned to acts on it."""
    if not actor.is_official or case.department_id is None or actor.account.department_id != case.department_id:
        raise Forbidden("forbidden")


def require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise Forbidden("forbidden")


def _require_status(case: Case, *statuses: Status, action: str) -> None:
    if case.status not in statuses:
        raise InvalidTransition("bad_transition", ref=case.ref, status=case.status, action=action)


async def accept_case(*, session: AsyncSession, case: Case, actor: Actor, now: datetime, deadlines: Deadlines) -> None:
    require_case_official(case, actor)
    await change_status(session=session, case=case, action="accept", actor=actor, now=now, deadlines=deadlines)


async def dispute_case(*, session: AsyncSession, case: Case, actor: Actor, reason: str, now: datetime,
                       deadlines: Deadlines) -> None:
    """The department says the case is not theirs (or a duplicate); it goes back to the supervisors."""
    require_case_official(case, actor)
    await change_status(session=session, case=case, action="dispute", actor=actor, now=now, deadlines=deadlines,
                        note=reason)


async def reply_to_case(*, session: AsyncSession, case: Case, actor: Actor, text: str, now: datetime,
                        deadlines: Deadlines) -> Reply:
    """The department's answer, relayed to the complainant; it meets the reply clock."""
    require_case_official(case, actor)
    _require_status(case, Status.IN_PROGRESS, action="reply")
    reply = Reply(case_id=case.id, author_id=actor.account_id, kind="reply", text=text, created_at=now)
    session.add(reply)
    for clock in await open_clocks(session=session, case_id=case.id, kinds=("reply",)):
        await close_clock(session, clock, now=now)
    if not await open_clocks(session=session, case_id=case.id, kinds=("rectification", "commitment")):
        await start_clock(session=session, case=case, kind="rectification", now=now,
                          due_at=deadlines.default_due("rectification", now), deadlines=deadlines)
    case.updated_at = now
    await append_event(session=session, case=case, action="reply", actor=actor, now=now)
    return reply


async def propose_commitment(*, session: AsyncSession, case: Case, actor: Actor, content: str, due_on: date,
                             now: datetime) -> Commitment:
    """承诺: what the department will do by when; waits for a supervisor's approval."""
    require_case_official(case, actor)
    _require_status(case, Status.IN_PROGRESS, action="commit")
    commitment = Commitment(
        case_id=case.id, department_id=case.department_id, content=content, due_on=due_on, status="proposed",
        proposed_by_id=actor.account_id, created_at=now,
    )
    session.add(commitment)
    await session.flush()
    await append_event(session=session, case=case, action="commit_proposed", actor=actor, now=now,
                       note=f"{due_on.isoformat()} {content}")
    return commitment


async def decide_commitment(*, session: AsyncSession, commitment: Commitment, actor: Actor, approve: bool,
                            now: datetime, deadlines: Deadlines, note: str | None = None) -> Case | None:
    """Approve (the commitment clock starts, replacing the default rectification clock) or send back."""
    require_supervisor(actor)
    if commitment.status != "proposed":
        raise InvalidTransition("commitment_decided", status=commitment.status)
    commitment.status = "approved" if approve else "returned"
    commitment.decided_by_id, commitment.decided_at, commitment.decision_note = actor.account_id, now, note
    case = await session.get(Case, commitment.case_id) if commitment.case_id else None
    if approve:
        if case is not None:
            for clock in await open_clocks(session=session, case_id=case.id, kinds=("rectification", "commitment")):
                await close_clock(session, clock, now=now, state="cancelled")
        await start_clock(session=session, case=case, kind="commitment", now=now,
                          due_at=deadlines.end_of(commitment.due_on), department_id=commitment.department_id,
                          commitment_id=commitment.id, deadlines=deadlines)
    if case is not None:
        await append_event(session=session, case=case, action="commit_approved" if approve else "commit_returned",
                           actor=actor, now=now, note=note)
    return case


async def report_rectification(*, session: AsyncSession, case: Case, actor: Actor, text: str, now: datetime,
                               deadlines: Deadlines) -> Reply:
    """整改 reported done: the case waits for a supervisor to verify."""
    require_case_official(case, actor)
    report = Reply(case_id=case.id, author_id=actor.account_id, kind="rectification", text=text, created_at=now)
    session.add(report)
    await change_status(session=session, case=case, action="report", actor=actor, now=now, deadlines=deadlines)
    await session.execute(
        update(Commitment).where(Commitment.case_id == case.id, Commitment.status == "approved")
        .values(status="fulfilled")
    )
    return report


async def request_extension(*, session: AsyncSession, case: Case, actor: Actor, due_on: date, reason: str,
                            now: datetime, deadlines: Deadlines) -> Extension:
    """Ask for more time on the case's nearest open clock of this department."""
    require_case_official(case, actor)
    clocks = [c for c in await open_clocks(session=session, case_id=case.id) if c.department_id == case.department_id]
    if not clocks:
        raise InvalidTransition("no_open_clock", ref=case.ref)
    clock = clocks[0]
    current = deadlines.local_date(clock.due_at)
    if due_on <= current:
        raise InvalidInput("extension_not_later", current=current.isoformat())
    extension = Extension(case_id=case.id, obligation_id=clock.id, requested_by_id=actor.account_id,
                          requested_due_on=due_on, reason=reason, state="requested", created_at=now)
    session.add(extension)
    await session.flush()
    await append_event(session=session, case=case, action="extension_requested", actor=actor, now=now,
                       note=f"{due_on.isoformat()} {reason}")
    return extension


async def decide_extension(*, session: AsyncSession, extension: Extension, actor: Actor, approve: bool,
                           now: datetime, deadlines: Deadlines) -> Case:
    require_supervisor(actor)
    if extension.state != "requested":
        raise InvalidTransition("extension_decided", status=extension.state)
    extension.state = "approved" if approve else "denied"
    extension.decided_by_id, extension.decided_at = actor.account_id, now
    case = await session.get(Case, extension.case_id)
    if approve:
        clock = await session.get(Obligation, extension.obligation_id)
        if clock.state == "open":
            await extend_clock(session=session, obligation=clock, due_at=deadlines.end_of(extension.requested_due_on),
                               now=now, deadlines=deadlines)
    await append_event(session=session, case=case, action="extension_approved" if approve else "extension_denied",
                       actor=actor, now=now, note=extension.requested_due_on.isoformat())
    return case


async def verify_case(*, session: AsyncSession, case: Case, actor: Actor, substantiated: bool, now: datetime,
                      deadlines: Deadlines, note: str | None = None) -> None:
    """Close after review; a substantiated complaint becomes a dishonesty record against the department."""
    require_supervisor(actor)
    await change_status(session=session, case=case, action="verify", actor=actor, now=now, deadlines=deadlines,
                        note="substantiated" if substantiated else "unsubstantiated")
    case.outcome = "substantiated" if substantiated else "unsubstantiated"
    case.outcome_note = note
    if substantiated:
        await create_record(session=session, case=case, department_id=case.department_id, domain=case.domain,
                            summary=case.text_masked, now=now)


async def tolerate_case(*, session: AsyncSession, case: Case, actor: Actor, reason: str, now: datetime,
                        deadlines: Deadlines) -> None:
    """容错纠错: closed, with the reason, and no dishonesty record."""
    require_supervisor(actor)
    await change_status(session=session, case=case, action="tolerate", actor=actor, now=now, deadlines=deadlines,
                        note=reason)
    case.outcome, case.outcome_note = "tolerated", reason
    await mark_case_tolerated(session=session, case_id=case.id, tolerated=True)


async def reject_case(*, session: AsyncSession, case: Case, actor: Actor, reason: str, now: datetime,
                      deadlines: Deadlines) -> None:
    """Out of scope or a duplicate: not taken up."""
    require_supervisor(actor)
    await change_status(session=session, case=case, action="reject", actor=actor, now=now, deadlines=deadlines,
                        note=reason)
    case.outcome, case.outcome_note = "rejected", reason


async def reopen_case(*, session: AsyncSession, case: Case, actor: Actor, reason: str, now: datetime,
                      deadlines: Deadlines) -> None:
    """Send back to the department: from review (退回) or after closing (重办, counted against the department)."""
    if case.status == Status.PENDING_REVIEW:
        await change_status(session=session, case=case, action="send_back", actor=actor, now=now,
                            deadlines=deadlines, note=reason)
        return
    await change_status(session=session, case=case, action="reopen", actor=actor, now=now, deadlines=deadlines,
                        note=reason)
    case.reopen_count += 1
    case.outcome = None
    await mark_case_tolerated(session=session, case_id=case.id, tolerated=False)


async def mark_commitment_broken(*, session: AsyncSession, commitment: Commitment, actor: Actor, now: datetime,
                                 note: str | None = None) -> None:
    """A supervisor confirms a promise was broken (失信): a record, exactly as for a substantiated case."""
    require_supervisor(actor)
    if commitment.status not in ("approved",):
        raise InvalidTransition("commitment_decided", status=commitment.status)
    commitment.status = "broken"
    clocks = (await session.scalars(
        select(Obligation).where(Obligation.commitment_id == commitment.id, Obligation.state == "open")
    )).all()
    for clock in clocks:
        await close_clock(session, clock, now=now, state="missed")
    case = await session.get(Case, commitment.case_id) if commitment.case_id else None
    summary = f"承诺未兑现：{commitment.content}（承诺期限 {commitment.due_on.isoformat()}）"
    await create_record(session=session, case=case, commitment=commitment, department_id=commitment.department_id,
                        domain=case.domain if case else "other", summary=summary, now=now)
    if case is not None:
        await append_event(session=session, case=case, action="commit_broken", actor=actor, now=now, note=note)


async def latest_commitment(*, session: AsyncSession, case_id: int, status: str | None = None) -> Commitment | None:
    query = select(Commitment).where(Commitment.case_id == case_id)
    if status:
        query = query.where(Commitment.status == status)
    return await session.scalar(query.order_by(Commitment.id.desc()))


# --- the citizen's rating (回访) -----------------------------------------------------------------


async def cases_due_for_follow_up(*, session: AsyncSession, now: datetime, after: timedelta,
                                  limit: int = 200) -> list[Case]:
    result = await session.scalars(
        select(Case).where(
            Case.status == Status.CLOSED, Case.satisfaction_asked_at.is_(None), Case.closed_at <= now - after,
        ).order_by(Case.closed_at).limit(limit)
    )
    return list(result.all())


async def claim_follow_up(*, session: AsyncSession, case_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(Case).where(Case.id == case_id, Case.satisfaction_asked_at.is_(None)).values(satisfaction_asked_at=now)
    )
    return result.rowcount == 1


async def rate_case(*, session: AsyncSession, case: Case, actor: Actor, rating: str, now: datetime) -> None:
    """满意 / 基本满意 / 不满意, once, by the complainant, after being asked."""
    if rating not in RATINGS:
        raise InvalidInput("stale")
    if actor.account_id != case.complainant_id:
        raise Forbidden("forbidden")
    if case.status != Status.CLOSED or case.satisfaction_asked_at is None or case.satisfaction is not None:
        raise DomainError("stale")
    case.satisfaction, case.satisfaction_at = rating, now
    await append_event(session=session, case=case, action="rated", actor=actor, now=now, note=rating)


async def reopen_unsatisfied(*, session: AsyncSession, case: Case, actor: Actor, reason: str, now: datetime,
                             deadlines: Deadlines, window: timedelta) -> None:
    """不满意 with a reason within the window reopens the case (重办) and counts against the department."""
    if actor.account_id != case.complainant_id:
        raise Forbidden("forbidden")
    if case.status != Status.CLOSED or case.satisfaction != "unsatisfied":
        raise DomainError("stale")
    if case.satisfaction_asked_at is None or now - case.satisfaction_asked_at > window:
        raise DomainError("reopen_window_passed", days=window.days)
    case.satisfaction_reason = reason
    citizen = Actor(Role.CITIZEN, actor.account)
    await change_status(session=session, case=case, action="reopen", actor=citizen, now=now, deadlines=deadlines,
                        note=reason)
    case.reopen_count += 1
    case.outcome = None
    await mark_case_tolerated(session=session, case_id=case.id, tolerated=False)
