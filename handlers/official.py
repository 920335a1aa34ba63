"""Officials (承办人): bind, see their department's tasks, accept or dispute, reply, commit, rectify, extend,
object to a record or apply for its repair. They never learn who filed a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.db.models import Case, Department, Obligation
from bot.domain import casework, drafts, records
from bot.domain.audit import case_events
from bot.domain.cases import add_evidence, case_for, evidence_count, supplements_of
from bot.domain.dates import parse_due_date, split_date_and_text
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError
from bot.domain.evidence import evidence_of
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.obligations import open_clocks
from bot.domain.officials import bind_account, record_bind_failure
from bot.domain.roles import Actor
from bot.services import Services, services
from bot import keyboards
from handlers.base import acting, answer, close_buttons, command_args, refuses_politely
from handlers.notify import Outbox
from handlers.views import details_block

MAX_REPLY = 2000


def require_official(actor: Actor) -> None:
    if not actor.is_official:
        raise DomainError("not_official")


def days_left_text(svc: Services, due_at: datetime) -> str:
    today = svc.clock.now().astimezone(svc.settings.tz).date()
    left = svc.deadlines.calendar.working_days_between(today, svc.deadlines.local_date(due_at))
    if left > 0:
        return texts.DAYS_LEFT.format(n=left)
    if left == 0:
        return texts.DUE_TODAY
    return texts.DAYS_OVERDUE.format(n=-left)


def due_text(svc: Services, due_at: datetime) -> str:
    return texts.local_date(due_at, svc.settings.tz)


def split_ref(update: Update) -> tuple[str, str]:
    """`/cmd REF rest of the line` → (REF, rest); both may be empty."""
    parts = (update.message.text or "").split(maxsplit=2)
    return (parts[1] if len(parts) > 1 else ""), (parts[2].strip() if len(parts) > 2 else "")


@refuses_politely
async def bind_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Bind this account with a one-time invite code (/bind CODE)."""
    args = command_args(context)
    if not args:
        await answer(update, texts.USAGE_BIND)
        return
    now = services(context).clock.now()
    async with acting(update, context) as (session, actor):
        try:
            invite = await bind_account(session=session, actor=actor, code=args[0], now=now)
        except DomainError as refusal:
            if refusal.code != "bind_locked":
                await record_bind_failure(session=session, account_id=actor.account_id, now=now)
            await session.commit()
            raise
        department = invite.department.name if invite.department else ""
        role = invite.role
        is_head = invite.is_head
        await session.commit()
    if role == "supervisor":
        await answer(update, texts.BOUND_SUPERVISOR)
    else:
        await answer(update, texts.BOUND_OFFICIAL.format(department=texts.esc(department),
                                                         head=texts.HEAD_MARK if is_head else ""))


@refuses_politely
async def tasks_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The department's open cases, nearest deadline first (/tasks)."""
    svc = services(context)
    async with acting(update, context) as (session, actor):
        require_official(actor)
        department = await session.get(Department, actor.account.department_id)
        nearest = (
            select(Obligation.case_id, Obligation.kind, Obligation.due_at)
            .where(Obligation.department_id == department.id, Obligation.state == "open",
                   Obligation.case_id.is_not(None))
            .order_by(Obligation.due_at)
        )
        clocks: dict[int, tuple[str, datetime]] = {}
        for case_id, kind, due_at in (await session.execute(nearest)).all():
            clocks.setdefault(case_id, (kind, due_at))
        cases = (await session.scalars(
            select(Case).where(Case.department_id == department.id, Case.status.in_(OPEN_STATUSES))
        )).all()
        await session.commit()
    if not cases:
        await answer(update, texts.TASKS_EMPTY.format(department=texts.esc(department.name)))
        return
    far_future = datetime.max.replace(tzinfo=svc.settings.tz)
    ordered = sorted(cases, key=lambda c: (clocks.get(c.id, ("", far_future))[1], c.id))
    lines = [texts.TASKS_HEADER.format(department=texts.esc(department.name), count=len(ordered))]
    for case in ordered[:40]:
        if case.id in clocks:
            kind, due_at = clocks[case.id]
            lines.append(texts.TASK_LINE.format(
                ref=case.ref, status=texts.status_label(case.status), clock=texts.CLOCK_LABELS[kind],
                due=due_text(svc, due_at), left=days_left_text(svc, due_at),
            ))
        else:
            lines.append(texts.TASK_LINE_NO_CLOCK.format(ref=case.ref, status=texts.status_label(case.status)))
    await answer(update, "\n".join(lines))


