"""A citizen's own cases: list, status with timeline, supplement, withdraw; and routing of free messages."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.db.models import Case, Draft
from bot.domain import casework, drafts
from bot.domain.obligations import open_clocks
from bot.domain.audit import case_events
from bot.domain.cases import (
    add_evidence,
    add_supplement,
    case_for,
    cases_of_complainant,
    change_status,
    is_open,
    require_own_open_case,
)
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError, InvalidTransition
from bot.domain.roles import Actor
from bot.services import services
from bot import keyboards
from handlers.base import acting, answer, close_buttons, command_args, refuses_politely
from handlers.complaint import complaint_media, complaint_text, evidence_item
from handlers.notify import Outbox
from handlers.official import official_case_view, rectification_evidence

PAGE_SIZE = 5


@refuses_politely
async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text in a private chat: continues the conversation under way, or starts a complaint."""
    async with acting(update, context) as (session, actor):
        draft = await drafts.current_draft(session=session, account_id=actor.account_id)
        if draft is not None and draft.kind == DraftKind.SUPPLEMENT:
            await _supplement_text(update, context, session=session, actor=actor, draft=draft)
        elif draft is not None and draft.kind == DraftKind.FEEDBACK:
            await _unsatisfied_reason(update, context, session=session, actor=actor, draft=draft)
        elif draft is not None and draft.kind == DraftKind.RECTIFICATION:
            await session.commit()
            await answer(update, texts.EVIDENCE_ONLY)
        else:
            await complaint_text(update, context, session=session, actor=actor, draft=draft)


@refuses_politely
async def media_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or document: evidence for the complaint or the case being supplemented."""
    async with acting(update, context) as (session, actor):
        draft = await drafts.current_draft(session=session, account_id=actor.account_id)
        if draft is not None and draft.kind == DraftKind.RECTIFICATION:
            await rectification_evidence(update, context, session=session, actor=actor, draft=draft,
                                         item=evidence_item(update.message))
        elif draft is not None and draft.kind == DraftKind.SUPPLEMENT:
            case = await _supplemented_case(session, actor, draft)
            await add_evidence(session=session, case=case, item=evidence_item(update.message), actor=actor,
                               now=services(context).clock.now())
            ref = case.ref
            await session.commit()
            await answer(update, texts.EVIDENCE_ADDED.format(ref=ref), reply_markup=keyboards.supplement_done(draft.id))
        else:
            await complaint_media(update, context, session=session, draft=draft)


async def unsupported_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice, locations and the like: say what is expected at this point."""
    async with acting(update, context) as (session, actor):
        draft = await drafts.current_draft(session=session, account_id=actor.account_id)
        await session.commit()
    if draft is None:
        await answer(update, texts.UNSUPPORTED)
    elif draft.step == Step.EVIDENCE or draft.kind in (DraftKind.SUPPLEMENT, DraftKind.RECTIFICATION):
        await answer(update, texts.EVIDENCE_ONLY)
    else:
        await answer(update, texts.TEXT_ONLY)


# --- my cases ---------------------------------------------------------------------------------


