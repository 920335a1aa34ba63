"""The complaint conversation: text → domain → department → evidence → contact → confirm → case."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import texts
from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.cases import NewCase, assign_case, lock_case, open_case, should_auto_assign
from bot.domain.details import fields_for, parse_answer, prefill
from bot.domain.duplicates import join_case
from bot.domain.departments import department_by_code
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import StaleAction
from bot.domain.roles import SYSTEM, Actor
from bot.services import services
from bot import keyboards
from handlers.base import acting, answer, close_buttons, command_args, refuses_politely
from handlers.notify import Outbox
from handlers.official import new_assignment_outbox
from handlers.views import details_block

MAX_EVIDENCE = 20
MAX_DEPARTMENT_CHOICES = 6


def text_problem(text: str) -> str | None:
    """Why a complaint text cannot be taken, or None when it can."""
    length = len(text.strip())
    if length < texts.MIN_TEXT:
        return texts.TEXT_TOO_SHORT
    if length > texts.MAX_TEXT:
        return texts.TEXT_TOO_LONG.format(length=length, MAX_TEXT=texts.MAX_TEXT)
    return None


def triage_into(draft: Draft, text: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Classify the text and move the draft to the domain step."""
    svc = services(context)
    result = svc.triager.triage(text)
    # A report about a registered commitment (举报未兑现) already knows its department and usually its domain.
    known = draft.data.get("commitment_id") is not None
    drafts.advance(
        draft,
        step=Step.EVIDENCE if known and draft.data.get("domain") else Step.DOMAIN,
        now=svc.clock.now(),
        text=text.strip(),
        classification=result.classification.to_json() | {"confident": result.confident},
        candidates=[[m.code, m.name] for m in result.departments][:MAX_DEPARTMENT_CHOICES],
    )


async def show_step(update: Update, draft: Draft) -> None:
    """Send the prompt of the step the draft is at (also used to resume after a pause or restart)."""
    data, step = draft.data, Step(draft.step)
    if step is Step.TEXT:
        await answer(update, texts.ASK_TEXT)
    elif step is Step.DOMAIN:
        await _show_domain(update, draft)
    elif step is Step.DEPARTMENT:
        candidates = data.get("candidates") or []
        prompt = texts.ASK_DEPARTMENT if candidates else texts.ASK_DEPARTMENT_NONE
        await answer(update, prompt, reply_markup=keyboards.department_choice(draft.id, candidates))
    elif step is Step.DUPLICATE:
        duplicate = data["duplicate"]
        own = duplicate.get("own")
        message = (texts.DUPLICATE_OWN if own else texts.DUPLICATE_FOUND).format(
            ref=duplicate["ref"], department=texts.esc(duplicate["department"]), date=duplicate["date"],
            status=texts.status_label(duplicate["status"]), similarity=duplicate["similarity"])
        await answer(update, message, reply_markup=keyboards.duplicate_choice(draft.id, can_join=not own))
    elif step is Step.DETAILS:
        await _show_detail(update, draft)
    elif step is Step.EVIDENCE:
        received = len(data.get("evidence", []))
        await answer(update, texts.ASK_EVIDENCE, reply_markup=keyboards.evidence_choice(draft.id, received=received))
    elif step is Step.CONTACT:
        await answer(update, texts.ASK_CONTACT, reply_markup=keyboards.contact_choice(draft.id))
    elif step is Step.CONFIRM:
        await answer(update, _summary(draft), reply_markup=keyboards.confirm_choice(draft.id))


async def _show_domain(update: Update, draft: Draft) -> None:
    classification = draft.data["classification"]
    winner = classification["domain"]
    if winner == "other":
        await answer(update, texts.CLASSIFIED_OTHER,
                     reply_markup=keyboards.domain_choice(draft.id, None, offer_other=True))
    elif not classification.get("confident"):
        terms = classification.get("terms") or []
        hint = f"（关键词：{texts.terms_list(terms)}）" if terms else ""
        await answer(update, texts.CLASSIFIED_UNSURE.format(terms_hint=hint),
                     reply_markup=keyboards.domain_choice(draft.id, None, offer_other=True))
    else:
        message = texts.CLASSIFIED.format(
            label=texts.domain_label(winner),
            confidence=classification["confidence"],
            terms=texts.terms_list(classification.get("terms") or []),
        )
        await answer(update, message, reply_markup=keyboards.domain_choice(draft.id, winner, offer_other=False))


def _summary(draft: Draft) -> str:
    data = draft.data
    department = data.get("department_name") or texts.DEPARTMENT_UNKNOWN
    return details_block(data.get("domain"), data.get("details")) + texts.SUMMARY.format(
        domain=texts.domain_label(data["domain"]),
        department=texts.esc(department),
        evidence=len(data.get("evidence", [])),
        contact=texts.YES if data.get("contact") else texts.NO,
        text=texts.excerpt(data["text"], 1500),
    )


