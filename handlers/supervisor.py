"""Supervisors (督办): a case in full, assignment to a department, invitations and unbinding, decisions.

Every case a supervisor reads or decides is looked up through the one scope function (`case_for` and
bot.domain.supervision_reads): a regional supervisor gets, for another region's case, the same answer
as for a case that does not exist.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Case
from bot.domain import casework, records, scope
from bot.domain.audit import case_events
from bot.domain.cases import assign_case, case_for, change_domain, evidence_count, supplements_of
from bot.domain.commitments import normalize_commitment_ref
from bot.domain.duplicates import SYSTEMIC_COMPLAINANTS, complainants_against, related_cases
from bot.domain.errors import DomainError
from bot.domain.evidence import evidence_of
from bot.domain.obligations import open_clocks
from bot.domain.officials import create_invite, officials_of, revoke_account
from bot.domain.records import record_of_case
from bot.domain.roles import Role
from bot.domain.supervision_reads import (
    co_complainant_count, commitment_to_decide, departments_in_scope, extension_to_decide, managed_supervisors,
    record_to_decide,
)
from handlers import supervision
from handlers.codec import BadData, Codec, Int, Ref, Word
from handlers.commitments import broken_commitment
from handlers.door import SUPERVISORS, Turn, door
from handlers.official import new_assignment_notices, official_case_view
from handlers.supervision import DECISION, SUPERVISORS_OR_OFFICIALS
from handlers.views import details_block

TELEGRAM_ID = Int(1, 10**12 - 1)
# A department code as the directory has it (the shipped one: city-czj; an imported one may differ).
ASSIGN = Codec("as", Ref(), Word(pattern=r"[^:\s]{1,40}"))
EVIDENCE = Codec("ev", Ref())
UNBIND = Codec("ub", TELEGRAM_ID)
VIEW_CASE = Codec("vc", Ref())


def _complainant(case: Case) -> str:
    person = case.complainant
    parts = [texts.esc(person.full_name or "（无姓名）")]
    if person.username:
        parts.append("@" + texts.esc(person.username))
    parts.append(f"ID {person.telegram_id}")
    return " ".join(parts)


@door(roles=SUPERVISORS_OR_OFFICIALS)
async def case_command(turn: Turn) -> None:
    """Everything about one case, including who filed it (/case REF); an official sees their department's view."""
    if not turn.args:
        turn.reply(texts.USAGE_CASE)
        return
    await _case_view(turn, turn.args[0])


async def _case_view(turn: Turn, raw_ref: str) -> None:
    if turn.actor.is_official:
        await official_case_view(turn, raw_ref)
        return
    session, tz = turn.session, turn.svc.settings.tz
    case = await case_for(session=session, raw_ref=raw_ref, actor=turn.actor)
    events = await case_events(session=session, case_id=case.id)
    supplements = await supplements_of(session=session, case_id=case.id)
    evidence = await evidence_count(session=session, case_id=case.id)
    triage_extras = await _triage_extras(session, case)
    extras, extra_rows = await supervision.supervisor_case_extras(session=session, case=case, svc=turn.svc,
                                                                  now=turn.now)
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
        details=details_block(case.domain, case.details),  # under the heading and the text, not above them
        supplements=supplement_block,
        timeline=timeline,
    )
    turn.reply(message + triage_extras + extras,
               reply_markup=supervision.with_rows(
                   keyboards.supervisor_case_actions(case.ref, has_evidence=evidence > 0), extra_rows))


async def _triage_extras(session, case: Case) -> str:
    """Related cases, co-complainants and the systemic-dishonesty flag, for the supervisor's /case."""
    parts = []
    joined = await co_complainant_count(session=session, case_id=case.id)
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


@door(roles=SUPERVISORS_OR_OFFICIALS, codec=VIEW_CASE)
async def view_case_button(turn: Turn) -> None:
    """查看 REF under a reminder (vc:REF): the case as the presser's role may see it."""
    await _case_view(turn, turn.data[0])


@door(roles=SUPERVISORS, codec=EVIDENCE)
async def evidence_button(turn: Turn) -> None:
    """查看证据 (ev:REF): re-send a case's photos and documents to the supervisor."""
    case = await case_for(session=turn.session, raw_ref=turn.data[0], actor=turn.actor)
    items = await evidence_of(session=turn.session, case_id=case.id)
    if not items:
        turn.reply(texts.NO_EVIDENCE)
        return
    turn.outbox.evidence_to(turn.actor.account, items, masked=not scope.sees_full_text(turn.actor, case))