async def _my_cases_page(update: Update, context: ContextTypes.DEFAULT_TYPE, page: int) -> None:
    tz = services(context).settings.tz
    async with acting(update, context) as (session, actor):
        cases, total = await cases_of_complainant(
            session=session, account_id=actor.account_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        await session.commit()
    if total == 0:
        await answer(update, texts.MY_CASES_EMPTY, reply_markup=keyboards.main_menu())
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = [texts.MY_CASES_HEADER.format(total=total, page=page, pages=pages)]
    lines += [_case_line(case, tz) for case in cases]
    await answer(update, "\n".join(lines),
                 reply_markup=keyboards.case_list([c.ref for c in cases], "my", page, pages))


def _case_line(case: Case, tz) -> str:
    return texts.CASE_LINE.format(
        ref=case.ref, status=texts.status_label(case.status), domain=texts.domain_label(case.domain),
        date=texts.local_date(case.created_at, tz),
    )


@refuses_politely
async def mycases_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the citizen's own cases, newest first (/mycases [page] or 我的投诉)."""
    args = command_args(context) if update.message.text.startswith("/") else []
    page = int(args[0]) if args and args[0].isdigit() and int(args[0]) > 0 else 1
    await _my_cases_page(update, context, page)


@refuses_politely
async def mycases_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """‹ 上一页 / 下一页 › under the case list."""
    await update.callback_query.answer()
    await _my_cases_page(update, context, max(1, int(update.callback_query.data.split(":")[1])))


async def _send_status(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str) -> None:
    tz = services(context).settings.tz
    async with acting(update, context) as (session, actor):
        case = await case_for(session=session, raw_ref=raw_ref, actor=actor)
        events = await case_events(session=session, case_id=case.id)
        await session.commit()
    timeline = "\n".join(
        texts.TIMELINE_LINE.format(time=texts.local_time(e.created_at, tz), label=texts.ACTION_LABELS.get(e.action, e.action))
        for e in events
    )
    message = texts.CASE_STATUS.format(
        ref=case.ref,
        status=texts.status_label(case.status),
        domain=texts.domain_label(case.domain),
        department=texts.esc(case.department.name) if case.department else texts.NO_DEPARTMENT,
        created=texts.local_time(case.created_at, tz),
        text=texts.excerpt(case.text, 300),
        timeline=timeline,
    )
    own = case.complainant_id == actor.account_id
    markup = keyboards.own_case_actions(case.ref) if own and is_open(case) else None
    await answer(update, message, reply_markup=markup)


@refuses_politely
async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One case with its timeline (/status REF); without a reference, offer the latest cases."""
    args = command_args(context) if update.message.text.startswith("/") else []
    async with acting(update, context) as (session, actor):
        await session.commit()
    if args and actor.is_official:
        # Officials get their own, masked view of a case.
        await official_case_view(update, context, args[0])
        return
    if args:
        await _send_status(update, context, args[0])
        return
    async with acting(update, context) as (session, actor):
        cases, _ = await cases_of_complainant(session=session, account_id=actor.account_id, offset=0, limit=PAGE_SIZE)
        await session.commit()
    if not cases:
        await answer(update, texts.USAGE_STATUS + "\n\n" + texts.MY_CASES_EMPTY)
        return
    await answer(update, texts.ASK_REF + "\n\n" + texts.ASK_REF_RECENT,
                 reply_markup=keyboards.case_list([c.ref for c in cases], "my", 1, 1))


@refuses_politely
async def status_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A case reference button (st:REF)."""
    await update.callback_query.answer()
    await _send_status(update, context, update.callback_query.data.split(":", 1)[1])


# --- supplement and withdraw ------------------------------------------------------------------


async def _supplemented_case(session: AsyncSession, actor: Actor, draft: Draft) -> Case:
    case = await session.get(Case, draft.case_id)
    if case is None or not is_open(case):
        await drafts.discard_draft(session=session, account_id=actor.account_id)
        await session.commit()
        raise InvalidTransition("case_closed", ref=case.ref if case else "", status=case.status if case else "closed")
    return case


async def _supplement_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, actor: Actor, draft: Draft
) -> None:
    text = update.message.text
    if len(text) > texts.MAX_TEXT:
        await session.commit()
        await answer(update, texts.TEXT_TOO_LONG.format(length=len(text), MAX_TEXT=texts.MAX_TEXT))
        return
    case = await _supplemented_case(session, actor, draft)
    now = services(context).clock.now()
    await add_supplement(session=session, case=case, text=text.strip(), actor=actor, now=now)
    drafts.advance(draft, step=Step.SUPPLEMENT, now=now)
    ref = case.ref
    await session.commit()
    await answer(update, texts.SUPPLEMENT_SAVED.format(ref=ref), reply_markup=keyboards.supplement_done(draft.id))


async def _start_supplement(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str, text: str) -> None:
    now = services(context).clock.now()
    async with acting(update, context) as (session, actor):
        case = await case_for(session=session, raw_ref=raw_ref, actor=actor, for_update=True)
        if text:
            if len(text) > texts.MAX_TEXT:
                await answer(update, texts.TEXT_TOO_LONG.format(length=len(text), MAX_TEXT=texts.MAX_TEXT))
                return
            await add_supplement(session=session, case=case, text=text, actor=actor, now=now)
            ref = case.ref
            await session.commit()
            await answer(update, texts.SUPPLEMENT_SAVED.format(ref=ref))
            return
        require_own_open_case(case, actor)
        draft = await drafts.start_draft(
            session=session, account_id=actor.account_id, kind=DraftKind.SUPPLEMENT, step=Step.SUPPLEMENT,
            now=now, case_id=case.id,
        )
        ref = case.ref
        await session.commit()
    await answer(update, texts.SUPPLEMENT_ASK.format(ref=ref), reply_markup=keyboards.supplement_done(draft.id))


@refuses_politely
async def supplement_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add text or evidence to one's open case (/supplement REF [text])."""
    args = command_args(context)
    if not args:
        await answer(update, texts.USAGE_SUPPLEMENT)
        return
    text = update.message.text.split(maxsplit=2)[2].strip() if len(args) > 1 else ""
    await _start_supplement(update, context, args[0], text)


@refuses_politely
async def supplement_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """补充材料 under a case's status (sup:REF)."""
    await update.callback_query.answer()
    await _start_supplement(update, context, update.callback_query.data.split(":", 1)[1], "")