@refuses_politely
async def complain_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a complaint (/complain [text] or the 我要投诉 button); resume one left unfinished."""
    typed = " ".join(command_args(context)) if update.message.text.startswith("/") else ""
    async with acting(update, context) as (session, actor):
        draft = await drafts.current_draft(session=session, account_id=actor.account_id)
        if draft is not None and draft.kind == DraftKind.COMPLAINT and not typed:
            await session.commit()
            await answer(update, texts.RESUME)
            await show_step(update, draft)
            return
        if typed and (problem := text_problem(typed)):
            await session.commit()
            await answer(update, problem)
            return
        draft = await drafts.start_draft(
            session=session, account_id=actor.account_id, kind=DraftKind.COMPLAINT, step=Step.TEXT,
            now=services(context).clock.now(),
        )
        if typed:
            triage_into(draft, typed, context)
        await session.commit()
    await show_step(update, draft)


async def complaint_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, actor: Actor, draft: Draft | None
) -> None:
    """A text message while a complaint is being written, or a fresh complaint typed straight in."""
    text = update.message.text
    if draft is None:
        if len(text.strip()) < texts.MIN_TEXT:
            await session.commit()
            await answer(update, texts.SHORT_MESSAGE_HINT, reply_markup=keyboards.main_menu())
            return
        draft = await drafts.start_draft(
            session=session, account_id=actor.account_id, kind=DraftKind.COMPLAINT, step=Step.TEXT,
            now=services(context).clock.now(),
        )
    step = Step(draft.step)
    if step is Step.TEXT:
        if problem := text_problem(text):
            await session.commit()
            await answer(update, problem)
            return
        triage_into(draft, text, context)
        await session.commit()
        await show_step(update, draft)
    elif step is Step.DEPARTMENT:
        await _search_department(update, context, session=session, draft=draft, query=text.strip())
    elif step is Step.DETAILS:
        svc = services(context)
        field = fields_for(draft.data["domain"])[draft.data["detail_index"]]
        values = parse_answer(field, text, svc.deadlines.local_date(svc.clock.now()))
        draft.data = {**draft.data, "details": {**draft.data.get("details", {}), **values}}
        next_detail(draft, context=context)
        await session.commit()
        await show_step(update, draft)
    else:
        await session.commit()
        await answer(update, texts.BUTTON_ONLY)


async def _search_department(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, draft: Draft, query: str
) -> None:
    """The citizen typed a department name: offer the directory entries it could mean."""
    await session.commit()
    found = services(context).triager.search_departments(query[:64], limit=MAX_DEPARTMENT_CHOICES)
    if not found:
        await answer(update, texts.DEPARTMENT_SEARCH_EMPTY.format(query=texts.esc(query[:64])),
                     reply_markup=keyboards.department_choice(draft.id, []))
        return
    await answer(update, texts.DEPARTMENT_SEARCH_RESULTS,
                 reply_markup=keyboards.department_choice(draft.id, [(e.code, e.name) for e in found]))


async def complaint_media(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, draft: Draft | None
) -> None:
    """A photo or document: evidence when the conversation is at that step."""
    if draft is None or Step(draft.step) is not Step.EVIDENCE:
        await session.commit()
        await answer(update, texts.TEXT_ONLY if draft is not None else texts.MEDIA_WITHOUT_CONVERSATION)
        return
    items = list(draft.data.get("evidence", []))
    if len(items) >= MAX_EVIDENCE:
        await session.commit()
        await answer(update, texts.EVIDENCE_LIMIT.format(limit=MAX_EVIDENCE),
                     reply_markup=keyboards.evidence_choice(draft.id, received=len(items)))
        return
    items.append(evidence_item(update.message))
    drafts.advance(draft, step=Step.EVIDENCE, now=services(context).clock.now(), evidence=items)
    await session.commit()
    await answer(update, texts.EVIDENCE_RECEIVED.format(count=len(items)),
                 reply_markup=keyboards.evidence_choice(draft.id, received=len(items)))


def evidence_item(message: Message) -> dict:
    """What we keep of a photo or document: Telegram's file ids, name, type and caption."""
    if message.photo:
        photo = message.photo[-1]
        item = {"kind": "photo", "file_id": photo.file_id, "file_unique_id": photo.file_unique_id}
    else:
        document = message.document
        item = {
            "kind": "document", "file_id": document.file_id, "file_unique_id": document.file_unique_id,
            "file_name": document.file_name, "mime_type": document.mime_type,
        }
    if message.caption:
        item["caption"] = message.caption[: texts.MAX_TEXT]
    return item


