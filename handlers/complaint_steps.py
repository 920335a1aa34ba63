"""The complaint conversation's steps: what each step asks, and how an answer moves the draft on.

`handlers/complaint.py` routes the messages and buttons here; `handlers/complaint_submit.py` ends the
conversation (确认提交 opens the case, 加入该案件 joins an open one).
"""

from __future__ import annotations

from bot import keyboards, texts
from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.details import fields_for, prefill
from bot.domain.drafts import Step
from handlers.door import Turn
from handlers.views import details_block
from nlp.similarity import Fingerprint

MAX_DEPARTMENT_CHOICES = 6

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
        # Kept with the text it belongs to, so the duplicate search and the case need not cut the text again.
        fingerprint=result.fingerprint().to_bytes().hex(),
    )


def draft_fingerprint(turn: Turn, data: dict) -> Fingerprint:
    """The fingerprint of the draft's text: the one triage kept, else (a draft from before it did) cut anew."""
    kept = data.get("fingerprint")
    return Fingerprint.from_bytes(bytes.fromhex(kept)) if kept else turn.svc.triager.fingerprint(data["text"])


def show_step(turn: Turn, draft: Draft) -> None:
    """Send the prompt of the step the draft is at (also used to resume after a pause or restart)."""
    data, step = draft.data, Step(draft.step)
    if step is Step.TEXT:
        turn.reply(texts.ASK_TEXT + texts.ASK_TEXT_PRIVACY)
    elif step is Step.DOMAIN:
        show_domain(turn, draft)
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
        show_detail(turn, draft)
    elif step is Step.EVIDENCE:
        received = len(data.get("evidence", []))
        turn.reply(texts.ASK_EVIDENCE, reply_markup=keyboards.evidence_choice(draft.id, received=received))
    elif step is Step.CONTACT:
        turn.reply(texts.ASK_CONTACT, reply_markup=keyboards.contact_choice(draft.id))
    elif step is Step.CONFIRM:
        turn.reply(summary(draft), reply_markup=keyboards.confirm_choice(draft.id))


def show_domain(turn: Turn, draft: Draft) -> None:
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


def summary(draft: Draft) -> str:
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



NEW_COMPLAINT_MIN = 30


def looks_like_new_complaint(turn: Turn, text: str) -> bool:
    """Long enough to be a complaint rather than a name or an answer, and about a domain's matters."""
    if len(text.strip()) < NEW_COMPLAINT_MIN or text_problem(text):
        return False
    return bool(turn.svc.triager.triage(text).classification.terms)


def search_department(turn: Turn, draft: Draft, query: str) -> None:
    """The citizen typed a department name: offer the directory entries it could mean."""
    found = turn.svc.triager.search_departments(query[:64], limit=MAX_DEPARTMENT_CHOICES)
    if not found:
        turn.reply(texts.DEPARTMENT_SEARCH_EMPTY.format(query=texts.esc(query[:64])),
                   reply_markup=keyboards.department_choice(draft.id, []))
        return
    turn.reply(texts.DEPARTMENT_SEARCH_RESULTS,
               reply_markup=keyboards.department_choice(draft.id, [(e.code, e.name) for e in found]))



# --- duplicates and follow-up questions ------------------------------------------------------------


def detail_keys(domain: str) -> set[str]:
    keys = {f.key for f in fields_for(domain)}
    return keys | ({"amount_yuan"} if "amount" in keys else set())


async def after_department(draft: Draft, turn: Turn, *, department_id: int | None) -> None:
    """Offer an existing open case when this looks like a duplicate; otherwise go on to the questions."""
    svc, session = turn.svc, turn.session
    if department_id is not None and draft.data.get("commitment_id") is None:
        fingerprint = draft_fingerprint(turn, draft.data)
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


def show_detail(turn: Turn, draft: Draft) -> None:
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