async def official_case_view(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str) -> None:
    """What an official sees of a case: masked text, clocks, timeline — never the complainant."""
    svc = services(context)
    tz = svc.settings.tz
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=raw_ref, actor=actor)
        clocks = await open_clocks(session=session, case_id=case.id)
        events = await case_events(session=session, case_id=case.id)
        supplements = await supplements_of(session=session, case_id=case.id)
        evidence = await evidence_count(session=session, case_id=case.id)
        await session.commit()
    clock_lines = "；".join(
        texts.CLOCK_LINE.format(kind=texts.CLOCK_LABELS[c.kind], due=due_text(svc, c.due_at),
                                left=days_left_text(svc, c.due_at))
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
    await answer(update, details_block(case.domain, case.details) + texts.OFFICIAL_CASE_DETAIL.format(
        ref=case.ref, status=texts.status_label(case.status), domain=texts.domain_label(case.domain),
        clocks=clock_lines, evidence=evidence, text=texts.excerpt(case.text_masked, 2000),
        supplements=supplement_block, timeline=timeline,
    ))


@refuses_politely
async def accept_case_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """受理 (acc:REF): one acceptance, however many officials press it."""
    query = update.callback_query
    svc = services(context)
    outbox = Outbox()
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=query.data.split(":", 1)[1], actor=actor, for_update=True)
        if case.status != "assigned":
            await session.commit()
            await query.answer(texts.ACCEPTED_BY_OTHER.format(ref=case.ref), show_alert=True)
            return
        await casework.accept_case(session=session, case=case, actor=actor, now=svc.clock.now(),
                                   deadlines=svc.deadlines)
        reply_clock = (await open_clocks(session=session, case_id=case.id, kinds=("reply",)))[0]
        await outbox.to_complainants(session, case, texts.CITIZEN_ACCEPTED.format(ref=case.ref))
        ref = case.ref
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.ACCEPTED.format(ref=ref, due=due_text(svc, reply_clock.due_at)))
    await outbox.send(context)


@refuses_politely
async def dispute_case_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """有异议 (dsp:REF) offers the reasons; a reason (dspr:REF:CODE) sends the case back to the supervisors."""
    query = update.callback_query
    parts = query.data.split(":")
    if parts[0] == "dsp":
        async with acting(update, context) as (session, actor):
            require_official(actor)
            case = await case_for(session=session, raw_ref=parts[1], actor=actor)
            await session.commit()
        await query.answer()
        await answer(update, texts.ASK_DISPUTE_REASON.format(ref=case.ref),
                     reply_markup=keyboards.dispute_reasons(case.ref))
        return
    await close_buttons(query)
    await _dispute(update, context, parts[1], texts.DISPUTE_REASONS.get(parts[2], texts.DISPUTE_REASONS["other"]))


@refuses_politely
async def dispute_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dispute an assignment with a reason in words (/dispute REF REASON)."""
    ref, reason = split_ref(update)
    if not ref or not reason:
        await answer(update, texts.USAGE_DISPUTE)
        return
    await _dispute(update, context, ref, reason[:500])


async def _dispute(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str, reason: str) -> None:
    svc = services(context)
    outbox = Outbox()
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=raw_ref, actor=actor, for_update=True)
        department = case.department
        await casework.dispute_case(session=session, case=case, actor=actor, reason=reason, now=svc.clock.now(),
                                    deadlines=svc.deadlines)
        await outbox.to_supervisors(session, context, texts.SUPERVISOR_DISPUTE.format(
            ref=case.ref, department=texts.esc(department.name), reason=texts.esc(reason)),
            reply_markup=keyboards.insist(case.ref, department.code))
        ref = case.ref
        await session.commit()
    await answer(update, texts.DISPUTED.format(ref=ref))
    await outbox.send(context)


async def _ref_and_text(update: Update, usage: str) -> tuple[str | None, str]:
    """REF and the text after it (/reply, /rectified), or (None, "") once the official was told what is wrong."""
    ref, text = split_ref(update)
    if not ref or not text:
        await answer(update, usage)
        return None, ""
    if len(text) > MAX_REPLY:
        await answer(update, texts.REPLY_TOO_LONG.format(length=len(text), limit=MAX_REPLY))
        return None, ""
    return ref, text


@refuses_politely
async def reply_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the complainant through the bot (/reply REF TEXT)."""
    svc = services(context)
    ref, text = await _ref_and_text(update, texts.USAGE_REPLY)
    if ref is None:
        return
    outbox = Outbox()
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        await casework.reply_to_case(session=session, case=case, actor=actor, text=text, now=svc.clock.now(),
                                     deadlines=svc.deadlines)
        await outbox.to_complainants(session, case, texts.CITIZEN_REPLY.format(ref=case.ref, text=texts.esc(text)))
        ref = case.ref
        await session.commit()
    await answer(update, texts.REPLY_SENT.format(ref=ref))
    await outbox.send(context)


