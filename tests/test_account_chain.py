"""The account-events audit chain: who was given or lost staff rights is chained and keyed like case events,
checked by `chengxin audit verify`, covered by the daily anchors, and rows from before migration 0016 are
the chain's unkeyed start (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.migrate import upgrade_connection
from bot.db.models import Account, AccountEvent, AccountEventChain, AuditAnchor, Case
from bot.db.session import Database
from bot.domain.access_log import BIND, record_account_change
from bot.domain.account_chain import account_event_mac, head_seal
from bot.domain.anchors import compute_root, make_anchor, publishable
from bot.domain.audit import GENESIS, LEGACY, verify_chains
from bot.domain.roles import SYSTEM
from tests.conftest import SHANGHAI
from tests.flows import bind_official
from tests.pg import run_database, server_url
from tests.test_cli import chengxin
from tests.test_privacy_audit import case_with_events, sql, verify

KEY = b"k" * 40
CHAIN = "account-events"


async def invite_bind_unbind(harness) -> None:
    """Three account events: the invite, the bind, the unbind."""
    await bind_official(harness, 6101)
    await harness.supervisor().send("/unbind 6101")
    assert "已解除" in harness.supervisor().last().text


async def events(harness) -> list[AccountEvent]:
    async with harness.session() as session:
        return list((await session.scalars(select(AccountEvent).order_by(AccountEvent.id))).all())


def drop_guards(harness) -> list:
    """Bypass the append-only triggers, as someone with database access could."""
    if harness.services.db.is_sqlite:
        return [text("DROP TRIGGER account_events_no_update"), text("DROP TRIGGER account_events_no_delete")]
    return [text("DROP TRIGGER account_events_no_change ON account_events")]


async def test_invite_bind_and_unbind_are_linked_keyed_events_and_the_head_row_is_sealed(harness):
    await invite_bind_unbind(harness)
    written = await events(harness)
    assert [(e.seq, e.action) for e in written] == [(1, "invite"), (2, "bind"), (3, "unbind")]
    assert [e.prev_hash for e in written] == [GENESIS, written[0].hash, written[1].hash]
    async with harness.session() as session:
        key = session.info["audit_key"]
        head = await session.get(AccountEventChain, 1)
    assert all(e.hash == account_event_mac(key, e) and e.hash_version == 2 for e in written)
    assert (head.count, head.head, head.seal) == (3, written[-1].hash, head_seal(key, 3, written[-1].hash))
    assert await verify(harness) == []


async def test_an_altered_event_is_reported_at_its_seq(harness):
    await invite_bind_unbind(harness)
    await sql(harness, *drop_guards(harness), update(AccountEvent).where(AccountEvent.seq == 2).values(
        after={"role": "supervisor", "department_id": None, "is_head": False, "region": None}))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (CHAIN, 2) and "content does not match its hash" in reason


async def test_a_deleted_event_is_named(harness):
    await invite_bind_unbind(harness)
    await sql(harness, *drop_guards(harness), delete(AccountEvent).where(AccountEvent.seq == 2))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (CHAIN, 3) and "event 2 is missing" in reason


async def test_a_truncated_tail_is_detected_even_with_the_head_row_rewritten(harness):
    await invite_bind_unbind(harness)
    written = await events(harness)
    await sql(harness, *drop_guards(harness), delete(AccountEvent).where(AccountEvent.seq == 3))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (CHAIN, 3) and "truncated" in reason
    await sql(harness, update(AccountEventChain).values(count=2, head=written[1].hash))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (CHAIN, 2) and "seal" in reason


async def test_an_event_inserted_without_the_key_is_detected(harness):
    await invite_bind_unbind(harness)
    last = (await events(harness))[-1]
    forged = AccountEvent(account_id=last.account_id, actor_account_id=None, invite_id=None, action=BIND,
                          before=last.after, after={"role": "supervisor", "department_id": None,
                                                    "is_head": False, "region": None},
                          created_at=last.created_at, seq=4, prev_hash=last.hash, hash_version=2)
    forged.hash = account_event_mac(b"a guessed key, not the real one!!", forged)
    values = {c: getattr(forged, c) for c in ("account_id", "actor_account_id", "invite_id", "action", "before",
                                              "after", "created_at", "seq", "prev_hash", "hash", "hash_version")}
    await sql(harness, insert(AccountEvent).values(**values))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (CHAIN, 4) and "hash" in reason


async def test_the_anchor_root_covers_the_account_events_head(harness):
    await case_with_events(harness)
    async with harness.session() as session:
        before = await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI)
        await session.commit()
    assert before.chains == 1 and before.account_event_cut == 0  # no account event yet: no line
    await invite_bind_unbind(harness)
    harness.clock.advance(days=1)
    async with harness.session() as session:
        anchor = await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI)
        await session.commit()
        without = await compute_root(session=session, case_cut=anchor.case_event_cut,
                                     commitment_cut=anchor.commitment_event_cut)
    written = await events(harness)
    assert (anchor.chains, anchor.events) == (2, 4 + 3) and anchor.account_event_cut == written[-1].id
    assert without[0] != anchor.root and f"account_events<={written[-1].id}" in publishable(anchor)
    case_lines = hashlib.sha256()  # the root is the case line, then the account-events line
    async with harness.session() as session:
        case = await session.scalar(select(Case))
    case_lines.update(f"case\t{case.ref}\t4\t{case.audit_head}\n".encode())
    case_lines.update(f"{CHAIN}\t-\t3\t{written[-1].hash}\n".encode())
    assert anchor.root == case_lines.hexdigest()
    assert await verify(harness) == []

    # An insider with the key rewrites the bind and recomputes chain and head row: only the anchor tells.
    async with harness.session() as session:
        key = session.info["audit_key"]
    previous, changes = written[0].hash, []
    for event in written[1:]:
        if event.seq == 2:
            event.after = {**event.after, "is_head": True}
        event.prev_hash = previous
        event.hash = account_event_mac(key, event)
        changes.append(update(AccountEvent).where(AccountEvent.id == event.id).values(
            after=event.after, prev_hash=event.prev_hash, hash=event.hash))
        previous = event.hash
    await sql(harness, *drop_guards(harness), *changes,
              update(AccountEventChain).values(head=previous, seal=head_seal(key, 3, previous)))
    problems = await verify(harness)
    assert [(where, "no longer gives the root" in reason) for where, _, reason in problems] == \
        [(f"anchor {anchor.day}", True)]


async def test_anchors_from_before_the_account_chain_keep_verifying(harness):
    """An anchor row as migration 0016 finds it (no account cut) keeps its root, digest and MAC."""
    await case_with_events(harness)
    async with harness.session() as session:
        anchor = await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI)
        await session.commit()
    assert anchor.account_event_cut == 0
    await invite_bind_unbind(harness)
    async with harness.session() as session:
        root, chains, _ = await compute_root(session=session, case_cut=anchor.case_event_cut,
                                             commitment_cut=anchor.commitment_event_cut, account_cut=None)
    assert (root, chains) == (anchor.root, 1)


async def test_concurrent_changes_chain_one_after_the_other(harness):
    """Eight transactions recording at once (PostgreSQL: each waits for the head row's lock; SQLite: for the
    write lock) make one unbroken chain, not two events on one head."""
    now = harness.clock.now()
    async with harness.session() as session:
        accounts = [Account(telegram_id=6200 + n, role="citizen", created_at=now, last_seen_at=now) for n in range(8)]
        session.add_all(accounts)
        await session.commit()
        ids = [a.id for a in accounts]

    async def change(account_id: int) -> None:
        async with harness.session() as session:
            account = await session.get(Account, account_id)
            await asyncio.sleep(0)  # let the others start their transactions too
            await record_account_change(session=session, action=BIND, actor=SYSTEM, now=now, account=account,
                                        before=None, after={"role": "official"})
            await asyncio.sleep(0.01)  # hold the head while the others wait for it
            await session.commit()

    await asyncio.gather(*(change(i) for i in ids))
    written = await events(harness)
    assert [e.seq for e in written] == list(range(1, 9)) and sorted(e.account_id for e in written) == sorted(ids)
    assert [e.prev_hash for e in written[1:]] == [e.hash for e in written[:-1]]
    assert await verify(harness) == []


# --- migration 0016 over rows written before it ------------------------------------------------------


async def _database_at_0015(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        if not server_url():
            pytest.skip("CHENGXIN_TEST_DATABASE_URL is not set")
        url = await run_database(server_url(), "acctchain")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: upgrade_connection(sync, "0015"))
            at = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
            await connection.execute(text(
                "INSERT INTO account_events (account_id, actor_account_id, invite_id, action, before, after, "
                "created_at) VALUES (NULL, NULL, NULL, 'invite', NULL, :after, :at), "
                "(NULL, NULL, NULL, 'invite', NULL, :after2, :at)"),
                {"after": json.dumps({"role": "official", "department_id": None, "is_head": True, "region": "东台"},
                                     ensure_ascii=False),
                 "after2": json.dumps({"role": "supervisor", "department_id": None, "is_head": False,
                                       "region": None}), "at": at.replace(tzinfo=None) if kind == "sqlite" else at})
    finally:
        await engine.dispose()
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_migration_chains_old_rows_as_the_unkeyed_start_sealed_by_the_first_anchor(kind, tmp_path):
    url = await _database_at_0015(kind, tmp_path)
    db = Database(url, audit_key=KEY)
    try:
        await db.upgrade()
        async with db.session() as session:
            old = list((await session.scalars(select(AccountEvent).order_by(AccountEvent.id))).all())
            head = await session.get(AccountEventChain, 1)
            assert [(e.seq, e.hash_version) for e in old] == [(1, LEGACY), (2, LEGACY)]
            assert old[1].prev_hash == old[0].hash and (head.count, head.head, head.seal) == (2, old[1].hash, None)
            assert old[0].after["region"] == "东台"
            assert (await verify_chains(session=session))[1] == []
            await make_anchor(session=session, now=datetime(2026, 12, 1, 1, tzinfo=timezone.utc), tz=SHANGHAI)
            await session.commit()
        async with db.session() as session:
            head = await session.get(AccountEventChain, 1)
            assert head.seal == head_seal(KEY, 2, old[1].hash)
            assert (await session.scalar(select(AuditAnchor.chains))) == 1
            account = Account(telegram_id=77, role="citizen", created_at=old[0].created_at,
                              last_seen_at=old[0].created_at)
            session.add(account)
            await session.flush()
            await record_account_change(session=session, action=BIND, actor=SYSTEM, now=old[0].created_at,
                                        account=account, before=None, after={"role": "official"})
            await session.commit()
        async with db.session() as session:
            new = await session.scalar(select(AccountEvent).where(AccountEvent.seq == 3))
            assert new.hash_version == 2 and new.prev_hash == old[1].hash
            assert (await verify_chains(session=session))[1] == []
            guard = ("DROP TRIGGER account_events_no_update" if kind == "sqlite"
                     else "DROP TRIGGER account_events_no_change ON account_events")
            await session.execute(text(guard))
            await session.execute(update(AccountEvent).where(AccountEvent.seq == 1).values(action="bind"))
            await session.commit()
        async with db.session() as session:
            [link] = (await verify_chains(session=session))[1]
        assert (link.case_ref, link.seq) == (CHAIN, 1)
    finally:
        await db.dispose()


# --- the command ---------------------------------------------------------------------------------------


def test_audit_verify_command_names_the_first_broken_account_event(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "CHENGXIN_AUDIT_KEY": KEY.decode()}

    async def three_events_then_delete_the_second() -> None:
        db = Database(env["DATABASE_URL"], audit_key=KEY)
        try:
            await db.upgrade()
            now = datetime(2026, 12, 1, 1, tzinfo=timezone.utc)
            async with db.session() as session:
                account = Account(telegram_id=78, role="citizen", created_at=now, last_seen_at=now)
                session.add(account)
                await session.flush()
                for role in ("official", "citizen", "official"):
                    await record_account_change(session=session, action=BIND, actor=SYSTEM, now=now,
                                                account=account, before=None, after={"role": role})
                await session.commit()
            async with db.session() as session:
                await session.execute(text("DROP TRIGGER account_events_no_delete"))
                await session.execute(delete(AccountEvent).where(AccountEvent.seq == 2))
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(three_events_then_delete_the_second())
    verified = chengxin("audit", "verify", cwd=tmp_path, env=env)
    assert verified.returncode == 1, verified.stderr
    assert "account-events: broken at event 3: event 2 is missing (deleted)" in verified.stdout
    assert "1 chains checked, 1 broken" in verified.stdout
