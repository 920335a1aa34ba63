"""Officials (承办人): bind, see their department's tasks, accept or dispute, reply, commit, rectify, extend,
object to a record or apply for its repair. They never learn who filed a case."""

from __future__ import annotations

from telegram import BotCommandScopeChat
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Case, Obligation
from bot.domain import casework, drafts, records
from bot.domain.audit import case_events
from bot.domain.cases import add_evidence, case_for, evidence_count, masked_for_officials, supplements_of
from bot.domain.dates import parse_due_date, split_date_and_text
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError
from bot.domain.evidence import evidence_of
from bot.domain.obligations import open_clocks
from bot.domain.officials import bind_account, record_bind_failure
from bot.domain.tasks import department_tasks
from handlers import commands
from handlers.codec import Codec, Int, OneOf, Ref, Word
from handlers.door import ANYONE, OFFICIALS, Turn, door
from handlers.views import days_left_text, details_block, due_text

MAX_REPLY = 2000
TASKS_SHOWN = 40

ACCEPT = Codec("acc", Ref())
DISPUTE = OneOf(Codec("dsp", Ref()), Codec("dspr", Ref(), Word(tuple(texts.DISPUTE_REASONS))))
EVIDENCE_FINISHED = Codec("ef", Int())


@door(roles=ANYONE)
async def bind_command(turn: Turn) -> None:
    """Bind this account with a one-time invite code (/bind CODE)."""
    if not turn.args:
        turn.reply(texts.USAGE_BIND)
        return
    try:
        invite = await bind_account(session=turn.session, actor=turn.actor, code=turn.args[0][:64], now=turn.now)
    except DomainError as refusal:
        # A wrong code counts towards the lock-out, so the failure is saved and the refusal only replied.
        if refusal.code != "bind_locked":
            await record_bind_failure(session=turn.session, account_id=turn.actor.account_id, now=turn.now)
        turn.reply(texts.refusal(refusal.code, refusal.params))
        return
    role = "supervisor" if invite.role == "supervisor" else "official"
    chat_id, bot = turn.update.effective_chat.id, turn.context.bot
    turn.after_commit.append(lambda: bot.set_my_commands(commands.menu(role), scope=BotCommandScopeChat(chat_id)))
    if invite.role == "supervisor":
        turn.reply(texts.BOUND_SUPERVISOR)
    else:
        department = invite.department.name if invite.department else ""
        turn.reply(texts.BOUND_OFFICIAL.format(department=texts.esc(department),
                                               head=texts.HEAD_MARK if invite.is_head else ""))


@door(roles=OFFICIALS)
async def tasks_command(turn: Turn) -> None:
    """The department's open cases, nearest deadline first (/tasks)."""
    department, tasks = await department_tasks(session=turn.session,
                                               department_id=turn.actor.account.department_id)
    if not tasks:
        turn.reply(texts.TASKS_EMPTY.format(department=texts.esc(department.name)))
        return
    lines = [texts.TASKS_HEADER.format(department=texts.esc(department.name), count=len(tasks))]
    for task in tasks[:TASKS_SHOWN]:
        if task.due_at is not None:
            lines.append(texts.TASK_LINE.format(
                ref=task.ref, status=texts.status_label(task.status), clock=texts.CLOCK_LABELS[task.clock],
                due=due_text(turn.svc, task.due_at), left=days_left_text(turn.svc, task.due_at, turn.now)))
        else:
            lines.append(texts.TASK_LINE_NO_CLOCK.format(ref=task.ref, status=texts.status_label(task.status)))
    if len(tasks) > TASKS_SHOWN:
        lines.append(texts.MORE_ITEMS.format(n=len(tasks) - TASKS_SHOWN))
    turn.reply("\n".join(lines))