@refuses_politely
async def complaint_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any button of the complaint conversation: c:<draft>:<action>[:<value>]."""
    query = update.callback_query
    _, raw_id, action, *rest = query.data.split(":")
    value = rest[0] if rest else ""
    draft_id = int(raw_id)
    svc = services(context)
    async with acting(update, context) as (session, actor):
        draft = await drafts.current_draft(session=session, account_id=actor.account_id)
        now = svc.clock.now()
        if action == "x":
            drafts.require_step(draft, draft_id, *Step)
            await drafts.discard_draft(session=session, account_id=actor.account_id)
            await session.commit()
            await close_buttons(query)
            await answer(update, texts.CANCELLED, reply_markup=keyboards.main_menu())
            return
        if action == "ok":
            await _submit(update, context, session=session, actor=actor, draft_id=draft_id)
            return
        if action == "dom":
            draft = drafts.require_step(draft, draft_id, Step.DOMAIN)
            if value not in texts.DOMAIN_LABELS:
                raise StaleAction("stale")
            known_department = draft.data.get("commitment_id") is not None
            drafts.advance(draft, step=Step.EVIDENCE if known_department else Step.DEPARTMENT, now=now, domain=value)
        elif action == "dep":
            draft = drafts.require_step(draft, draft_id, Step.DEPARTMENT)
            if value == "?":
                await session.commit()
                await query.answer()
                await answer(update, texts.ASK_DEPARTMENT_TYPE)
                return
            if value == "-":
                drafts.advance(draft, step=Step.EVIDENCE, now=now, department=None, department_name=None)
                await after_department(draft, session=session, context=context, department_id=None)
            else:
                department = await department_by_code(session=session, code=value)
                if department is None:
                    raise StaleAction("stale")
                drafts.advance(draft, step=Step.EVIDENCE, now=now, department=department.code,
                               department_name=department.name)
                await after_department(draft, session=session, context=context, department_id=department.id)
        elif action == "dup":
            draft = drafts.require_step(draft, draft_id, Step.DUPLICATE)
            if value == "join":
                await _join_existing(update, context, session=session, actor=actor, draft=draft)
                return
            await after_duplicate(draft, context=context)
        elif action == "det":
            draft = drafts.require_step(draft, draft_id, Step.DETAILS)
            if value == "skip":
                field = fields_for(draft.data["domain"])[draft.data.get("detail_index", 0)]
                dropped = {field.key, "amount_yuan"} if field.key == "amount" else {field.key}
                draft.data = {**draft.data, "details": {k: v for k, v in (draft.data.get("details") or {}).items()
                                                        if k not in dropped}}
            next_detail(draft, context=context)
        elif action == "ev":
            draft = drafts.require_step(draft, draft_id, Step.EVIDENCE)
            drafts.advance(draft, step=Step.CONTACT, now=now)
        elif action == "ct":
            draft = drafts.require_step(draft, draft_id, Step.CONTACT)
            drafts.advance(draft, step=Step.CONFIRM, now=now, contact=value == "1")
        else:
            raise StaleAction("stale")
        await session.commit()
    await asyncio.gather(close_buttons(query), show_step(update, draft))


async def _submit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, actor: Actor, draft_id: int
) -> None:
    """确认提交: take the draft and open the case in one transaction; only then say 已立案."""
    svc = services(context)
    draft = await drafts.claim_for_submit(session=session, draft_id=draft_id)
    if draft.account_id != actor.account_id:
        raise StaleAction("stale")
    data = draft.data
    classification = data["classification"]
    new = NewCase(
        text=data["text"],
        domain=data["domain"],
        suggested_domain=classification["domain"],
        confidence=classification["confidence"],
        terms=classification.get("terms") or [],
        department_code=data.get("department"),
        contact_allowed=bool(data.get("contact")),
        evidence=data.get("evidence", []),
        commitment_id=data.get("commitment_id"),
        details={k: v for k, v in (data.get("details") or {}).items() if k in _detail_keys(data["domain"])} or None,
        fingerprint=svc.triager.fingerprint(data["text"]).to_bytes(),
    )
    now = svc.clock.now()
    case = await open_case(
        session=session, new=new, actor=actor, now=now, prefix=svc.settings.case_prefix, tz=svc.settings.tz,
        daily_limit=svc.settings.daily_case_limit, deadlines=svc.deadlines,
    )
    outbox = Outbox()
    recognised = [code for code, _ in data.get("candidates", [])]
    if should_auto_assign(new, recognised, enabled=svc.policy.auto_assign,
                          min_confidence=svc.policy.auto_assign_min_confidence):
        department = await department_by_code(session=session, code=new.department_code)
        await assign_case(session=session, case=case, department=department, actor=SYSTEM, now=now,
                          deadlines=svc.deadlines)
        await new_assignment_outbox(session, outbox, case, svc)
        outbox.to_account(actor.account, texts.CITIZEN_ASSIGNED.format(ref=case.ref,
                                                                       department=texts.esc(department.name)))
    ref = case.ref
    await session.commit()
    await asyncio.gather(close_buttons(update.callback_query),
                         answer(update, texts.CASE_OPENED.format(ref=ref), reply_markup=keyboards.main_menu()))
    await outbox.send(context)


@refuses_politely
async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leave whatever conversation is under way (/cancel)."""
    async with acting(update, context) as (session, actor):
        discarded = await drafts.discard_draft(session=session, account_id=actor.account_id)
        await session.commit()
    await answer(update, texts.CANCELLED if discarded else texts.NOTHING_TO_CANCEL, reply_markup=keyboards.main_menu())


