"""The reminder sweep: claim due rungs, write one digest per person, deliver owed messages with retries.

Runs every minute through the JobQueue on every instance; the database decides who sends what, so
nothing is sent twice and nothing is lost to a restart. Nothing goes out at night or on days off:
what falls due then waits for the next working morning.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram.ext import ContextTypes

from bot import delivery, keyboards, texts
from bot.domain.departments import departments_by_id
from bot.domain import outbox
from bot.domain.jobruns import claim_period_run
from bot.domain.ladder import working_days_left
from bot.domain.reminders import (
    DueItem,
    RecipientBook,
    claim_due_reminders,
    open_work_by_department,
    overdue_clocks,
)
from bot.services import Services, services

log = logging.getLogger(__name__)

WORKER = delivery.WORKER
CATCH_UP_AFTER = timedelta(minutes=30)
MAX_LINES = 25
MAX_BUTTONS = 6
# One delivery run drains a backlog for up to this long; ticks that fall inside it are skipped.
DELIVERY_BUDGET_SECONDS = 280


def is_quiet(svc: Services, now: datetime) -> bool:
    """Night, weekend or holiday: nothing is sent now."""
    policy = svc.policy
    local = now.astimezone(svc.settings.tz)
    allowed = svc.deadlines.calendar.next_allowed_moment(local, quiet_start=policy.quiet_start,
                                                          quiet_end=policy.quiet_end)
    return allowed > local


def _left(svc: Services, due_at: datetime, now: datetime) -> str:
    return texts.days_left(working_days_left(due_at, now, calendar=svc.deadlines.calendar, tz=svc.settings.tz))


def _label(item_ref: str | None, commitment_id: int | None) -> str:
    return item_ref or texts.COMMITMENT_REF.format(id=commitment_id)


@dataclass
class Digest:
    """Everything one chat hears from this sweep, as one message."""

    chat_id: int
    account_id: int | None
    reminders: list[DueItem] = field(default_factory=list)
    escalations: list[DueItem] = field(default_factory=list)
    morning: list[str] = field(default_factory=list)
    supervisor_daily: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def render(self, svc: Services, now: datetime) -> str:
        tz = svc.settings.tz
        parts: list[str] = []
        if self.reminders:
            catch_up = any(now - item.send_at > CATCH_UP_AFTER for item in self.reminders)
            header = texts.REMINDER_CATCH_UP if catch_up else texts.REMINDER_HEADER
            lines = [header.format(count=len(self.reminders))]
            lines += [texts.REMINDER_LINE.format(
                ref=_label(i.case_ref, i.commitment_id), kind=texts.CLOCK_LABELS[i.kind],
                due=texts.local_date(i.due_at, tz), left=_left(svc, i.due_at, now)) for i in self.reminders[:MAX_LINES]]
            if len(self.reminders) > MAX_LINES:
                lines.append(texts.MORE_ITEMS.format(n=len(self.reminders) - MAX_LINES))
            parts.append("\n".join(lines))
        if self.escalations:
            supervisors = any(i.stage == "escalate_supervisors" for i in self.escalations)
            header = texts.ESCALATION_SUPERVISORS_HEADER if supervisors else texts.ESCALATION_HEAD_HEADER
            lines = [header.format(count=len(self.escalations))]
            lines += [texts.ESCALATION_LINE.format(
                ref=_label(i.case_ref, i.commitment_id), department=texts.esc(i.department_name or ""),
                kind=texts.CLOCK_LABELS[i.kind], due=texts.local_date(i.due_at, tz), left=_left(svc, i.due_at, now),
                sent=i.reminders_sent) for i in self.escalations[:MAX_LINES]]
            if len(self.escalations) > MAX_LINES:
                lines.append(texts.MORE_ITEMS.format(n=len(self.escalations) - MAX_LINES))
            parts.append("\n".join(lines))
        parts += ["\n".join(self.morning)] if self.morning else []
        parts += ["\n".join(self.supervisor_daily)] if self.supervisor_daily else []
        if self.reminders or self.escalations:
            parts.append(texts.REMINDER_FOOTER)
        return "\n\n".join(parts)

    def markup(self) -> dict | None:
        refs = list(dict.fromkeys(self.refs))[:MAX_BUTTONS]
        if not refs:
            return None
        return keyboards.open_cases(refs).to_dict()


class Digests(dict[int, Digest]):
    def of(self, chat_id: int, account_id: int | None) -> Digest:
        if chat_id not in self:
            self[chat_id] = Digest(chat_id, account_id)
        return self[chat_id]


async def reminder_sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Claim what is due, write each person one digest, then deliver what is owed."""
    svc = services(context)
    now = svc.clock.now()
    started = time.monotonic()
    if is_quiet(svc, now):
        return
    async with svc.db.session() as session:
        book = RecipientBook(session, supervisors=svc.settings.supervisors,
                             supervisor_chat=svc.settings.supervisor_chat)
        digests = Digests()
        for item in await claim_due_reminders(session=session, now=now, deadlines=svc.deadlines):
            for person in await book.for_item(item):
                digest = digests.of(person.chat_id, person.account_id)
                (digest.escalations if item.stage.startswith("escalate") else digest.reminders).append(item)
                if item.case_ref:
                    digest.refs.append(item.case_ref)
        await _daily_digests(session, svc, book, digests, now)
        for digest in digests.values():
            outbox.enqueue(session=session, chat_id=digest.chat_id, account_id=digest.account_id, kind="digest",
                           text=digest.render(svc, now), markup=digest.markup(), now=now)
        await session.commit()
    # Finish before the next tick, or the scheduler skips it: the rest waits for the next sweep.
    await deliver_owed_messages(context, deadline=started + 0.8 * svc.settings.sweep_seconds)


