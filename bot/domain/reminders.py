"""The reminder sweep's rules: which rungs are due, who hears of them, and what they owe.

A rung (Reminder row) is claimed by exactly one sweep: on PostgreSQL the select takes row locks with
SKIP LOCKED, so two instances sweep side by side without waiting on or duplicating each other; on
SQLite transactions are serialised (BEGIN IMMEDIATE) and one process sweeps. Claimed rungs become
outbound messages in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ARRAY, Integer, any_, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Case, Commitment, Department, Obligation, Reminder
from bot.domain.ladder import next_overdue_reminder, working_days_left
from bot.domain.obligations import Deadlines
from bot.domain.roles import Role

# Rungs addressed to the same people: of several due at once for one clock, only the newest is sent.
AUDIENCE = {"before": "department", "due": "department", "overdue": "department",
            "escalate_head": "head", "escalate_supervisors": "supervisors"}


@dataclass(frozen=True)
class DueItem:
    """One clock that someone must hear about in this sweep."""

    stage: str
    kind: str
    due_at: datetime
    days_left: int
    case_ref: str | None
    commitment_id: int | None
    department_id: int | None
    department_name: str | None
    send_at: datetime
    reminders_sent: int


@dataclass
class Recipient:
    chat_id: int
    account_id: int | None
    items: list[DueItem] = field(default_factory=list)


async def claim_due_reminders(*, session: AsyncSession, now: datetime, deadlines: Deadlines,
                              limit: int = 2000) -> list[DueItem]:
    """Claim every pending rung due by `now` (up to `limit`); collapse rungs of one clock; plan tomorrow's.

    Reads columns, not ORM objects, and writes the new states with one set-based UPDATE per state.
    """
    rows = (await session.execute(
        select(Reminder.id, Reminder.obligation_id, Reminder.stage, Reminder.send_at)
        .where(Reminder.state == "pending", Reminder.send_at <= now)
        .order_by(Reminder.send_at, Reminder.id).limit(limit).with_for_update(skip_locked=True)
    )).all()
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        def among(column, ids):  # one array parameter: no 2,000-placeholder statement to render and prepare
            return column == any_(literal(list(ids), ARRAY(Integer)))
        chunk_size = limit
    else:
        def among(column, ids):
            return column.in_(ids)
        chunk_size = 500
    newest: dict[tuple[int, str], tuple] = {}
    for rung in rows:
        key = (rung.obligation_id, AUDIENCE[rung.stage])
        if key not in newest or (rung.send_at, rung.id) > (newest[key].send_at, newest[key].id):
            newest[key] = rung
    # One statement for everything the digests show: the clock, its case or commitment reference, the
    # department, and how many reminders it already had (the overdue history escalations quote).
    reminders_sent = (select(func.count(Reminder.id))
                      .where(Reminder.obligation_id == Obligation.id, Reminder.state == "dispatched")
                      .scalar_subquery())
    obligations = {o.id: o for o in (await session.execute(
        select(Obligation.id, Obligation.state, Obligation.kind, Obligation.due_at, Obligation.commitment_id,
               Obligation.department_id, func.coalesce(Case.ref, Commitment.ref).label("ref"),
               Department.name.label("department_name"), reminders_sent.label("reminders_sent"))
        .join(Case, Case.id == Obligation.case_id, isouter=True)
        .join(Commitment, Commitment.id == Obligation.commitment_id, isouter=True)
        .join(Department, Department.id == Obligation.department_id, isouter=True)
        .where(among(Obligation.id, {r.obligation_id for r in newest.values()}))
    )).all()}
    days_left: dict[datetime, int] = {}
    dispatched, cancelled, following_rungs, items = [], [], [], []
    for rung in newest.values():
        obligation = obligations[rung.obligation_id]
        if obligation.state != "open":
            cancelled.append(rung.id)
            continue
        dispatched.append(rung.id)
        if rung.stage == "overdue":
            # The next daily rung comes after today: a catch-up sent this morning counts as today's.
            following = next_overdue_reminder(obligation.due_at, max(rung.send_at, now), policy=deadlines.policy,
                                              calendar=deadlines.calendar, tz=deadlines.tz)
            if following is not None:
                following_rungs.append({"obligation_id": obligation.id, "stage": "overdue",
                                        "overdue_days": following.overdue_days, "send_at": following.send_at,
                                        "state": "pending", "created_at": now})
        if obligation.due_at not in days_left:
            days_left[obligation.due_at] = working_days_left(obligation.due_at, now, calendar=deadlines.calendar,
                                                             tz=deadlines.tz)
        items.append(DueItem(
            stage=rung.stage, kind=obligation.kind, due_at=obligation.due_at, days_left=days_left[obligation.due_at],
            case_ref=obligation.ref, commitment_id=obligation.commitment_id,
            department_id=obligation.department_id, department_name=obligation.department_name,
            send_at=rung.send_at, reminders_sent=obligation.reminders_sent,
        ))
    handled = set(dispatched) | set(cancelled)  # built once: inside the comprehension it was O(n²)
    superseded = [r.id for r in rows if r.id not in handled]
    for state, ids in (("dispatched", dispatched), ("superseded", superseded), ("cancelled", cancelled)):
        for chunk in range(0, len(ids), chunk_size):
            await session.execute(update(Reminder).where(among(Reminder.id, ids[chunk:chunk + chunk_size]))
                                  .values(state=state, dispatched_at=now))
    if following_rungs:
        await session.execute(insert(Reminder), following_rungs)
    return items


class RecipientBook:
    """Who hears of a due item, looked up once per sweep."""

    def __init__(self, session: AsyncSession, *, supervisors: Collection[int], supervisor_chat: int | None) -> None:
        self.session = session
        self.configured = set(supervisors)
        self.supervisor_chat = supervisor_chat
        self._officials: dict[tuple[int, bool], list[Account]] = {}
        self._supervisors: list[Recipient] | None = None

    async def officials(self, department_id: int, heads_only: bool = False) -> list[Account]:
        key = (department_id, heads_only)
        if key not in self._officials:
            query = select(Account).where(Account.role == Role.OFFICIAL, Account.department_id == department_id,
                                          Account.unreachable.is_(False))
            if heads_only:
                query = query.where(Account.is_head.is_(True))
            self._officials[key] = list((await self.session.scalars(query.order_by(Account.id))).all())
        return self._officials[key]

    async def supervisors(self, *, with_group: bool = True) -> list[Recipient]:
        if self._supervisors is None:
            invited = (await self.session.execute(
                select(Account.telegram_id, Account.id).where(Account.role == Role.SUPERVISOR,
                                                              Account.unreachable.is_(False))
            )).all()
            known = {telegram_id: account_id for telegram_id, account_id in invited}
            configured = (await self.session.execute(
                select(Account.telegram_id, Account.id, Account.unreachable)
                .where(Account.telegram_id.in_(self.configured))
            )).all() if self.configured else []
            blocked = {telegram_id for telegram_id, _, unreachable in configured if unreachable}
            known |= {telegram_id: account_id for telegram_id, account_id, _ in configured}
            chats = (set(known) | self.configured) - blocked
            self._supervisors = [Recipient(chat, known.get(chat)) for chat in sorted(chats)]
        people = [Recipient(r.chat_id, r.account_id) for r in self._supervisors]
        if with_group and self.supervisor_chat is not None:
            people.append(Recipient(self.supervisor_chat, None))
        return people

    async def for_item(self, item: DueItem) -> list[Recipient]:
        if item.department_id is None or item.stage == "escalate_supervisors":
            return await self.supervisors(with_group=item.stage == "escalate_supervisors")
        if item.stage == "escalate_head":
            heads = await self.officials(item.department_id, heads_only=True)
            if not heads:
                return await self.supervisors(with_group=False)
            return [Recipient(a.telegram_id, a.id) for a in heads]
        return [Recipient(a.telegram_id, a.id) for a in await self.officials(item.department_id)]


async def open_work_by_department(*, session: AsyncSession) -> dict[int, list[tuple[str, str, datetime]]]:
    """Every open clock of every department, nearest first: (case ref, clock kind, due_at)."""
    rows = (await session.execute(
        select(Obligation.department_id, func.coalesce(Case.ref, Commitment.ref), Obligation.kind, Obligation.due_at)
        .join(Case, Case.id == Obligation.case_id, isouter=True)
        .join(Commitment, Commitment.id == Obligation.commitment_id, isouter=True)
        .where(Obligation.state == "open", Obligation.department_id.is_not(None))
        .order_by(Obligation.due_at)
    )).all()
    work: dict[int, list[tuple[str, str, datetime]]] = {}
    for department_id, ref, kind, due_at in rows:
        work.setdefault(department_id, []).append((ref, kind, due_at))
    return work


async def overdue_clocks(*, session: AsyncSession, now: datetime) -> list[tuple[str | None, str, str, datetime]]:
    """Open clocks past due: (department name, case ref, kind, due_at), longest overdue first."""
    rows = (await session.execute(
        select(Department.name, func.coalesce(Case.ref, Commitment.ref), Obligation.kind, Obligation.due_at)
        .select_from(Obligation)
        .join(Case, Case.id == Obligation.case_id, isouter=True)
        .join(Commitment, Commitment.id == Obligation.commitment_id, isouter=True)
        .join(Department, Department.id == Obligation.department_id, isouter=True)
        .where(Obligation.state == "open", Obligation.due_at < now)
        .order_by(Obligation.due_at)
    )).all()
    return [tuple(row) for row in rows]


