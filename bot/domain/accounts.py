"""Accounts: created on first contact, with the role configuration or an invite gave them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bot.db.models import Account, Department, Draft, ProcessedUpdate
from bot.db.prepared import Prepared
from bot.domain.drafts import remember_draft
from bot.domain.roles import Actor, Role
from bot.domain.rows import ACCOUNT_COLUMNS, DRAFT_COLUMNS, AccountRow, DraftRow, NeedsSession
from bot.domain.updates import claim_update

# Touching last_seen on every update would turn each read into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=5)

# Built once: a statement built per call pays construction and cache-key generation every time.
# The account (with its department, officials only) and its draft in one round trip: nearly every
# update needs both. An official's department comes without its aliases (only the directory import
# and the text matcher read those): their selectin load was a second query on every official's update.
_ACCOUNT_AND_DRAFT = (
    select(Account, Draft)
    .outerjoin(Department, Department.id == Account.department_id)
    .outerjoin(Draft, Draft.account_id == Account.id)
    .options(contains_eager(Account.department).raiseload(Department.aliases))
    .where(Account.telegram_id == bindparam("telegram_id"))
)
_ACCOUNT = select(Account).where(Account.telegram_id == bindparam("telegram_id"))
# PostgreSQL: the update's claim (see `updates.claim_update`) and the read above in one statement. The claim's
# count (1: claimed, 0: handled before) is the row every outer join hangs on, so it comes back for a new user too.
_CLAIM = (postgresql.insert(ProcessedUpdate.__table__)
          .values(update_id=bindparam("update_id"), created_at=bindparam("created_at"))
          .on_conflict_do_nothing(index_elements=["update_id"])
          .returning(ProcessedUpdate.__table__.c.update_id)
          .cte("claim"))
_CLAIMED = select(func.count().label("claimed")).select_from(_CLAIM).subquery("claimed")
_CLAIM_ACCOUNT_AND_DRAFT = (
    select(_CLAIMED.c.claimed, Account, Draft)
    .select_from(_CLAIMED)
    .outerjoin(Account, Account.telegram_id == bindparam("telegram_id"))
    .outerjoin(Department, Department.id == Account.department_id)
    .outerjoin(Draft, Draft.account_id == Account.id)
    .options(contains_eager(Account.department).raiseload(Department.aliases))
)
# The same reads for the door's Core mode (`claim_and_resolve_rows`): the account's and the draft's columns as
# plain rows, without the department (a step that needs it runs with a session).
_ACCOUNTS, _DRAFTS = Account.__table__, Draft.__table__
_ROWS = Prepared(select(*ACCOUNT_COLUMNS, *DRAFT_COLUMNS)
                  .select_from(_ACCOUNTS.outerjoin(_DRAFTS, _DRAFTS.c.account_id == _ACCOUNTS.c.id))
                  .where(_ACCOUNTS.c.telegram_id == bindparam("telegram_id")))
# The Core mode's first contact (`_CREATE` with the columns back as a row) and its account changes (the SET
# clause is the changed columns: `account_changes`).
_CREATE_ROWS = {
    name: Prepared(dialect.insert(_ACCOUNTS).on_conflict_do_nothing(index_elements=["telegram_id"])
                   .returning(*ACCOUNT_COLUMNS))
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CHANGE_ROW = Prepared(update(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("changed_account_id")))
_CLAIM_ROWS = (
    select(_CLAIMED.c.claimed, *ACCOUNT_COLUMNS, *DRAFT_COLUMNS)
    .select_from(_CLAIMED)
    .outerjoin(_ACCOUNTS, _ACCOUNTS.c.telegram_id == bindparam("telegram_id"))
    .outerjoin(_DRAFTS, _DRAFTS.c.account_id == _ACCOUNTS.c.id)
)
_SPLIT = len(ACCOUNT_COLUMNS)
# First contact, per dialect (values as execution parameters): see `_create_account`. The new row comes back
# as the Account itself (RETURNING), so only an account another transaction created first is read again.
_CREATE = {
    name: dialect.insert(Account).on_conflict_do_nothing(index_elements=["telegram_id"]).returning(Account)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def resolve_actor(
    *,
    session: AsyncSession,
    telegram_id: int,
    full_name: str | None,
    username: str | None,
    supervisors: Collection[int],
    now: datetime,
) -> Actor:
    """The acting account for a Telegram user, created as a citizen if new.

    Read afresh in every transaction (so a role change shows at once, on every instance), together
    with the account's draft, which `drafts.current_draft` then takes without another query.
    """
    row = (await session.execute(_ACCOUNT_AND_DRAFT, {"telegram_id": telegram_id})).first()
    account, draft = row if row is not None else (None, None)
    return await _actor(session, account, draft, telegram_id=telegram_id, full_name=full_name, username=username,
                        supervisors=supervisors, now=now)


async def claim_and_resolve(
    *,
    session: AsyncSession,
    update_id: int,
    telegram_id: int,
    full_name: str | None,
    username: str | None,
    supervisors: Collection[int],
    now: datetime,
) -> Actor | None:
    """`updates.claim_update`, then `resolve_actor`; None (and nothing read) when the update was handled before.

    On PostgreSQL both are one statement, the claim a CTE beside the account's read: a round trip less on
    every update. The claim waits for a transaction holding the same update id as before; the read is of
    the statement's snapshot, which is all it needs when the claim succeeds (nothing else could have
    handled this update). SQLite cannot put an INSERT in a CTE; there, on the event loop's thread once the
    write lock is held, a second statement costs no round trip anyway.
    """
    if session.bind.dialect.name != "postgresql":
        if not await claim_update(session=session, update_id=update_id, now=now):
            return None
        return await resolve_actor(session=session, telegram_id=telegram_id, full_name=full_name, username=username,
                                   supervisors=supervisors, now=now)
    claimed, account, draft = (await session.execute(_CLAIM_ACCOUNT_AND_DRAFT, {
        "update_id": update_id, "created_at": now, "telegram_id": telegram_id})).one()
    if not claimed:
        return None
    return await _actor(session, account, draft, telegram_id=telegram_id, full_name=full_name, username=username,
                        supervisors=supervisors, now=now)


async def _actor(session: AsyncSession, account: Account | None, draft: Draft | None, *, telegram_id: int,
                 full_name: str | None, username: str | None, supervisors: Collection[int], now: datetime) -> Actor:
    """The actor from the account and draft just read (none: first contact, the account is created)."""
    if account is None:
        account = await _create_account(session, telegram_id=telegram_id, full_name=full_name, username=username,
                                        now=now)
        remember_draft(session, account.id, None)
    else:
        remember_draft(session, account.id, draft)
        for key, value in account_changes(account, full_name=full_name, username=username, now=now).items():
            setattr(account, key, value)
    return Actor(role=role_of(telegram_id, account.role, supervisors), account=account)


def account_changes(account: Account | AccountRow, *, full_name: str | None, username: str | None,
                    now: datetime) -> dict:
    """What this update changes in the account: the Telegram name as it is now, `last_seen_at` (coarsely),
    and reachability (they wrote to us, so they can be reached again)."""
    changes: dict = {}
    if (account.full_name, account.username) != (full_name, username):
        changes.update(full_name=full_name, username=username)
    if now - account.last_seen_at >= LAST_SEEN_GRANULARITY:
        changes["last_seen_at"] = now
    if account.unreachable:
        changes["unreachable"] = False
    return changes


def role_of(telegram_id: int, role: str, supervisors: Collection[int]) -> Role:
    """The role the account acts in: supervisor when configured so, else the one it was given."""
    return Role.SUPERVISOR if telegram_id in supervisors else Role(role)


async def claim_and_resolve_rows(*, connection: AsyncConnection, update_id: int, telegram_id: int,
                                 full_name: str | None, username: str | None, supervisors: Collection[int],
                                 now: datetime) -> tuple[Actor, DraftRow | None] | None:
    """`claim_and_resolve` on a Core connection, for the door's Core mode: the actor (its account an
    `AccountRow`) and the draft as a `DraftRow`; None when the update was handled before.

    First contact creates the account and `account_changes` are written, each by one statement, as the ORM
    door does; only an account another transaction created meanwhile raises `NeedsSession` (the ORM door
    then reads it). The claim and the read are those of `claim_and_resolve`, the same per dialect.
    """
    dialect = connection.dialect.name
    if dialect != "postgresql":
        if not await claim_update(session=connection, update_id=update_id, now=now):
            return None
        values = await _ROWS.first(connection, {"telegram_id": telegram_id})
    else:
        row = (await connection.execute(_CLAIM_ROWS, {
            "update_id": update_id, "created_at": now, "telegram_id": telegram_id})).one()
        if not row[0]:
            return None
        values = tuple(row)[1:] if row[1] is not None else None
    if values is None:
        created = await _CREATE_ROWS["postgresql" if dialect == "postgresql" else "sqlite"].first(connection, {
            "telegram_id": telegram_id, "role": Role.CITIZEN.value, "full_name": full_name, "username": username,
            "is_head": False, "unreachable": False, "created_at": now, "last_seen_at": now})
        if created is None:
            raise NeedsSession("first contact: created meanwhile")
        account, draft = AccountRow(created), None
    else:
        account = AccountRow(values[:_SPLIT])
        if changes := account_changes(account, full_name=full_name, username=username, now=now):
            await _CHANGE_ROW.rowcount(connection, {**changes, "changed_account_id": account.id})
            account = account.changed(changes)
        draft = DraftRow(values[_SPLIT:]) if values[_SPLIT] is not None else None
    return Actor(role=role_of(telegram_id, account.role, supervisors), account=account), draft


def attach_account(*, session: AsyncSession, row: AccountRow) -> Account:
    """The account read as a plain row (a citizen's: no department), in `session` as if loaded there: no SQL,
    nothing to write, found by what refers to it (a new case's `complainant`). The caller keeps a reference:
    the session's identity map holds it weakly."""
    account = Account(**{name: getattr(row, name) for name in AccountRow.__slots__})
    make_transient_to_detached(account)  # as freshly loaded: its columns committed
    set_committed_value(account, "department", None)
    session.sync_session.add(account)
    return account


async def _create_account(session: AsyncSession, *, telegram_id: int, full_name: str | None,
                          username: str | None, now: datetime) -> Account:
    """First contact as an upsert: two instances (or two updates) creating the same account both get it,
    neither a unique-constraint error."""
    created = await session.scalar(
        _CREATE["postgresql" if session.bind.dialect.name == "postgresql" else "sqlite"],
        {"telegram_id": telegram_id, "role": Role.CITIZEN.value, "full_name": full_name, "username": username,
         "created_at": now, "last_seen_at": now},
    )
    if created is None:  # another transaction created it first
        return await session.scalar(_ACCOUNT, {"telegram_id": telegram_id})
    set_committed_value(created, "department", None)  # a new citizen has none: loaded, as a SELECT would have it
    return created


async def account_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Account | None:
    return await session.scalar(_ACCOUNT, {"telegram_id": telegram_id})


async def mark_unreachable(*, session: AsyncSession, account_id: int) -> None:
    """Record that the user blocked the bot, so nobody keeps trying."""
    account = await session.get(Account, account_id)
    if account is not None:
        account.unreachable = True
