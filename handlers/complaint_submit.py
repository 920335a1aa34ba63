"""The end of the complaint conversation: 确认提交 opens the case, 加入该案件 joins an open one."""

from __future__ import annotations

from bot import keyboards, texts
from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.cases import NewCase, assign_case, lock_case, open_case, should_auto_assign
from bot.domain.departments import department_by_code
from bot.domain.duplicates import join_case
from bot.domain.roles import SYSTEM
from bot.domain.rows import DraftRow
from handlers.complaint_steps import detail_keys, draft_fingerprint
from handlers.door import Turn
from handlers.official import new_assignment_notices


async def submit(turn: Turn, draft: Draft | DraftRow | None, draft_id: int) -> None:
    """确认提交 (of draft `draft_id`; `draft`: the acting account's, as read): take the draft and open the case in
    one transaction; 已立案 is said after the commit."""
    svc, session, actor = turn.svc, turn.session, turn.actor
    draft = await drafts.claim_for_submit(session=session, draft=draft, draft_id=draft_id)
    data = draft.data
    classification = data["classification"]
    new = NewCase(
        text=data["text"],
        domain=data["domain"],
        suggested_domain=classification["domain"],
        confidence=classification["confidence"],
        terms=classification.get("terms") or [],
        department_code=data.get("department"),
        contact_allowed=bool(data.get("contact")),
        evidence=data.get("evidence", []),
        commitment_id=data.get("commitment_id"),
        details={k: v for k, v in (data.get("details") or {}).items() if k in detail_keys(data["domain"])} or None,
        fingerprint=draft_fingerprint(turn, data).to_bytes(),
    )
    case = await open_case(
        session=session, new=new, actor=actor, now=turn.now, prefix=svc.settings.case_prefix, tz=svc.settings.tz,
        daily_limit=svc.settings.daily_case_limit, deadlines=svc.deadlines,
    )
    turn.reply(texts.CASE_OPENED.format(ref=case.ref), reply_markup=keyboards.main_menu(), durable=True)
    recognised = [code for code, _ in data.get("candidates", [])]
    if should_auto_assign(new, recognised, enabled=svc.policy.auto_assign,
                          min_confidence=svc.policy.auto_assign_min_confidence):
        department = await department_by_code(session=session, code=new.department_code)
        await assign_case(session=session, case=case, department=department, actor=SYSTEM, now=turn.now,
                          deadlines=svc.deadlines)
        await new_assignment_notices(turn, case)
        turn.outbox.to_account(actor.account, texts.CITIZEN_ASSIGNED.format(
            ref=case.ref, department=texts.esc(department.name)))


async def join_existing(turn: Turn, draft: Draft) -> None:
    """加入该案件: the citizen becomes a co-complainant of the open case; no second case is opened."""
    case = await lock_case(session=turn.session, ref=draft.data["duplicate"]["ref"])
    await join_case(session=turn.session, case=case, actor=turn.actor, text=draft.data["text"], now=turn.now)
    await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    turn.reply(texts.JOINED_CASE.format(ref=case.ref), reply_markup=keyboards.main_menu())
