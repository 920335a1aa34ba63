"""The commitment register (承诺台账) in chat: register, list, look up, report kept or broken, amend."""

from __future__ import annotations

import math
from datetime import date

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import keyboards, texts
from bot.db.models import Commitment, CommitmentVersion
from bot.domain import commitments as register
from bot.domain import drafts
from bot.domain.dates import parse_due_date
from bot.domain.departments import find_departments
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError, Forbidden
from bot.services import Services, services
from handlers.base import acting, answer, close_buttons, command_args, refuses_politely
from handlers.notify import Outbox
from handlers.official import split_ref

PAGE_SIZE = 8


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


@refuses_politely
async def register_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/register 部门 | 期限 | 内容 | 来源 | 金额 | 公开: supervisors register, officials propose."""
    svc = services(context)
    raw = (update.message.text or "").partition(" ")[2]
    fields = [part.strip() for part in raw.split("|")]
    async with acting(update, context) as (session, actor):
        if not (actor.is_supervisor or actor.is_official):
            raise Forbidden("forbidden")
        if len(fields) < 3 or not all(fields[:3]):
            await session.commit()
            await answer(update, texts.USAGE_REGISTER)
            return
        departments = await find_departments(session=session, query=fields[0])
        if len(departments) != 1:
            raise DomainError("department_not_found", query=fields[0][:64])
        today = svc.deadlines.local_date(svc.clock.now())
        due_on = parse_due_date(fields[1], today=today, calendar=svc.deadlines.calendar)
        fields += [""] * (6 - len(fields))
        # The domain a complaint about this promise will carry: classified from its words and source.
        guessed = svc.triager.classifier.classify(f"{fields[2]} {fields[3]}").domain
        new = register.NewCommitment(
            department=departments[0], content=fields[2][:1000], due_on=due_on, source=fields[3] or None,
            amount=register.parse_amount(fields[4]), is_public=fields[5] not in ("不公开", "否", "private"),
            domain=None if guessed == "other" else guessed,
        )
        commitment = await register.register_commitment(session=session, actor=actor, new=new, now=svc.clock.now(),
                                                        deadlines=svc.deadlines)
        outbox = Outbox()
        if commitment.status == "proposed":
            await outbox.to_supervisors(session, context, texts.SUPERVISOR_REGISTER_PROPOSED.format(
                department=texts.esc(new.department.name), ref=commitment.ref, due=due_on.isoformat(),
                content=texts.esc(new.content), source=texts.esc(new.source or "—")),
                reply_markup=_decision("cr", commitment.id, texts.BTN_APPROVE, texts.BTN_RETURN))
        ref, status = commitment.ref, commitment.status
        await session.commit()
    if status == "proposed":
        await answer(update, texts.COMMITMENT_PROPOSED.format(ref=ref))
    else:
        await answer(update, texts.COMMITMENT_REGISTERED.format(
            ref=ref, department=texts.esc(new.department.name), due=due_on.isoformat(), content=texts.esc(new.content)))
    await outbox.send(context)


def _decision(prefix: str, item_id: int, yes: str, no: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(yes, callback_data=f"{prefix}:{item_id}:1"),
                                  Button(no, callback_data=f"{prefix}:{item_id}:0")]])


async def _list(update: Update, context: ContextTypes.DEFAULT_TYPE, query: str, page: int) -> None:
    svc = services(context)
    async with acting(update, context) as (session, actor):
        if query.startswith("rate"):
            await session.commit()
            await _rates(update, context, actor, query[4:].strip())
            return
        overdue = query == "overdue"
        if overdue and not actor.is_supervisor:
            raise Forbidden("forbidden")
        rows, total = await register.list_commitments(
            session=session, actor=actor, words=None if overdue or not query else query[:40],
            overdue_at=svc.clock.now() if overdue else None, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        await session.commit()
    if not total:
        await answer(update, texts.COMMITMENTS_EMPTY)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    scope = f"：{texts.esc(query)}" if query else ""
    lines = [texts.COMMITMENTS_HEADER.format(scope=scope, total=total, page=page, pages=pages)]
    lines += [_line(c) for c in rows]
    buttons = [[Button(c.ref, callback_data=f"cm:{c.ref}")] for c in rows]
    navigation = keyboards.pager(f"cml:{query[:30]}", page, pages)
    if navigation:
        buttons.append(navigation)
    await answer(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons))


async def _rates(update: Update, context: ContextTypes.DEFAULT_TYPE, actor, period: str) -> None:
    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    today = services(context).deadlines.local_date(services(context).clock.now())
    start, end = _month_bounds(period, today)
    async with services(context).db.session() as session:
        rates = await register.fulfilment_rates(session=session, start=start, end=end)
    if not rates:
        await answer(update, texts.RATE_EMPTY)
        return
    lines = [texts.RATE_HEADER.format(start=start.isoformat(), end=end.isoformat())]
    for row in rates:
        rate = "—" if row.rate is None else f"{row.rate:.0%}"
        lines.append(texts.RATE_LINE.format(department=texts.esc(row.department), on_time=row.on_time, late=row.late,
                                            broken=row.broken, open=row.open, rate=rate))
    await answer(update, "\n".join(lines))


def _month_bounds(period: str, today: date) -> tuple[date, date]:
    """'2026-11' → that month; '2026' → that year; empty → this year so far and to its end."""
    try:
        if len(period) == 7:
            year, month = int(period[:4]), int(period[5:7])
            start = date(year, month, 1)
            end = date(year + (month == 12), month % 12 + 1, 1).fromordinal(
                date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1)
            return start, end
        if len(period) == 4:
            return date(int(period), 1, 1), date(int(period), 12, 31)
    except ValueError:
        pass
    return date(today.year, 1, 1), date(today.year, 12, 31)


@refuses_politely
async def commitments_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/commitments [部门或关键词 | overdue | rate [2026-11]]: the register, as the caller may see it."""
    await _list(update, context, " ".join(command_args(context)).strip(), 1)


