"""The door's two session modes (handlers/door.py): the update's claim, actor and writes, in one transaction.

`OrmMode`, the ordinary one: an AsyncSession the body may use for anything. `CoreMode`, for `door(light=…)`:
one Core connection and no session, for a step that only reads its actor and draft and writes the draft back.
The door runs the same code around either (chat kind, button data, role, body, refusals, sends).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.accounts import claim_and_resolve, claim_and_resolve_rows, resolve_actor
from bot.domain.roles import Actor
from bot.domain.rows import NO_SESSION, DraftRow, NeedsSession

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
        turn.outbox.bind(self.session, turn.svc.settings.supervisors, turn.now, held_for=self.held_for)

    async def start_draft(self, turn: Turn, **draft: Any) -> Draft:
        return await drafts.start_draft(session=self.session, account_id=turn.actor.account_id, now=turn.now,
                                        **draft)

    async def write(self, turn: Turn) -> None:
        if turn.outbox.rows:  # their ids, for delivery after the commit (which flushes everything else)
            await self.session.flush()
            turn.outbox.remember_ids()


class CoreMode:
    """`door(light=…)`: one Core connection, no session. The claim, the account and its draft are read by
    Core statements (`accounts.claim_and_resolve_rows`), the body sees the draft through
    `Turn.current_draft()` and the draft's changed columns are written by one UPDATE (`drafts.save_row`).
    Anything more (the account to change, `turn.session`, an outbound row, a new or deleted draft) raises
    `NeedsSession`, and `_run` rolls back and runs the update again in `OrmMode`. First contact, the account's
    changes (`accounts.account_changes`) and a new draft (`Turn.start_draft`) are Core statements too."""

    session = NO_SESSION

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.draft: DraftRow | None = None

    async def claim_and_resolve(self, update_id: int, who: dict) -> Actor | None:
        found = await claim_and_resolve_rows(connection=self.connection, update_id=update_id, **who)
        if found is None:
            return None
        actor, self.draft = found
        return actor

    async def resolve(self, who: dict) -> Actor:  # `light` requires `claim` (see `door`)
        raise NeedsSession("unclaimed")

    def bind(self, turn: Turn) -> None:
        turn.outbox.session = NO_SESSION  # an outbound row needs a session
        turn.core_draft = self.draft

    async def start_draft(self, turn: Turn, **draft: Any) -> DraftRow:
        self.draft = turn.core_draft = await drafts.start_draft_row(
            connection=self.connection, account_id=turn.actor.account_id, now=turn.now,
            replacing=self.draft is not None, **draft)
        return self.draft

    async def write(self, turn: Turn) -> None:
        if self.draft is not None:
            await drafts.save_row(connection=self.connection, draft=self.draft)