# --- assignment ----------------------------------------------------------------------------------


async def _in_scope_departments(turn: Turn, query: str):
    """The departments `query` names that the actor may assign to; out of region is refused as such."""
    return await departments_in_scope(session=turn.session, actor=turn.actor, query=query, refuse_outside=True)


async def _assign(turn: Turn, raw_ref: str, query: str) -> None:
    case = await case_for(session=turn.session, raw_ref=raw_ref, actor=turn.actor, for_update=True)
    departments = await _in_scope_departments(turn, query)
    if not departments:
        matches = [m for m in turn.svc.triager.search_departments(query, limit=6)
                   if scope.is_city_wide(turn.actor) or m.region == scope.supervisor_region(turn.actor)]
        if matches:
            turn.reply(texts.DEPARTMENT_AMBIGUOUS.format(query=texts.esc(query[:64])),
                       reply_markup=keyboards.assign_choice(case.ref, [(m.code, m.name) for m in matches]))
        else:
            turn.reply(texts.DEPARTMENT_NOT_FOUND.format(query=texts.esc(query[:64])))
        return
    if len(departments) > 1:
        turn.reply(texts.DEPARTMENT_AMBIGUOUS.format(query=texts.esc(query[:64])),
                   reply_markup=keyboards.assign_choice(case.ref, [(d.code, d.name) for d in departments]))
        return
    department = departments[0]
    await assign_case(session=turn.session, case=case, department=department, actor=turn.actor, now=turn.now,
                      deadlines=turn.svc.deadlines)
    await new_assignment_notices(turn, case)
    await turn.outbox.to_complainants(case, texts.CITIZEN_ASSIGNED.format(
        ref=case.ref, department=texts.esc(department.name)))
    turn.reply(texts.ASSIGNED.format(ref=case.ref, department=texts.esc(department.name)))


@door(roles=SUPERVISORS)
async def assign_command(turn: Turn) -> None:
    """Route a case to a department (/assign REF DEPT: code, full name or alias)."""
    if len(turn.args) < 2:
        turn.reply(texts.USAGE_ASSIGN)
        return
    await _assign(turn, turn.args[0], " ".join(turn.args[1:]))


@door(roles=SUPERVISORS, codec=ASSIGN)
async def assign_button(turn: Turn) -> None:
    """A department chosen from an ambiguous /assign, or 坚持分派 after a dispute (as:REF:CODE)."""
    ref, code = turn.data
    turn.close_buttons()
    await _assign(turn, ref, code)


# --- officials and supervisors -----------------------------------------------------------------------


async def _one_department(turn: Turn, query: str):
    departments = await _in_scope_departments(turn, query)
    if len(departments) != 1:
        raise DomainError("department_not_found", query=query[:64])
    return departments[0]


@door(roles=SUPERVISORS)
async def invite_command(turn: Turn) -> None:
    """A one-time invite code: /invite DEPT [head] for an official, /invite supervisor [REGION]."""
    args, tz = turn.args, turn.svc.settings.tz
    if not args:
        turn.reply(texts.USAGE_INVITE)
        return
    if args[0].lower() == "supervisor":
        region = args[1][:32] if len(args) > 1 else None
        if not scope.may_invite(turn.actor, role=Role.SUPERVISOR, department=None, region=region):
            raise DomainError("invite_out_of_scope", region=scope.supervisor_region(turn.actor) or "")
        invite, code = await create_invite(session=turn.session, actor=turn.actor, now=turn.now, department=None,
                                           role=Role.SUPERVISOR, region=region)
        turn.reply(texts.INVITE_SUPERVISOR_CREATED.format(
            code=code, region=f"（区域：{texts.esc(region)}）" if region else "",
            expires=texts.local_time(invite.expires_at, tz)))
        return
    is_head = len(args) > 1 and args[-1].lower() in ("head", "负责人")
    query = " ".join(args[:-1] if is_head else args)
    department = await _one_department(turn, query)
    if not scope.may_invite(turn.actor, role=Role.OFFICIAL, department=department, region=None):
        raise DomainError("out_of_region", query=query[:64])
    invite, code = await create_invite(session=turn.session, actor=turn.actor, now=turn.now, department=department,
                                       is_head=is_head)
    turn.reply(texts.INVITE_CREATED.format(
        code=code, department=texts.esc(department.name), head=texts.HEAD_MARK if is_head else "",
        expires=texts.local_time(invite.expires_at, tz)))