def parse_date_args(svc: Services, rest: str):
    """Split `DATE TEXT`, parse the date on the working-day calendar; DateProblem when unreadable."""
    date_part, text = split_date_and_text(rest)
    today = svc.clock.now().astimezone(svc.settings.tz).date()
    return parse_due_date(date_part or rest.split(maxsplit=1)[0] if rest else "", today=today,
                          calendar=svc.deadlines.calendar), text


async def _dated_request(update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str, act) -> None:
    """Shared shape of /commit and /extend: `REF DATE TEXT`, the case held, the date parsed, then `act`,
    which returns the reply; what it queued for others is sent after the commit."""
    svc = services(context)
    ref, rest = split_ref(update)
    if not ref or not rest:
        await answer(update, usage)
        return
    outbox = Outbox()
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        due_on, text = parse_date_args(svc, rest)
        if not text:
            await session.commit()
            await answer(update, usage)
            return
        reply = await act(session=session, actor=actor, case=case, due_on=due_on, text=text, outbox=outbox, svc=svc)
        await session.commit()
    await answer(update, reply)
    await outbox.send(context)


@refuses_politely
async def commit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Register a commitment: what will be done by when (/commit REF DATE TEXT); a supervisor approves it."""
    async def act(*, session, actor, case, due_on, text, outbox, svc):
        commitment = await casework.propose_commitment(session=session, case=case, actor=actor,
                                                       content=text[:1000], due_on=due_on, now=svc.clock.now())
        await outbox.to_supervisors(session, context, texts.SUPERVISOR_COMMIT.format(
            department=texts.esc(case.department.name), ref=case.ref, due=due_on.isoformat(),
            content=texts.esc(commitment.content)), reply_markup=keyboards.commitment_decision(commitment.id))
        return texts.COMMIT_PROPOSED.format(due=due_on.isoformat(), content=texts.esc(commitment.content))

    await _dated_request(update, context, texts.USAGE_COMMIT, act)


@refuses_politely
async def rectified_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Report rectification done (/rectified REF TEXT); evidence may follow as photos or documents."""
    svc = services(context)
    ref, text = await _ref_and_text(update, texts.USAGE_RECTIFIED)
    if ref is None:
        return
    outbox = Outbox()
    now = svc.clock.now()
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        await casework.report_rectification(session=session, case=case, actor=actor, text=text, now=now,
                                            deadlines=svc.deadlines)
        draft = await drafts.start_draft(session=session, account_id=actor.account_id, kind=DraftKind.RECTIFICATION,
                                         step=Step.SUPPLEMENT, now=now, case_id=case.id)
        await outbox.to_complainants(session, case, texts.CITIZEN_RECTIFIED.format(ref=case.ref, text=texts.esc(text)))
        await outbox.to_supervisors(session, context, texts.SUPERVISOR_RECTIFIED.format(
            ref=case.ref, department=texts.esc(case.department.name)))
        ref = case.ref
        await session.commit()
    await answer(update, texts.RECTIFIED.format(ref=ref), reply_markup=keyboards.evidence_finished(draft.id))
    await outbox.send(context)


async def rectification_evidence(update: Update, context: ContextTypes.DEFAULT_TYPE, *, session, actor,
                                 draft, item: dict) -> None:
    """A photo or document an official sends after /rectified."""
    case = await session.get(Case, draft.case_id)
    await add_evidence(session=session, case=case, item=item, actor=actor, now=services(context).clock.now())
    ref = case.ref
    await session.commit()
    await answer(update, texts.RECTIFY_EVIDENCE_ADDED.format(ref=ref), reply_markup=keyboards.evidence_finished(draft.id))


