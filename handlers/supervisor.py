"""Supervisors (督办) decide cases: assignment to a department, /verify, /tolerate, /reject, /reopen,
/broken, the decisions on commitments, extensions, objections and repairs (buttons under /case, built in
handlers.case_view), and /domain corrections.

Every case a supervisor decides is looked up through the one scope function (`case_for` and
bot.domain.supervision_reads): a regional supervisor gets, for another region's case, the same answer
as for a case that does not exist. Invitations and unbinding are in handlers.access.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Case
from bot.domain import casework, records, scope
from bot.domain.cases import assign_case, case_for, change_domain
from bot.domain.commitments import normalize_commitment_ref
from bot.domain.errors import DomainError
from bot.domain.obligations import open_clocks
from bot.domain.records import record_of_case
from bot.domain.supervision_reads import (
    commitment_to_decide, departments_in_scope, extension_to_decide, record_to_decide,
)
from handlers.codec import Codec, Int, OneOf, Ref, Word
from handlers.commitments import broken_commitment
from handlers.door import SUPERVISORS, Turn, door
from handlers.official import new_assignment_notices

# A department code as the directory has it (the shipped one: city-czj; an imported one may differ).
ASSIGN = Codec("as", Ref(), Word(pattern=r"[^:\s]{1,40}"))
# The decisions offered under the supervisor's /case (built by handlers.case_view, decided here).
_VERDICT = Word(("0", "1"))
COMMITMENT_DECISION = Codec("cmd", Int(), _VERDICT)
EXTENSION_DECISION = Codec("exd", Int(), _VERDICT)
OBJECTION_DECISION = Codec("obd", Int(), _VERDICT)
REPAIR_DECISION = Codec("rpd", Int(), _VERDICT)
DECISION = OneOf(COMMITMENT_DECISION, EXTENSION_DECISION, OBJECTION_DECISION, REPAIR_DECISION)


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
    turn.reply(texts.ASSIGNED.format(ref=case.ref, department=texts.esc(department.name)), durable=True)


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
    turn.reply(await after(turn, case, words), durable=True)


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
    """The supervisors' commands and buttons that decide cases."""
    for name, callback in {
        "assign": assign_command, "verify": verify_command, "tolerate": tolerate_command, "reject": reject_command,
        "reopen": reopen_command, "broken": broken_command, "domain": domain_command,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    for codec, callback in ((ASSIGN, assign_button), (DECISION, decision_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))