@refuses_politely
async def commitments_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pages of /commitments (cml:QUERY:PAGE)."""
    await update.callback_query.answer()
    _, rest = update.callback_query.data.split(":", 1)
    query, _, page = rest.rpartition(":")
    await _list(update, context, query, max(1, int(page)))


async def _detail(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str) -> None:
    tz = services(context).settings.tz
    async with acting(update, context) as (session, actor):
        commitment = await register.commitment_by_ref(session=session, raw_ref=raw_ref, actor=actor)
        versions = await register.versions_of(session=session, commitment_id=commitment.id)
        await session.commit()
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
    if actor.is_supervisor and commitment.status == "reported":
        markup = _decision("ck", commitment.id, texts.BTN_CONFIRM_KEPT, texts.BTN_RECORD_BROKEN)
    elif not actor.is_official and not actor.is_supervisor and commitment.status in ("approved", "reported", "broken"):
        markup = InlineKeyboardMarkup([[Button(texts.BTN_REPORT_UNKEPT, callback_data=f"ru:{commitment.id}")]])
    await answer(update, message, reply_markup=markup)


@refuses_politely
async def commitment_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/commitment REF: one commitment with its full version history."""
    args = command_args(context)
    if not args:
        await answer(update, texts.COMMITMENT_NOT_FOUND.format(ref=""))
        return
    await _detail(update, context, args[0])


@refuses_politely
async def commitment_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A commitment reference button (cm:REF)."""
    await update.callback_query.answer()
    await _detail(update, context, update.callback_query.data.split(":", 1)[1])


@refuses_politely
async def fulfilled_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The department reports a promise kept (/fulfilled REF 说明)."""
    svc = services(context)
    ref, note = split_ref(update)
    if not ref or not note:
        await answer(update, texts.USAGE_FULFILLED)
        return
    async with acting(update, context) as (session, actor):
        commitment = await register.commitment_by_ref(session=session, raw_ref=ref, actor=actor)
        await register.report_fulfilment(session=session, commitment=commitment, actor=actor, note=note[:1000],
                                         now=svc.clock.now())
        outbox = Outbox()
        await outbox.to_supervisors(session, context, texts.SUPERVISOR_FULFILMENT.format(
            department=texts.esc(commitment.department.name), ref=commitment.ref, note=texts.esc(note[:1000])),
            reply_markup=_decision("ck", commitment.id, texts.BTN_CONFIRM_KEPT, texts.BTN_RECORD_BROKEN))
        ref = commitment.ref
        await session.commit()
    await answer(update, texts.FULFILMENT_REPORTED.format(ref=ref))
    await outbox.send(context)


async def _conclude(update: Update, context: ContextTypes.DEFAULT_TYPE, commitment_id: int | None, raw_ref: str | None,
                    kept: bool, note: str | None = None) -> None:
    svc = services(context)
    now = svc.clock.now()
    async with acting(update, context) as (session, actor):
        if not actor.is_supervisor:
            raise Forbidden("forbidden")
        if commitment_id is not None:
            commitment = await session.get(Commitment, commitment_id)
            if commitment is None:
                raise DomainError("stale")
        else:
            commitment = await register.commitment_by_ref(session=session, raw_ref=raw_ref, actor=actor)
        outbox = Outbox()
        if kept:
            on_time = await register.confirm_fulfilment(session=session, commitment=commitment, actor=actor, now=now)
            reply = texts.COMMITMENT_KEPT.format(ref=commitment.ref, timing=texts.KEPT_ON_TIME if on_time else texts.KEPT_LATE)
        else:
            await register.record_broken(session=session, commitment=commitment, actor=actor, now=now, note=note)
            reply = texts.COMMITMENT_BROKEN.format(ref=commitment.ref, department=texts.esc(commitment.department.name))
            await outbox.to_officials(session, commitment.department_id,
                                      texts.OFFICIAL_COMMITMENT_BROKEN.format(ref=commitment.ref))
        await session.commit()
    await answer(update, reply)
    await outbox.send(context)


@refuses_politely
async def kept_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """践诺: a supervisor confirms a reported fulfilment (/kept REF)."""
    args = command_args(context)
    if not args:
        await answer(update, texts.USAGE_KEPT)
        return
    await _conclude(update, context, None, args[0], kept=True)


