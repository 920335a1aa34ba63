"""A citizen's own cases: list, status with timeline, supplement, withdraw, rate; and routing of free messages."""

from __future__ import annotations

import math
from datetime import timedelta

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import keyboards, texts
from bot.db.models import Case, Draft
from bot.domain import casework, drafts, scope
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
from bot.domain.casereads import co_complaint_text, linked_commitment_ref, replies_of
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError, InvalidTransition
from bot.domain.obligations import open_clocks
from bot.domain.roles import Role
from handlers.codec import Codec, Int, OneOf, Ref, Word
from handlers.complaint import complaint_media, complaint_text, evidence_item
from handlers.door import Turn, door
from handlers.official import official_case_view, rectification_evidence

PAGE_SIZE = 5
MAX_PAGE = 100_000

MY_PAGE = Codec("my", Int(1, MAX_PAGE))
STATUS = Codec("st", Ref())
SUPPLEMENT = Codec("sup", Ref())
SUPPLEMENT_DONE = Codec("sd", Int())
WITHDRAW = OneOf(Codec("wd", Ref()), Codec("wdy", Ref()), Codec("wdn", Ref()))
SATISFACTION = Codec("sat", Ref(), Word(tuple(casework.RATINGS)))


@door(light=True)
async def text_message(turn: Turn) -> None:
    """Free text in a private chat: continues the conversation under way, or starts a complaint."""
    draft = await turn.current_draft()
    if draft is not None and draft.kind == DraftKind.SUPPLEMENT:
        await _supplement_text(turn, draft)
    elif draft is not None and draft.kind == DraftKind.FEEDBACK:
        await _unsatisfied_reason(turn, draft)
    elif draft is not None and draft.kind == DraftKind.RECTIFICATION:
        turn.reply(texts.EVIDENCE_ONLY)
    else:
        await complaint_text(turn, draft)


@door(light=True)
async def media_message(turn: Turn) -> None:
    """A photo or document: evidence for the complaint, the case being supplemented, or a rectification."""
    draft = await turn.current_draft()
    item = evidence_item(turn.update.message)
    if draft is not None and draft.kind == DraftKind.RECTIFICATION:
        await rectification_evidence(turn, draft, item)
    elif draft is not None and draft.kind == DraftKind.SUPPLEMENT:
        case = await _supplemented_case(turn, draft)
        if case is None:
            return
        await add_evidence(session=turn.session, case=case, item=item, actor=turn.actor, now=turn.now)
        turn.reply(texts.EVIDENCE_ADDED.format(ref=case.ref), reply_markup=keyboards.supplement_done(draft.id))
    else:
        await complaint_media(turn, draft)


@door(light=True)
async def unsupported_message(turn: Turn) -> None:
    """Stickers, voice, locations and the like: say what is expected at this point."""
    draft = await turn.current_draft()
    if draft is None:
        turn.reply(texts.UNSUPPORTED)
    elif draft.step == Step.EVIDENCE or draft.kind in (DraftKind.SUPPLEMENT, DraftKind.RECTIFICATION):
        turn.reply(texts.EVIDENCE_ONLY)
    else:
        turn.reply(texts.TEXT_ONLY)


# --- my cases ---------------------------------------------------------------------------------