@door(roles=SUPERVISORS)
async def officials_command(turn: Turn) -> None:
    """Officials bound to a department, with unbind buttons (/officials DEPT); /officials supervisor: the
    invited supervisors this supervisor may unbind."""
    if not turn.args:
        turn.reply(texts.USAGE_OFFICIALS)
        return
    if turn.args[0].lower() in texts.SUPERVISOR_WORDS:
        await _supervisors(turn)
        return
    department = await _one_department(turn, " ".join(turn.args))
    officials = await officials_of(session=turn.session, department_id=department.id)
    if not officials:
        turn.reply(texts.OFFICIALS_EMPTY.format(department=texts.esc(department.name)))
        return
    lines = [texts.OFFICIALS_HEADER.format(department=texts.esc(department.name), count=len(officials))]
    lines += [texts.OFFICIAL_LINE.format(name=texts.esc(o.full_name or "?"), head=texts.HEAD_MARK if o.is_head else "",
                                         telegram_id=o.telegram_id) for o in officials]
    turn.reply("\n".join(lines),
               reply_markup=keyboards.unbind([(o.telegram_id, o.full_name or str(o.telegram_id)) for o in officials]))


async def _supervisors(turn: Turn) -> None:
    """/officials supervisor: the invited supervisors this supervisor may unbind, with unbind buttons."""
    people = await managed_supervisors(session=turn.session, actor=turn.actor,
                                       configured=turn.svc.settings.supervisors)
    if not people:
        turn.reply(texts.SUPERVISORS_EMPTY)
        return
    lines = [texts.SUPERVISORS_HEADER.format(count=len(people))]
    lines += [texts.SUPERVISOR_LINE.format(name=texts.esc(p.full_name or "?"), telegram_id=p.telegram_id,
                                           region=texts.esc(p.region) if p.region else texts.SUPERVISOR_CITY_WIDE)
              for p in people]
    turn.reply("\n".join(lines),
               reply_markup=keyboards.unbind([(p.telegram_id, p.full_name or str(p.telegram_id)) for p in people]))


async def _unbind(turn: Turn, telegram_id: int) -> None:
    account, role = await revoke_account(session=turn.session, actor=turn.actor, telegram_id=telegram_id,
                                         now=turn.now, configured=turn.svc.settings.supervisors)
    supervisor = role == Role.SUPERVISOR
    turn.outbox.to_account(account, texts.UNBOUND_SUPERVISOR_NOTICE if supervisor else texts.UNBOUND_NOTICE)
    name = texts.esc(account.full_name or str(account.telegram_id))
    turn.reply((texts.UNBOUND_SUPERVISOR if supervisor else texts.UNBOUND).format(name=name))


@door(roles=SUPERVISORS)
async def unbind_command(turn: Turn) -> None:
    """Take an official's or an invited supervisor's role away (/unbind TELEGRAM_ID)."""
    try:
        telegram_id = TELEGRAM_ID.parse(turn.args[0] if turn.args else "")
    except BadData:
        turn.reply(texts.USAGE_UNBIND)
        return
    await _unbind(turn, telegram_id)


@door(roles=SUPERVISORS, codec=UNBIND)
async def unbind_button(turn: Turn) -> None:
    """解除绑定 under /officials (ub:TELEGRAM_ID)."""
    await _unbind(turn, turn.data[0])


# --- deciding cases -----------------------------------------------------------------------------

VERIFY_WORDS = {"属实": True, "substantiated": True, "不属实": False, "unsubstantiated": False}


async def _close_case(turn: Turn, usage: str, change, after) -> None:
    """Shared shape of /verify, /tolerate, /reject, /reopen: REF and words; `change` the case with the words
    as its reason (None: `after` does it), then `after` queues what everyone concerned must hear and gives
    the reply."""
    ref, rest = turn.ref_and_rest()
    if not ref or not rest:
        turn.reply(usage)
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    words = rest[:1000]
    if change is not None:
        await change(session=turn.session, case=case, actor=turn.actor, reason=words, now=turn.now,
                     deadlines=turn.svc.deadlines)
    turn.reply(await after(turn, case, words))


