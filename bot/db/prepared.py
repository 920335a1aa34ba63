"""Prebuilt statements of the conversation's hot path, run on SQLite's driver connection in one step.

Every conversation step claims its update, reads its account and draft and writes the draft back: three
statements. Through SQLAlchemy each pays its execution machinery (the compiled-cache lookup, an execution
context, parameter construction, a result object) — about 0.06 ms, more than SQLite's own work for it. A
`Prepared` statement is compiled by SQLAlchemy once per dialect and set of parameter names, and on SQLite
runs straight on the connection's `_OneTripCursor` (bot/db/session.py: same BEGIN IMMEDIATE, same write
turn, same transaction as everything else on that connection), with the bind and result processors of the
statement's own column types, so values come back exactly as SQLAlchemy would return them.

On any other dialect, and whenever something listens for the engine's statements (`before_cursor_execute`:
tests that count statements, tracing), it is an ordinary `connection.execute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement


class Prepared:
    """A Core statement (no expanding IN parameters) to run on a connection: `first()`, `rowcount()` or
    `many()`."""

    __slots__ = ("statement", "_compiled")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}

    async def first(self, connection: AsyncConnection, parameters: dict[str, Any]) -> tuple | None:
        """The first row of the result as a tuple (None if there is none)."""
        if not _direct(connection):
            row = (await connection.execute(self.statement, parameters)).first()
            return tuple(row) if row is not None else None
        compiled, cursor = await self._run(connection, parameters)
        row = await cursor.fetchone()
        await cursor.close()
        return None if row is None else compiled.result(row)

    async def rowcount(self, connection: AsyncConnection, parameters: dict[str, Any]) -> int:
        """How many rows the statement inserted, updated or deleted."""
        if not _direct(connection):
            return (await connection.execute(self.statement, parameters)).rowcount
        _, cursor = await self._run(connection, parameters)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def many(self, connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        """The statement once per row (an executemany; every row with the same names, nothing returned)."""
        if not rows:
            return
        if not _direct(connection):
            await connection.execute(self.statement, list(rows))
            return
        compiled = self._compiled_for(connection, rows[0])
        cursor = await _driver(connection).cursor()
        await cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
        await cursor.close()

    async def _run(self, connection: AsyncConnection, parameters: dict[str, Any]):
        compiled = self._compiled_for(connection, parameters)
        cursor = await _driver(connection).cursor()
        await cursor.execute(compiled.sql, compiled.parameters(parameters))
        return compiled, cursor

    def _compiled_for(self, connection: AsyncConnection, parameters: dict[str, Any]) -> _Compiled:
        # Keyed by the names given: an UPDATE's SET clause (`update(...).values()` left open) depends on them.
        key = tuple(parameters)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, connection.dialect, key)
        return compiled


class _Compiled:
    """The SQL text for one dialect and parameter names, the order of its `?`, and the type processors."""

    __slots__ = ("sql", "_names", "_defaults", "_binds", "_results")

    def __init__(self, statement: ClauseElement, dialect, names: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(names))
        if dialect.paramstyle != "qmark" or compiled.positiontup is None:
            raise ValueError(f"a Prepared statement runs positional (qmark) SQL, not {dialect.paramstyle}")
        binds = [compiled.binds[name] for name in compiled.positiontup]
        if any(bind.expanding for bind in binds):
            raise ValueError("a Prepared statement cannot expand an IN list")
        if compiled.insert_prefetch or compiled.update_prefetch:  # computed per execution by SQLAlchemy
            names = ", ".join(column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch))
            raise ValueError(f"give the columns with a Python-side default function: {names}")
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup)
        # Values the statement carries itself (`.values(state="sending")`), used when not given.
        self._defaults = {name: bind.effective_value for name, bind in zip(self._names, binds) if not bind.required}
        self._binds = tuple(bind.type._cached_bind_processor(dialect) for bind in binds)
        self._results = tuple(column.type._cached_result_processor(dialect, None)
                              for column in _result_columns(statement))

    def parameters(self, given: dict[str, Any]) -> tuple:
        values = []
        for name, process in zip(self._names, self._binds):
            value = given[name] if name in given else self._defaults[name]
            values.append(value if process is None else process(value))
        return tuple(values)

    def result(self, row: Sequence[Any]) -> tuple:
        return tuple(value if process is None else process(value) for value, process in zip(row, self._results))


def new_row_values(instance: Any) -> dict[str, Any]:
    """The column values the unit of work would INSERT for a new ORM object: what was set on it, else the
    column's Python default (a function is called); a column with neither is left to its server default, or
    NULL. For inserting the object with a `Prepared` statement instead of a flush."""
    mapper = sa_inspect(instance).mapper
    given = instance.__dict__
    values: dict[str, Any] = {}
    for column in mapper.local_table.columns:
        key = mapper.get_property_by_column(column).key
        if key in given:
            values[column.key] = given[key]
        elif column.default is not None and column.default.is_scalar:
            values[column.key] = column.default.arg
        elif column.default is not None and column.default.is_callable:
            values[column.key] = column.default.arg(None)
        elif column.default is not None:
            raise ValueError(f"{mapper.class_.__name__}.{key}: a default only SQLAlchemy can compute")
        elif column.server_default is None and not column.primary_key:
            values[column.key] = None
    return values


def _result_columns(statement: ClauseElement) -> Sequence[Any]:
    """The columns a statement returns (a SELECT's, a RETURNING clause's), in order; none for plain DML."""
    if getattr(statement, "is_select", False):
        return list(statement.selected_columns)
    if getattr(statement, "_returning", ()):
        return list(statement.exported_columns)
    return []


def _direct(connection: AsyncConnection) -> bool:
    """Run on the driver: SQLite with our one-trip connection, and nobody listening for statements."""
    if connection.dialect.name != "sqlite":
        return False
    sync = connection.sync_connection
    return not sync.dispatch.before_cursor_execute and hasattr(_driver(connection), "begin_with_next_statement")


def _driver(connection: AsyncConnection):
    return connection.sync_connection.connection.driver_connection
