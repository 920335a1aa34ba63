"""PostgreSQL databases owned by this test run: created from the URL given, dropped at the end.

Two runs at once (two developers, CI beside a session) never share a database: every name carries
this process's id and a random tag, and each test resets only the schema of its own database.
"""

from __future__ import annotations

import os
import secrets

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL_VARIABLE = "CHENGXIN_TEST_DATABASE_URL"
RUN_TAG = f"{os.getpid()}_{secrets.token_hex(3)}"
_created: set[tuple[str, str]] = set()


def server_url() -> str | None:
    """The PostgreSQL URL the run was given, or None (PostgreSQL tests are then skipped)."""
    return os.environ.get(PG_URL_VARIABLE) or None


async def _admin(url: str):
    import asyncpg

    server = make_url(url)
    return await asyncpg.connect(host=server.host or "127.0.0.1", port=server.port or 5432,
                                 user=server.username, password=server.password,
                                 database=server.database or "postgres")


async def run_database(url: str, purpose: str = "main") -> str:
    """This run's own database for `purpose`, created on first use, with an empty public schema."""
    name = f"chengxin_t_{purpose}_{RUN_TAG}"
    if (url, name) not in _created:
        connection = await _admin(url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        _created.add((url, name))
    own = make_url(url).set(database=name).render_as_string(hide_password=False)
    await reset_schema(own)
    return own


async def reset_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def drop_run_databases() -> None:
    """Drop every database this run created (connections of finished tests are closed by then)."""
    for url, name in sorted(_created):
        connection = await _admin(url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
    _created.clear()
