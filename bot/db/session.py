"""Engines and session factories. Callers open one session per update or job and commit it.

Two kinds of session:

- `Database.session()`: the ordinary one, for anything that may write. On SQLite every one of its
  transactions begins with BEGIN IMMEDIATE and waits for this instance's write turn (`WriteTurn`), so a
  read-then-write transaction never fails with SQLITE_BUSY and writers queue in order. The price: while
  such a transaction is open, even one that only reads, every other writer of the instance waits.
- `Database.read_session()`: for work that only reads and may take long (the monthly workbooks, /stats,
  /report, /score, the web pages). On SQLite it comes from a second engine on the same file whose
  connections begin with a plain (DEFERRED) BEGIN, never take the write turn and refuse writes
  (`PRAGMA query_only=ON`). In WAL mode a reader sees the snapshot of its first read until its
  transaction ends, never blocks the writer and is never blocked by it; so a 40 s workbook build no
  longer makes a citizen's filing wait 40 s (or fail with "database is locked" after 30). Its
  connections use aiosqlite's thread for every statement: the one-trip tricks below exist to keep the
  write lock short, which a reader never holds. (The WAL cannot be checkpointed past the oldest open
  read snapshot, so it grows during a long read and shrinks at the next checkpoint.) A private
  in-memory database is one connection's own, so there the read session is an ordinary session.
  On PostgreSQL it is the ordinary engine with read-only transactions (BEGIN READ ONLY, no extra trip).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.config import DEFAULT_CONCURRENT_UPDATES
from bot.db.drivers import MissingDriver, driver_problem

# Rows fetched together with the statement itself. Bigger results (streamed reports) come in
# further trips of this size, so memory stays bounded; an update's queries fit in the first one.
_FIRST_ROWS = 256
# How long a transaction waits for another writer before SQLITE_BUSY (also the connect timeout).
BUSY_TIMEOUT_MS = 30_000
# Connections beyond one per update in flight: the scheduled jobs, /healthz, /metrics.
SPARE_CONNECTIONS = 4


class _OneTripCursor:
    """An aiosqlite cursor whose execute() is one trip to the connection's thread.

    aiosqlite makes a trip for each of cursor(), execute(), fetchall() and close(), and every trip
    is a hand-off between the event loop and the connection's thread (≈ 0.1–0.3 ms here). This
    cursor opens the sqlite3 cursor, runs the statement, fetches its first rows and closes it in one.
    """

    __slots__ = ("_connection", "_open", "_rows", "description", "rowcount", "lastrowid", "arraysize")

    def __init__(self, connection: _OneTripConnection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None  # only while rows remain unfetched
        self._rows: deque = deque()
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self.arraysize = 1

    def __await__(self):  # `await connection.cursor()`, as with aiosqlite
        yield from ()
        return self

    async def __aenter__(self) -> _OneTripCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> _OneTripCursor:
        await self._run(sql, () if parameters is None else parameters, False)
        return self

    async def executemany(self, sql: str, parameters: Any) -> _OneTripCursor:
        await self._run(sql, parameters, True)
        return self

    async def _run(self, sql: str, parameters: Any, many: bool) -> None:
        if self._open is not None:
            await self.close()
        connection = self._connection
        if connection._holds_write_lock():
            # Nothing can make this statement wait for a lock: run it here, without the trip.
            result = _statement(connection._conn, None, sql, parameters, many)
        else:
            begin, connection._pending_begin = connection._pending_begin, None
            if begin is not None:
                await connection._take_turn()
            try:
                if begin is not None and _begin_without_waiting(connection._conn, begin):
                    connection._locked = True
                    result = _statement(connection._conn, None, sql, parameters, many)
                else:
                    # The write lock is taken (another process or engine is writing): wait for it,
                    # up to busy_timeout, in the connection's thread, never on the event loop.
                    result = await connection._execute(_statement, connection._conn, begin, sql, parameters, many)
                    connection._locked = begin is not None
            except BaseException:
                if connection._connection is None or not connection._connection.in_transaction:
                    connection._give_turn()  # nothing began: no COMMIT or ROLLBACK will come to give it back
                raise
        self.description, rows, self.rowcount, self.lastrowid, self._open = result
        self._rows = deque(rows)

    async def _more(self, size: int | None) -> None:
        rows, self.rowcount, self.lastrowid, done = await self._connection._execute(_fetch, self._open, size)
        if done:
            self._open = None
        self._rows.extend(rows)

    async def fetchone(self) -> Any:
        if not self._rows and self._open is not None:
            await self._more(_FIRST_ROWS)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list:
        size = size or self.arraysize
        while len(self._rows) < size and self._open is not None:
            await self._more(max(size, _FIRST_ROWS))
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    async def fetchall(self) -> list:
        if self._open is not None:
            await self._more(None)
        rows, self._rows = list(self._rows), deque()
        return rows

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row

    async def close(self) -> None:
        self._rows.clear()
        if self._open is not None:
            cursor, self._open = self._open, None
            await self._connection._execute(cursor.close)


def _statement(conn: sqlite3.Connection, begin: str | None, sql: str, parameters: Any, many: bool):
    """In the connection's thread: [BEGIN,] the statement, its first rows; close the cursor if that was all."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchmany(_FIRST_ROWS) if description else []
    except BaseException:
        cursor.close()
        raise
    more = len(rows) == _FIRST_ROWS
    result = (description, rows, cursor.rowcount, cursor.lastrowid, cursor if more else None)
    if not more:
        cursor.close()
    return result


