"""Drafts: a citizen's half-finished conversation, kept in the database between messages."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, event, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from bot.db.models import Draft
from bot.db.prepared import Prepared
from bot.domain.errors import StaleAction
from bot.domain.rows import DRAFT_COLUMNS, DraftRow, NeedsSession


class DraftKind(StrEnum):
    COMPLAINT = "complaint"
    SUPPLEMENT = "supplement"
    RECTIFICATION = "rectification"
    FEEDBACK = "feedback"


class Step(StrEnum):
    TEXT = "text"
    DOMAIN = "domain"
    DEPARTMENT = "department"
    DEPARTMENT_SEARCH = "dept_search"
    DUPLICATE = "duplicate"
    DETAILS = "details"
    EVIDENCE = "evidence"
    CONTACT = "contact"
    CONFIRM = "confirm"
    SUPPLEMENT = "supplement"


# session.info key: the drafts `accounts.resolve_actor` read along with their accounts, valid only
# in the transaction that read them.
_READ_WITH_ACCOUNT = "chengxin.drafts_read_with_account"
_CURRENT = select(Draft).where(Draft.account_id == bindparam("account_id"))
# On the table, not the mapped class: the draft is expunged right after, so there is nothing for an ORM-enabled
# DELETE to synchronise, and its bulk-delete setup cost more than the statement.
_TAKE_CONFIRMED = Prepared(delete(Draft.__table__).where(Draft.__table__.c.id == bindparam("draft_id"),
                                                         Draft.__table__.c.step == Step.CONFIRM))


# A conversation step changes one draft's columns and nothing else. The unit of work would plan that
# UPDATE afresh on every flush (dependency sort, per-attribute history, persistence setup), which cost
# more than the statement itself; `_save_changed_drafts` sends it as this one prebuilt statement
# instead. The SET clause is the execution parameters' columns; the row by `saved_draft_id`.
_SAVE = update(Draft.__table__).where(Draft.__table__.c.id == bindparam("saved_draft_id"))
_SAVE_ROW = Prepared(_SAVE)  # the Core mode's write: on SQLite straight on the driver (bot/db/prepared.py)
# The Core mode's `start_draft_row`: the account's old draft out, the new one in, its columns back.
_DELETE_ROW = Prepared(delete(Draft.__table__).where(Draft.__table__.c.account_id == bindparam("account_id")))
_INSERT_ROW = Prepared(insert(Draft.__table__).returning(*DRAFT_COLUMNS))
_SAVED_COLUMNS = frozenset({"kind", "step", "data", "case_id", "updated_at", "reminded_at"})


@functools.cache
def _draft_attributes() -> frozenset[str]:
    return frozenset(inspect(Draft).attrs.keys())


@event.listens_for(Session, "before_flush")
def _save_changed_drafts(session: Session, _context, _instances) -> None:
    """Write each changed draft with `_SAVE` and mark it clean, so the unit of work skips it.

    Only plain column changes are taken (anything else, e.g. a relationship, is left to the unit of
    work); what is written is exactly what the unit of work would have written: the attributes whose
    value changed. A draft deleted meanwhile by another transaction fails as the unit of work would.
    """
    for draft in session.dirty:
        if type(draft) is not Draft:
            continue
        state = inspect(draft)
        changed = _draft_attributes() - state.unmodified
        if not changed <= _SAVED_COLUMNS:
            continue
        values = {}
        for key in changed:
            added = state.attrs[key].history.added
            if added:
                values[key] = added[0]
        if values:
            result = session.connection().execute(_SAVE, {"saved_draft_id": draft.id, **values})
            if result.rowcount != 1:
                raise StaleDataError(
                    f"UPDATE statement on table 'drafts' expected to update 1 row(s); {result.rowcount} were matched.")
        # What the unit of work does after its own UPDATE: the loaded values are now the committed ones,
        # and the transaction remembers the draft as changed (a savepoint rolled back expires it).
        state._commit_all(state.dict, session.identity_map)
        session._register_altered([state])


async def save_row(*, connection: AsyncConnection, draft: DraftRow) -> None:
    """Write a `DraftRow` a step changed (the door's Core mode): `_SAVE` with the columns whose value changed,
    the statement `_save_changed_drafts` sends for an ORM draft; a change beyond those columns needs a session."""
    values = draft.changes()
    if not values:
        return
    if not values.keys() <= _SAVED_COLUMNS:
        raise NeedsSession(", ".join(values))
    count = await _SAVE_ROW.rowcount(connection, {**values, "saved_draft_id": draft.id})
    if count != 1:
        raise StaleDataError(
            f"UPDATE statement on table 'drafts' expected to update 1 row(s); {count} were matched.")


def remember_draft(session: AsyncSession, account_id: int, draft: Draft | None) -> None:
    """Keep the account's draft (or its absence), read in this transaction, for `current_draft`."""
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_READ_WITH_ACCOUNT)
    if known is None or known[0] is not transaction:
        session.info[_READ_WITH_ACCOUNT] = known = (transaction, {})
    known[1][account_id] = draft


def _forget_draft(session: AsyncSession, account_id: int) -> None:
    known = session.info.get(_READ_WITH_ACCOUNT)
    if known is not None:
        known[1].pop(account_id, None)


_UNKNOWN = object()


