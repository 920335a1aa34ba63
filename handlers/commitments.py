"""The commitment register (承诺台账) in chat: register, list, look up, report kept or broken, amend.

Every lookup goes through the one scope function: anyone sees the public register, officials and
supervisors what is in their scope; a decision on a commitment is taken only by a supervisor in whose
scope its department is.
"""

from __future__ import annotations

import math

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Commitment
from bot.domain import commitments as ledger
from bot.domain import drafts, scope
from bot.domain.dates import parse_due_date
from bot.domain.departments import find_departments
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError, Forbidden
from bot.domain.periods import parse_period
from bot.domain.supervision_reads import (
    commitment_by_key, commitment_to_decide, require_decidable, version_to_decide, visible_commitment,
)
from handlers.codec import BadData, Codec, Int, Word
from handlers.door import ANYONE, OFFICIALS, SUPERVISORS, SUPERVISORS_OR_OFFICIALS, Turn, door

PAGE_SIZE = 8
QUERY_LIMIT = 30


class CommitmentRef:
    """A register reference (CN-…)."""

    def parse(self, raw: str) -> str:
        ref = ledger.normalize_commitment_ref(raw) if raw and len(raw) <= 40 else None
        if ref is None:
            raise BadData(raw)
        return ref


class ListQuery:
    """What /commitments was asked for (possibly nothing), as kept in its pager's data."""

    def parse(self, raw: str) -> str:
        if len(raw) > QUERY_LIMIT:
            raise BadData(raw)
        return raw


_YES_NO = Word(("0", "1"))
COMMITMENT = Codec("cm", CommitmentRef())
COMMITMENTS_PAGE = Codec("cml", ListQuery(), Int(1, 100_000))
CONCLUDE = Codec("ck", Int(), _YES_NO)
REGISTRATION = Codec("cr", Int(), _YES_NO)
AMEND_DECISION = Codec("cv", Int(), Word(("d", "n", "r")))
REPORT_UNKEPT = Codec("ru", Int())


def _amount(value) -> str:
    if value is None:
        return "—"
    yuan = float(value)
    return f"{yuan / 10000:g} 万元" if yuan >= 10000 else f"{yuan:g} 元"


def _line(commitment: Commitment) -> str:
    return texts.COMMITMENT_LINE.format(
        ref=commitment.ref, department=texts.esc(commitment.department.name), due=commitment.due_on.isoformat(),
        status=texts.COMMITMENT_STATUS_LABELS.get(commitment.status, commitment.status),
        content=texts.excerpt(commitment.content, 80),
    )


def _decision(codec: Codec, item_id: int, yes: str, no: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(yes, callback_data=codec.build(item_id, 1)),
                                  Button(no, callback_data=codec.build(item_id, 0))]])


@door(roles=SUPERVISORS_OR_OFFICIALS)
async def register_command(turn: Turn) -> None:
    """/register 部门 | 期限 | 内容 | 来源 | 金额 | 公开: supervisors register, officials propose."""
    svc = turn.svc
    fields = [part.strip() for part in turn.rest().split("|")]
    if len(fields) < 3 or not all(fields[:3]):
        turn.reply(texts.USAGE_REGISTER)
        return
    departments = await find_departments(session=turn.session, query=fields[0])
    if len(departments) != 1:
        raise DomainError("department_not_found", query=fields[0][:64])
    due_on = parse_due_date(fields[1], today=svc.deadlines.local_date(turn.now), calendar=svc.deadlines.calendar)
    fields += [""] * (6 - len(fields))
    # The domain a complaint about this promise will carry: classified from its words and source.
    guessed = svc.triager.classifier.classify(f"{fields[2]} {fields[3]}").domain
    new = ledger.NewCommitment(
        department=departments[0], content=fields[2][:1000], due_on=due_on, source=fields[3] or None,
        amount=ledger.parse_amount(fields[4]), is_public=fields[5] not in ("不公开", "否", "private"),
        domain=None if guessed == "other" else guessed,
    )
    if turn.actor.is_supervisor and not scope.may_see_department(turn.actor, new.department):
        raise DomainError("out_of_region", query=fields[0][:64])
    commitment = await ledger.register_commitment(session=turn.session, actor=turn.actor, new=new, now=turn.now,
                                                    deadlines=svc.deadlines)
    if commitment.status == "proposed":
        await turn.outbox.to_supervisors(texts.SUPERVISOR_REGISTER_PROPOSED.format(
            department=texts.esc(new.department.name), ref=commitment.ref, due=due_on.isoformat(),
            content=texts.esc(new.content), source=texts.esc(new.source or "—")), department=new.department,
            reply_markup=_decision(REGISTRATION, commitment.id, texts.BTN_APPROVE, texts.BTN_RETURN))
        turn.reply(texts.COMMITMENT_PROPOSED.format(ref=commitment.ref), durable=True)
    else:
        turn.reply(texts.COMMITMENT_REGISTERED.format(
            ref=commitment.ref, department=texts.esc(new.department.name), due=due_on.isoformat(),
            content=texts.esc(new.content)), durable=True)