def _begin_without_waiting(conn: sqlite3.Connection, begin: str) -> bool:
    """Try BEGIN IMMEDIATE with no busy wait; False (nothing begun) when another writer holds the lock."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute(begin)
        return True
    except sqlite3.OperationalError as error:
        busy = getattr(error, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF == sqlite3.SQLITE_BUSY
        if conn.in_transaction or not busy:
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _fetch(cursor: sqlite3.Cursor, size: int | None):
    rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
    done = size is None or len(rows) < size
    result = (rows, cursor.rowcount, cursor.lastrowid, done)
    if done:
        cursor.close()
    return result


class Session(AsyncSession):
    """An AsyncSession whose `async with` closes it in the caller's own task.

    SQLAlchemy's `__aexit__` runs `close()` in a task of its own, shielded, so that a cancellation cannot
    abandon it halfway: two or three extra turns of the event loop for every session, and with fifty
    updates in flight each turn waits behind all of theirs (an update's transaction took 3 turns, ~18 ms
    under load, for ~2 ms of work; interleaved like that, updates finish together instead of one by one).
    Here the close runs in place; only when a cancellation does interrupt it is it finished as SQLAlchemy
    would (`close()` again, in a shielded task of its own) before the cancellation goes on.
    """

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await close_in_place(self.close)


async def close_in_place(close) -> None:
    """`await close()` in this task; if a cancellation interrupts it, `close()` again in a shielded task of its
    own and wait for it before the cancellation goes on (what SQLAlchemy does every time, see `Session`)."""
    try:
        await close()
    except asyncio.CancelledError:
        closing = asyncio.ensure_future(close())
        while not closing.done():
            with suppress(asyncio.CancelledError):
                await asyncio.shield(closing)
        raise


class WriteTurn:
    """This engine's transactions take SQLite's write lock one at a time, in the order they asked.

    Every transaction begins with BEGIN IMMEDIATE, so only one of them can be running at a time
    anyway. Left to SQLite, the others would wait in its busy handler, in their connections' threads,
    retrying every 1-100 ms: no order (a waiter can lose every retry to newcomers until busy_timeout
    says "database is locked") and the lock idles between a release and the next retry. Here they
    wait on the event loop, FIFO, and the next one starts the moment the previous commits. Other
    processes (and other engines) still meet SQLite's busy handler, in the connection's thread.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # an asyncio.Lock belongs to the loop that first waited on it
            self._lock, self._loop = asyncio.Lock(), loop
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError(
                f"database is locked: this instance's other transactions held it for {self.timeout:g} s") from None

    def release(self) -> None:
        if self._lock is not None and self._lock.locked():
            self._lock.release()

    @property
    def waiting(self) -> int:
        """Transactions waiting for their turn (for tests and metrics)."""
        waiters = getattr(self._lock, "_waiters", None)
        return len(waiters) if waiters else 0