async def _closing_notices(turn: Turn, case: Case, note: str | None, record) -> str:
    outcome = texts.OUTCOME_LABELS[case.outcome]
    await turn.outbox.to_complainants(case, texts.CITIZEN_CLOSED.format(
        ref=case.ref, outcome=outcome, note=texts.esc(note) if note else ""))
    record_text = texts.RECORD_CREATED.format(department=texts.esc(case.department.name)) if record else ""
    if case.department_id:
        notice = texts.OFFICIAL_CLOSED.format(ref=case.ref, outcome=outcome, record=record_text)
        if record:
            notice += "\n" + texts.OFFICIAL_RECORD_NOTICE.format(ref=case.ref)
        await turn.outbox.to_officials(case.department_id, notice)
    return texts.VERIFIED.format(ref=case.ref, outcome=outcome, record=record_text)


async def _verified(turn: Turn, case: Case, words: str) -> str:
    verdict, _, note = words.partition(" ")
    if verdict not in VERIFY_WORDS:
        raise DomainError("usage_verify")
    await casework.verify_case(session=turn.session, case=case, actor=turn.actor,
                               substantiated=VERIFY_WORDS[verdict], now=turn.now, deadlines=turn.svc.deadlines,
                               note=note.strip() or None)
    record = await record_of_case(session=turn.session, case_id=case.id)
    return await _closing_notices(turn, case, note.strip() or None, record)


async def _tolerated(turn: Turn, case: Case, words: str) -> str:
    await _closing_notices(turn, case, words, None)
    return texts.TOLERATED.format(ref=case.ref)


async def _rejected(turn: Turn, case: Case, words: str) -> str:
    await turn.outbox.to_complainants(case, texts.CITIZEN_REJECTED.format(ref=case.ref, reason=texts.esc(words)))
    return texts.REJECTED.format(ref=case.ref)


async def _reopened(turn: Turn, case: Case, words: str) -> str:
    clock = (await open_clocks(session=turn.session, case_id=case.id, kinds=("rectification",)))[0]
    await turn.outbox.to_officials(case.department_id, texts.OFFICIAL_REOPENED.format(
        ref=case.ref, reason=texts.esc(words), due=texts.local_date(clock.due_at, turn.svc.settings.tz)))
    await turn.outbox.to_complainants(case, texts.CITIZEN_REOPENED.format(ref=case.ref))
    return texts.REOPENED.format(ref=case.ref, department=texts.esc(case.department.name))


@door(roles=SUPERVISORS)
async def verify_command(turn: Turn) -> None:
    """Close a case after review (/verify REF 属实|不属实 [note]); 属实 records dishonesty."""
    await _close_case(turn, texts.USAGE_VERIFY, None, _verified)


@door(roles=SUPERVISORS)
async def tolerate_command(turn: Turn) -> None:
    """容错纠错: close with the reason and no dishonesty record (/tolerate REF REASON)."""
    await _close_case(turn, texts.USAGE_TOLERATE, casework.tolerate_case, _tolerated)


@door(roles=SUPERVISORS)
async def reject_command(turn: Turn) -> None:
    """Not taken up: out of scope or a duplicate (/reject REF REASON)."""
    await _close_case(turn, texts.USAGE_REJECT, casework.reject_case, _rejected)


@door(roles=SUPERVISORS)
async def reopen_command(turn: Turn) -> None:
    """Send a case back to the department (/reopen REF REASON)."""
    await _close_case(turn, texts.USAGE_REOPEN, casework.reopen_case, _reopened)


@door(roles=SUPERVISORS)
async def broken_command(turn: Turn) -> None:
    """Confirm a case's approved commitment was broken: a dishonesty record (/broken REF [note])."""
    ref, note = turn.ref_and_rest()
    if ref and normalize_commitment_ref(ref):
        await broken_commitment(turn, ref, note or None)
        return
    if not ref:
        turn.reply(texts.USAGE_BROKEN)
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    commitment = await casework.latest_commitment(session=turn.session, case_id=case.id, status="approved")
    if commitment is None:
        raise DomainError("no_approved_commitment", ref=case.ref)
    await casework.mark_commitment_broken(session=turn.session, commitment=commitment, actor=turn.actor,
                                          now=turn.now, note=note[:1000] or None)
    await turn.outbox.to_officials(commitment.department_id, texts.OFFICIAL_RECORD_NOTICE.format(ref=case.ref))
    turn.reply(texts.BROKEN_RECORDED.format(ref=case.ref, department=texts.esc(commitment.department.name)))