def _known_draft(session: AsyncSession, account_id: int) -> Draft | None | object:
    """The draft read in this transaction (None: read, there was none), or _UNKNOWN."""
    known = session.info.get(_READ_WITH_ACCOUNT)
    if known is not None and known[0] is session.sync_session.get_transaction() and account_id in known[1]:
        draft = known[1][account_id]
        if draft is None or not (state := inspect(draft)).deleted and not state.detached:
            return draft
    return _UNKNOWN


async def current_draft(*, session: AsyncSession, account_id: int) -> Draft | None:
    draft = _known_draft(session, account_id)
    if draft is _UNKNOWN:
        return await session.scalar(_CURRENT, {"account_id": account_id})
    return draft


async def start_draft(
    *,
    session: AsyncSession,
    account_id: int,
    kind: DraftKind,
    step: Step,
    now: datetime,
    data: dict[str, Any] | None = None,
    case_id: int | None = None,
) -> Draft:
    """Begin a conversation, replacing whatever unfinished one the citizen had."""
    # Skipped only when the read with the account, in this transaction, found none: nothing to replace.
    if _known_draft(session, account_id) is not None:
        await session.execute(delete(Draft).where(Draft.account_id == account_id))
    draft = Draft(
        account_id=account_id, kind=kind, step=step, data=dict(data or {}), case_id=case_id,
        created_at=now, updated_at=now,
    )
    session.add(draft)
    await session.flush()
    remember_draft(session, account_id, draft)
    return draft


async def start_draft_row(*, connection: AsyncConnection, account_id: int, kind: DraftKind, step: Step,
                          now: datetime, replacing: bool, data: dict[str, Any] | None = None,
                          case_id: int | None = None) -> DraftRow:
    """`start_draft` on a Core connection (the door's Core mode): the new draft as a `DraftRow`. `replacing`:
    the account had a draft (read with it in this transaction), which goes first."""
    if replacing:
        await _DELETE_ROW.rowcount(connection, {"account_id": account_id})
    values = await _INSERT_ROW.first(connection, {
        "account_id": account_id, "kind": kind.value, "step": step.value, "data": dict(data or {}),
        "case_id": case_id, "created_at": now, "updated_at": now, "reminded_at": None})
    return DraftRow(values)


def advance(draft: Draft, *, step: Step, now: datetime, **changes: Any) -> None:
    """Move the draft to `step`, merging `changes` into its data; the nudge clock restarts."""
    # A new dict, because the JSON column does not see in-place mutation.
    draft.data = {**draft.data, **changes}
    draft.step = step
    draft.updated_at = now
    draft.reminded_at = None


def require_step(draft: Draft | None, draft_id: int, *steps: Step) -> Draft:
    """The draft a button belongs to, if the conversation is still at that point."""
    if draft is None or draft.id != draft_id or draft.step not in steps:
        raise StaleAction("stale")
    return draft


async def claim_for_submit(*, session: AsyncSession, draft: Draft | DraftRow | None, draft_id: int) -> Draft | DraftRow:
    """Take the confirmed draft out of the table; only one of two racing presses gets it. `draft`: the acting
    account's draft as read in this transaction (an ORM `Draft` or, in the door's Core mode, a `DraftRow`);
    `draft_id`: the one the pressed button belongs to."""
    if draft is None or draft.id != draft_id:
        raise StaleAction("already_submitted")
    if isinstance(draft, Draft):
        _forget_draft(session, draft.account_id)
    if await _TAKE_CONFIRMED.rowcount(await session.connection(), {"draft_id": draft_id}) != 1:
        raise StaleAction("already_submitted")
    if isinstance(draft, Draft):
        session.expunge(draft)
    return draft


async def discard_draft(*, session: AsyncSession, account_id: int) -> bool:
    _forget_draft(session, account_id)
    result = await session.execute(delete(Draft).where(Draft.account_id == account_id))
    return result.rowcount > 0


async def drafts_due_for_nudge(*, session: AsyncSession, now: datetime, idle: timedelta, limit: int = 200) -> list[Draft]:
    """Drafts idle for `idle` that have not been nudged since they last moved."""
    result = await session.scalars(
        select(Draft)
        .options(joinedload(Draft.account))
        .where(Draft.updated_at <= now - idle, Draft.reminded_at.is_(None))
        .order_by(Draft.updated_at)
        .limit(limit)
    )
    return list(result.all())


async def claim_nudge(*, session: AsyncSession, draft_id: int, now: datetime) -> bool:
    """Mark a draft nudged; False when another sweep already did."""
    result = await session.execute(
        update(Draft).where(Draft.id == draft_id, Draft.reminded_at.is_(None)).values(reminded_at=now)
    )
    return result.rowcount == 1


async def expired_drafts(*, session: AsyncSession, now: datetime, ttl: timedelta, limit: int = 200) -> list[Draft]:
    result = await session.scalars(
        select(Draft)
        .options(joinedload(Draft.account))
        .where(Draft.updated_at <= now - ttl)
        .order_by(Draft.updated_at)
        .limit(limit)
    )
    return list(result.all())


async def claim_expiry(*, session: AsyncSession, draft_id: int, updated_at: datetime) -> bool:
    """Delete an expired draft unless it moved meanwhile; False when someone else got there first."""
    result = await session.execute(
        delete(Draft).where(Draft.id == draft_id, Draft.updated_at == updated_at)
    )
    return result.rowcount == 1
