"""The complaint conversation: text → domain → department → evidence → contact → confirm → case."""

from __future__ import annotations

import re

from telegram import Message
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.cases import NewCase, assign_case, lock_case, open_case, should_auto_assign
from bot.domain.details import fields_for, parse_answer, prefill
from bot.domain.duplicates import join_case
from bot.domain.departments import department_by_code
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import StaleAction
from bot.domain.roles import SYSTEM
from bot import keyboards
from handlers.codec import BadData, Int
from handlers.door import Turn, door
from handlers.official import new_assignment_notices
from handlers.views import details_block

MAX_EVIDENCE = 20
MAX_DEPARTMENT_CHOICES = 6


class ComplaintButtons:
    """c:<draft>:<action>[:<value>], the buttons of the complaint conversation."""

    prefix = "c"
    pattern = r"^c(:|$)"
    ACTIONS = {"x", "ok", "dom", "dep", "dup", "det", "ev", "ct", "new"}
    VALUE = re.compile(r"[A-Za-z0-9_?\-]{0,24}")

    def parse(self, data: str) -> tuple[int, str, str]:
        pieces = data.split(":")
        if len(pieces) not in (3, 4) or pieces[0] != self.prefix or pieces[2] not in self.ACTIONS:
            raise BadData(data)
        value = pieces[3] if len(pieces) == 4 else ""
        if not self.VALUE.fullmatch(value):
            raise BadData(data)
        return Int().parse(pieces[1]), pieces[2], value


BUTTONS = ComplaintButtons()


def text_problem(text: str) -> str | None:
    """Why a complaint text cannot be taken, or None when it can."""
    length = len(text.strip())
    if length < texts.MIN_TEXT:
        return texts.TEXT_TOO_SHORT
    if length > texts.MAX_TEXT:
        return texts.TEXT_TOO_LONG.format(length=length, MAX_TEXT=texts.MAX_TEXT)
    return None


def triage_into(draft: Draft, text: str, turn: Turn) -> None:
    """Classify the text and move the draft to the domain step."""
    svc = turn.svc
    result = svc.triager.triage(text)
    # A report about a registered commitment (举报未兑现) already knows its department and usually its domain.
    known = draft.data.get("commitment_id") is not None
    drafts.advance(
        draft,
        step=Step.EVIDENCE if known and draft.data.get("domain") else Step.DOMAIN,
        now=turn.now,
        text=text.strip(),
        classification=result.classification.to_json() | {"confident": result.confident},
        candidates=[[m.code, m.name] for m in result.departments][:MAX_DEPARTMENT_CHOICES],
    )


def show_step(turn: Turn, draft: Draft) -> None:
    """Send the prompt of the step the draft is at (also used to resume after a pause or restart)."""
    data, step = draft.data, Step(draft.step)
    if step is Step.TEXT:
        turn.reply(texts.ASK_TEXT + texts.ASK_TEXT_PRIVACY)
    elif step is Step.DOMAIN:
        _show_domain(turn, draft)
    elif step is Step.DEPARTMENT:
        candidates = data.get("candidates") or []
        prompt = texts.ASK_DEPARTMENT if candidates else texts.ASK_DEPARTMENT_NONE
        turn.reply(prompt, reply_markup=keyboards.department_choice(draft.id, candidates))
    elif step is Step.DUPLICATE:
        duplicate = data["duplicate"]
        own = duplicate.get("own")
        message = (texts.DUPLICATE_OWN if own else texts.DUPLICATE_FOUND).format(
            ref=duplicate["ref"], department=texts.esc(duplicate["department"]), date=duplicate["date"],
            status=texts.status_label(duplicate["status"]), similarity=duplicate["similarity"])
        turn.reply(message, reply_markup=keyboards.duplicate_choice(draft.id, can_join=not own))
    elif step is Step.DETAILS:
        _show_detail(turn, draft)
    elif step is Step.EVIDENCE:
        received = len(data.get("evidence", []))
        turn.reply(texts.ASK_EVIDENCE, reply_markup=keyboards.evidence_choice(draft.id, received=received))
    elif step is Step.CONTACT:
        turn.reply(texts.ASK_CONTACT, reply_markup=keyboards.contact_choice(draft.id))
    elif step is Step.CONFIRM:
        turn.reply(_summary(draft), reply_markup=keyboards.confirm_choice(draft.id))