async def _daily_digests(session, svc: Services, book: RecipientBook, digests: Digests, now: datetime) -> None:
    """The officials' morning list and the supervisors' overdue list, once per working day."""
    local = now.astimezone(svc.settings.tz)
    day = local.date().isoformat()
    tz = svc.settings.tz
    if local.time() >= svc.policy.morning_digest and await claim_period_run(
        session=session, name="morning_digest", period=day, now=now
    ):
        work = await open_work_by_department(session=session)
        names = {d.id: d.name for d in (await departments_by_id(session=session, ids=work)).values()}
        for department_id, clocks in work.items():
            lines = [texts.MORNING_HEADER.format(department=texts.esc(names.get(department_id, "")), count=len(clocks))]
            lines += [texts.MORNING_LINE.format(ref=ref or "—", kind=texts.CLOCK_LABELS[kind],
                                                due=texts.local_date(due_at, tz), left=_left(svc, due_at, now))
                      for ref, kind, due_at in clocks[:MAX_LINES]]
            if len(clocks) > MAX_LINES:
                lines.append(texts.MORE_ITEMS.format(n=len(clocks) - MAX_LINES))
            for official in await book.officials(department_id):
                digests.of(official.telegram_id, official.id).morning = lines
    if local.time() >= svc.policy.supervisor_digest and await claim_period_run(
        session=session, name="supervisor_digest", period=day, now=now
    ):
        overdue = await overdue_clocks(session=session, now=now)
        if overdue:
            lines = [texts.SUPERVISOR_DAILY_HEADER.format(count=len(overdue))]
            lines += [texts.SUPERVISOR_DAILY_LINE.format(department=texts.esc(name or "督办"), ref=ref or "—",
                                                         kind=texts.CLOCK_LABELS[kind], left=_left(svc, due_at, now))
                      for name, ref, kind, due_at in overdue[:MAX_LINES]]
            if len(overdue) > MAX_LINES:
                lines.append(texts.MORE_ITEMS.format(n=len(overdue) - MAX_LINES))
        else:
            lines = [texts.SUPERVISOR_DAILY_NONE]
        for person in await book.supervisors():
            digests.of(person.chat_id, person.account_id).supervisor_daily = lines


async def deliver_owed_messages(context: ContextTypes.DEFAULT_TYPE, *, deadline: float | None = None) -> int:
    """Everything owed and due, through the one sender; nothing at night or on days off."""
    svc = services(context)
    return await delivery.deliver_due(context, worker=WORKER, deadline=deadline, quiet=lambda now: is_quiet(svc, now))
# Registration of delivery_job (bot/app.py): APScheduler may start a second instance while one drains a
# backlog (instead of logging "maximum number of running instances reached" as a WARNING every tick);
# that second instance sees the first and returns at once, quietly. Ticks missed while the event loop was
# busy are coalesced into one run, however late (no "Run time of job ... was missed" WARNING either).
DELIVERY_JOB_KWARGS = {"max_instances": 2, "coalesce": True, "misfire_grace_time": None}
_delivering: weakref.WeakSet = weakref.WeakSet()  # applications whose delivery_job is running


async def delivery_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver owed messages continuously (every few seconds when idle), so a backlog drains at the rate
    limit instead of only in the minute's sweep; runs alongside the sweep, claims keep them apart.

    Never overlaps itself: a tick that comes while a run is still draining is skipped without a word
    (the running one keeps claiming until the backlog is gone or its budget is spent)."""
    application = context.application
    if application in _delivering:
        log.debug("delivery_job: the previous run is still delivering; this tick is skipped")
        return
    _delivering.add(application)
    try:
        await deliver_owed_messages(context, deadline=time.monotonic() + DELIVERY_BUDGET_SECONDS)
    finally:
        _delivering.discard(application)


