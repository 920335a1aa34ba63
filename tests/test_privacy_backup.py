"""Backups that restore: a copy of a running bot's database, taken mid-conversation, restores into an empty
database with every case, event, clock and outbound message, and its audit chain verifying."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot import texts
from bot.cli_backup import BackupError, backup_postgresql, backup_sqlite, restore_postgresql, restore_sqlite
from bot.db.models import Case, CaseEvent, Draft, Obligation, OutboundMessage, Supplement
from bot.db.session import Database
from bot.domain.anchors import make_anchor, verify_anchors
from bot.domain.audit import KEY_FILE_NAME, verify_chains
from bot.domain.cases import add_supplement
from bot.domain.outbox import enqueue
from bot.domain.roles import Actor, Role
from tests.conftest import SHANGHAI
from tests.flows import bind_official, file_complaint
from tests.pg import run_database

TABLES = {"cases": Case, "case_events": CaseEvent, "obligations": Obligation, "outbound_messages": OutboundMessage,
          "drafts": Draft, "supplements": Supplement}


async def snapshot(db: Database) -> dict:
    async with db.session() as session:
        counts = {name: await session.scalar(select(func.count()).select_from(model)) for name, model in TABLES.items()}
        rows = {
            "cases": (await session.execute(select(Case.ref, Case.status, Case.text, Case.audit_head)
                                            .order_by(Case.id))).all(),
            "events": (await session.execute(select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash)
                                             .order_by(CaseEvent.id))).all(),
            "clocks": (await session.execute(select(Obligation.case_id, Obligation.kind, Obligation.due_at,
                                                    Obligation.state).order_by(Obligation.id))).all(),
            "outbound": (await session.execute(select(OutboundMessage.chat_id, OutboundMessage.text,
                                                      OutboundMessage.state).order_by(OutboundMessage.id))).all(),
            "drafts": (await session.execute(select(Draft.account_id, Draft.step, Draft.data)
                                             .order_by(Draft.id))).all(),
        }
    return {"counts": counts, **rows}


async def busy_bot(harness) -> tuple[str, object]:
    """A bot with a case worked on, an official bound (outbound messages), a second citizen half-way
    through a complaint (a draft), and an uncommitted supplement in flight when the copy is taken."""
    await bind_official(harness, 610001)
    citizen = harness.chat(4201)
    ref = await file_complaint(citizen)
    await harness.supervisor().send(f"/assign {ref} 市财政局")
    async with harness.session() as session:
        await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI)
        # a message owed to the official, as the reminder sweep and the notices leave them
        enqueue(session=session, chat_id=610001, account_id=None, kind="reminder", text=f"办理提醒：{ref}",
                now=harness.clock.now(), markup={"inline_keyboard": [[{"text": "查看", "callback_data": "vc:1"}]]})
        await session.commit()
    await citizen.send(f"/supplement {ref} 合同编号HT-2025-01")
    other = harness.chat(4202)
    await other.send(texts.BTN_COMPLAIN)
    await other.send("亭湖区住建局拖欠我们工程款380万元，项目2022年底就竣工验收了，到现在一分钱没给。")
    return ref, citizen


async def test_backup_of_a_running_bot_restores_completely(harness, tmp_path):
    ref, _ = await busy_bot(harness)
    db = harness.services.db
    before = await snapshot(db)
    assert before["counts"]["outbound_messages"] and before["counts"]["drafts"] and before["counts"]["case_events"] >= 3

    # A write in flight (uncommitted) while the copy is taken: the copy has the committed state, whole.
    in_flight = harness.session()
    case = await in_flight.scalar(select(Case).where(Case.ref == ref))
    complainant = await in_flight.get(Case.complainant.property.mapper.class_, case.complainant_id)
    await add_supplement(session=in_flight, case=case, text="还没提交的补充", now=harness.clock.now(),
                         actor=Actor(Role.CITIZEN, complainant))
    backup = tmp_path / "backup.chengxin"
    try:
        if db.is_sqlite:
            await asyncio.to_thread(backup_sqlite, Path(db.url.database), backup)
        else:
            await asyncio.to_thread(backup_postgresql, db.url, backup)
    finally:
        await in_flight.commit()
    assert backup.exists()

    if db.is_sqlite:
        restored_url = f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'chengxin.db'}"
        restore_sqlite(backup, Path(make_url(restored_url).database))
        with pytest.raises(BackupError, match="not empty"):
            restore_sqlite(backup, Path(make_url(restored_url).database))
    else:
        restored_url = await run_database(os.environ["CHENGXIN_TEST_DATABASE_URL"], "restore")
        await asyncio.to_thread(restore_postgresql, make_url(restored_url), backup)
        with pytest.raises(BackupError, match="not empty"):
            await asyncio.to_thread(restore_postgresql, make_url(restored_url), backup)

    async with harness.session() as session:
        key = session.info["audit_key"]
    restored = Database(restored_url, audit_key=key)
    try:
        await restored.upgrade()
        after = await snapshot(restored)
        assert after == before
        async with restored.session() as session:
            checked, broken = await verify_chains(session=session)
            broken += await verify_anchors(session=session)
            assert (checked, broken) == (2, [])  # the case and the account-events chain
            assert "还没提交的补充" not in [s.text for s in (await session.scalars(select(Supplement))).all()]
    finally:
        await restored.dispose()
    # The running bot kept going meanwhile.
    async with harness.session() as session:
        assert await session.scalar(select(func.count()).select_from(Supplement)) == 2


def chengxin(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CHENGXIN_", "DATABASE_"))}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True,
                          env=environment, timeout=120)


async def test_backup_and_restore_commands(harness, tmp_path):
    if not harness.services.db.is_sqlite:
        pytest.skip("the SQLite commands; PostgreSQL is covered above through pg_dump/pg_restore")
    await busy_bot(harness)
    source = Path(harness.services.db.url.database)
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{source}"}
    saved = chengxin("backup", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert saved.returncode == 0, saved.stderr
    assert "1 件案件" in saved.stdout
    again = chengxin("backup", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert again.returncode == 2 and "already exists" in again.stderr

    target = tmp_path / "new" / "chengxin.db"
    target.parent.mkdir()
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{target}"}
    refused = chengxin("restore", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "audit key" in refused.stderr and not target.exists()
    shutil.copy(source.parent / KEY_FILE_NAME, target.parent / KEY_FILE_NAME)
    restored = chengxin("restore", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "审计链完整" in restored.stdout and "1 件案件" in restored.stdout
    twice = chengxin("restore", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert twice.returncode == 2 and "not empty" in twice.stderr
    verified = chengxin("audit", "verify", cwd=tmp_path, env=env)
    assert verified.returncode == 0 and "0 broken" in verified.stdout
    anchor = chengxin("audit", "anchor", cwd=tmp_path, env=env)
    assert anchor.returncode == 0 and "root" in anchor.stdout
    with sqlite3.connect(target) as connection:
        assert connection.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
