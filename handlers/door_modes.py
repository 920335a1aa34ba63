"""The door's two session modes (handlers/door.py): the update's claim, actor and writes, in one transaction.

`OrmMode`, the ordinary one: an AsyncSession the body may use for anything. `CoreMode`, for `door(light=…)`:
one Core connection and no session, for a step that only reads its actor and draft and writes the draft back
(with `door(on_demand=True)`, an ORM session on that connection when the body asks for one: `SessionOnDemand`).
The door runs the same code around either (chat kind, button data, role, body, refusals, sends).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db.models import Account, Draft
from bot.db.session import close_in_place
from bot.delivery import WORKER
from bot.domain import drafts
from bot.domain.accounts import attach_account, claim_and_resolve, claim_and_resolve_rows, resolve_actor
from bot.domain.roles import Actor
from bot.domain.rows import NO_SESSION, AccountRow, DraftRow, NeedsSession, NoSession

if TYPE_CHECKING:
    from handlers.door import Turn


class OrmMode:
    """The ordinary mode: one AsyncSession; the body may read and write anything."""

    def __init__(self, session: AsyncSession, *, held_for: timedelta) -> None:
        self.session, self.held_for = session, held_for

    async def claim_and_resolve(self, update_id: int, who: dict) -> Actor | None:
        return await claim_and_resolve(session=self.session, update_id=update_id, **who)

    async def resolve(self, who: dict) -> Actor:
        return await resolve_actor(session=self.session, **who)

    def bind(self, turn: Turn) -> None:
        turn.outbox.bind(self.session, turn.svc.settings.supervisors, turn.now, held_for=self.held_for,
                         sender=WORKER)

    async def start_draft(self, turn: Turn, **draft: Any) -> Draft:
        return await drafts.start_draft(session=self.session, account_id=turn.actor.account_id, now=turn.now,
                                        **draft)

    async def write(self, turn: Turn) -> None:
        if turn.outbox.rows:  # their ids, for delivery after the commit (which flushes everything else)
            await turn.outbox.write(self.session)


class SessionOnDemand:
    """The Core mode's `turn.session` for a body that may need one (`door(on_demand=True)`): an AsyncSession
    on the mode's own connection, inside its transaction, made the first time the body uses it.

    The claim and the actor are already read and stay: the body goes on with the session instead of the
    update starting over. The session joins the connection's transaction without owning it (SQLAlchemy's
    "rollback_only" join): its flush writes there, the door commits the connection, and closing the session
    leaves the transaction alone."""

    __slots__ = ("_make", "opened")

    def __init__(self, make: Callable[[], AsyncSession]) -> None:
        self._make = make
        self.opened: AsyncSession | None = None

    def __getattr__(self, name: str) -> Any:
        if self.opened is None:
            self.opened = self._make()
        return getattr(self.opened, name)


class CoreMode:
    """`door(light=…)`: one Core connection, no session. The claim, the account and its draft are read by
    Core statements (`accounts.claim_and_resolve_rows`), the body sees the draft through
    `Turn.current_draft()` and the draft's changed columns are written by one UPDATE (`drafts.save_row`).
    First contact, the account's changes (`accounts.account_changes`) and a new draft (`Turn.start_draft`) are
    Core statements too. Anything more (`turn.session`, an outbound row, the official's department) raises
    `NeedsSession`, and `_run` rolls back and runs the update again in `OrmMode` — unless the door gave the mode
    a session on demand (`sessions`, `door(on_demand=True)`): then `turn.session` is an ORM session on this
    connection and the body goes on (`SessionOnDemand`)."""

    def __init__(self, connection: AsyncConnection, *, sessions: Callable[..., AsyncSession] | None = None,
                 held_for: timedelta = timedelta(0)) -> None:
        """`sessions`: the database's session factory, for a session on demand (else `NO_SESSION`)."""
        self.connection = connection
        self.draft: DraftRow | None = None
        self.held_for = held_for
        self.account: AccountRow | None = None
        self.orm_account: Account | None = None
        self.session: SessionOnDemand | NoSession = (
            NO_SESSION if sessions is None else SessionOnDemand(lambda: self._session_on_demand(sessions)))

    def _session_on_demand(self, sessions: Callable[..., AsyncSession]) -> AsyncSession:
        """A session on this connection that already knows the actor's account as an ORM object (as read, no
        SQL), so what refers to it (a case's complainant) finds it there instead of loading it."""
        if self.account is None or self.account.department_id is not None:
            raise NeedsSession("department")  # an official's department is the ORM mode's to load
        session = sessions(bind=self.connection)
        # The identity map holds it weakly: kept alive for the transaction, as an ORM actor's account is.
        self.orm_account = attach_account(session=session, row=self.account)
        return session

    async def claim_and_resolve(self, update_id: int, who: dict) -> Actor | None:
        found = await claim_and_resolve_rows(connection=self.connection, update_id=update_id, **who)
        if found is None:
            return None
        actor, self.draft = found
        self.account = actor.account
        return actor

    async def resolve(self, who: dict) -> Actor:  # `light` requires `claim` (see `door`)
        raise NeedsSession("unclaimed")

    def bind(self, turn: Turn) -> None:
        if isinstance(self.session, SessionOnDemand):
            turn.outbox.bind(self.session, turn.svc.settings.supervisors, turn.now, held_for=self.held_for,
                             sender=WORKER)
        else:
            turn.outbox.session = NO_SESSION  # an outbound row needs a session
        turn.core_draft = self.draft

    async def start_draft(self, turn: Turn, **draft: Any) -> DraftRow:
        self.draft = turn.core_draft = await drafts.start_draft_row(
            connection=self.connection, account_id=turn.actor.account_id, now=turn.now,
            replacing=self.draft is not None, **draft)
        return self.draft

    async def write(self, turn: Turn) -> None:
        session = self._opened()
        if session is not None:  # what the body did through it, before the draft's own write (the door
            # commits the connection: nothing may stay unflushed)
            await (turn.outbox.write(session) if turn.outbox.rows else session.flush())
        if self.draft is not None:
            await drafts.save_row(connection=self.connection, draft=self.draft)

    async def close(self) -> None:
        """Close the session made on demand (the transaction stays the door's to commit or roll back)."""
        session = self._opened()
        if session is not None:
            await close_in_place(session.close)

    def _opened(self) -> AsyncSession | None:
        return self.session.opened if isinstance(self.session, SessionOnDemand) else None