@refuses_politely
async def extend_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for more time (/extend REF DATE REASON); only a supervisor can grant it."""
    async def act(*, session, actor, case, due_on, text, outbox, svc):
        extension = await casework.request_extension(session=session, case=case, actor=actor, due_on=due_on,
                                                     reason=text[:500], now=svc.clock.now(), deadlines=svc.deadlines)
        clock = await session.get(Obligation, extension.obligation_id)
        kind = texts.CLOCK_LABELS[clock.kind]
        await outbox.to_supervisors(session, context, texts.SUPERVISOR_EXTENSION.format(
            department=texts.esc(case.department.name), ref=case.ref, kind=kind, current=due_text(svc, clock.due_at),
            due=due_on.isoformat(), reason=texts.esc(extension.reason)),
            reply_markup=keyboards.extension_decision(extension.id))
        return texts.EXTENSION_REQUESTED.format(kind=kind, due=due_on.isoformat())

    await _dated_request(update, context, texts.USAGE_EXTEND, act)


async def _record_action(update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str, apply, notice: str,
                         done: str, decision_keyboard) -> None:
    svc = services(context)
    ref, text = split_ref(update)
    if not ref or not text:
        await answer(update, usage)
        return
    async with acting(update, context) as (session, actor):
        require_official(actor)
        case = await case_for(session=session, raw_ref=ref, actor=actor)
        record = await records.record_of_case(session=session, case_id=case.id)
        if record is None or record.department_id != actor.account.department_id:
            raise DomainError("no_record", ref=case.ref)
        await apply(session=session, record=record, actor=actor, text=text[:1000], now=svc.clock.now())
        outbox = Outbox()
        await outbox.to_supervisors(session, context, notice.format(
            department=texts.esc(record.department.name), ref=case.ref, reason=texts.esc(text[:1000]),
            evidence=texts.esc(text[:1000])), reply_markup=decision_keyboard(record.id))
        await session.commit()
    await answer(update, done)
    await outbox.send(context)


@refuses_politely
async def objection_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """异议申诉 against a dishonesty record (/objection REF REASON)."""
    async def apply(*, session, record, actor, text, now):
        await records.file_objection(session=session, record=record, actor=actor, reason=text, now=now)

    await _record_action(update, context, texts.USAGE_OBJECTION, apply, texts.SUPERVISOR_OBJECTION,
                         texts.OBJECTION_FILED, keyboards.objection_decision)


@refuses_politely
async def repair_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """信用修复 of a dishonesty record after rectification (/repair REF EVIDENCE)."""
    async def apply(*, session, record, actor, text, now):
        await records.apply_for_repair(session=session, record=record, actor=actor, evidence=text, now=now)

    await _record_action(update, context, texts.USAGE_REPAIR, apply, texts.SUPERVISOR_REPAIR,
                         texts.REPAIR_FILED, keyboards.repair_decision)


@refuses_politely
async def evidence_finished_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """证据发送完毕 (ef:DRAFT): the official is done sending rectification evidence."""
    query = update.callback_query
    async with acting(update, context) as (session, actor):
        drafts.require_step(await drafts.current_draft(session=session, account_id=actor.account_id),
                            int(query.data.split(":")[1]), Step.SUPPLEMENT)
        await drafts.discard_draft(session=session, account_id=actor.account_id)
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.RECTIFY_EVIDENCE_DONE)


async def new_assignment_outbox(session, outbox: Outbox, case: Case, svc: Services) -> None:
    """Every official of the department hears of a newly assigned case, with its evidence."""
    accept = (await open_clocks(session=session, case_id=case.id, kinds=("accept",)))[0]
    message = texts.NEW_ASSIGNMENT.format(
        ref=case.ref, domain=texts.domain_label(case.domain), due=due_text(svc, accept.due_at),
        evidence=await evidence_count(session=session, case_id=case.id), text=texts.excerpt(case.text_masked, 1500),
    ) + ("\n\n" + details_block(case.domain, case.details).strip() if case.details else "")
    officials = await outbox.to_officials(session, case.department_id, message,
                                          reply_markup=keyboards.accept_or_dispute(case.ref))
    items = await evidence_of(session=session, case_id=case.id)
    for official in officials:
        outbox.evidence_to(official, items)