@door(roles=SUPERVISORS, codec=DECISION)
async def decision_button(turn: Turn) -> None:
    """批准/退回 a commitment (cmd), 同意/不同意 an extension (exd), decide an objection (obd) or a repair (rpd)."""
    kind, item_id, verdict = turn.data
    approve = verdict == "1"
    session, actor, now, deadlines = turn.session, turn.actor, turn.now, turn.svc.deadlines
    if kind == "cmd":
        commitment = await commitment_to_decide(session=session, actor=actor, commitment_id=item_id)
        case = await casework.decide_commitment(session=session, commitment=commitment, actor=actor,
                                                approve=approve, now=now, deadlines=deadlines)
        ref = case.ref if case is not None else commitment.ref
        due = commitment.due_on.isoformat()
        if approve:
            await turn.outbox.to_officials(commitment.department_id,
                                           texts.COMMIT_APPROVED_OFFICIAL.format(ref=ref, due=due))
            if case is not None:
                await turn.outbox.to_complainants(case, texts.CITIZEN_COMMITMENT.format(
                    ref=case.ref, due=due, content=texts.esc(commitment.content)))
        else:
            await turn.outbox.to_officials(commitment.department_id, texts.COMMIT_RETURNED_OFFICIAL.format(ref=ref))
        decision = texts.BTN_APPROVE if approve else texts.BTN_RETURN
    elif kind == "exd":
        extension = await extension_to_decide(session=session, actor=actor, extension_id=item_id)
        case = await casework.decide_extension(session=session, extension=extension, actor=actor,
                                               approve=approve, now=now, deadlines=deadlines)
        notice = (texts.EXTENSION_GRANTED.format(ref=case.ref, due=extension.requested_due_on.isoformat())
                  if approve else texts.EXTENSION_DENIED.format(ref=case.ref))
        await turn.outbox.to_officials(case.department_id, notice)
        decision = texts.BTN_GRANT if approve else texts.BTN_DENY
    else:
        record, case = await record_to_decide(session=session, actor=actor, record_id=item_id)
        ref = case.ref if case else str(record.id)
        if kind == "obd":
            await records.decide_objection(session=session, record=record, actor=actor, uphold=approve, now=now)
            decision = texts.BTN_UPHOLD if approve else texts.BTN_OVERRULE
            notice = texts.OBJECTION_DECIDED.format(ref=ref, decision=decision)
        else:
            await records.decide_repair(session=session, record=record, actor=actor, approve=approve, now=now)
            decision = texts.BTN_REPAIR_OK if approve else texts.BTN_REPAIR_NO
            notice = texts.REPAIR_DECIDED.format(ref=ref, decision=decision)
        await turn.outbox.to_officials(record.department_id, notice)
    turn.close_buttons()
    turn.reply(texts.COMMIT_DECIDED.format(decision=decision))


DOMAIN_BY_LABEL = {label: code for code, label in texts.DOMAIN_LABELS.items()}


@door(roles=SUPERVISORS)
async def domain_command(turn: Turn) -> None:
    """Correct a case's domain (/domain REF CODE|中文名); the correction feeds `chengxin lexicon suggest`."""
    args = turn.args
    if len(args) < 2:
        turn.reply(texts.USAGE_DOMAIN)
        return
    case = await case_for(session=turn.session, raw_ref=args[0], actor=turn.actor, for_update=True)
    domain = DOMAIN_BY_LABEL.get(args[1], args[1].lower()[:32])
    await change_domain(session=turn.session, case=case, actor=turn.actor, domain=domain, now=turn.now)
    turn.reply(texts.DOMAIN_CHANGED.format(ref=case.ref, domain=texts.domain_label(domain)))


# --- wiring ------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """The supervisors' case commands and buttons."""
    for name, callback in {
        "case": case_command, "assign": assign_command, "invite": invite_command, "officials": officials_command,
        "unbind": unbind_command, "verify": verify_command, "tolerate": tolerate_command,
        "reject": reject_command, "reopen": reopen_command, "broken": broken_command, "domain": domain_command,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    for codec, callback in ((ASSIGN, assign_button), (EVIDENCE, evidence_button), (DECISION, decision_button),
                            (UNBIND, unbind_button), (VIEW_CASE, view_case_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))