async def broken_commitment(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str, note: str | None) -> None:
    """失信 for a register commitment (/broken CN-… [说明]), called from the shared /broken command."""
    await _conclude(update, context, None, raw_ref, kept=False, note=note)


@refuses_politely
async def conclude_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """确认践诺 / 记为失信 (ck:ID:1|0)."""
    query = update.callback_query
    _, raw_id, verdict = query.data.split(":")
    await close_buttons(query)
    await _conclude(update, context, int(raw_id), None, kept=verdict == "1")


@refuses_politely
async def registration_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """批准 / 退回 an official's proposed register commitment (cr:ID:1|0)."""
    query = update.callback_query
    _, raw_id, verdict = query.data.split(":")
    svc = services(context)
    async with acting(update, context) as (session, actor):
        commitment = await session.get(Commitment, int(raw_id))
        if commitment is None:
            raise DomainError("stale")
        await register.decide_registration(session=session, commitment=commitment, actor=actor, approve=verdict == "1",
                                           now=svc.clock.now(), deadlines=svc.deadlines)
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.COMMIT_DECIDED.format(decision=texts.BTN_APPROVE if verdict == "1" else texts.BTN_RETURN))


@refuses_politely
async def amend_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/amend REF 字段 新值 / 理由: a change needs a reason and a supervisor's approval."""
    svc = services(context)
    ref, rest = split_ref(update)
    change, _, reason = rest.partition("/")
    field_name, _, value = change.strip().partition(" ")
    if not ref or not field_name or not value.strip():
        await answer(update, texts.USAGE_AMEND)
        return
    async with acting(update, context) as (session, actor):
        commitment = await register.commitment_by_ref(session=session, raw_ref=ref, actor=actor)
        old = {"日期": commitment.due_on.isoformat(), "期限": commitment.due_on.isoformat(),
               "内容": commitment.content, "金额": _amount(commitment.amount)}.get(field_name, "")
        version = await register.propose_change(session=session, commitment=commitment, actor=actor,
                                                field_name=field_name, value=value.strip(), reason=reason,
                                                now=svc.clock.now(), deadlines=svc.deadlines)
        new = {"due_on": version.due_on.isoformat(), "content": version.content,
               "amount": _amount(version.amount)}[register.CHANGEABLE[field_name]]
        outbox = Outbox()
        await outbox.to_supervisors(session, context, texts.SUPERVISOR_AMEND.format(
            ref=commitment.ref, department=texts.esc(commitment.department.name), field=field_name,
            old=texts.esc(old), new=texts.esc(new), reason=texts.esc(version.reason)),
            reply_markup=InlineKeyboardMarkup([
                [Button(texts.BTN_CHANGE_WITH_COMPENSATION, callback_data=f"cv:{version.id}:d")],
                [Button(texts.BTN_CHANGE_NO_COMPENSATION, callback_data=f"cv:{version.id}:n")],
                [Button(texts.BTN_CHANGE_REJECT, callback_data=f"cv:{version.id}:r")],
            ]))
        ref, number = commitment.ref, version.version
        await session.commit()
    await answer(update, texts.AMEND_PROPOSED.format(ref=ref, version=number))
    await outbox.send(context)


@refuses_politely
async def amend_decision_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """批准（已决定补偿）/ 批准（无需补偿）/ 驳回 a proposed change (cv:VERSION:d|n|r)."""
    query = update.callback_query
    _, raw_id, verdict = query.data.split(":")
    svc = services(context)
    async with acting(update, context) as (session, actor):
        version = await session.get(CommitmentVersion, int(raw_id))
        if version is None:
            raise DomainError("stale")
        commitment = await register.decide_change(
            session=session, version=version, actor=actor, approve=verdict != "r",
            compensation={"d": "decided", "n": "none"}.get(verdict), now=svc.clock.now(), deadlines=svc.deadlines)
        ref = commitment.ref
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.AMEND_DECIDED.format(
        ref=ref, decision=texts.AMEND_REJECTED if verdict == "r" else texts.AMEND_APPROVED))


@refuses_politely
async def report_unkept_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """举报未兑现 (ru:ID): a complaint already linked to the commitment, department and domain filled in."""
    query = update.callback_query
    svc: Services = services(context)
    async with acting(update, context) as (session, actor):
        commitment = await session.get(Commitment, int(query.data.split(":")[1]))
        if commitment is None or not register.may_view(commitment, actor):
            raise DomainError("commitment_not_found", ref="")
        await drafts.start_draft(
            session=session, account_id=actor.account_id, kind=DraftKind.COMPLAINT, step=Step.TEXT,
            now=svc.clock.now(),
            data={"commitment_id": commitment.id, "commitment_ref": commitment.ref,
                  "department": commitment.department.code, "department_name": commitment.department.name,
                  "domain": commitment.domain},
        )
        ref, department, content = commitment.ref, commitment.department.name, commitment.content
        await session.commit()
    await query.answer()
    await answer(update, texts.REPORT_UNKEPT_ASK.format(ref=ref, department=texts.esc(department),
                                                        content=texts.excerpt(content, 120)))
