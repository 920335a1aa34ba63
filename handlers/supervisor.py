"""Supervisors (督办): any case in full, the case list, assignment to a department."""

from __future__ import annotations


from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from sqlalchemy import func, select

from bot.db.models import Case, CoComplainant, Commitment, Extension
from bot.domain.audit import case_events
from bot.domain.cases import assign_case, case_for, change_domain, evidence_count, supplements_of
from bot.domain.duplicates import SYSTEMIC_COMPLAINANTS, complainants_against, related_cases
from bot.domain.departments import find_departments
from bot.domain import casework, records
from bot.domain.errors import DomainError, Forbidden
from bot.domain.obligations import open_clocks
from bot.domain.officials import create_invite, officials_of, unbind_official
from bot.domain.records import record_of_case
from bot.domain.roles import Role
from bot.domain.evidence import evidence_of
from bot.domain.roles import Actor
from bot.services import services
from bot import keyboards
from handlers import supervision
from handlers.base import acting, answer, close_buttons, command_args, refuses_politely
from bot.domain.commitments import normalize_commitment_ref
from handlers.commitments import broken_commitment
from handlers.views import details_block
from handlers.notify import Outbox
from handlers.official import new_assignment_outbox, official_case_view, split_ref



def require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise Forbidden("forbidden")


def _complainant(case: Case) -> str:
    person = case.complainant
    parts = [texts.esc(person.full_name or "（无姓名）")]
    if person.username:
        parts.append("@" + texts.esc(person.username))
    parts.append(f"ID {person.telegram_id}")
    return " ".join(parts)


