"""The SQLite connection: transactions take the write lock on the event loop when it is free, and wait
for it in the connection's thread when another writer holds it — never stalling the loop, never failing."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select, update

from bot.db.models import Counter
from bot.db.session import Database
from bot.domain.refs import CASE_SEQUENCE, next_sequence


async def _counter(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE))


async def test_a_second_writer_waits_off_the_loop_and_loses_no_update(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}"
    first, second = Database(url), Database(url)  # two engines: as two processes would have
    await first.upgrade()
    before = await _counter(first)
    try:
        async with first.session() as holder:
            await next_sequence(session=holder)  # holds SQLite's write lock until commit

            async def bump_from_second() -> float:
                async with second.session() as session:
                    await next_sequence(session=session)
                    await session.commit()
                return time.monotonic()

            waiter = asyncio.create_task(bump_from_second())
            # The loop keeps running while the second engine waits for the lock.
            ticks = 0
            for _ in range(20):
                await asyncio.sleep(0.005)
                ticks += 1
            assert not waiter.done() and ticks == 20
            released = time.monotonic()
            await holder.commit()
        finished = await asyncio.wait_for(waiter, timeout=10)
        assert finished >= released
        assert await _counter(first) == before + 2
        # And with the lock free again, both engines write without waiting.
        async with second.session() as session:
            await session.execute(update(Counter).where(Counter.name == CASE_SEQUENCE).values(value=Counter.value + 1))
            await session.commit()
        assert await _counter(first) == before + 3
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_rolled_back_transaction_releases_the_lock(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'rollback.db'}"
    first, second = Database(url), Database(url)
    await first.upgrade()
    before = await _counter(first)
    try:
        async with first.session() as session:
            await next_sequence(session=session)
            await session.rollback()
        async with second.session() as session:
            await asyncio.wait_for(next_sequence(session=session), timeout=2)
            await session.commit()
        assert await _counter(first) == before + 1
    finally:
        await first.dispose()
        await second.dispose()


async def test_sessions_and_connections_close_in_their_own_task_without_extra_turns_of_the_loop(tmp_path):
    """An update's whole transaction runs without letting the loop go round (SQLAlchemy's own `async with`
    closes in a task of its own: under load each extra turn waits behind every other update in flight)."""
    from tests.loop_turns import LoopTurns

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    await db.upgrade()
    try:
        await _counter(db)  # the pool's connection opened (that one does go to the thread)
        async with LoopTurns() as turns:
            before = turns.count
            async with db.session() as session, session.begin():
                await next_sequence(session=session)
            async with db.begin() as connection:  # a Core connection (the door's light steps, delivery)
                await connection.execute(select(Counter.value))
            assert turns.count == before
    finally:
        await db.dispose()


async def test_a_session_cancelled_while_closing_finishes_closing_before_the_cancellation(tmp_path, monkeypatch):
    """A close that has to wait (a PostgreSQL connection reset) and is cancelled meanwhile still gives its
    connection back to the pool before the cancellation goes on."""
    from bot.db.session import Session

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cancel.db'}")
    await db.upgrade()
    real_close = Session.close
    started = asyncio.Event()

    async def slow_close(self) -> None:
        started.set()
        await asyncio.sleep(0.05)
        await real_close(self)

    monkeypatch.setattr(Session, "close", slow_close)
    try:
        async def work() -> None:
            async with db.session() as session:
                await _counter_in(session)

        task = asyncio.create_task(work())
        await started.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the cancellation was swallowed")
        assert db.engine.pool.checkedout() == 0
    finally:
        await db.dispose()


async def _counter_in(session) -> int:
    return await session.scalar(select(Counter.value).where(Counter.name == CASE_SEQUENCE))