class _OneTripConnection(aiosqlite.Connection):
    """aiosqlite with at most one thread trip per transaction, usually none.

    - BEGIN IMMEDIATE is the only step that can wait (busy_timeout) for another connection's
      write lock, so it must never wait on the event loop. It is first tried there with no wait
      at all (busy_timeout 0), which succeeds whenever no other writer is in a transaction; only
      when the lock is taken does it go, with the transaction's first statement, to the
      connection's thread, which waits there.
    - Once BEGIN IMMEDIATE has succeeded this connection holds SQLite's write lock; in WAL mode
      nothing else it does until COMMIT/ROLLBACK waits for a lock (readers never block a writer,
      and the checkpoint after a commit is PASSIVE). Those statements and the COMMIT run on the
      event loop's thread: the thread hand-off (≈ 0.1 ms quiet, ~0.7 ms on a busy 2-core VM) costs
      more than the statement. They still do disk I/O (WAL appends, page reads, the occasional
      auto-checkpoint of ~1000 pages), which then briefly holds up the loop.
    - A COMMIT or ROLLBACK with no transaction to end (the pool's reset after a commit) costs
      nothing; sqlite3 would skip it too.
    """

    _pending_begin: str | None = None
    _locked = False  # this transaction began with BEGIN IMMEDIATE, which succeeded
    _turn: WriteTurn | None = None  # the engine's; set by Database._connect_sqlite
    _has_turn = False

    def cursor(self) -> _OneTripCursor:  # type: ignore[override]
        return _OneTripCursor(self)

    async def _take_turn(self) -> None:
        if self._turn is not None and not self._has_turn:
            await self._turn.acquire()
            self._has_turn = True

    def _give_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self._turn.release()

    async def close(self) -> None:
        try:
            await super().close()  # ends (rolls back) a transaction still open
        finally:
            self._give_turn()

    def stop(self):  # SQLAlchemy's forced close (terminate)
        try:
            return super().stop()
        finally:
            self._give_turn()

    def begin_with_next_statement(self, sql: str) -> None:
        self._pending_begin = sql

    def _holds_write_lock(self) -> bool:
        connection = self._connection
        if self._locked and connection is not None and connection.in_transaction:
            return True
        self._locked = False
        return False

    async def commit(self) -> None:
        await self._end(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        await self._end(sqlite3.Connection.rollback)

    async def _end(self, how) -> None:
        try:
            if self._pending_begin is not None:  # no statement ran: the transaction never started
                self._pending_begin = None
                return
            connection = self._connection
            if connection is None or not connection.in_transaction:
                self._locked = False
                return
            if self._holds_write_lock():
                self._locked = False
                how(connection)
            else:
                await self._execute(how, connection)
        finally:
            # Given back even when COMMIT failed: SQLAlchemy rolls back next, which needs no turn.
            self._give_turn()


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so two writers queue instead of deadlocking."""

    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection) -> None:
        # Sent in the same thread trip as the transaction's first statement, before it: every
        # transaction still starts with BEGIN IMMEDIATE (takes the write lock, waits up to
        # busy_timeout for it), so a read-then-write transaction never fails with SQLITE_BUSY.
        connection.connection.driver_connection.begin_with_next_statement("BEGIN IMMEDIATE")


def _tune_sqlite_reader(engine: AsyncEngine) -> None:
    """Read-only connections: a plain (DEFERRED) BEGIN, so the transaction reads one WAL snapshot and takes
    no lock a writer waits for; `query_only`, so a write by mistake fails instead of taking the lock."""

    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's, starts transactions
        cursor = dbapi_connection.cursor()
        # A reader waits only in rare cases (the WAL index being rebuilt after a crash): in its own thread.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection) -> None:
        # Without it sqlite3 would run every SELECT in its own implicit transaction: a report's queries
        # could then see different moments. One BEGIN makes them one snapshot.
        connection.exec_driver_sql("BEGIN")


def _private_memory(url) -> bool:
    """A database only its one connection can see (no file): a second engine would see another, empty one."""
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def pool_size(concurrency: int) -> tuple[int, int]:
    """(pool_size, max_overflow) for `concurrency` updates in flight: each holds at most one connection
    at a time; the scheduled jobs, /healthz and /metrics need a few more. The overflow absorbs a burst
    beyond that (an update's delivery opening its own session, say) without a 30 s wait for the pool."""
    return concurrency + SPARE_CONNECTIONS, SPARE_CONNECTIONS


class Database:
    """Owns the engine; hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False, audit_key: bytes | None = None,
                 concurrency: int = DEFAULT_CONCURRENT_UPDATES) -> None:
        """`audit_key`: the HMAC key audit events are hashed with (bot.domain.audit), carried by every
        session in `session.info["audit_key"]`; a session without it cannot append audit events.
        `concurrency`: updates handled at once, which sizes the PostgreSQL pool."""
        if problem := driver_problem(str(url)):
            raise MissingDriver(problem)
        self.url = make_url(url)
        size, overflow = pool_size(concurrency)
        kwargs: dict = {"echo": echo, "pool_size": size, "max_overflow": overflow}
        if self.is_sqlite:
            kwargs["async_creator"] = self._connect_sqlite
            # A pool of kept connections on every SQLAlchemy the floor allows (before 2.0.38 the aiosqlite
            # dialect defaulted to NullPool, a new connection per session).
            kwargs["poolclass"] = AsyncAdaptedQueuePool
            self.write_turn = WriteTurn(BUSY_TIMEOUT_MS / 1000)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, class_=Session, expire_on_commit=False,
                                           info={"audit_key": audit_key} if audit_key else {})
        self.read_engine = self._read_engine(concurrency)
        # No audit key: a read session cannot append audit events (or write anything else).
        self.read_sessions = async_sessionmaker(self.read_engine, class_=Session, expire_on_commit=False)

    def _read_engine(self, concurrency: int) -> AsyncEngine:
        """The engine of `read_session()` (see the module docstring)."""
        if not self.is_sqlite:
            # Same pool; each checkout's transactions begin READ ONLY (asyncpg's BEGIN carries it: no extra
            # trip), and the connection is reset when it goes back to the pool.
            return self.engine.execution_options(postgresql_readonly=True)
        if _private_memory(self.url):
            return self.engine
        # A few kept connections (one per long job or page at a time); a burst of reports opens more.
        engine = create_async_engine(self.url, echo=self.engine.echo, poolclass=AsyncAdaptedQueuePool,
                                     pool_size=SPARE_CONNECTIONS, max_overflow=concurrency,
                                     async_creator=self._connect_sqlite_reader)
        _tune_sqlite_reader(engine)
        return engine

    async def _connect_sqlite(self) -> _OneTripConnection:
        """What aiosqlite.connect does, with the dialect's connect arguments and a 30 s timeout."""
        dialect = self.engine.sync_engine.dialect
        args, kwargs = dialect.create_connect_args(self.engine.sync_engine.url)
        kwargs["timeout"] = BUSY_TIMEOUT_MS / 1000
        # Statements run on the connection's thread or, inside a transaction that holds the write
        # lock, on the event loop's; never on both at once (SQLAlchemy awaits each one).
        kwargs["check_same_thread"] = False
        connection = _OneTripConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True
        connection._turn = self.write_turn
        return await connection

    async def _connect_sqlite_reader(self) -> aiosqlite.Connection:
        """A plain aiosqlite connection (every statement in its thread) whose thread, like the writers',
        does not keep the process alive at exit if the engine was never disposed."""
        dialect = self.engine.sync_engine.dialect
        args, kwargs = dialect.create_connect_args(self.engine.sync_engine.url)
        kwargs["timeout"] = BUSY_TIMEOUT_MS / 1000
        connection = aiosqlite.Connection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True
        return await connection

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def session(self) -> AsyncSession:
        """A session that may write; on SQLite its transactions hold this instance's write turn."""
        return self.sessions()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """`engine.begin()` (one Core connection, one transaction, committed at the end) that closes the
        connection in the caller's task, as `Session` does."""
        connection = await self.engine.connect()
        try:
            async with connection.begin():
                yield connection
        finally:
            await close_in_place(connection.close)

    def read_session(self) -> AsyncSession:
        """A session that only reads and never holds up a writer (see the module docstring); a write in it
        fails (SQLite: "attempt to write a readonly database"; PostgreSQL: read-only transaction)."""
        return self.read_sessions()

    async def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from bot.db.migrate import upgrade_connection

        async with self.engine.begin() as connection:
            await connection.run_sync(upgrade_connection)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False

    async def dispose(self) -> None:
        if self.is_sqlite and self.read_engine is not self.engine:
            await self.read_engine.dispose()
        await self.engine.dispose()
