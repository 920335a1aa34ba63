"""/case: one case in full for a supervisor (who filed it, every clock, commitment and record, what can be
decided now, with the decision buttons); an official gets their department's view. Also 查看 under a
reminder and 查看证据.

Every case is looked up through the one scope function (`case_for`): a regional supervisor gets, for
another region's case, the same answer as for a case that does not exist.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Case, Obligation
from bot.domain import scope
from bot.domain.audit import case_events
from bot.domain.cases import case_for, evidence_count, supplements_of
from bot.domain.duplicates import SYSTEMIC_COMPLAINANTS, complainants_against, related_cases
from bot.domain.evidence import evidence_of
from bot.domain.ladder import working_days_left
from bot.domain.lifecycle import TRANSITIONS, Status
from bot.domain.roles import Role
from bot.domain.supervision_reads import case_facts, co_complainant_count
from bot.services import Services
from handlers.codec import Codec, Ref
from handlers.door import SUPERVISORS, SUPERVISORS_OR_OFFICIALS, Turn, door
from handlers.official import official_case_view
from handlers.supervisor import COMMITMENT_DECISION, EXTENSION_DECISION, OBJECTION_DECISION, REPAIR_DECISION
from handlers.views import details_block

EVIDENCE = Codec("ev", Ref())
VIEW_CASE = Codec("vc", Ref())


def _complainant(case: Case) -> str:
    person = case.complainant
    parts = [texts.esc(person.full_name or texts.COMPLAINANT_NO_NAME)]
    if person.username:
        parts.append("@" + texts.esc(person.username))
    parts.append(f"ID {person.telegram_id}")
    return " ".join(parts)


@door(roles=SUPERVISORS_OR_OFFICIALS)
async def case_command(turn: Turn) -> None:
    """Everything about one case, including who filed it (/case REF); an official sees their department's view."""
    if not turn.args:
        turn.reply(texts.USAGE_CASE)
        return
    await _case_view(turn, turn.args[0])


async def _case_view(turn: Turn, raw_ref: str) -> None:
    if turn.actor.is_official:
        await official_case_view(turn, raw_ref)
        return
    session, tz = turn.session, turn.svc.settings.tz
    case = await case_for(session=session, raw_ref=raw_ref, actor=turn.actor)
    events = await case_events(session=session, case_id=case.id)
    supplements = await supplements_of(session=session, case_id=case.id)
    evidence = await evidence_count(session=session, case_id=case.id)
    triage_extras = await _triage_extras(session, case)
    extras, extra_rows = await supervisor_case_extras(session=session, case=case, svc=turn.svc,
                                                                  now=turn.now)
    timeline = "\n".join(
        f"{texts.local_time(e.created_at, tz)}  {texts.ACTION_LABELS.get(e.action, e.action)}"
        + (f"（{texts.esc(e.note)}）" if e.note and e.action in ("assign",) else "")
        for e in events
    )
    supplement_block = ""
    if supplements:
        items = "\n".join(f"{texts.local_time(s.created_at, tz)}  {texts.excerpt(s.text, 300)}" for s in supplements)
        supplement_block = texts.SUPPLEMENTS_BLOCK.format(items=items)
    if case.outcome:
        timeline += "\n" + texts.OUTCOME_LABELS.get(case.outcome, case.outcome)
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
        details=details_block(case.domain, case.details),  # under the heading and the text, not above them
        supplements=supplement_block,
        timeline=timeline,
    )
    turn.reply(message + triage_extras + extras,
               reply_markup=with_rows(
                   keyboards.supervisor_case_actions(case.ref, has_evidence=evidence > 0), extra_rows))


async def _triage_extras(session, case: Case) -> str:
    """Related cases, co-complainants and the systemic-dishonesty flag, for the supervisor's /case."""
    parts = []
    joined = await co_complainant_count(session=session, case_id=case.id)
    if joined:
        parts.append("\n" + texts.CO_COMPLAINANTS.format(count=joined))
    related = await related_cases(session=session, case=case)
    if related:
        parts.append(texts.RELATED_HEADER.format(lines="\n".join(
            texts.RELATED_LINE.format(ref=r.case.ref, status=texts.status_label(r.case.status),
                                      similarity=f"{r.similarity:.0%}") for r in related)))
    if case.department_id is not None:
        people = await complainants_against(session=session, department_id=case.department_id, domain=case.domain)
        if people >= SYSTEMIC_COMPLAINANTS:
            parts.append(texts.SYSTEMIC_FLAG.format(department=texts.esc(case.department.name),
                                                    domain=texts.domain_label(case.domain), count=people))
    return "".join(parts)


@door(roles=SUPERVISORS_OR_OFFICIALS, codec=VIEW_CASE)
async def view_case_button(turn: Turn) -> None:
    """查看 REF under a reminder (vc:REF): the case as the presser's role may see it."""
    await _case_view(turn, turn.data[0])


