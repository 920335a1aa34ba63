"""`chengxin backup FILE` and `chengxin restore FILE`.

SQLite: the backup is SQLite's online backup API (Python's sqlite3 `Connection.backup`), which copies a
consistent snapshot of the committed database while the bot keeps running and writing (WAL mode: the
copy holds only a read transaction), into a single self-contained file (journal mode DELETE), checked with
`PRAGMA integrity_check`. Restore copies it back the same way into a database file that does not exist
or is empty, and refuses anything else.

PostgreSQL: `pg_dump --format=custom` (consistent by itself: one snapshot) and `pg_restore` into an empty
database; the exact commands are printed, and run when the tools are installed.

The audit key is not in the backup (whoever holds a backup should not be able to forge its audit log):
back up `audit.key` (or CHENGXIN_AUDIT_KEY) once, separately. A restore refuses to proceed when the
backup holds keyed audit events but no key is configured or present beside the target, because a bot
started without it would make a new key and the restored chains could never be verified again.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """A backup or restore that must not proceed; the message says why and what to do."""


@dataclass(frozen=True)
class Counts:
    tables: dict[str, int]


def sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(database).expanduser().resolve()


def _tables(connection: sqlite3.Connection) -> list[str]:
    return [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def backup_sqlite(source: Path, target: Path) -> dict[str, int]:
    """A consistent copy of `source` (which may be in use) at `target`; rows per table."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one read snapshot, writers carry on in the WAL
        dst.execute("PRAGMA journal_mode=DELETE")
        problem = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the copy failed its integrity check: {problem}")
        counts = {name: dst.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in _tables(dst)}
    finally:
        dst.close()
        src.close()
    os.chmod(partial, 0o600)
    partial.replace(target)
    return counts


def keyed_events_in(path: Path) -> bool:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = set(_tables(connection))
        for table in ("case_events", "commitment_events"):
            if table in tables and "hash_version" in {c[1] for c in connection.execute(f"PRAGMA table_info({table})")}:
                if connection.execute(f"SELECT 1 FROM {table} WHERE hash_version >= 2 LIMIT 1").fetchone():
                    return True
        return False
    finally:
        connection.close()


def restore_sqlite(backup: Path, target: Path) -> dict[str, int]:
    """Copy `backup` into `target`, which must not exist or be an empty database."""
    if not backup.exists():
        raise BackupError(f"{backup} does not exist")
    if target.exists() and target.stat().st_size:
        existing = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            tables = _tables(existing)
        finally:
            existing.close()
        if tables:
            raise BackupError(f"{target} is not empty ({len(tables)} tables): restore only into a new or empty "
                              "database (move the old file away first)")
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        problem = src.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"{backup} failed its integrity check: {problem}")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            counts = {name: dst.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in _tables(dst)}
        finally:
            dst.close()
    finally:
        src.close()
    return counts


def _pg_parts(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection flags and environment (the password goes in PGPASSWORD, never on the command line)."""
    flags = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        flags += ["--username", url.username]
    flags += ["--dbname", url.database or "postgres"]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return flags, env


def pg_dump_command(url: URL, file: Path) -> list[str]:
    flags, _ = _pg_parts(url)
    return ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(file), *flags]


def pg_restore_command(url: URL, file: Path) -> list[str]:
    flags, _ = _pg_parts(url)
    return ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            *flags, str(file)]


def _run_pg(command: list[str], url: URL) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; run it where it is (PGPASSWORD in the environment):\n  "
                          + shlex.join(command))
    _, env = _pg_parts(url)
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


async def _pg_is_empty(url: str) -> bool:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return not await connection.scalar(text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"))
    finally:
        await engine.dispose()


def backup_postgresql(url: URL, file: Path) -> None:
    if file.exists():
        raise BackupError(f"{file} already exists: choose a new file name")
    _run_pg(pg_dump_command(url, file), url)


def restore_postgresql(url: URL, file: Path) -> None:
    if not file.exists():
        raise BackupError(f"{file} does not exist")
    if not asyncio.run(_pg_is_empty(url.render_as_string(hide_password=False))):
        raise BackupError(f"database {url.database} is not empty: restore only into a new, empty database "
                          f"(createdb NAME, then DATABASE_URL=…/NAME chengxin restore FILE)")
    _run_pg(pg_restore_command(url, file), url)


def _key_present(settings) -> bool:
    from bot.domain.audit import default_key_path

    configured = settings.audit_key.get_secret_value().strip()
    if configured and not configured.startswith("file:"):
        return True
    path = Path(configured[5:]) if configured else default_key_path(settings.database_url)
    return path is None or path.exists()


def backup_command(file: str) -> int:
    from bot.config import Settings

    settings = Settings()
    url = make_url(settings.database_url)
    target = Path(file).expanduser().resolve()
    try:
        if url.get_backend_name() == "sqlite":
            counts = backup_sqlite(sqlite_path(url), target)
            print(f"已备份到 {target}：{counts.get('cases', 0)} 件案件，{counts.get('case_events', 0)} 条审计事件"
                  f"（审计密钥不在备份里，请另行保管 {KEY_HINT}）")
        else:
            backup_postgresql(url, target)
            print(f"已备份到 {target}（pg_dump --format=custom）；审计密钥请另行保管 {KEY_HINT}")
    except BackupError as error:
        print(f"chengxin backup: {error}", file=sys.stderr)
        return 2
    return 0


KEY_HINT = "(audit.key / CHENGXIN_AUDIT_KEY)"


def restore_command(file: str) -> int:
    from bot.config import Settings

    settings = Settings()
    url = make_url(settings.database_url)
    source = Path(file).expanduser().resolve()
    try:
        if url.get_backend_name() == "sqlite":
            if source.exists() and keyed_events_in(source) and not _key_present(settings):
                raise BackupError("the backup's audit log is keyed but no audit key is here: copy the original "
                                  "audit.key beside the database or set CHENGXIN_AUDIT_KEY, then restore again")
            counts = restore_sqlite(source, sqlite_path(url))
        else:
            if not _key_present(settings):
                raise BackupError("no audit key is here: set CHENGXIN_AUDIT_KEY (the original key) and restore again")
            restore_postgresql(url, source)
            counts = None
    except BackupError as error:
        print(f"chengxin restore: {error}", file=sys.stderr)
        return 2
    verified = asyncio.run(_upgrade_and_verify(settings))
    if counts is not None:
        print(f"已恢复：{counts.get('cases', 0)} 件案件，{counts.get('case_events', 0)} 条审计事件")
    print(verified)
    return 0 if verified.startswith("审计链完整") else 1


async def _upgrade_and_verify(settings) -> str:
    from bot.db.session import Database
    from bot.domain.anchors import verify_anchors
    from bot.domain.audit import audit_key_for, verify_chains

    db = Database(settings.database_url, audit_key=audit_key_for(settings))
    try:
        await db.upgrade()
        async with db.session() as session:
            checked, broken = await verify_chains(session=session, release=True)
            broken += await verify_anchors(session=session)
    finally:
        await db.dispose()
    if broken:
        first = broken[0]
        return f"审计链有 {len(broken)} 处断裂，例如 {first.case_ref} 第 {first.seq} 条：{first.reason}"
    return f"审计链完整：{checked} 条链全部通过校验"