async def _list(turn: Turn, query: str, page: int) -> None:
    if query.startswith("rate"):
        await _rates(turn, query[4:].strip())
        return
    overdue = query == "overdue"
    if overdue and not turn.actor.is_supervisor:
        raise Forbidden("forbidden")
    rows, total = await ledger.list_commitments(
        session=turn.session, actor=turn.actor, words=None if overdue or not query else query[:40],
        overdue_at=turn.now if overdue else None, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if not total:
        turn.reply(texts.COMMITMENTS_EMPTY)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    shown = f"：{texts.esc(query)}" if query else ""
    lines = [texts.COMMITMENTS_HEADER.format(scope=shown, total=total, page=page, pages=pages)]
    lines += [_line(c) for c in rows]
    buttons = [[Button(c.ref, callback_data=COMMITMENT.build(c.ref))] for c in rows]
    navigation = keyboards.pager(f"{COMMITMENTS_PAGE.prefix}:{_pager_query(query)}", page, pages)
    if navigation:
        buttons.append(navigation)
    turn.reply("\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons))


def _pager_query(query: str) -> str:
    """The query as the pager keeps it: no ':', at most QUERY_LIMIT characters and 40 bytes."""
    query = " ".join(query.replace(":", " ").split())[:QUERY_LIMIT]
    while len(query.encode()) > 40:
        query = query[:-1]
    return query.strip()


async def _rates(turn: Turn, period: str) -> None:
    if not turn.actor.is_supervisor:
        raise Forbidden("forbidden")
    span = parse_period(period, today=turn.svc.deadlines.local_date(turn.now), tz=turn.svc.settings.tz,
                        default="year")
    start, end = span.start, span.end
    rates = await ledger.fulfilment_rates(session=turn.session, start=start, end=end, actor=turn.actor)
    if not rates:
        turn.reply(texts.RATE_EMPTY)
        return
    lines = [texts.RATE_HEADER.format(start=start.isoformat(), end=end.isoformat())]
    for row in rates:
        rate = "—" if row.rate is None else f"{row.rate:.0%}"
        lines.append(texts.RATE_LINE.format(department=texts.esc(row.department), on_time=row.on_time, late=row.late,
                                            broken=row.broken, open=row.open, rate=rate))
    turn.reply("\n".join(lines))


@door(roles=ANYONE)
async def commitments_command(turn: Turn) -> None:
    """/commitments [部门或关键词 | overdue | rate [2026-11]]: the register, as the caller may see it."""
    await _list(turn, " ".join(turn.args).strip(), 1)


@door(roles=ANYONE, codec=COMMITMENTS_PAGE)
async def commitments_page_button(turn: Turn) -> None:
    """Pages of /commitments (cml:QUERY:PAGE)."""
    query, page = turn.data
    await _list(turn, query, page)


async def _detail(turn: Turn, raw_ref: str) -> None:
    tz, actor = turn.svc.settings.tz, turn.actor
    commitment = await ledger.commitment_by_ref(session=turn.session, raw_ref=raw_ref, actor=actor)
    versions = await ledger.versions_of(session=turn.session, commitment_id=commitment.id)
    history = "\n".join(texts.VERSION_LINE.format(
        version=v.version, when=texts.local_date(v.created_at, tz), due=v.due_on.isoformat(),
        content=texts.excerpt(v.content, 120), amount=f"，{_amount(v.amount)}" if v.amount is not None else "",
        state=texts.VERSION_STATES.get(v.state, v.state), reason=f"，理由：{texts.esc(v.reason)}" if v.reason else "",
        compensation=texts.COMPENSATION_LABELS.get(v.compensation or "", "")) for v in versions)
    message = texts.COMMITMENT_DETAIL.format(
        ref=commitment.ref, version=commitment.version, department=texts.esc(commitment.department.name),
        content=texts.esc(commitment.content), due=commitment.due_on.isoformat(), amount=_amount(commitment.amount),
        source=texts.esc(commitment.source or "—"),
        status=texts.COMMITMENT_STATUS_LABELS.get(commitment.status, commitment.status),
        public="" if commitment.is_public else texts.NOT_PUBLIC,
        fulfilment=texts.FULFILMENT_LINE.format(note=texts.esc(commitment.fulfilment_note))
        if commitment.fulfilment_note else "",
        history=history,
    )
    markup = None
    if actor.is_supervisor and commitment.status == "reported" and _decidable(actor, commitment):
        markup = _decision(CONCLUDE, commitment.id, texts.BTN_CONFIRM_KEPT, texts.BTN_RECORD_BROKEN)
    elif not actor.is_official and not actor.is_supervisor and commitment.status in ("approved", "reported", "broken"):
        markup = InlineKeyboardMarkup([[Button(texts.BTN_REPORT_UNKEPT,
                                               callback_data=REPORT_UNKEPT.build(commitment.id))]])
    turn.reply(message, reply_markup=markup)


def _decidable(actor, commitment: Commitment) -> bool:
    try:
        require_decidable(actor, commitment)
    except DomainError:
        return False
    return True


@door(roles=ANYONE)
async def commitment_command(turn: Turn) -> None:
    """/commitment REF: one commitment with its full version history."""
    if not turn.args:
        turn.reply(texts.COMMITMENT_NOT_FOUND.format(ref=""))
        return
    await _detail(turn, turn.args[0])


@door(roles=ANYONE, codec=COMMITMENT)
async def commitment_button(turn: Turn) -> None:
    """A commitment reference button (cm:REF)."""
    await _detail(turn, turn.data[0])


@door(roles=OFFICIALS)
async def fulfilled_command(turn: Turn) -> None:
    """The department reports a promise kept (/fulfilled REF 说明)."""
    ref, note = turn.ref_and_rest()
    if not ref or not note:
        turn.reply(texts.USAGE_FULFILLED)
        return
    commitment = await ledger.commitment_by_ref(session=turn.session, raw_ref=ref, actor=turn.actor)
    await ledger.report_fulfilment(session=turn.session, commitment=commitment, actor=turn.actor,
                                     note=note[:1000], now=turn.now)
    await turn.outbox.to_supervisors(texts.SUPERVISOR_FULFILMENT.format(
        department=texts.esc(commitment.department.name), ref=commitment.ref, note=texts.esc(note[:1000])),
        department=commitment.department,
        reply_markup=_decision(CONCLUDE, commitment.id, texts.BTN_CONFIRM_KEPT, texts.BTN_RECORD_BROKEN))
    turn.reply(texts.FULFILMENT_REPORTED.format(ref=commitment.ref), durable=True)


async def _conclude(turn: Turn, commitment: Commitment, kept: bool, note: str | None = None) -> None:
    session, actor, now = turn.session, turn.actor, turn.now
    if kept:
        on_time = await ledger.confirm_fulfilment(session=session, commitment=commitment, actor=actor, now=now)
        turn.reply(texts.COMMITMENT_KEPT.format(
            ref=commitment.ref, timing=texts.KEPT_ON_TIME if on_time else texts.KEPT_LATE), durable=True)
    else:
        await ledger.record_broken(session=session, commitment=commitment, actor=actor, now=now, note=note)
        await turn.outbox.to_officials(commitment.department_id,
                                       texts.OFFICIAL_COMMITMENT_BROKEN.format(ref=commitment.ref))
        turn.reply(texts.COMMITMENT_BROKEN.format(ref=commitment.ref,
                                                  department=texts.esc(commitment.department.name)), durable=True)


async def _commitment_to_conclude(turn: Turn, raw_ref: str) -> Commitment:
    commitment = await ledger.commitment_by_ref(session=turn.session, raw_ref=raw_ref, actor=turn.actor)
    require_decidable(turn.actor, commitment)
    return commitment


@door(roles=SUPERVISORS)
async def kept_command(turn: Turn) -> None:
    """践诺: a supervisor confirms a reported fulfilment (/kept REF)."""
    if not turn.args:
        turn.reply(texts.USAGE_KEPT)
        return
    await _conclude(turn, await _commitment_to_conclude(turn, turn.args[0]), kept=True)


async def broken_commitment(turn: Turn, raw_ref: str, note: str | None) -> None:
    """失信 for a register commitment (/broken CN-… [说明]), called from the shared /broken command."""
    await _conclude(turn, await _commitment_to_conclude(turn, raw_ref), kept=False,
                    note=note[:1000] if note else None)


@door(roles=SUPERVISORS, codec=CONCLUDE)
async def conclude_button(turn: Turn) -> None:
    """确认践诺 / 记为失信 (ck:ID:1|0)."""
    commitment_id, verdict = turn.data
    commitment = await commitment_to_decide(session=turn.session, actor=turn.actor, commitment_id=commitment_id)
    turn.close_buttons()
    await _conclude(turn, commitment, kept=verdict == "1")


@door(roles=SUPERVISORS, codec=REGISTRATION)
async def registration_button(turn: Turn) -> None:
    """批准 / 退回 an official's proposed register commitment (cr:ID:1|0)."""
    commitment_id, verdict = turn.data
    commitment = await commitment_to_decide(session=turn.session, actor=turn.actor, commitment_id=commitment_id)
    await ledger.decide_registration(session=turn.session, commitment=commitment, actor=turn.actor,
                                       approve=verdict == "1", now=turn.now, deadlines=turn.svc.deadlines)
    turn.close_buttons()
    turn.reply(texts.COMMIT_DECIDED.format(decision=texts.BTN_APPROVE if verdict == "1" else texts.BTN_RETURN), durable=True)


@door(roles=SUPERVISORS_OR_OFFICIALS)
async def amend_command(turn: Turn) -> None:
    """/amend REF 字段 新值 / 理由: a change needs a reason and a supervisor's approval."""
    ref, rest = turn.ref_and_rest()
    change, _, reason = rest.partition("/")
    field_name, _, value = change.strip().partition(" ")
    if not ref or not field_name or not value.strip():
        turn.reply(texts.USAGE_AMEND)
        return
    commitment = await ledger.commitment_by_ref(session=turn.session, raw_ref=ref, actor=turn.actor)
    if turn.actor.is_supervisor:
        require_decidable(turn.actor, commitment)
    old = {"日期": commitment.due_on.isoformat(), "期限": commitment.due_on.isoformat(),
           "内容": commitment.content, "金额": _amount(commitment.amount)}.get(field_name, "")
    version = await ledger.propose_change(session=turn.session, commitment=commitment, actor=turn.actor,
                                            field_name=field_name, value=value.strip(), reason=reason,
                                            now=turn.now, deadlines=turn.svc.deadlines)
    new = {"due_on": version.due_on.isoformat(), "content": version.content,
           "amount": _amount(version.amount)}[ledger.CHANGEABLE[field_name]]
    await turn.outbox.to_supervisors(texts.SUPERVISOR_AMEND.format(
        ref=commitment.ref, department=texts.esc(commitment.department.name), field=field_name,
        old=texts.esc(old), new=texts.esc(new), reason=texts.esc(version.reason)),
        department=commitment.department,
        reply_markup=InlineKeyboardMarkup([
            [Button(texts.BTN_CHANGE_WITH_COMPENSATION, callback_data=AMEND_DECISION.build(version.id, "d"))],
            [Button(texts.BTN_CHANGE_NO_COMPENSATION, callback_data=AMEND_DECISION.build(version.id, "n"))],
            [Button(texts.BTN_CHANGE_REJECT, callback_data=AMEND_DECISION.build(version.id, "r"))],
        ]))
    turn.reply(texts.AMEND_PROPOSED.format(ref=commitment.ref, version=version.version), durable=True)


@door(roles=SUPERVISORS, codec=AMEND_DECISION)
async def amend_decision_button(turn: Turn) -> None:
    """批准（已决定补偿）/ 批准（无需补偿）/ 驳回 a proposed change (cv:VERSION:d|n|r)."""
    version_id, verdict = turn.data
    version = await version_to_decide(session=turn.session, actor=turn.actor, version_id=version_id)
    commitment = await ledger.decide_change(
        session=turn.session, version=version, actor=turn.actor, approve=verdict != "r",
        compensation={"d": "decided", "n": "none"}.get(verdict), now=turn.now, deadlines=turn.svc.deadlines)
    turn.close_buttons()
    turn.reply(texts.AMEND_DECIDED.format(
        ref=commitment.ref, decision=texts.AMEND_REJECTED if verdict == "r" else texts.AMEND_APPROVED), durable=True)


@door(roles=ANYONE, codec=REPORT_UNKEPT)
async def report_unkept_button(turn: Turn) -> None:
    """举报未兑现 (ru:ID): a complaint already linked to the commitment, department and domain filled in."""
    commitment = await visible_commitment(session=turn.session, actor=turn.actor, commitment_id=turn.data[0])
    await begin_unkept_report(turn, commitment)


async def report_unkept_from_link(turn: Turn, key: str) -> None:
    """/start ru_<id or ref>: the public commitment page's 举报未兑现 link, as the button."""
    commitment = await commitment_by_key(session=turn.session, actor=turn.actor, key=key)
    await begin_unkept_report(turn, commitment)


async def begin_unkept_report(turn: Turn, commitment) -> None:
    await drafts.start_draft(
        session=turn.session, account_id=turn.actor.account_id, kind=DraftKind.COMPLAINT, step=Step.TEXT,
        now=turn.now,
        data={"commitment_id": commitment.id, "commitment_ref": commitment.ref,
              "department": commitment.department.code, "department_name": commitment.department.name,
              "domain": commitment.domain},
    )
    turn.reply(texts.REPORT_UNKEPT_ASK.format(ref=commitment.ref, department=texts.esc(commitment.department.name),
                                              content=texts.excerpt(commitment.content, 120)))


def register(application: Application) -> None:
    """The register's commands and buttons."""
    for name, callback in {
        "register": register_command, "commitments": commitments_command, "commitment": commitment_command,
        "fulfilled": fulfilled_command, "kept": kept_command, "amend": amend_command,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    for codec, callback in ((COMMITMENT, commitment_button), (COMMITMENTS_PAGE, commitments_page_button),
                            (CONCLUDE, conclude_button), (REGISTRATION, registration_button),
                            (AMEND_DECISION, amend_decision_button), (REPORT_UNKEPT, report_unkept_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))
