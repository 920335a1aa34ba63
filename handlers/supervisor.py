"""Supervisors (督办): any case in full, the case list, assignment to a department."""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.db.models import Case
from bot.domain.audit import case_events
from bot.domain.cases import assign_case, case_for, evidence_count, list_cases, supplements_of
from bot.domain.departments import find_departments
from bot.domain.errors import Forbidden
from bot.domain.evidence import evidence_of
from bot.domain.lifecycle import Status
from bot.domain.roles import Actor
from bot.services import services
from handlers import keyboards
from handlers.base import acting, answer, command_args, refuses_politely
from handlers.notify import notify_account

PAGE_SIZE = 10


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
        require_supervisor(actor)
        if not args:
            await session.commit()
            await answer(update, texts.USAGE_CASE)
            return
        case = await case_for(session=session, raw_ref=args[0], actor=actor)
        events = await case_events(session=session, case_id=case.id)
        supplements = await supplements_of(session=session, case_id=case.id)
        evidence = await evidence_count(session=session, case_id=case.id)
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
    await answer(update, message, reply_markup=keyboards.supervisor_case_actions(case.ref, has_evidence=evidence > 0))


async def _cases_page(update: Update, context: ContextTypes.DEFAULT_TYPE, status: str | None, page: int) -> None:
    tz = services(context).settings.tz
    async with acting(update, context) as (session, actor):
        require_supervisor(actor)
        cases, total = await list_cases(session=session, status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        await session.commit()
    if total == 0:
        await answer(update, texts.CASES_EMPTY)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    header = texts.CASES_HEADER.format(
        status=f"：{texts.status_label(status)}" if status else "", total=total, page=page, pages=pages
    )
    lines = [header] + [
        texts.CASE_LINE.format(
            ref=c.ref, status=texts.status_label(c.status), domain=texts.domain_label(c.domain),
            date=texts.local_date(c.created_at, tz),
        )
        + (f" · {texts.esc(c.department.name)}" if c.department else "")
        for c in cases
    ]
    await answer(update, "\n".join(lines),
                 reply_markup=keyboards.case_list([c.ref for c in cases], f"cs:{status or '*'}", page, pages))


@refuses_politely
async def cases_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Paginated list of cases, optionally of one status (/cases [status] [page])."""
    args = command_args(context)
    status = None
    page = 1
    for arg in args:
        if arg.isdigit():
            page = max(1, int(arg))
        elif arg in {s.value for s in Status}:
            status = arg
        else:
            async with acting(update, context) as (session, actor):
                require_supervisor(actor)
                await session.commit()
            choices = "、".join(s.value for s in Status)
            await answer(update, texts.UNKNOWN_STATUS.format(status=texts.esc(arg[:40]), choices=choices))
            return
    await _cases_page(update, context, status, page)


@refuses_politely
async def cases_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pages of /cases (cs:STATUS:PAGE)."""
    await update.callback_query.answer()
    _, status, page = update.callback_query.data.split(":")
    await _cases_page(update, context, None if status == "*" else status, max(1, int(page)))


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
        await assign_case(session=session, case=case, department=department, actor=actor, now=svc.clock.now())
        ref, name, complainant = case.ref, department.name, case.complainant
        await session.commit()
    await answer(update, texts.ASSIGNED.format(ref=ref, department=texts.esc(name)))
    await notify_account(context, complainant, texts.CITIZEN_ASSIGNED.format(ref=ref, department=texts.esc(name)))


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
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=None)
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