# --- duplicates and follow-up questions ------------------------------------------------------------


def _detail_keys(domain: str) -> set[str]:
    keys = {f.key for f in fields_for(domain)}
    return keys | ({"amount_yuan"} if "amount" in keys else set())


async def after_department(draft: Draft, *, session: AsyncSession, context: ContextTypes.DEFAULT_TYPE,
                           department_id: int | None) -> None:
    """Offer an existing open case when this looks like a duplicate; otherwise go on to the questions."""
    svc = services(context)
    if department_id is not None and draft.data.get("commitment_id") is None:
        fingerprint = svc.triager.fingerprint(draft.data["text"])
        similar = await svc.duplicates.similar_open_cases(session=session, fingerprint=fingerprint,
                                                          department_id=department_id)
        if similar:
            best = similar[0]
            draft.data = {**draft.data, "duplicate": {
                "ref": best.case.ref, "department": draft.data.get("department_name") or "",
                "date": texts.local_date(best.case.created_at, svc.settings.tz), "status": best.case.status,
                "similarity": f"{best.similarity:.0%}", "own": best.case.complainant_id == draft.account_id,
            }}
            draft.step = Step.DUPLICATE
            return
    await after_duplicate(draft, context=context)


async def after_duplicate(draft: Draft, *, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start the domain's follow-up questions, with what the text already says filled in."""
    svc = services(context)
    fields = fields_for(draft.data.get("domain") or "")
    if not fields:
        drafts.advance(draft, step=Step.EVIDENCE, now=svc.clock.now())
        return
    found = prefill(draft.data["domain"], draft.data["text"], svc.deadlines.local_date(svc.clock.now()))
    drafts.advance(draft, step=Step.DETAILS, now=svc.clock.now(), details=found, detail_index=0)


def next_detail(draft: Draft, *, context: ContextTypes.DEFAULT_TYPE) -> None:
    """On to the next question, or to evidence after the last."""
    index = draft.data.get("detail_index", 0) + 1
    now = services(context).clock.now()
    if index >= len(fields_for(draft.data["domain"])):
        drafts.advance(draft, step=Step.EVIDENCE, now=now)
    else:
        drafts.advance(draft, step=Step.DETAILS, now=now, detail_index=index)


async def _show_detail(update: Update, draft: Draft) -> None:
    fields = fields_for(draft.data["domain"])
    index = draft.data.get("detail_index", 0)
    field = fields[index]
    value = (draft.data.get("details") or {}).get(field.key)
    if value:
        message = texts.DETAIL_CONFIRM.format(n=index + 1, total=len(fields), label=field.label, value=texts.esc(value))
    else:
        message = texts.DETAIL_ASK.format(n=index + 1, total=len(fields), label=field.label,
                                          example=texts.DETAIL_EXAMPLES.get(field.kind, ""))
    await answer(update, message, reply_markup=keyboards.detail_choice(draft.id, has_value=bool(value)))


async def _join_existing(update: Update, context: ContextTypes.DEFAULT_TYPE, *, session: AsyncSession, actor: Actor,
                         draft: Draft) -> None:
    """加入该案件: the citizen becomes a co-complainant of the open case; no second case is opened."""
    svc = services(context)
    case = await lock_case(session=session, ref=draft.data["duplicate"]["ref"])
    await join_case(session=session, case=case, actor=actor, text=draft.data["text"], now=svc.clock.now())
    await drafts.discard_draft(session=session, account_id=actor.account_id)
    ref = case.ref
    await session.commit()
    await close_buttons(update.callback_query)
    await answer(update, texts.JOINED_CASE.format(ref=ref), reply_markup=keyboards.main_menu())
