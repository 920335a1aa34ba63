"""The complaint conversation: text → domain → department → evidence → contact → confirm → case.

This module routes: /complain, /cancel, the texts and files typed during the conversation and its
buttons. What each step asks and how an answer moves the draft on is `handlers/complaint_steps.py`;
submitting and joining an open case is `handlers/complaint_submit.py`.
"""

from __future__ import annotations

import re

from telegram import Message
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import keyboards, texts
from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.departments import department_by_code
from bot.domain.details import fields_for, parse_answer
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import StaleAction
from handlers.codec import BadData, Int
from handlers.complaint_steps import (after_department, after_duplicate, looks_like_new_complaint, next_detail,
                                      search_department, show_step, text_problem, triage_into)
from handlers.complaint_submit import join_existing, submit
from handlers.door import Turn, door

MAX_EVIDENCE = 20



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


@door(light=True)
async def complain_command(turn: Turn) -> None:
    """Start a complaint (/complain [text] or the 我要投诉 button); resume one left unfinished."""
    typed = turn.rest() if turn.text.startswith("/") else ""
    draft = await turn.current_draft()
    if draft is not None and draft.kind == DraftKind.COMPLAINT and not typed:
        turn.reply(texts.RESUME)
        show_step(turn, draft)
        return
    if typed and (problem := text_problem(typed)):
        turn.reply(problem)
        return
    draft = await turn.start_draft(kind=DraftKind.COMPLAINT, step=Step.TEXT)
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
        draft = await turn.start_draft(kind=DraftKind.COMPLAINT, step=Step.TEXT)
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
        search_department(turn, draft, text.strip())
    elif step is Step.DETAILS:
        field = fields_for(draft.data["domain"])[draft.data["detail_index"]]
        values = parse_answer(field, text, turn.svc.deadlines.local_date(turn.now))
        draft.data = {**draft.data, "details": {**draft.data.get("details", {}), **values}}
        next_detail(draft, turn)
        show_step(turn, draft)
    else:
        turn.reply(texts.BUTTON_ONLY)



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


def advances_only(data: tuple) -> bool:
    """The buttons that only move the draft on, tried in the door's Core mode; 取消, 确认提交, 新投诉, a named
    department (its directory entry, the duplicate search) and 加入该案件 need a session."""
    _, action, value = data
    return action in ("dom", "det", "ev", "ct") or (action == "dep" and value in ("-", "?")) or (
        action == "dup" and value != "join")


def light_button(data: tuple) -> bool:
    """The buttons tried in the door's Core mode: those that only move the draft on, and 确认提交 and 取消,
    which get their session there on demand (the submit opens the case through the ORM)."""
    return advances_only(data) or data[1] in ("ok", "x")


@door(codec=BUTTONS, light=light_button, on_demand=True)
async def complaint_button(turn: Turn) -> None:
    """Any button of the complaint conversation: c:<draft>:<action>[:<value>]."""
    draft_id, action, value = turn.data
    now = turn.now
    draft = await turn.current_draft()
    # Each step's prompt replaces the last one in place; the summary before 确认提交 shows every answer.
    turn.replace_pressed()
    if action == "x":
        drafts.require_step(draft, draft_id, *Step)
        await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
        turn.reply(texts.CANCELLED, reply_markup=keyboards.main_menu())
        return
    if action == "ok":
        await submit(turn, draft, draft_id)
        return
    if action == "new":
        draft = drafts.require_step(draft, draft_id, *Step)
        pending = draft.data.get("pending_text")
        if value == "start" and pending:
            draft = await turn.start_draft(kind=DraftKind.COMPLAINT, step=Step.TEXT)
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
            department = await department_by_code(session=turn.session, code=value)
            if department is None:
                raise StaleAction("stale")
            drafts.advance(draft, step=Step.EVIDENCE, now=now, department=department.code,
                           department_name=department.name)
            await after_department(draft, turn, department_id=department.id)
    elif action == "dup":
        draft = drafts.require_step(draft, draft_id, Step.DUPLICATE)
        if value == "join":
            await join_existing(turn, draft)
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



@door()
async def cancel_command(turn: Turn) -> None:
    """Leave whatever conversation is under way (/cancel)."""
    discarded = await drafts.discard_draft(session=turn.session, account_id=turn.actor.account_id)
    turn.reply(texts.CANCELLED if discarded else texts.NOTHING_TO_CANCEL, reply_markup=keyboards.main_menu())



def register(application: Application) -> None:
    """The complaint conversation: /complain, 我要投诉, /cancel and its buttons (free text is routed by citizen)."""
    application.add_handler(CommandHandler("complain", complain_command))
    application.add_handler(CommandHandler("cancel", cancel_command))
    application.add_handler(MessageHandler(filters.Text([texts.BTN_COMPLAIN]), complain_command))
    application.add_handler(CallbackQueryHandler(complaint_button, pattern=BUTTONS.pattern))