def _show_domain(turn: Turn, draft: Draft) -> None:
    classification = draft.data["classification"]
    winner = classification["domain"]
    if winner == "other":
        turn.reply(texts.CLASSIFIED_OTHER,
                     reply_markup=keyboards.domain_choice(draft.id, None, offer_other=True))
    elif not classification.get("confident"):
        terms = classification.get("terms") or []
        hint = f"（关键词：{texts.terms_list(terms)}）" if terms else ""
        turn.reply(texts.CLASSIFIED_UNSURE.format(terms_hint=hint),
                     reply_markup=keyboards.domain_choice(draft.id, None, offer_other=True))
    else:
        message = texts.CLASSIFIED.format(
            label=texts.domain_label(winner),
            confidence=classification["confidence"],
            terms=texts.terms_list(classification.get("terms") or []),
        )
        turn.reply(message, reply_markup=keyboards.domain_choice(draft.id, winner, offer_other=False))


def _summary(draft: Draft) -> str:
    """请确认投诉内容: the heading first, then every answer, the answered follow-up questions last."""
    data = draft.data
    department = data.get("department_name") or texts.DEPARTMENT_UNKNOWN
    linked = texts.COMMITMENT_TEXT_IN_CASE.format(ref=data["commitment_ref"]) + "\n" \
        if data.get("commitment_ref") else ""
    return texts.SUMMARY.format(
        domain=texts.domain_label(data["domain"]),
        department=texts.esc(department),
        evidence=len(data.get("evidence", [])),
        contact=texts.YES if data.get("contact") else texts.NO,
        text=linked + texts.excerpt(data["text"], 1500),
        details=details_block(data.get("domain"), data.get("details")),
    )


@door()
async def complain_command(turn: Turn) -> None:
    """Start a complaint (/complain [text] or the 我要投诉 button); resume one left unfinished."""
    typed = turn.rest() if turn.text.startswith("/") else ""
    draft = await drafts.current_draft(session=turn.session, account_id=turn.actor.account_id)
    if draft is not None and draft.kind == DraftKind.COMPLAINT and not typed:
        turn.reply(texts.RESUME)
        show_step(turn, draft)
        return
    if typed and (problem := text_problem(typed)):
        turn.reply(problem)
        return
    draft = await drafts.start_draft(session=turn.session, account_id=turn.actor.account_id,
                                     kind=DraftKind.COMPLAINT, step=Step.TEXT, now=turn.now)
    if typed:
        triage_into(draft, typed, turn)
    show_step(turn, draft)


async def complaint_text(turn: Turn, draft: Draft | None) -> None:
    """A text message while a complaint is being written, or a fresh complaint typed straight in."""
    text = turn.text
    if draft is None:
        if len(text.strip()) < texts.MIN_TEXT:
            turn.reply(texts.SHORT_MESSAGE_HINT, reply_markup=keyboards.main_menu())
            return
        draft = await drafts.start_draft(session=turn.session, account_id=turn.actor.account_id,
                                         kind=DraftKind.COMPLAINT, step=Step.TEXT, now=turn.now)
    step = Step(draft.step)
    if step is not Step.TEXT and looks_like_new_complaint(turn, text):
        # Taken as a department name or an answer, a new complaint would be lost: ask which one is meant.
        draft.data = {**draft.data, "pending_text": text.strip()}
        turn.reply(texts.NEW_OR_OLD.format(excerpt=texts.excerpt(draft.data.get("text", ""), 40)),
                   reply_markup=keyboards.new_or_old(draft.id))
        return
    if step is Step.TEXT:
        if problem := text_problem(text):
            turn.reply(problem)
            return
        triage_into(draft, text, turn)
        show_step(turn, draft)
    elif step is Step.DEPARTMENT:
        _search_department(turn, draft, text.strip())
    elif step is Step.DETAILS:
        field = fields_for(draft.data["domain"])[draft.data["detail_index"]]
        values = parse_answer(field, text, turn.svc.deadlines.local_date(turn.now))
        draft.data = {**draft.data, "details": {**draft.data.get("details", {}), **values}}
        next_detail(draft, turn)
        show_step(turn, draft)
    else:
        turn.reply(texts.BUTTON_ONLY)


NEW_COMPLAINT_MIN = 30


def looks_like_new_complaint(turn: Turn, text: str) -> bool:
    """Long enough to be a complaint rather than a name or an answer, and about a domain's matters."""
    if len(text.strip()) < NEW_COMPLAINT_MIN or text_problem(text):
        return False
    return bool(turn.svc.triager.triage(text).classification.terms)


