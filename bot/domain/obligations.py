"""Clocks (时限) as rows: started, met or missed, extended, cancelled — never in-memory timers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, Obligation, Reminder
from bot.db.prepared import Prepared
from bot.domain.ladder import plan_reminders
from bot.domain.lifecycle import ClockEffect
from bot.domain.workdays import WorkCalendar
from bot.policy import Policy

# Built once, on the table: every submit plans a ladder, and `insert(Reminder)` per call was an ORM bulk insert
# planned afresh each time (the rows need no ids and no ORM objects).
# Prepared: on SQLite they run on the driver (bot/db/prepared.py).
_REMINDERS = Prepared(insert(Reminder.__table__))
_OPEN_CLOCK = Prepared(insert(Obligation.__table__).returning(Obligation.__table__.c.id))
# Clocks owned by the supervisors rather than the case's department.
SUPERVISOR_CLOCKS = frozenset({"assign"})
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Deadlines:
    """Turns policy periods in working days into due times on the official calendar."""

    policy: Policy
    calendar: WorkCalendar
    tz: ZoneInfo

    def end_of(self, day: date) -> datetime:
        """A deadline is the end of its local day."""
        return datetime.combine(day, END_OF_DAY, tzinfo=self.tz)

    def after_working_days(self, now: datetime, days: int) -> datetime:
        return self.end_of(self.calendar.add_working_days(now.astimezone(self.tz).date(), days))

    def default_due(self, kind: str, now: datetime) -> datetime:
        days = {
            "assign": self.policy.assign_days,
            "accept": self.policy.accept_days,
            "reply": self.policy.reply_days,
            "rectification": self.policy.rectification_days,
        }[kind]
        return self.after_working_days(now, days)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()


async def start_clock(
    *,
    session: AsyncSession,
    case: Case | None,
    kind: str,
    now: datetime,
    due_at: datetime,
    deadlines: Deadlines,
    department_id: int | None = None,
    commitment_id: int | None = None,
    flush: bool = True,
) -> int:
    """Open one clock, with its reminder ladder; its id.

    The clock is one prebuilt INSERT … RETURNING id (nothing reads it back as an ORM object). `flush`: write
    what the session holds first, as the ORM's own INSERT would have; False when the rows the clock refers to
    are already written (a case just flushed), so the rest waits for the transaction's next flush."""
    if flush:
        await session.flush()
    connection = await session.connection()  # the statements below do not flush (see `flush`)
    obligation_id, = await _OPEN_CLOCK.first(connection, {
        "case_id": case.id if case else None,
        "commitment_id": commitment_id,
        "kind": kind,
        "department_id": None if kind in SUPERVISOR_CLOCKS else (
            department_id or (case.department_id if case else None)),
        "due_at": due_at,
        "state": "open",
        "created_at": now,
    })
    await _plan_ladder(session, obligation_id, due_at, now=now, deadlines=deadlines)
    return obligation_id


async def plan_ladder(*, session: AsyncSession, obligation: Obligation, now: datetime, deadlines: Deadlines) -> None:
    """Reminder rows for the rungs still ahead; rungs already past when the clock starts are skipped."""
    await _plan_ladder(session, obligation.id, obligation.due_at, now=now, deadlines=deadlines)


async def _plan_ladder(session: AsyncSession, obligation_id: int, due_at: datetime, *, now: datetime,
                       deadlines: Deadlines) -> None:
    rows = [
        {"obligation_id": obligation_id, "stage": rung.stage, "overdue_days": rung.overdue_days,
         "send_at": rung.send_at, "state": "pending", "created_at": now}
        for rung in plan_reminders(due_at, policy=deadlines.policy, calendar=deadlines.calendar, tz=deadlines.tz)
        if rung.send_at > now
    ]
    if rows:
        # One executemany: nothing needs the new rows' ids, and ORM objects would be inserted one by one.
        await _REMINDERS.many(await session.connection(), rows)


async def open_clocks(*, session: AsyncSession, case_id: int, kinds: tuple[str, ...] | None = None) -> list[Obligation]:
    query = select(Obligation).where(Obligation.case_id == case_id, Obligation.state == "open")
    if kinds is not None:
        query = query.where(Obligation.kind.in_(kinds))
    return list((await session.scalars(query.order_by(Obligation.due_at))).all())


async def close_clock(session: AsyncSession, obligation: Obligation, *, now: datetime, state: str | None = None) -> None:
    """Close a clock — `met` when on time, `missed` when late, or the given state (cancelled, extended) —
    and cancel its pending reminders in the same transaction."""
    obligation.state = state or ("met" if now <= obligation.due_at else "missed")
    obligation.closed_at = now
    await session.execute(
        update(Reminder).where(Reminder.obligation_id == obligation.id, Reminder.state == "pending")
        .values(state="cancelled")
    )


async def apply_clock_effect(
    *, session: AsyncSession, case: Case, effect: ClockEffect, now: datetime, deadlines: Deadlines
) -> None:
    """What a transition does to the case's clocks, in the transition's own transaction."""
    touched = set(effect.settle) | set(effect.cancel)
    if touched:
        for obligation in await open_clocks(session=session, case_id=case.id, kinds=tuple(touched)):
            await close_clock(session, obligation, now=now,
                              state=None if obligation.kind in effect.settle else "cancelled")
    for kind in effect.start:
        await start_clock(session=session, case=case, kind=kind, now=now, due_at=deadlines.default_due(kind, now),
                          deadlines=deadlines)


async def extend_clock(
    *, session: AsyncSession, obligation: Obligation, due_at: datetime, now: datetime, deadlines: Deadlines
) -> Obligation:
    """Replace a clock by one with a later due time; the old row stays, marked extended, its reminders
    cancelled, and the new one gets a fresh ladder."""
    await close_clock(session, obligation, now=now, state="extended")
    replacement = Obligation(
        case_id=obligation.case_id, commitment_id=obligation.commitment_id, kind=obligation.kind,
        department_id=obligation.department_id, due_at=due_at, state="open", created_at=now,
    )
    session.add(replacement)
    await session.flush()
    await plan_ladder(session=session, obligation=replacement, now=now, deadlines=deadlines)
    return replacement
