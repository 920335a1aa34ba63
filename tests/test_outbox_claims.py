"""Who may send an owed message when: a row an update writes is its own sender's until the hold runs out, a
sweep's claim is its own until the lease runs out, and a clean shutdown gives unsent claims back at once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.db.models import OutboundMessage
from bot.db.session import Database
from bot.domain import outbox
from bot.domain.notices import Notices

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
HOLD, LEASE = timedelta(seconds=15), timedelta(minutes=10)


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    yield database
    await database.dispose()


async def _claim(db: Database, at: datetime, worker: str) -> list[str]:
    async with db.session() as session:
        taken = await outbox.claim_deliverable(session=session, now=at, worker=worker, lease=LEASE)
        await session.commit()
    return [message.text for message in taken]


async def _states(db: Database) -> list[tuple]:
    async with db.session() as session:
        return list((await session.execute(select(OutboundMessage.text, OutboundMessage.state,
                                                  OutboundMessage.claimed_by, OutboundMessage.next_attempt_at)
                                           .order_by(OutboundMessage.id))).all())


async def test_an_updates_rows_are_its_senders_until_the_hold_runs_out(db):
    async with db.session() as session:
        held = Notices()
        held.bind(session, (), NOW, held_for=HOLD, sender="door:1")
        held.to_chat(9001, "已立案")
        loose = Notices()
        loose.bind(session, (), NOW)  # a job's notice: any sweep's once due
        loose.to_chat(9002, "提醒")
        await held.write(session)
        await session.commit()
    assert await _states(db) == [("已立案", "sending", "door:1", NOW + HOLD), ("提醒", "pending", None, NOW)]

    assert await _claim(db, NOW + timedelta(seconds=1), "sweep:2") == ["提醒"]  # the held row is left alone
    # The writer died after its commit: once the hold is over a sweep sends what it owed, once.
    assert await _claim(db, NOW + HOLD, "sweep:2") == ["已立案"]
    # A sweep's claim is its own for the lease: another sweep does not take it meanwhile, then does.
    assert await _claim(db, NOW + HOLD + LEASE - timedelta(seconds=1), "sweep:3") == ["提醒"]
    assert await _claim(db, NOW + HOLD + LEASE, "sweep:3") == ["已立案"]


async def test_a_clean_shutdown_gives_unsent_claims_back_at_once(db):
    async with db.session() as session:
        held = Notices()
        held.bind(session, (), NOW, held_for=HOLD, sender="door:1")
        held.to_chat(9003, "已转达")
        await held.write(session)
        await session.commit()
    async with db.session() as session:
        assert await outbox.release_claims(session=session, worker="door:1", now=NOW + timedelta(seconds=2)) == 1
        await session.commit()
    assert await _states(db) == [("已转达", "pending", None, NOW + timedelta(seconds=2))]
    assert await _claim(db, NOW + timedelta(seconds=2), "other:4") == ["已转达"]  # not after the hold