async def official_case_view(turn: Turn, raw_ref: str) -> None:
    """What an official sees of a case: masked text, clocks, timeline — never the complainant.

    A case still waiting for acceptance carries 受理 / 有异议, so an official bound after the assignment
    card went out can accept it here.
    """
    svc, session = turn.svc, turn.session
    tz = svc.settings.tz
    case = await case_for(session=session, raw_ref=raw_ref, actor=turn.actor)
    clocks = await open_clocks(session=session, case_id=case.id)
    events = await case_events(session=session, case_id=case.id)
    supplements = await supplements_of(session=session, case_id=case.id)
    evidence = await evidence_count(session=session, case_id=case.id)
    clock_lines = "；".join(
        texts.CLOCK_LINE.format(kind=texts.CLOCK_LABELS[c.kind], due=due_text(svc, c.due_at),
                                left=days_left_text(svc, c.due_at, turn.now))
        for c in clocks if c.department_id == case.department_id
    ) or texts.NO_CLOCKS
    supplement_block = ""
    if supplements:
        items = "\n".join(f"{texts.local_time(s.created_at, tz)}  {texts.excerpt(s.text_masked, 300)}"
                          for s in supplements)
        supplement_block = texts.SUPPLEMENTS_BLOCK.format(items=items)
    timeline = "\n".join(
        f"{texts.local_time(e.created_at, tz)}  {texts.ACTION_LABELS.get(e.action, e.action)}" for e in events
    )
    view = texts.OFFICIAL_CASE_DETAIL.format(
        ref=case.ref, status=texts.status_label(case.status), domain=texts.domain_label(case.domain),
        clocks=clock_lines, evidence=evidence, text=texts.excerpt(case.text_masked, 2000),
        supplements=supplement_block, timeline=timeline,
    ) + details_block(case.domain, case.details, mask=_masker(case))
    markup = keyboards.accept_or_dispute(case.ref) if case.status == "assigned" else None
    turn.reply(view, reply_markup=markup)


@door(roles=OFFICIALS, codec=ACCEPT)
async def accept_case_button(turn: Turn) -> None:
    """受理 (acc:REF): one acceptance, however many officials press it."""
    await _accept(turn, turn.data[0])
    turn.close_buttons()


@door(roles=OFFICIALS)
async def accept_command(turn: Turn) -> None:
    """受理 by command (/accept REF), for a case whose card came before the official was bound."""
    if not turn.args:
        turn.reply(texts.USAGE_ACCEPT)
        return
    await _accept(turn, turn.args[0])


async def _accept(turn: Turn, raw_ref: str) -> None:
    case = await case_for(session=turn.session, raw_ref=raw_ref, actor=turn.actor, for_update=True)
    if case.status != "assigned":
        turn.alert(texts.ACCEPTED_BY_OTHER.format(ref=case.ref))
        return
    await casework.accept_case(session=turn.session, case=case, actor=turn.actor, now=turn.now,
                               deadlines=turn.svc.deadlines)
    reply_clock = (await open_clocks(session=turn.session, case_id=case.id, kinds=("reply",)))[0]
    await turn.outbox.to_complainants(case, texts.CITIZEN_ACCEPTED.format(ref=case.ref))
    turn.reply(texts.ACCEPTED.format(ref=case.ref, due=due_text(turn.svc, reply_clock.due_at)), durable=True)


@door(roles=OFFICIALS, codec=DISPUTE)
async def dispute_case_button(turn: Turn) -> None:
    """有异议 (dsp:REF) offers the reasons; a reason (dspr:REF:CODE) sends the case back to the supervisors."""
    prefix, ref, *reason = turn.data
    if prefix == "dsp":
        case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor)
        turn.reply(texts.ASK_DISPUTE_REASON.format(ref=case.ref), reply_markup=keyboards.dispute_reasons(case.ref))
        return
    turn.close_buttons()
    await _dispute(turn, ref, texts.DISPUTE_REASONS[reason[0]])


@door(roles=OFFICIALS)
async def dispute_command(turn: Turn) -> None:
    """Dispute an assignment with a reason in words (/dispute REF REASON)."""
    ref, reason = turn.ref_and_rest()
    if not ref or not reason:
        turn.reply(texts.USAGE_DISPUTE)
        return
    await _dispute(turn, ref, reason[:500])


async def _dispute(turn: Turn, raw_ref: str, reason: str) -> None:
    case = await case_for(session=turn.session, raw_ref=raw_ref, actor=turn.actor, for_update=True)
    department = case.department
    await casework.dispute_case(session=turn.session, case=case, actor=turn.actor, reason=reason, now=turn.now,
                                deadlines=turn.svc.deadlines)
    await turn.outbox.to_supervisors(texts.SUPERVISOR_DISPUTE.format(
        ref=case.ref, department=texts.esc(department.name), reason=texts.esc(reason)),
        department=department, reply_markup=keyboards.insist(case.ref, department.code))
    turn.reply(texts.DISPUTED.format(ref=case.ref), durable=True)


def _ref_and_text(turn: Turn, usage: str) -> tuple[str | None, str]:
    """REF and the text after it (/reply, /rectified), or (None, "") once the official was told what is wrong."""
    ref, text = turn.ref_and_rest()
    if not ref or not text:
        turn.reply(usage)
        return None, ""
    if len(text) > MAX_REPLY:
        turn.reply(texts.REPLY_TOO_LONG.format(length=len(text), limit=MAX_REPLY))
        return None, ""
    return ref, text


