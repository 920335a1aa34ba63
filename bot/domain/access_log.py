"""Who was given or lost the right to act as staff: the `account_events` table.

Every change of an account's role, department, head flag or region, and every invite code made, goes
through `record_account_change`, in the transaction of the change: a refused or rolled-back change leaves
no row, a committed one always has its row, linked into the keyed account-events chain
(bot.domain.account_chain) that `chengxin audit verify` checks and the daily anchors cover. The same event
is also written, once committed, as one structured line to the `chengxin.audit` log, which production ships
off the machine.

Supervisors read the entries of their scope with `recent_account_events` (/accesslog); the rows hold the
access only (role, department, head flag, region), never anything a complainant wrote.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, AccountEvent, Department, Invite
from bot.domain import scope
from bot.domain.account_chain import append_account_event
from bot.domain.roles import Actor

INVITE, BIND, UNBIND = "invite", "bind", "unbind"
ACTIONS = (INVITE, BIND, UNBIND)

account_log = logging.getLogger("chengxin.audit")
account_log.setLevel(logging.INFO)  # kept whatever CHENGXIN_LOG_LEVEL says: this is the record


def access_of(holder: Account | Invite) -> dict[str, Any]:
    """The access an account has, or an invite code gives: what `before` and `after` record."""
    return {"role": str(holder.role), "department_id": holder.department_id, "is_head": bool(holder.is_head),
            "region": holder.region}


async def record_account_change(*, session: AsyncSession, action: str, actor: Actor, now: datetime,
                          account: Account | None = None, before: dict | None = None, after: dict | None = None,
                          invite: Invite | None = None) -> AccountEvent:
    """Add the event row to the session, linked into the account-events audit chain (the caller's
    transaction commits or rolls both back with the change), and, once committed, the `chengxin.audit` log
    line. The only writer of account_events: the chain's head row serialises concurrent changes."""
    if action not in ACTIONS:
        raise ValueError(f"unknown account event {action!r}")
    row = AccountEvent(account_id=account.id if account is not None else None, actor_account_id=actor.account_id,
                       invite_id=invite.id if invite is not None else None, action=action, before=before,
                       after=after, created_at=now)
    await append_account_event(session=session, event=row)
    args = (action, actor.account_id, str(actor.role), row.account_id,
            account.telegram_id if account is not None else None,
            json.dumps(before, ensure_ascii=False, sort_keys=True),
            json.dumps(after, ensure_ascii=False, sort_keys=True),
            now.astimezone(timezone.utc).isoformat(timespec="seconds"))
    audit = {"action": action, "actor_id": actor.account_id, "account_id": row.account_id, "before": before,
             "after": after}

    def committed(_session) -> None:
        account_log.info("audit action=%s actor_id=%s actor_role=%s account_id=%s telegram_id=%s before=%s "
                         "after=%s at=%s", *args, extra={"audit": audit})

    sa_event.listen(session.sync_session, "after_commit", committed, once=True)
    return row


@dataclass(frozen=True)
class AccessEntry:
    """One event as /accesslog shows it: who, who acted, who made the invite, and the departments named."""

    event: AccountEvent
    account: Account | None
    actor: Account | None
    inviter: Account | None
    departments: dict[int, Department]


async def recent_account_events(*, session: AsyncSession, actor: Actor, limit: int = 30) -> list[AccessEntry]:
    """The latest events the actor may read (bot.domain.scope.account_events_clause), newest first."""
    events = list((await session.scalars(
        select(AccountEvent).where(scope.account_events_clause(actor))
        .order_by(AccountEvent.created_at.desc(), AccountEvent.id.desc()).limit(limit))).all())
    invite_ids = {e.invite_id for e in events if e.invite_id is not None}
    inviters = dict((await session.execute(
        select(Invite.id, Invite.created_by_id).where(Invite.id.in_(invite_ids)))).all()) if invite_ids else {}
    people_ids = {i for e in events for i in (e.account_id, e.actor_account_id) if i is not None}
    people_ids |= set(inviters.values())
    people = {a.id: a for a in (await session.scalars(select(Account).where(Account.id.in_(people_ids)))).all()} \
        if people_ids else {}
    department_ids = {side["department_id"] for e in events for side in (e.before, e.after)
                      if side and side.get("department_id") is not None}
    departments = {d.id: d for d in (await session.scalars(
        select(Department).where(Department.id.in_(department_ids)))).all()} if department_ids else {}
    return [AccessEntry(e, people.get(e.account_id), people.get(e.actor_account_id),
                        people.get(inviters.get(e.invite_id)), departments) for e in events]
