"""A citizen's data has a lifecycle: what is stored about them (/mydata), erasure of their identity from
closed cases (/forgetme), and automatic anonymisation after the policy's retention period.

Anonymising a case keeps it for statistics and the audit log: the text, follow-up answers, supplements
and captions are replaced by their masked copies, the evidence file names dropped, the case re-linked to
one shared "erased" account, and an `anonymise` audit event records that it happened (the keyed seal
over the row is renewed at the flush, so `chengxin audit verify` still passes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Case, CaseEvent, CoComplainant, Draft, Evidence, Reply, Supplement
from bot.domain.audit import append_event
from bot.domain.cases import masked_for_officials
from bot.domain.errors import DomainError
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.roles import Actor, Role

# The account erased cases point to; Telegram never uses id 0 for a user.
ERASED_TELEGRAM_ID = 0
RETENTION_BATCH = 500


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def export_personal_data(*, session: AsyncSession, account: Account) -> dict[str, Any]:
    """Everything stored about this person, as one JSON-ready document."""
    cases = (await session.scalars(select(Case).where(Case.complainant_id == account.id).order_by(Case.id))).all()
    out_cases = []
    for case in cases:
        supplements = (await session.scalars(select(Supplement).where(Supplement.case_id == case.id))).all()
        evidence = (await session.scalars(select(Evidence).where(Evidence.case_id == case.id,
                                                                 Evidence.added_by_id == account.id))).all()
        replies = (await session.scalars(select(Reply).where(Reply.case_id == case.id))).all()
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                        .order_by(CaseEvent.seq))).all()
        out_cases.append({
            "ref": case.ref, "status": case.status, "domain": case.domain,
            "department": case.department.name if case.department else None,
            "created_at": _iso(case.created_at), "closed_at": _iso(case.closed_at), "text": case.text,
            "details": case.details, "contact_allowed": case.contact_allowed, "satisfaction": case.satisfaction,
            "satisfaction_reason": case.satisfaction_reason,
            "supplements": [{"at": _iso(s.created_at), "text": s.text} for s in supplements
                            if s.added_by_id == account.id],
            "evidence": [{"kind": e.kind, "file_name": e.file_name, "caption": e.caption, "at": _iso(e.created_at)}
                         for e in evidence],
            "replies_received": [{"at": _iso(r.created_at), "kind": r.kind, "text": r.text} for r in replies],
            "timeline": [{"at": _iso(e.created_at), "action": e.action} for e in events],
        })
    joined = (await session.execute(select(Case.ref, CoComplainant.text, CoComplainant.created_at)
                                    .join(Case, Case.id == CoComplainant.case_id)
                                    .where(CoComplainant.account_id == account.id))).all()
    draft = await session.scalar(select(Draft).where(Draft.account_id == account.id))
    return {
        "account": {"telegram_id": account.telegram_id, "name": account.full_name, "username": account.username,
                    "role": account.role, "first_contact": _iso(account.created_at),
                    "last_seen": _iso(account.last_seen_at)},
        "cases": out_cases,
        "joined_cases": [{"ref": ref, "text": text, "at": _iso(at)} for ref, text, at in joined],
        "unfinished_complaint": draft.data if draft is not None else None,
    }


async def open_cases_of(*, session: AsyncSession, account_id: int) -> list[str]:
    return list((await session.scalars(select(Case.ref).where(
        Case.complainant_id == account_id, Case.status.in_(list(OPEN_STATUSES))).order_by(Case.id))).all())


async def _erased_account(session: AsyncSession, now: datetime) -> Account:
    account = await session.scalar(select(Account).where(Account.telegram_id == ERASED_TELEGRAM_ID))
    if account is None:
        account = Account(telegram_id=ERASED_TELEGRAM_ID, role=Role.CITIZEN, full_name=None, username=None,
                          unreachable=True, created_at=now, last_seen_at=now)
        session.add(account)
        await session.flush()
    return account


async def anonymise_case(*, session: AsyncSession, case: Case, actor: Actor, now: datetime, reason: str) -> bool:
    """Cut the complainant's identity from a closed case; False if it was already anonymised."""
    erased = await _erased_account(session, now)
    if case.complainant_id == erased.id:
        return False
    complainant = case.complainant

    def clean(text: str) -> str:
        return masked_for_officials(text, complainant)

    case.text = case.text_masked
    if case.details:
        case.details = {key: clean(value) if isinstance(value, str) else value for key, value in case.details.items()}
    if case.satisfaction_reason:
        case.satisfaction_reason = clean(case.satisfaction_reason)
    for supplement in (await session.scalars(select(Supplement).where(Supplement.case_id == case.id))).all():
        supplement.text = supplement.text_masked
    for item in (await session.scalars(select(Evidence).where(Evidence.case_id == case.id))).all():
        item.caption, item.file_name = item.caption_masked, None
    case.complainant_id = erased.id
    case.complainant = erased
    case.contact_allowed = False
    await append_event(session=session, case=case, action="anonymise", actor=actor, now=now, note=reason)
    return True


async def forget_account(*, session: AsyncSession, actor: Actor, now: datetime) -> int:
    """/forgetme: the caller's identity erased from their closed cases; refused while one is open."""
    account = actor.account
    if open_refs := await open_cases_of(session=session, account_id=account.id):
        raise DomainError("forget_open_cases", refs="、".join(open_refs[:5]))
    cases = (await session.scalars(select(Case).where(Case.complainant_id == account.id))).all()
    for case in cases:
        await anonymise_case(session=session, case=case, actor=actor, now=now, reason="forgetme")
    # Joined cases keep the joiner's words only masked, and no longer link to them.
    for joined in (await session.scalars(select(CoComplainant).where(CoComplainant.account_id == account.id))).all():
        case = await session.get(Case, joined.case_id)
        if case is not None and case.status not in OPEN_STATUSES:
            await session.delete(joined)
    await session.execute(delete(Draft).where(Draft.account_id == account.id))
    account.full_name = account.username = None
    return len(cases)


async def anonymise_expired(*, session: AsyncSession, now: datetime, years: int, actor: Actor) -> int:
    """The retention sweep: closed cases older than `years` lose their complainant's identity."""
    erased = await _erased_account(session, now)
    cutoff = now - timedelta(days=365 * years)
    cases = (await session.scalars(
        select(Case).where(Case.closed_at.is_not(None), Case.closed_at < cutoff, Case.complainant_id != erased.id,
                           Case.status.not_in(list(OPEN_STATUSES)))
        .order_by(Case.id).limit(RETENTION_BATCH).with_for_update(skip_locked=True, of=Case)
    )).all()
    for case in cases:
        await anonymise_case(session=session, case=case, actor=actor, now=now, reason="retention")
    return len(cases)