async def _my_cases_page(turn: Turn, page: int) -> None:
    tz = turn.svc.settings.tz
    cases, total = await cases_of_complainant(session=turn.session, account_id=turn.actor.account_id,
                                              offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if total == 0:
        turn.reply(texts.MY_CASES_EMPTY, reply_markup=keyboards.main_menu())
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        return await _my_cases_page(turn, pages)
    lines = [texts.MY_CASES_HEADER.format(total=total, page=page, pages=pages)]
    lines += [_case_line(case, tz) for case in cases]
    turn.reply("\n".join(lines), reply_markup=keyboards.case_list([c.ref for c in cases], "my", page, pages))


def _case_line(case: Case, tz) -> str:
    return texts.CASE_LINE.format(
        ref=case.ref, status=texts.status_label(case.status), domain=texts.domain_label(case.domain),
        date=texts.local_date(case.created_at, tz),
    )


def _page_argument(turn: Turn) -> int:
    """/mycases [page]: ASCII digits within range, else the first page (a typo is not worth a refusal)."""
    args = turn.args if turn.text.startswith("/") else []
    raw = args[0] if args else ""
    if raw.isascii() and raw.isdigit() and len(raw) <= 6 and 0 < int(raw) <= MAX_PAGE:
        return int(raw)
    return 1


@door()
async def mycases_command(turn: Turn) -> None:
    """List the citizen's own cases, newest first (/mycases [page] or 我的投诉)."""
    await _my_cases_page(turn, _page_argument(turn))


@door(codec=MY_PAGE)
async def mycases_page_button(turn: Turn) -> None:
    """‹ 上一页 / 下一页 › under the case list."""
    await _my_cases_page(turn, turn.data[0])


async def _send_status(turn: Turn, raw_ref: str) -> None:
    tz = turn.svc.settings.tz
    case = await case_for(session=turn.session, raw_ref=raw_ref, actor=turn.actor)
    events = await case_events(session=turn.session, case_id=case.id)
    own = case.complainant_id == turn.actor.account_id
    timeline = "\n".join(
        texts.TIMELINE_LINE.format(time=texts.local_time(e.created_at, tz),
                                   label=texts.ACTION_LABELS.get(e.action, e.action))
        for e in events
    )
    # A co-complainant sees their own words and the case's progress, never another complainant's text.
    text = case.text if scope.sees_full_text(turn.actor, case) else await co_complaint_text(
        session=turn.session, case_id=case.id, account_id=turn.actor.account_id)
    message = texts.CASE_STATUS.format(
        ref=case.ref,
        status=texts.status_label(case.status),
        domain=texts.domain_label(case.domain),
        department=texts.esc(case.department.name) if case.department else texts.NO_DEPARTMENT,
        created=texts.local_time(case.created_at, tz),
        text=texts.excerpt(text or "", 300),
        timeline=timeline,
    )
    if linked := await linked_commitment_ref(session=turn.session, case=case):
        message = message.replace(texts.TIMELINE_HEADING, texts.COMMITMENT_TEXT_IN_CASE.format(ref=linked)
                                  + "\n\n" + texts.TIMELINE_HEADING, 1)
    replies = await replies_of(session=turn.session, case_id=case.id)
    if replies:
        message += "\n\n" + texts.REPLIES_BLOCK.format(items="\n".join(
            texts.REPLY_LINE.format(time=texts.local_time(r.created_at, tz),
                                    label=texts.REPLY_KIND_LABELS.get(r.kind, r.kind),
                                    text=texts.excerpt(r.text, 1500)) for r in replies))
    markup = keyboards.own_case_actions(case.ref) if own and is_open(case) else None
    turn.reply(message, reply_markup=markup)


@door()
async def status_command(turn: Turn) -> None:
    """One case with its timeline (/status REF); without a reference, offer the latest cases."""
    args = turn.args if turn.text.startswith("/") else []
    if args and turn.actor.role is Role.OFFICIAL:
        # Officials get their own, masked view of a case.
        await official_case_view(turn, args[0])
        return
    if args:
        await _send_status(turn, args[0])
        return
    cases, _ = await cases_of_complainant(session=turn.session, account_id=turn.actor.account_id, offset=0,
                                          limit=PAGE_SIZE)
    if not cases:
        turn.reply(texts.USAGE_STATUS + "\n\n" + texts.MY_CASES_EMPTY)
        return
    turn.reply(texts.ASK_REF + "\n\n" + texts.ASK_REF_RECENT,
               reply_markup=keyboards.case_list([c.ref for c in cases], "my", 1, 1))


@door(codec=STATUS)
async def status_button(turn: Turn) -> None:
    """A case reference button (st:REF)."""
    await _send_status(turn, turn.data[0])


# --- supplement and withdraw ------------------------------------------------------------------


async def _supplemented_case(turn: Turn, draft: Draft) -> Case | None:
    """The case a supplement conversation is about; if it has closed meanwhile, the conversation ends."""
    case = await turn.session.get(Case, draft.case_id)
    if case is None or not is_open(case):
        await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
        refusal = InvalidTransition("case_closed", ref=case.ref if case else "",
                                    status=case.status if case else "closed")
        turn.reply(texts.refusal(refusal.code, refusal.params))
        return None
    return case


async def _supplement_text(turn: Turn, draft: Draft) -> None:
    text = turn.text
    if len(text) > texts.MAX_TEXT:
        turn.reply(texts.TEXT_TOO_LONG.format(length=len(text), MAX_TEXT=texts.MAX_TEXT))
        return
    case = await _supplemented_case(turn, draft)
    if case is None:
        return
    await add_supplement(session=turn.session, case=case, text=text.strip(), actor=turn.actor, now=turn.now)
    drafts.advance(draft, step=Step.SUPPLEMENT, now=turn.now)
    turn.reply(texts.SUPPLEMENT_SAVED.format(ref=case.ref), reply_markup=keyboards.supplement_done(draft.id), durable=True)


async def _start_supplement(turn: Turn, raw_ref: str, text: str) -> None:
    case = await case_for(session=turn.session, raw_ref=raw_ref, actor=turn.actor, for_update=True)
    if text:
        if len(text) > texts.MAX_TEXT:
            turn.reply(texts.TEXT_TOO_LONG.format(length=len(text), MAX_TEXT=texts.MAX_TEXT))
            return
        await add_supplement(session=turn.session, case=case, text=text, actor=turn.actor, now=turn.now)
        turn.reply(texts.SUPPLEMENT_SAVED.format(ref=case.ref))
        return
    require_own_open_case(case, turn.actor)
    draft = await drafts.start_draft(session=turn.session, account_id=turn.actor.account_id,
                                     kind=DraftKind.SUPPLEMENT, step=Step.SUPPLEMENT, now=turn.now, case_id=case.id)
    turn.reply(texts.SUPPLEMENT_ASK.format(ref=case.ref), reply_markup=keyboards.supplement_done(draft.id))


@door()
async def supplement_command(turn: Turn) -> None:
    """Add text or evidence to one's open case (/supplement REF [text])."""
    ref, text = turn.ref_and_rest()
    if not ref:
        turn.reply(texts.USAGE_SUPPLEMENT)
        return
    await _start_supplement(turn, ref, text)


@door(codec=SUPPLEMENT)
async def supplement_button(turn: Turn) -> None:
    """补充材料 under a case's status (sup:REF)."""
    await _start_supplement(turn, turn.data[0], "")


@door(codec=SUPPLEMENT_DONE)
async def supplement_done_button(turn: Turn) -> None:
    """补充完毕 (sd:DRAFT): end the supplement conversation."""
    draft = drafts.require_step(await drafts.current_draft(session=turn.session, account_id=turn.actor.account_id),
                                turn.data[0], Step.SUPPLEMENT)
    case = await turn.session.get(Case, draft.case_id)
    await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    turn.close_buttons()
    turn.reply(texts.SUPPLEMENT_DONE.format(ref=case.ref), reply_markup=keyboards.main_menu())


async def _ask_withdraw(turn: Turn, raw_ref: str) -> None:
    case = await case_for(session=turn.session, raw_ref=raw_ref, actor=turn.actor)
    if case.complainant_id != turn.actor.account_id:
        raise DomainError("forbidden")
    if not is_open(case):
        raise InvalidTransition("case_closed", ref=case.ref, status=case.status)
    turn.reply(texts.WITHDRAW_ASK.format(ref=case.ref), reply_markup=keyboards.withdraw_confirm(case.ref))


@door()
async def withdraw_command(turn: Turn) -> None:
    """Withdraw one's own open case (/withdraw REF), after a confirmation button."""
    if not turn.args:
        turn.reply(texts.USAGE_WITHDRAW)
        return
    await _ask_withdraw(turn, turn.args[0])


@door(codec=WITHDRAW)
async def withdraw_button(turn: Turn) -> None:
    """撤回投诉 (wd:REF), 确认撤回 (wdy:REF) and 不撤回 (wdn:REF)."""
    action, ref = turn.data
    if action == "wd":
        await _ask_withdraw(turn, ref)
        return
    turn.close_buttons()
    if action == "wdn":
        turn.reply(texts.WITHDRAW_KEPT.format(ref=texts.esc(ref)))
        return
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    await change_status(session=turn.session, case=case, action="withdraw", actor=turn.actor, now=turn.now,
                        deadlines=turn.svc.deadlines)
    # Those who joined the case hear that the first complainant withdrew (never who they are).
    from bot.domain.duplicates import co_complainants_of

    for account in await co_complainants_of(session=turn.session, case_id=case.id):
        turn.outbox.to_account(account, texts.CO_COMPLAINANT_WITHDRAWN.format(ref=case.ref))
    turn.reply(texts.WITHDRAWN.format(ref=case.ref), durable=True)


# --- 回访: satisfaction ------------------------------------------------------------------------


@door(codec=SATISFACTION)
async def satisfaction_button(turn: Turn) -> None:
    """满意 / 基本满意 / 不满意 (sat:REF:RATING); 不满意 asks for the reason, which reopens the case."""
    ref, rating = turn.data
    case = await case_for(session=turn.session, raw_ref=ref, actor=turn.actor, for_update=True)
    await casework.rate_case(session=turn.session, case=case, actor=turn.actor, rating=rating, now=turn.now)
    turn.close_buttons()
    if rating == "unsatisfied":
        await drafts.start_draft(session=turn.session, account_id=turn.actor.account_id, kind=DraftKind.FEEDBACK,
                                 step=Step.SUPPLEMENT, now=turn.now, case_id=case.id)
        turn.reply(texts.ASK_UNSATISFIED_REASON.format(days=turn.svc.policy.reopen_window_days))
    else:
        turn.reply(texts.RATED, durable=True)


async def _unsatisfied_reason(turn: Turn, draft: Draft) -> None:
    """The reason for 不满意: within the window it reopens the case (重办); after it, it is only kept."""
    svc = turn.svc
    text = turn.text.strip()
    if len(text) > texts.MAX_TEXT:
        turn.reply(texts.TEXT_TOO_LONG.format(length=len(text), MAX_TEXT=texts.MAX_TEXT))
        return
    case = await turn.session.get(Case, draft.case_id)
    await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    try:
        # The rules are checked before anything is written, so a refusal leaves nothing half-done.
        await casework.reopen_unsatisfied(session=turn.session, case=case, actor=turn.actor, reason=text,
                                          now=turn.now, deadlines=svc.deadlines,
                                          window=timedelta(days=svc.policy.reopen_window_days))
    except DomainError as refusal:
        # Too late to reopen: the reason is still kept with the rating.
        case.satisfaction_reason = text
        turn.reply(texts.refusal(refusal.code, refusal.params))
        return
    clock = (await open_clocks(session=turn.session, case_id=case.id, kinds=("rectification",)))[0]
    await turn.outbox.to_officials(case.department_id, texts.OFFICIAL_UNSATISFIED.format(
        ref=case.ref, reason=texts.esc(text), due=texts.local_date(clock.due_at, svc.settings.tz)))
    turn.reply(texts.UNSATISFIED_REOPENED.format(ref=case.ref), durable=True)


def register(application: Application) -> None:
    """The citizens' commands, menu buttons and case buttons."""
    for name, callback in {"mycases": mycases_command, "status": status_command,
                           "supplement": supplement_command, "withdraw": withdraw_command}.items():
        application.add_handler(CommandHandler(name, callback))
    for label, callback in {texts.BTN_MY_CASES: mycases_command, texts.BTN_STATUS: status_command}.items():
        application.add_handler(MessageHandler(filters.Text([label]), callback))
    for codec, callback in ((MY_PAGE, mycases_page_button), (STATUS, status_button),
                            (SUPPLEMENT, supplement_button), (SUPPLEMENT_DONE, supplement_done_button),
                            (WITHDRAW, withdraw_button), (SATISFACTION, satisfaction_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))


def register_messages(application: Application) -> None:
    """Free messages, tried after every command and button: text, evidence, anything else."""
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text_message))
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, media_message))
    application.add_handler(MessageHandler(filters.ALL & ~filters.COMMAND & ~filters.UpdateType.EDITED,
                                           unsupported_message))