def _search_department(turn: Turn, draft: Draft, query: str) -> None:
    """The citizen typed a department name: offer the directory entries it could mean."""
    found = turn.svc.triager.search_departments(query[:64], limit=MAX_DEPARTMENT_CHOICES)
    if not found:
        turn.reply(texts.DEPARTMENT_SEARCH_EMPTY.format(query=texts.esc(query[:64])),
                   reply_markup=keyboards.department_choice(draft.id, []))
        return
    turn.reply(texts.DEPARTMENT_SEARCH_RESULTS,
               reply_markup=keyboards.department_choice(draft.id, [(e.code, e.name) for e in found]))


async def complaint_media(turn: Turn, draft: Draft | None) -> None:
    """A photo or document: evidence when the conversation is at that step."""
    if draft is None or Step(draft.step) is not Step.EVIDENCE:
        turn.reply(texts.TEXT_ONLY if draft is not None else texts.MEDIA_WITHOUT_CONVERSATION)
        return
    items = list(draft.data.get("evidence", []))
    if len(items) >= MAX_EVIDENCE:
        turn.reply(texts.EVIDENCE_LIMIT.format(limit=MAX_EVIDENCE),
                   reply_markup=keyboards.evidence_choice(draft.id, received=len(items)))
        return
    items.append(evidence_item(turn.update.message))
    drafts.advance(draft, step=Step.EVIDENCE, now=turn.now, evidence=items)
    turn.reply(texts.EVIDENCE_RECEIVED.format(count=len(items)),
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


@door(codec=BUTTONS)
async def complaint_button(turn: Turn) -> None:
    """Any button of the complaint conversation: c:<draft>:<action>[:<value>]."""
    draft_id, action, value = turn.data
    session, now = turn.session, turn.now
    draft = await drafts.current_draft(session=session, account_id=turn.actor.account_id)
    # Each step's prompt replaces the last one in place; the summary before 确认提交 shows every answer.
    turn.replace_pressed()
    if action == "x":
        drafts.require_step(draft, draft_id, *Step)
        await drafts.discard_draft(session=session, account_id=turn.actor.account_id)
        turn.reply(texts.CANCELLED, reply_markup=keyboards.main_menu())
        return
    if action == "ok":
        await _submit(turn, draft_id)
        return
    if action == "new":
        draft = drafts.require_step(draft, draft_id, *Step)
        pending = draft.data.get("pending_text")
        if value == "start" and pending:
            draft = await drafts.start_draft(session=session, account_id=turn.actor.account_id,
                                             kind=DraftKind.COMPLAINT, step=Step.TEXT, now=now)
            triage_into(draft, pending, turn)
        else:
            draft.data = {k: v for k, v in draft.data.items() if k != "pending_text"}
        show_step(turn, draft)
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
            turn.close = turn.edit = False  # the choices stay: the citizen may still pick one after typing
            turn.reply(texts.ASK_DEPARTMENT_TYPE)
            return
        if value == "-":
            drafts.advance(draft, step=Step.EVIDENCE, now=now, department=None, department_name=None)
            await after_department(draft, turn, department_id=None)
        else:
            department = await department_by_code(session=session, code=value)
            if department is None:
                raise StaleAction("stale")
            drafts.advance(draft, step=Step.EVIDENCE, now=now, department=department.code,
                           department_name=department.name)
            await after_department(draft, turn, department_id=department.id)
    elif action == "dup":
        draft = drafts.require_step(draft, draft_id, Step.DUPLICATE)
        if value == "join":
            await _join_existing(turn, draft)
            return
        after_duplicate(draft, turn)
    elif action == "det":
        draft = drafts.require_step(draft, draft_id, Step.DETAILS)
        if value == "skip":
            field = fields_for(draft.data["domain"])[draft.data.get("detail_index", 0)]
            dropped = {field.key, "amount_yuan"} if field.key == "amount" else {field.key}
            draft.data = {**draft.data, "details": {k: v for k, v in (draft.data.get("details") or {}).items()
                                                    if k not in dropped}}
        next_detail(draft, turn)
    elif action == "ev":
        draft = drafts.require_step(draft, draft_id, Step.EVIDENCE)
        drafts.advance(draft, step=Step.CONTACT, now=now)
    elif action == "ct":
        draft = drafts.require_step(draft, draft_id, Step.CONTACT)
        drafts.advance(draft, step=Step.CONFIRM, now=now, contact=value == "1")
    else:
        raise StaleAction("stale")
    show_step(turn, draft)


async def _submit(turn: Turn, draft_id: int) -> None:
    """确认提交: take the draft and open the case in one transaction; 已立案 is said after the commit."""
    svc, session, actor = turn.svc, turn.session, turn.actor
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
    case = await open_case(
        session=session, new=new, actor=actor, now=turn.now, prefix=svc.settings.case_prefix, tz=svc.settings.tz,
        daily_limit=svc.settings.daily_case_limit, deadlines=svc.deadlines,
    )
    turn.reply(texts.CASE_OPENED.format(ref=case.ref), reply_markup=keyboards.main_menu(), durable=True)
    recognised = [code for code, _ in data.get("candidates", [])]
    if should_auto_assign(new, recognised, enabled=svc.policy.auto_assign,
                          min_confidence=svc.policy.auto_assign_min_confidence):
        department = await department_by_code(session=session, code=new.department_code)
        await assign_case(session=session, case=case, department=department, actor=SYSTEM, now=turn.now,
                          deadlines=svc.deadlines)
        await new_assignment_notices(turn, case)
        turn.outbox.to_account(actor.account, texts.CITIZEN_ASSIGNED.format(
            ref=case.ref, department=texts.esc(department.name)))


@door()
async def cancel_command(turn: Turn) -> None:
    """Leave whatever conversation is under way (/cancel)."""
    discarded = await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    turn.reply(texts.CANCELLED if discarded else texts.NOTHING_TO_CANCEL, reply_markup=keyboards.main_menu())


# --- duplicates and follow-up questions ------------------------------------------------------------


def _detail_keys(domain: str) -> set[str]:
    keys = {f.key for f in fields_for(domain)}
    return keys | ({"amount_yuan"} if "amount" in keys else set())


async def after_department(draft: Draft, turn: Turn, *, department_id: int | None) -> None:
    """Offer an existing open case when this looks like a duplicate; otherwise go on to the questions."""
    svc, session = turn.svc, turn.session
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
    after_duplicate(draft, turn)


def after_duplicate(draft: Draft, turn: Turn) -> None:
    """Start the domain's follow-up questions, with what the text already says filled in."""
    fields = fields_for(draft.data.get("domain") or "")
    if not fields:
        drafts.advance(draft, step=Step.EVIDENCE, now=turn.now)
        return
    found = prefill(draft.data["domain"], draft.data["text"], turn.svc.deadlines.local_date(turn.now))
    drafts.advance(draft, step=Step.DETAILS, now=turn.now, details=found, detail_index=0)


def next_detail(draft: Draft, turn: Turn) -> None:
    """On to the next question, or to evidence after the last."""
    index = draft.data.get("detail_index", 0) + 1
    now = turn.now
    if index >= len(fields_for(draft.data["domain"])):
        drafts.advance(draft, step=Step.EVIDENCE, now=now)
    else:
        drafts.advance(draft, step=Step.DETAILS, now=now, detail_index=index)


def _show_detail(turn: Turn, draft: Draft) -> None:
    fields = fields_for(draft.data["domain"])
    index = draft.data.get("detail_index", 0)
    field = fields[index]
    value = (draft.data.get("details") or {}).get(field.key)
    if value:
        message = texts.DETAIL_CONFIRM.format(n=index + 1, total=len(fields), label=field.label, value=texts.esc(value))
    else:
        message = texts.DETAIL_ASK.format(n=index + 1, total=len(fields), label=field.label,
                                          example=texts.DETAIL_EXAMPLES.get(field.kind, ""))
    turn.reply(message, reply_markup=keyboards.detail_choice(draft.id, has_value=bool(value)))


async def _join_existing(turn: Turn, draft: Draft) -> None:
    """加入该案件: the citizen becomes a co-complainant of the open case; no second case is opened."""
    case = await lock_case(session=turn.session, ref=draft.data["duplicate"]["ref"])
    await join_case(session=turn.session, case=case, actor=turn.actor, text=draft.data["text"], now=turn.now)
    await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    turn.reply(texts.JOINED_CASE.format(ref=case.ref), reply_markup=keyboards.main_menu())


def register(application: Application) -> None:
    """The complaint conversation: /complain, 我要投诉, /cancel and its buttons (free text is routed by citizen)."""
    application.add_handler(CommandHandler("complain", complain_command))
    application.add_handler(CommandHandler("cancel", cancel_command))
    application.add_handler(MessageHandler(filters.Text([texts.BTN_COMPLAIN]), complain_command))
    application.add_handler(CallbackQueryHandler(complaint_button, pattern=BUTTONS.pattern))