@refuses_politely
async def case_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Everything about one case, including who filed it (/case REF)."""
    args = command_args(context)
    tz = services(context).settings.tz
    async with acting(update, context) as (session, actor):
        if actor.is_official and args:
            await session.commit()
            await official_case_view(update, context, args[0])
            return
        require_supervisor(actor)
        if not args:
            await session.commit()
            await answer(update, texts.USAGE_CASE)
            return
        case = await case_for(session=session, raw_ref=args[0], actor=actor)
        events = await case_events(session=session, case_id=case.id)
        supplements = await supplements_of(session=session, case_id=case.id)
        evidence = await evidence_count(session=session, case_id=case.id)
        triage_extras = await _triage_extras(session, case)
        extras, extra_rows = await supervision.supervisor_case_extras(session=session, case=case, svc=services(context))
        await session.commit()
    timeline = "\n".join(
        f"{texts.local_time(e.created_at, tz)}  {texts.ACTION_LABELS.get(e.action, e.action)}"
        + (f"（{texts.esc(e.note)}）" if e.note and e.action in ("assign",) else "")
        for e in events
    )
    supplement_block = ""
    if supplements:
        items = "\n".join(f"{texts.local_time(s.created_at, tz)}  {texts.excerpt(s.text, 300)}" for s in supplements)
        supplement_block = texts.SUPPLEMENTS_BLOCK.format(items=items)
    if case.outcome:
        timeline += "\n" + texts.OUTCOME_LABELS.get(case.outcome, case.outcome)
    message = texts.CASE_DETAIL.format(
        ref=case.ref,
        status=texts.status_label(case.status),
        domain=texts.domain_label(case.domain),
        suggested=texts.domain_label(case.suggested_domain),
        confidence=case.domain_confidence,
        terms=texts.terms_list(case.domain_terms or []),
        department=texts.esc(case.department.name) if case.department else texts.NO_DEPARTMENT,
        complainant=_complainant(case),
        contact=texts.YES if case.contact_allowed else texts.NO,
        created=texts.local_time(case.created_at, tz),
        evidence=evidence,
        text=texts.excerpt(case.text, 2000),
        supplements=supplement_block,
        timeline=timeline,
    )
    await answer(update, details_block(case.domain, case.details) + message + triage_extras + extras, reply_markup=supervision.with_rows(
        keyboards.supervisor_case_actions(case.ref, has_evidence=evidence > 0), extra_rows))


async def _assign(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str, query: str) -> None:
    svc = services(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        case = await case_for(session=session, raw_ref=raw_ref, actor=actor, for_update=True)
        departments = await find_departments(session=session, query=query)
        if not departments:
            matches = svc.triager.search_departments(query, limit=6)
            await session.commit()
            if matches:
                await answer(update, texts.DEPARTMENT_AMBIGUOUS.format(query=texts.esc(query[:64])),
                             reply_markup=keyboards.assign_choice(case.ref, [(m.code, m.name) for m in matches]))
            else:
                await answer(update, texts.DEPARTMENT_NOT_FOUND.format(query=texts.esc(query[:64])))
            return
        if len(departments) > 1:
            await session.commit()
            await answer(update, texts.DEPARTMENT_AMBIGUOUS.format(query=texts.esc(query[:64])),
                         reply_markup=keyboards.assign_choice(case.ref, [(d.code, d.name) for d in departments]))
            return
        department = departments[0]
        await assign_case(session=session, case=case, department=department, actor=actor, now=svc.clock.now(),
                          deadlines=svc.deadlines)
        outbox = Outbox()
        await new_assignment_outbox(session, outbox, case, svc)
        await outbox.to_complainants(session, case, texts.CITIZEN_ASSIGNED.format(
            ref=case.ref, department=texts.esc(department.name)))
        ref, name = case.ref, department.name
        await session.commit()
    await answer(update, texts.ASSIGNED.format(ref=ref, department=texts.esc(name)))
    await outbox.send(context)


@refuses_politely
async def assign_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route a case to a department (/assign REF DEPT: code, full name or alias)."""
    args = command_args(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        await session.commit()
    if len(args) < 2:
        await answer(update, texts.USAGE_ASSIGN)
        return
    await _assign(update, context, args[0], " ".join(args[1:]))


@refuses_politely
async def assign_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A department chosen from an ambiguous /assign (as:REF:CODE)."""
    query = update.callback_query
    _, ref, code = query.data.split(":", 2)
    await close_buttons(query)
    await _assign(update, context, ref, code)


@refuses_politely
async def evidence_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """查看证据 (ev:REF): re-send a case's photos and documents to the supervisor."""
    query = update.callback_query
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        case = await case_for(session=session, raw_ref=query.data.split(":", 1)[1], actor=actor)
        items = await evidence_of(session=session, case_id=case.id)
        await session.commit()
    await query.answer()
    if not items:
        await answer(update, texts.NO_EVIDENCE)
        return
    for item in items:
        caption = texts.excerpt(item.caption, 900) if item.caption else None
        if item.kind == "photo":
            await update.effective_chat.send_photo(item.file_id, caption=caption)
        else:
            await update.effective_chat.send_document(item.file_id, caption=caption)


# --- officials ---------------------------------------------------------------------------------


async def _one_department(session, query: str):
    departments = await find_departments(session=session, query=query)
    if len(departments) != 1:
        raise DomainError("department_not_found", query=query[:64])
    return departments[0]


@refuses_politely
async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A one-time invite code: /invite DEPT [head] for an official, /invite supervisor [REGION]."""
    args = command_args(context)
    svc = services(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if not args:
            await session.commit()
            await answer(update, texts.USAGE_INVITE)
            return
        if args[0].lower() == "supervisor":
            region = args[1] if len(args) > 1 else None
            invite, code = await create_invite(session=session, actor=actor, now=svc.clock.now(), department=None,
                                               role=Role.SUPERVISOR, region=region)
            await session.commit()
            await answer(update, texts.INVITE_SUPERVISOR_CREATED.format(
                code=code, region=f"（区域：{texts.esc(region)}）" if region else "",
                expires=texts.local_time(invite.expires_at, svc.settings.tz)))
            return
        is_head = len(args) > 1 and args[-1].lower() in ("head", "负责人")
        query = " ".join(args[:-1] if is_head else args)
        department = await _one_department(session, query)
        invite, code = await create_invite(session=session, actor=actor, now=svc.clock.now(), department=department,
                                           is_head=is_head)
        await session.commit()
    await answer(update, texts.INVITE_CREATED.format(
        code=code, department=texts.esc(department.name), head=texts.HEAD_MARK if is_head else "",
        expires=texts.local_time(invite.expires_at, svc.settings.tz)))


@refuses_politely
async def officials_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Officials bound to a department, with unbind buttons (/officials DEPT)."""
    args = command_args(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if not args:
            await session.commit()
            await answer(update, texts.USAGE_OFFICIALS)
            return
        department = await _one_department(session, " ".join(args))
        officials = await officials_of(session=session, department_id=department.id)
        await session.commit()
    if not officials:
        await answer(update, texts.OFFICIALS_EMPTY.format(department=texts.esc(department.name)))
        return
    lines = [texts.OFFICIALS_HEADER.format(department=texts.esc(department.name), count=len(officials))]
    lines += [texts.OFFICIAL_LINE.format(name=texts.esc(o.full_name or "?"), head=texts.HEAD_MARK if o.is_head else "",
                                         telegram_id=o.telegram_id) for o in officials]
    await answer(update, "\n".join(lines),
                 reply_markup=keyboards.unbind([(o.telegram_id, o.full_name or str(o.telegram_id)) for o in officials]))


async def _unbind(update: Update, context: ContextTypes.DEFAULT_TYPE, telegram_id: int) -> None:
    async with acting(update, context) as (session, actor):
        account = await unbind_official(session=session, actor=actor, telegram_id=telegram_id)
        outbox = Outbox()
        outbox.to_account(account, texts.UNBOUND_NOTICE)
        name = account.full_name or str(account.telegram_id)
        await session.commit()
    await answer(update, texts.UNBOUND.format(name=texts.esc(name)))
    await outbox.send(context)


@refuses_politely
async def unbind_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Return an official to citizen rights (/unbind TELEGRAM_ID)."""
    args = command_args(context)
    if not args or not args[0].isdigit():
        async with acting(update, context) as (session, actor):
            require_supervisor(actor)
            await session.commit()
        await answer(update, texts.USAGE_UNBIND)
        return
    await _unbind(update, context, int(args[0]))


@refuses_politely
async def unbind_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """解除绑定 under /officials (ub:TELEGRAM_ID)."""
    await update.callback_query.answer()
    await _unbind(update, context, int(update.callback_query.data.split(":")[1]))


# --- deciding cases -----------------------------------------------------------------------------

VERIFY_WORDS = {"属实": True, "substantiated": True, "不属实": False, "unsubstantiated": False}


async def _close_case(update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str, action) -> None:
    """Shared shape of /verify, /tolerate, /reject, /reopen: REF, words; act; tell everyone concerned."""
    svc = services(context)
    ref, rest = split_ref(update)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if not ref or not rest:
            await session.commit()
            await answer(update, usage)
            return
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        outbox = Outbox()
        reply = await action(session=session, case=case, actor=actor, words=rest[:1000], outbox=outbox, svc=svc)
        await session.commit()
    await answer(update, reply)
    await outbox.send(context)


async def _closing_notices(session, case: Case, outbox: Outbox, note: str | None, record) -> str:
    outcome = texts.OUTCOME_LABELS[case.outcome]
    await outbox.to_complainants(session, case, texts.CITIZEN_CLOSED.format(
        ref=case.ref, outcome=outcome, note=texts.esc(note) if note else ""))
    record_text = texts.RECORD_CREATED.format(department=texts.esc(case.department.name)) if record else ""
    if case.department_id:
        notice = texts.OFFICIAL_CLOSED.format(ref=case.ref, outcome=outcome, record=record_text)
        if record:
            notice += "\n" + texts.OFFICIAL_RECORD_NOTICE.format(ref=case.ref)
        await outbox.to_officials(session, case.department_id, notice)
    return texts.VERIFIED.format(ref=case.ref, outcome=outcome, record=record_text)


@refuses_politely
async def verify_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Close a case after review (/verify REF 属实|不属实 [note]); 属实 records dishonesty."""
    async def action(*, session, case, actor, words, outbox, svc):
        verdict, _, note = words.partition(" ")
        if verdict not in VERIFY_WORDS:
            raise DomainError("usage_verify")
        await casework.verify_case(session=session, case=case, actor=actor, substantiated=VERIFY_WORDS[verdict],
                                   now=svc.clock.now(), deadlines=svc.deadlines, note=note.strip() or None)
        record = await record_of_case(session=session, case_id=case.id)
        return await _closing_notices(session, case, outbox, note.strip() or None, record)

    await _close_case(update, context, texts.USAGE_VERIFY, action)


@refuses_politely
async def tolerate_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """容错纠错: close with the reason and no dishonesty record (/tolerate REF REASON)."""
    async def action(*, session, case, actor, words, outbox, svc):
        await casework.tolerate_case(session=session, case=case, actor=actor, reason=words, now=svc.clock.now(),
                                     deadlines=svc.deadlines)
        await _closing_notices(session, case, outbox, words, None)
        return texts.TOLERATED.format(ref=case.ref)

    await _close_case(update, context, texts.USAGE_TOLERATE, action)


@refuses_politely
async def reject_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Not taken up: out of scope or a duplicate (/reject REF REASON)."""
    async def action(*, session, case, actor, words, outbox, svc):
        await casework.reject_case(session=session, case=case, actor=actor, reason=words, now=svc.clock.now(),
                                   deadlines=svc.deadlines)
        await outbox.to_complainants(session, case, texts.CITIZEN_REJECTED.format(ref=case.ref, reason=texts.esc(words)))
        return texts.REJECTED.format(ref=case.ref)

    await _close_case(update, context, texts.USAGE_REJECT, action)


@refuses_politely
async def reopen_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a case back to the department (/reopen REF REASON)."""
    async def action(*, session, case, actor, words, outbox, svc):
        await casework.reopen_case(session=session, case=case, actor=actor, reason=words, now=svc.clock.now(),
                                   deadlines=svc.deadlines)
        clock = (await open_clocks(session=session, case_id=case.id, kinds=("rectification",)))[0]
        await outbox.to_officials(session, case.department_id, texts.OFFICIAL_REOPENED.format(
            ref=case.ref, reason=texts.esc(words), due=texts.local_date(clock.due_at, svc.settings.tz)))
        await outbox.to_complainants(session, case, texts.CITIZEN_REOPENED.format(ref=case.ref))
        return texts.REOPENED.format(ref=case.ref, department=texts.esc(case.department.name))

    await _close_case(update, context, texts.USAGE_REOPEN, action)


@refuses_politely
async def broken_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm a case's approved commitment was broken: a dishonesty record (/broken REF [note])."""
    svc = services(context)
    ref, note = split_ref(update)
    if ref and normalize_commitment_ref(ref):
        await broken_commitment(update, context, ref, note or None)
        return
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if not ref:
            await session.commit()
            await answer(update, texts.USAGE_BROKEN)
            return
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        commitment = await casework.latest_commitment(session=session, case_id=case.id, status="approved")
        if commitment is None:
            raise DomainError("no_approved_commitment", ref=case.ref)
        await casework.mark_commitment_broken(session=session, commitment=commitment, actor=actor,
                                              now=svc.clock.now(), note=note or None)
        outbox = Outbox()
        await outbox.to_officials(session, commitment.department_id, texts.OFFICIAL_RECORD_NOTICE.format(ref=case.ref))
        department = commitment.department.name
        await session.commit()
    await answer(update, texts.BROKEN_RECORDED.format(ref=case.ref, department=texts.esc(department)))
    await outbox.send(context)


@refuses_politely
async def decision_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """批准/退回 a commitment (cmd), 同意/不同意 an extension (exd), decide an objection (obd) or a repair (rpd)."""
    query = update.callback_query
    kind, raw_id, verdict = query.data.split(":")
    approve = verdict == "1"
    svc = services(context)
    now = svc.clock.now()
    outbox = Outbox()
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if kind == "cmd":
            commitment = await session.get(Commitment, int(raw_id))
            if commitment is None:
                raise DomainError("stale")
            case = await casework.decide_commitment(session=session, commitment=commitment, actor=actor,
                                                    approve=approve, now=now, deadlines=svc.deadlines)
            due = commitment.due_on.isoformat()
            if approve:
                await outbox.to_officials(session, commitment.department_id,
                                          texts.COMMIT_APPROVED_OFFICIAL.format(ref=case.ref, due=due))
                await outbox.to_complainants(session, case, texts.CITIZEN_COMMITMENT.format(
                    ref=case.ref, due=due, content=texts.esc(commitment.content)))
            else:
                await outbox.to_officials(session, commitment.department_id,
                                          texts.COMMIT_RETURNED_OFFICIAL.format(ref=case.ref))
            decision = texts.BTN_APPROVE if approve else texts.BTN_RETURN
        elif kind == "exd":
            extension = await session.get(Extension, int(raw_id))
            if extension is None:
                raise DomainError("stale")
            case = await casework.decide_extension(session=session, extension=extension, actor=actor,
                                                   approve=approve, now=now, deadlines=svc.deadlines)
            notice = (texts.EXTENSION_GRANTED.format(ref=case.ref, due=extension.requested_due_on.isoformat())
                      if approve else texts.EXTENSION_DENIED.format(ref=case.ref))
            await outbox.to_officials(session, case.department_id, notice)
            decision = texts.BTN_GRANT if approve else texts.BTN_DENY
        else:
            record = await records.record_by_id(session=session, record_id=int(raw_id))
            case = await session.get(Case, record.case_id) if record.case_id else None
            ref = case.ref if case else str(record.id)
            if kind == "obd":
                await records.decide_objection(session=session, record=record, actor=actor, uphold=approve, now=now)
                decision = texts.BTN_UPHOLD if approve else texts.BTN_OVERRULE
                notice = texts.OBJECTION_DECIDED.format(ref=ref, decision=decision)
            else:
                await records.decide_repair(session=session, record=record, actor=actor, approve=approve, now=now)
                decision = texts.BTN_REPAIR_OK if approve else texts.BTN_REPAIR_NO
                notice = texts.REPAIR_DECIDED.format(ref=ref, decision=decision)
            await outbox.to_officials(session, record.department_id, notice)
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.COMMIT_DECIDED.format(decision=decision))
    await outbox.send(context)


@refuses_politely
async def view_case_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """查看 REF under a reminder (vc:REF): the case as the presser's role may see it."""
    query = update.callback_query
    ref = query.data.split(":", 1)[1]
    await query.answer()
    async with acting(update, context) as (session, actor):
        await session.commit()
    if actor.is_official:
        await official_case_view(update, context, ref)
    else:
        context.args = [ref]
        await case_command(update, context)



async def _triage_extras(session, case: Case) -> str:
    """Related cases, co-complainants and the systemic-dishonesty flag, for the supervisor's /case."""
    parts = []
    joined = await session.scalar(select(func.count(CoComplainant.id)).where(CoComplainant.case_id == case.id))
    if joined:
        parts.append("\n" + texts.CO_COMPLAINANTS.format(count=joined))
    related = await related_cases(session=session, case=case)
    if related:
        parts.append(texts.RELATED_HEADER.format(lines="\n".join(
            texts.RELATED_LINE.format(ref=r.case.ref, status=texts.status_label(r.case.status),
                                      similarity=f"{r.similarity:.0%}") for r in related)))
    if case.department_id is not None:
        people = await complainants_against(session=session, department_id=case.department_id, domain=case.domain)
        if people >= SYSTEMIC_COMPLAINANTS:
            parts.append(texts.SYSTEMIC_FLAG.format(department=texts.esc(case.department.name),
                                                    domain=texts.domain_label(case.domain), count=people))
    return "".join(parts)


DOMAIN_BY_LABEL = {label: code for code, label in texts.DOMAIN_LABELS.items()}


@refuses_politely
async def domain_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Correct a case's domain (/domain REF CODE|中文名); the correction feeds `chengxin lexicon suggest`."""
    args = command_args(context)
    svc = services(context)
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        if len(args) < 2:
            await session.commit()
            await answer(update, texts.USAGE_DOMAIN)
            return
        case = await case_for(session=session, raw_ref=args[0], actor=actor, for_update=True)
        domain = DOMAIN_BY_LABEL.get(args[1], args[1].lower())
        await change_domain(session=session, case=case, actor=actor, domain=domain, now=svc.clock.now())
        ref = case.ref
        await session.commit()
    await answer(update, texts.DOMAIN_CHANGED.format(ref=ref, domain=texts.domain_label(domain)))