@door(roles=OFFICIALS)
async def reply_command(turn: Turn) -> None:
    """Answer the complainant through the bot (/reply REF TEXT); queued in the same transaction."""
    ref, text = _ref_and_text(turn, texts.USAGE_REPLY)
    if ref is None:
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    await casework.reply_to_case(session=turn.session, case=case, actor=turn.actor, text=text, now=turn.now,
                                 deadlines=turn.svc.deadlines)
    await turn.outbox.to_complainants(case, texts.CITIZEN_REPLY.format(ref=case.ref, text=texts.esc(text)))
    turn.reply(texts.REPLY_SENT.format(ref=case.ref), durable=True)


def parse_date_args(turn: Turn, rest: str):
    """Split `DATE TEXT`, parse the date on the working-day calendar; DateProblem when unreadable."""
    date_part, text = split_date_and_text(rest)
    today = turn.now.astimezone(turn.svc.settings.tz).date()
    return parse_due_date(date_part or rest.split(maxsplit=1)[0] if rest else "", today=today,
                          calendar=turn.svc.deadlines.calendar), text


async def _dated_request(turn: Turn, usage: str, propose) -> None:
    """Shared shape of /commit and /extend: `REF DATE TEXT`, the case held, the date parsed; `propose` makes
    the request and returns the notice for the supervisors in scope of the case's department, the buttons
    they decide it with, and the reply to the official."""
    ref, rest = turn.ref_and_rest()
    if not ref or not rest:
        turn.reply(usage)
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    due_on, text = parse_date_args(turn, rest)
    if not text:
        turn.reply(usage)
        return
    notice, buttons, reply = await propose(turn, case, due_on, text)
    await turn.outbox.to_supervisors(notice, department=case.department, reply_markup=buttons)
    turn.reply(reply, durable=True)


async def _propose_commitment(turn: Turn, case: Case, due_on, text: str):
    commitment = await casework.propose_commitment(session=turn.session, case=case, actor=turn.actor,
                                                   content=text[:1000], due_on=due_on, now=turn.now)
    due, content = due_on.isoformat(), texts.esc(commitment.content)
    return (texts.SUPERVISOR_COMMIT.format(department=texts.esc(case.department.name), ref=case.ref, due=due,
                                           content=content),
            keyboards.commitment_decision(commitment.id), texts.COMMIT_PROPOSED.format(due=due, content=content))


async def _request_extension(turn: Turn, case: Case, due_on, text: str):
    extension = await casework.request_extension(session=turn.session, case=case, actor=turn.actor, due_on=due_on,
                                                 reason=text[:500], now=turn.now, deadlines=turn.svc.deadlines)
    clock = await turn.session.get(Obligation, extension.obligation_id)
    kind, due = texts.CLOCK_LABELS[clock.kind], due_on.isoformat()
    return (texts.SUPERVISOR_EXTENSION.format(department=texts.esc(case.department.name), ref=case.ref, kind=kind,
                                              current=due_text(turn.svc, clock.due_at), due=due,
                                              reason=texts.esc(extension.reason)),
            keyboards.extension_decision(extension.id), texts.EXTENSION_REQUESTED.format(kind=kind, due=due))


@door(roles=OFFICIALS)
async def commit_command(turn: Turn) -> None:
    """Register a commitment: what will be done by when (/commit REF DATE TEXT); a supervisor approves it."""
    await _dated_request(turn, texts.USAGE_COMMIT, _propose_commitment)


@door(roles=OFFICIALS)
async def extend_command(turn: Turn) -> None:
    """Ask for more time (/extend REF DATE REASON); only a supervisor can grant it."""
    await _dated_request(turn, texts.USAGE_EXTEND, _request_extension)


@door(roles=OFFICIALS)
async def rectified_command(turn: Turn) -> None:
    """Report rectification done (/rectified REF TEXT); evidence may follow as photos or documents."""
    ref, text = _ref_and_text(turn, texts.USAGE_RECTIFIED)
    if ref is None:
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    await casework.report_rectification(session=turn.session, case=case, actor=turn.actor, text=text, now=turn.now,
                                        deadlines=turn.svc.deadlines)
    draft = await drafts.start_draft(session=turn.session, account_id=turn.actor.account_id,
                                     kind=DraftKind.RECTIFICATION, step=Step.SUPPLEMENT, now=turn.now,
                                     case_id=case.id)
    await turn.outbox.to_complainants(case, texts.CITIZEN_RECTIFIED.format(ref=case.ref, text=texts.esc(text)))
    await turn.outbox.to_supervisors(texts.SUPERVISOR_RECTIFIED.format(
        ref=case.ref, department=texts.esc(case.department.name)), department=case.department)
    turn.reply(texts.RECTIFIED.format(ref=case.ref), reply_markup=keyboards.evidence_finished(draft.id), durable=True)