@door(roles=SUPERVISORS, codec=EVIDENCE)
async def evidence_button(turn: Turn) -> None:
    """查看证据 (ev:REF): re-send a case's photos and documents to the supervisor."""
    case = await case_for(session=turn.session, raw_ref=turn.data[0], actor=turn.actor)
    items = await evidence_of(session=turn.session, case_id=case.id)
    if not items:
        turn.reply(texts.NO_EVIDENCE)
        return
    turn.outbox.evidence_to(turn.actor.account, items, masked=not scope.sees_full_text(turn.actor, case))


# --- the supervisor's /case: clocks, commitments, what can be done now -----------------------------


def _clock_state(svc: Services, clock: Obligation, now) -> str:
    if clock.state != "open":
        return texts.CLOCK_STATE_LABELS.get(clock.state, clock.state)
    left = working_days_left(clock.due_at, now, calendar=svc.deadlines.calendar, tz=svc.settings.tz)
    return (texts.CLOCK_LATE_STATE if left < 0 else texts.CLOCK_OPEN_STATE).format(left=texts.days_left(left))


def _decision_row(codec: Codec, item_id: int, template: str, yes: str, no: str, **fill) -> list[Button]:
    return [Button(template.format(label=label, **fill), callback_data=codec.build(item_id, verdict))
            for label, verdict in ((yes, 1), (no, 0))]


async def supervisor_case_extras(*, session, case: Case, svc: Services, now=None) -> tuple[str, list[list[Button]]]:
    """Lines for the supervisor's /case (every clock, commitments, record, allowed actions) and decision buttons."""
    tz = svc.settings.tz
    now = now or svc.clock.now()
    facts = await case_facts(session=session, case_id=case.id)
    commitments, record = facts.commitments, facts.record

    lines = [texts.CASE_CLOCK_LINE.format(kind=texts.CLOCK_LABELS.get(c.kind, c.kind),
                                          due=texts.local_date(c.due_at, tz), state=_clock_state(svc, c, now))
             for c in facts.clocks]
    text = texts.CASE_CLOCKS_BLOCK.format(lines="\n".join(lines[-12:]) or texts.CASE_NO_CLOCKS)
    if commitments:
        text += texts.CASE_COMMITMENTS_BLOCK.format(lines="\n".join(
            texts.CASE_COMMITMENT_LINE.format(due=c.due_on.isoformat(), content=texts.excerpt(c.content, 200),
                                              status=texts.CASE_COMMITMENT_STATUS_LABELS.get(c.status, c.status))
            for c in commitments[-5:]))
    if record is not None:
        text += texts.CASE_RECORD_LINE.format(status=texts.RECORD_STATUS_LABELS.get(record.status, record.status))

    rows: list[list[Button]] = []
    for commitment in commitments:
        if commitment.status == "proposed":
            rows.append(_decision_row(COMMITMENT_DECISION, commitment.id, texts.BTN_DECIDE_COMMITMENT,
                                      texts.BTN_APPROVE, texts.BTN_RETURN))
    for extension in facts.extensions:
        rows.append(_decision_row(EXTENSION_DECISION, extension.id, texts.BTN_DECIDE_EXTENSION, texts.BTN_GRANT,
                                  texts.BTN_DENY, due=extension.requested_due_on.isoformat()))
    if record is not None and record.status == "objection_pending":
        rows.append(_decision_row(OBJECTION_DECISION, record.id, texts.BTN_DECIDE_OBJECTION, texts.BTN_UPHOLD,
                                  texts.BTN_OVERRULE))
    elif record is not None and record.status == "repair_pending":
        rows.append(_decision_row(REPAIR_DECISION, record.id, texts.BTN_DECIDE_REPAIR, texts.BTN_REPAIR_OK,
                                  texts.BTN_REPAIR_NO))

    hints = [texts.CASE_ACTION_HINTS[action].format(ref=case.ref)
             for action, transition in TRANSITIONS.items()
             if Role.SUPERVISOR in transition.roles and case.status in transition.sources
             and action in texts.CASE_ACTION_HINTS]
    if any(c.status == "approved" for c in commitments) and case.status != Status.CLOSED:
        hints.append(texts.CASE_ACTION_HINTS["broken"].format(ref=case.ref))
    if rows:
        hints.append(texts.CASE_ACTION_HINTS["decide"])
    if hints:
        text += texts.CASE_ACTIONS_BLOCK.format(lines="\n".join(hints))
    return text, rows


def with_rows(markup: InlineKeyboardMarkup | None, rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """An existing inline keyboard with more rows below it."""
    existing = [list(row) for row in markup.inline_keyboard] if markup is not None else []
    return InlineKeyboardMarkup(existing + rows) if existing or rows else None


# --- wiring ------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """/case and the buttons that show a case or its evidence."""
    application.add_handler(CommandHandler("case", case_command))
    for codec, callback in ((EVIDENCE, evidence_button), (VIEW_CASE, view_case_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))
