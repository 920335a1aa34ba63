"""The test databases themselves: each test's is as the first start leaves one, whatever the test before did.

On PostgreSQL one database per run is put back before each test (tests/pg.py), so what one test wrote,
dropped or advanced must not reach the next; on SQLite each test gets a copy of a template file.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, text

from bot.db.models import Account, CalendarState, Department
from bot.db.session import Database
from tests.conftest import STAGES, fresh_database

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


async def contents(url: str) -> tuple[int, int, bool, int]:
    """(departments, accounts, calendar filled, the id the next account gets)."""
    db = Database(url)
    try:
        async with db.session() as session:
            departments = await session.scalar(select(func.count(Department.id)))
            accounts = await session.scalar(select(func.count(Account.id)))
            filled = (await session.scalar(select(CalendarState.first_day))) is not None
            probe = Account(telegram_id=424242, role="citizen", created_at=NOW, last_seen_at=NOW)
            session.add(probe)
            await session.flush()
            next_id = probe.id
            await session.rollback()
        return departments, accounts, filled, next_id
    finally:
        await db.dispose()


async def test_what_a_test_changes_is_gone_for_the_next(database_url, tmp_path, _sqlite_templates):
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    first = await contents(database_url)
    assert first[0] > 100 and first[1] == 0 and first[2]

    db = Database(database_url)
    try:
        async with db.session() as session:
            session.add_all([Account(telegram_id=n, role="citizen", created_at=NOW, last_seen_at=NOW)
                             for n in range(1, 6)])
            await session.execute(text("DELETE FROM department_aliases"))
            if kind == "postgresql":
                await session.execute(text("DROP TRIGGER audit_anchors_no_change ON audit_anchors"))
            await session.commit()
    finally:
        await db.dispose()

    (tmp_path / "next").mkdir()
    again = await fresh_database(kind, "started", tmp_path / "next", _sqlite_templates)
    assert await contents(again) == first
    db = Database(again)
    try:
        async with db.session() as session:
            assert await session.scalar(text("SELECT count(*) FROM department_aliases")) > 0
            if kind == "postgresql":
                assert await session.scalar(text(
                    "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_anchors_no_change'")) == 1
    finally:
        await db.dispose()


async def test_the_migrated_state_has_the_schema_and_no_directory(migrated_database_url):
    departments, accounts, filled, _ = await contents(migrated_database_url)
    assert (departments, accounts, filled) == (0, 0, False)
    assert set(STAGES) == {"migrated", "started"}