async def rectification_evidence(turn: Turn, draft, item: dict) -> None:
    """A photo or document an official sends after /rectified."""
    case = await turn.session.get(Case, draft.case_id)
    await add_evidence(session=turn.session, case=case, item=item, actor=turn.actor, now=turn.now)
    turn.reply(texts.RECTIFY_EVIDENCE_ADDED.format(ref=case.ref), reply_markup=keyboards.evidence_finished(draft.id))


async def _record_action(turn: Turn, usage: str, apply, notice: str, done: str, decision_keyboard) -> None:
    ref, text = turn.ref_and_rest()
    if not ref or not text:
        turn.reply(usage)
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor)
    record = await records.record_of_case(session=turn.session, case_id=case.id)
    if record is None or record.department_id != turn.actor.account.department_id:
        raise DomainError("no_record", ref=case.ref)
    await apply(session=turn.session, record=record, actor=turn.actor, text=text[:1000], now=turn.now)
    await turn.outbox.to_supervisors(notice.format(
        department=texts.esc(record.department.name), ref=case.ref, reason=texts.esc(text[:1000]),
        evidence=texts.esc(text[:1000])), department=record.department, reply_markup=decision_keyboard(record.id))
    turn.reply(done)


@door(roles=OFFICIALS)
async def objection_command(turn: Turn) -> None:
    """异议申诉 against a dishonesty record (/objection REF REASON)."""
    async def apply(*, session, record, actor, text, now):
        await records.file_objection(session=session, record=record, actor=actor, reason=text, now=now)

    await _record_action(turn, texts.USAGE_OBJECTION, apply, texts.SUPERVISOR_OBJECTION, texts.OBJECTION_FILED,
                         keyboards.objection_decision)


@door(roles=OFFICIALS)
async def repair_command(turn: Turn) -> None:
    """信用修复 of a dishonesty record after rectification (/repair REF EVIDENCE)."""
    async def apply(*, session, record, actor, text, now):
        await records.apply_for_repair(session=session, record=record, actor=actor, evidence=text, now=now)

    await _record_action(turn, texts.USAGE_REPAIR, apply, texts.SUPERVISOR_REPAIR, texts.REPAIR_FILED,
                         keyboards.repair_decision)


@door(roles=OFFICIALS, codec=EVIDENCE_FINISHED)
async def evidence_finished_button(turn: Turn) -> None:
    """证据发送完毕 (ef:DRAFT): the official is done sending rectification evidence."""
    drafts.require_step(await drafts.current_draft(session=turn.session, account_id=turn.actor.account_id),
                        turn.data[0], Step.SUPPLEMENT)
    await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    turn.close_buttons()
    turn.reply(texts.RECTIFY_EVIDENCE_DONE)


def _masker(case: Case):
    """The one masking function with this case's complainant's names, for what the department reads."""
    return lambda text: masked_for_officials(text, case.complainant)


async def new_assignment_notices(turn: Turn, case: Case) -> None:
    """Every official of the department hears of a newly assigned case, with its evidence (all masked)."""
    accept = (await open_clocks(session=turn.session, case_id=case.id, kinds=("accept",)))[0]
    message = texts.NEW_ASSIGNMENT.format(
        ref=case.ref, domain=texts.domain_label(case.domain), due=due_text(turn.svc, accept.due_at),
        evidence=await evidence_count(session=turn.session, case_id=case.id),
        text=texts.excerpt(case.text_masked, 1500),
    ) + ("\n\n" + details_block(case.domain, case.details, mask=_masker(case)).strip() if case.details else "")
    officials = await turn.outbox.to_officials(case.department_id, message,
                                               reply_markup=keyboards.accept_or_dispute(case.ref))
    items = await evidence_of(session=turn.session, case_id=case.id)
    for official in officials:
        turn.outbox.evidence_to(official, items)


def register(application: Application) -> None:
    """The officials' commands and buttons."""
    for name, callback in {
        "bind": bind_command, "tasks": tasks_command, "accept": accept_command, "reply": reply_command,
        "commit": commit_command, "rectified": rectified_command, "extend": extend_command,
        "dispute": dispute_command, "objection": objection_command, "repair": repair_command,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    for codec, callback in ((ACCEPT, accept_case_button), (DISPUTE, dispute_case_button),
                            (EVIDENCE_FINISHED, evidence_finished_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))

