"""PostgreSQL databases owned by this test run: created from the URL given, dropped at the end.

Two runs at once (two developers, CI beside a session) never share a database: every name carries
this process's id, the pytest-xdist worker and a random tag. A test either gets a database with an
empty public schema (`run_database`) or one in a state built once per run and put back before each
test (`prepared_database`): migrating and seeding a database for every test took most of the suite's time.
"""

from __future__ import annotations

import graphlib
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL_VARIABLE = "CHENGXIN_TEST_DATABASE_URL"
# pytest-xdist's workers are separate processes; the worker id only makes the names easier to read.
RUN_TAG = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{secrets.token_hex(3)}"
# A test left holding a lock on a table makes the next reset fail after this, rather than hang.
RESET_LOCK_TIMEOUT = "60s"
_created: set[tuple[str, str]] = set()


def server_url() -> str | None:
    """The PostgreSQL URL the run was given, or None (PostgreSQL tests are then skipped)."""
    return os.environ.get(PG_URL_VARIABLE) or None


def _connect_kwargs(url: str, database: str | None = None) -> dict:
    server = make_url(url)
    return dict(host=server.host or "127.0.0.1", port=server.port or 5432, user=server.username,
                password=server.password, database=database or server.database or "postgres")


async def _admin(url: str):
    import asyncpg

    return await asyncpg.connect(**_connect_kwargs(url))


async def _own_database(url: str, purpose: str) -> str:
    """This run's database for `purpose` (created on first use); its SQLAlchemy URL."""
    name = f"chengxin_t_{purpose}_{RUN_TAG}"
    if (url, name) not in _created:
        connection = await _admin(url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        _created.add((url, name))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def run_database(url: str, purpose: str = "main") -> str:
    """This run's own database for `purpose`, created on first use, with an empty public schema."""
    own = await _own_database(url, purpose)
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
    _snapshots.clear()


# --- a state built once, put back before each test ----------------------------------------------------

# Everything a test could change in the public schema's shape: if any of it differs from the snapshot's
# (a test dropped a trigger, say), the schema is built again instead of having its rows put back.
_SHAPE = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
         || a.attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'trg ' || tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger
   WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL
  SELECT 'fn ' || proname || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'type ' || t.typname || ' ' || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                                                  FROM pg_enum WHERE enumtypid = t.oid), '')
    FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
) AS shape(item)
"""

_TABLES = "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
 WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
"""
_SEQUENCES = "SELECT sequencename, start_value, last_value FROM pg_sequences WHERE schemaname = 'public'"


@dataclass
class _Snapshot:
    shape: str
    tables: list[str]                               # every table
    rows: dict[str, tuple[list[str], list]]         # table -> (columns, records): the non-empty ones, parents first
    digests: dict[str, str]                         # table -> _digest of its rows, for the same ones
    sequences: list[tuple[str, int, int | None]]    # (name, start_value, last_value)


_snapshots: dict[tuple[str, str], _Snapshot] = {}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _digest(table: str) -> str:
    """An expression for the content of `table`: equal when its rows are (a few ms for thousands of rows)."""
    return f"(SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {_quoted(table)} AS r)"


async def _take_snapshot(connection) -> _Snapshot:
    tables = sorted(row[0] for row in await connection.fetch(_TABLES))
    rows = {}
    for table in tables:
        records = await connection.fetch(f"SELECT * FROM {_quoted(table)}")
        if records:
            rows[table] = (list(records[0].keys()), [tuple(record.values()) for record in records])
    # Rows are copied back parents first (the foreign keys are checked as each table is copied).
    order = graphlib.TopologicalSorter({table: set() for table in rows})
    for child, parent in await connection.fetch(_FOREIGN_KEYS):
        child, parent = child.strip('"'), parent.strip('"')
        if child != parent and child in rows and parent in rows:
            order.add(child, parent)
    rows = {table: rows[table] for table in order.static_order()}
    digests = dict(await connection.fetch(" UNION ALL ".join(
        f"SELECT {_literal(table)}, {_digest(table)}" for table in rows))) if rows else {}
    sequences = [tuple(row) for row in await connection.fetch(_SEQUENCES)]
    return _Snapshot(await connection.fetchval(_SHAPE), tables, rows, digests, sequences)


async def _put_back(connection, snapshot: _Snapshot) -> None:
    """Every table and sequence as in the snapshot.

    One query finds what the test changed: the other tables that hold rows, the snapshot's tables whose rows
    differ. As a superuser (with session_replication_role, which sets the foreign keys and the audit log's
    guard triggers aside) those are emptied by DELETE, which costs next to nothing on a small table; a TRUNCATE
    makes new files for every table it names and took most of a second for the whole schema. Otherwise one
    TRUNCATE ... CASCADE empties them all. Then the snapshot's rows are copied back where they were emptied.
    """
    changed = " UNION ALL ".join(
        f"SELECT {_literal(table)} WHERE {_digest(table)} <> {_literal(snapshot.digests[table])}"
        if table in snapshot.rows else f"SELECT {_literal(table)} WHERE EXISTS (SELECT FROM {_quoted(table)})"
        for table in snapshot.tables)
    async with connection.transaction():
        await connection.execute(f"SET LOCAL lock_timeout = '{RESET_LOCK_TIMEOUT}'")
        if await connection.fetchval("SELECT current_setting('is_superuser') = 'on'"):
            await connection.execute("SET LOCAL session_replication_role = replica")
            emptied = {row[0] for row in await connection.fetch(changed)}
            for table in emptied:
                await connection.execute(f"DELETE FROM {_quoted(table)}")
        else:
            emptied = set(snapshot.tables)
            await connection.execute("TRUNCATE " + ", ".join(_quoted(t) for t in snapshot.tables))
        for table, (columns, records) in snapshot.rows.items():
            if table in emptied:
                await connection.copy_records_to_table(table, records=records, columns=columns,
                                                       schema_name="public")
        if snapshot.sequences:
            await connection.execute("SELECT " + ", ".join(
                f"setval({_literal(_quoted(name))}::regclass, {start}, false)" if last is None
                else f"setval({_literal(_quoted(name))}::regclass, {last}, true)"
                for name, start, last in snapshot.sequences))


async def prepared_database(url: str, stage: str, build: Callable[[str], Awaitable[None]]) -> str:
    """This run's main database in the state `build` (given the database's URL) leaves an empty schema in.

    The first call for a stage builds it and takes a snapshot (rows and sequences); later calls put the
    snapshot back (_put_back). A test that changed the schema's shape (dropped a trigger, say) gets the
    schema built again from empty instead.
    """
    own = await _own_database(url, "main")
    snapshot = _snapshots.get((own, stage))
    if snapshot is not None:
        import asyncpg

        connection = await asyncpg.connect(**_connect_kwargs(url, make_url(own).database))
        try:
            if await connection.fetchval(_SHAPE) == snapshot.shape:
                await _put_back(connection, snapshot)
                return own
        finally:
            await connection.close()
    await reset_schema(own)
    await build(own)
    if snapshot is None:
        import asyncpg

        connection = await asyncpg.connect(**_connect_kwargs(url, make_url(own).database))
        try:
            _snapshots[(own, stage)] = await _take_snapshot(connection)
        finally:
            await connection.close()
    return own