@refuses_politely
async def supplement_done_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """补充完毕 (sd:DRAFT): end the supplement conversation."""
    query = update.callback_query
    draft_id = int(query.data.split(":")[1])
    async with acting(update, context) as (session, actor):
        draft = drafts.require_step(
            await drafts.current_draft(session=session, account_id=actor.account_id), draft_id, Step.SUPPLEMENT
        )
        case = await session.get(Case, draft.case_id)
        await drafts.discard_draft(session=session, account_id=actor.account_id)
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.SUPPLEMENT_DONE.format(ref=case.ref), reply_markup=keyboards.main_menu())


async def _ask_withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE, raw_ref: str) -> None:
    async with acting(update, context) as (session, actor):
        case = await case_for(session=session, raw_ref=raw_ref, actor=actor)
        await session.commit()
    if case.complainant_id != actor.account_id:
        await answer(update, texts.FORBIDDEN)
        return
    if not is_open(case):
        await answer(update, texts.CASE_CLOSED_FOR_CHANGE.format(ref=case.ref, status=texts.status_label(case.status)))
        return
    await answer(update, texts.WITHDRAW_ASK.format(ref=case.ref), reply_markup=keyboards.withdraw_confirm(case.ref))


@refuses_politely
async def withdraw_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Withdraw one's own open case (/withdraw REF), after a confirmation button."""
    args = command_args(context)
    if not args:
        await answer(update, texts.USAGE_WITHDRAW)
        return
    await _ask_withdraw(update, context, args[0])


@refuses_politely
async def withdraw_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """撤回投诉 (wd:REF), 确认撤回 (wdy:REF) and 不撤回 (wdn:REF)."""
    query = update.callback_query
    action, ref = query.data.split(":", 1)
    if action == "wd":
        await query.answer()
        await _ask_withdraw(update, context, ref)
        return
    if action == "wdn":
        await close_buttons(query)
        await answer(update, texts.WITHDRAW_KEPT.format(ref=texts.esc(ref)))
        return
    async with acting(update, context) as (session, actor):
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        await change_status(session=session, case=case, action="withdraw", actor=actor,
                            now=services(context).clock.now(), deadlines=services(context).deadlines)
        await session.commit()
    await close_buttons(query)
    await answer(update, texts.WITHDRAWN.format(ref=case.ref))


# --- 回访: satisfaction ------------------------------------------------------------------------


@refuses_politely
async def satisfaction_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """满意 / 基本满意 / 不满意 (sat:REF:RATING); 不满意 asks for the reason, which reopens the case."""
    query = update.callback_query
    _, ref, rating = query.data.split(":")
    svc = services(context)
    now = svc.clock.now()
    async with acting(update, context) as (session, actor):
        case = await case_for(session=session, raw_ref=ref, actor=actor, for_update=True)
        await casework.rate_case(session=session, case=case, actor=actor, rating=rating, now=now)
        if rating == "unsatisfied":
            await drafts.start_draft(session=session, account_id=actor.account_id, kind=DraftKind.FEEDBACK,
                                     step=Step.SUPPLEMENT, now=now, case_id=case.id)
        await session.commit()
    await close_buttons(query)
    if rating == "unsatisfied":
        await answer(update, texts.ASK_UNSATISFIED_REASON.format(days=svc.policy.reopen_window_days))
    else:
        await answer(update, texts.RATED)


async def _unsatisfied_reason(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, actor: Actor, draft: Draft
) -> None:
    """The reason for 不满意: within the window it reopens the case (重办)."""
    svc = services(context)
    text = update.message.text.strip()
    if len(text) > texts.MAX_TEXT:
        await session.commit()
        await answer(update, texts.TEXT_TOO_LONG.format(length=len(text), MAX_TEXT=texts.MAX_TEXT))
        return
    case = await session.get(Case, draft.case_id)
    await drafts.discard_draft(session=session, account_id=actor.account_id)
    outbox = Outbox()
    try:
        await casework.reopen_unsatisfied(session=session, case=case, actor=actor, reason=text, now=svc.clock.now(),
                                          deadlines=svc.deadlines,
                                          window=timedelta(days=svc.policy.reopen_window_days))
    except DomainError:
        # Too late to reopen: the reason is still kept with the rating.
        case.satisfaction_reason = text
        await session.commit()
        raise
    clock = (await open_clocks(session=session, case_id=case.id, kinds=("rectification",)))[0]
    await outbox.to_officials(session, case.department_id, texts.OFFICIAL_UNSATISFIED.format(
        ref=case.ref, reason=texts.esc(text), due=texts.local_date(clock.due_at, svc.settings.tz)))
    ref = case.ref
    await session.commit()
    await answer(update, texts.UNSATISFIED_REOPENED.format(ref=ref))
    await outbox.send(context)
