"""Prepared statements (bot/db/prepared.py): on SQLite straight on the driver, with the same values, row counts
and transaction as SQLAlchemy's own execution; elsewhere (or with a statement listener) SQLAlchemy's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.models import Account, Draft, ProcessedUpdate
from bot.db.prepared import Prepared
from bot.db.session import Database
from bot.domain import updates
from bot.domain.rows import ACCOUNT_COLUMNS, DRAFT_COLUMNS

ACCOUNTS, DRAFTS = Account.__table__, Draft.__table__
ROWS = (select(*ACCOUNT_COLUMNS, *DRAFT_COLUMNS)
        .select_from(ACCOUNTS.outerjoin(DRAFTS, DRAFTS.c.account_id == ACCOUNTS.c.id))
        .where(ACCOUNTS.c.telegram_id == bindparam("telegram_id")))
SAVE = update(DRAFTS).where(DRAFTS.c.id == bindparam("saved_draft_id"))
NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path):
    """A SQLite database of this test's own (the driver path is SQLite's)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'prepared.db'}")
    await database.upgrade()
    yield database
    await database.dispose()


async def _citizen_with_draft(db: Database, telegram_id: int) -> None:
    async with db.session() as session:
        account = Account(telegram_id=telegram_id, role="citizen", full_name="张某 Zhang", username=None,
                          created_at=NOW, last_seen_at=NOW, unreachable=False)
        session.add(account)
        await session.flush()
        session.add(Draft(account_id=account.id, kind="complaint", step="domain",
                          data={"text": "区住建局拖欠工程款三年", "candidates": [["debt", 0.9]], "n": 3},
                          created_at=NOW, updated_at=NOW - timedelta(minutes=1)))
        await session.commit()


async def test_a_read_returns_what_sqlalchemy_returns(db):
    await _citizen_with_draft(db, 5101)
    async with db.begin() as connection:
        direct = await Prepared(ROWS).first(connection, {"telegram_id": 5101})
        ordinary = tuple((await connection.execute(ROWS, {"telegram_id": 5101})).first())
        missing = await Prepared(ROWS).first(connection, {"telegram_id": 5102})
    assert direct == ordinary and missing is None
    values = dict(zip([c.key for c in ACCOUNT_COLUMNS] + [f"draft_{c.key}" for c in DRAFT_COLUMNS], direct))
    # Typed as the columns say: an aware datetime, the JSON document, a boolean — not SQLite's text and ints.
    assert values["created_at"] == NOW and values["created_at"].tzinfo is not None
    assert values["draft_data"]["text"] == "区住建局拖欠工程款三年" and values["unreachable"] is False


async def test_a_write_counts_its_rows_and_stores_typed_values(db):
    await _citizen_with_draft(db, 5103)
    later = NOW + timedelta(hours=2)
    async with db.begin() as connection:
        draft_id = (await Prepared(ROWS).first(connection, {"telegram_id": 5103}))[len(ACCOUNT_COLUMNS)]
        saved = await Prepared(SAVE).rowcount(connection, {
            "step": "contact", "data": {"text": "改了", "新": True}, "updated_at": later, "saved_draft_id": draft_id})
        none = await Prepared(SAVE).rowcount(connection, {"step": "x", "saved_draft_id": draft_id + 999})
        # Values the statement carries itself, beside the given ones.
        marked = await Prepared(update(ACCOUNTS).where(ACCOUNTS.c.telegram_id == bindparam("tid"))
                                .values(unreachable=True, full_name=ACCOUNTS.c.full_name + "（已停用）",
                                        last_seen_at=bindparam("seen"))).rowcount(connection, {"tid": 5103, "seen": later})
    assert (saved, none, marked) == (1, 0, 1)
    async with db.session() as session:
        draft = await session.get(Draft, draft_id)
        account = await session.scalar(select(Account).where(Account.telegram_id == 5103))
    assert (draft.step, draft.data, draft.updated_at) == ("contact", {"text": "改了", "新": True}, later)
    assert (account.unreachable, account.full_name, account.last_seen_at) == (True, "张某 Zhang（已停用）", later)


async def test_a_claim_counts_once_and_rolls_back_with_its_transaction(db):
    async with db.begin() as connection:
        assert await updates.claim_update(session=connection, update_id=880001, now=NOW)
        assert not await updates.claim_update(session=connection, update_id=880001, now=NOW)

        await Prepared(insert(ProcessedUpdate.__table__)).many(connection, [
            {"update_id": 880010 + k, "created_at": NOW} for k in range(3)])
        await Prepared(insert(ProcessedUpdate.__table__)).many(connection, [])  # nothing to write: no statement

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.begin() as connection:
            assert await updates.claim_update(session=connection, update_id=880002, now=NOW)
            raise Undo
    async with db.session() as session:
        claimed = set(await session.scalars(select(ProcessedUpdate.update_id)
                                            .where(ProcessedUpdate.update_id.between(880001, 880019))))
    assert claimed == {880001, 880010, 880011, 880012}  # the rolled-back claim is gone with its transaction


async def test_sqlite_runs_them_on_the_driver_and_a_listener_still_sees_every_statement(sqlite_db, monkeypatch):
    db = sqlite_db
    await _citizen_with_draft(db, 5104)

    def no_sqlalchemy(*args, **kwargs):
        raise AssertionError("went through SQLAlchemy's execution")

    with monkeypatch.context() as patched:
        patched.setattr(AsyncConnection, "execute", no_sqlalchemy)
        async with db.begin() as connection:
            assert (await Prepared(ROWS).first(connection, {"telegram_id": 5104}))[1] == 5104

    seen: list[str] = []
    listener = lambda _c, _cur, statement, *_: seen.append(statement)  # noqa: E731
    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        async with db.begin() as connection:
            assert (await Prepared(ROWS).first(connection, {"telegram_id": 5104}))[1] == 5104
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    assert len(seen) == 1 and seen[0].startswith("SELECT")


async def test_what_it_cannot_run_like_sqlalchemy_is_refused_on_the_driver(sqlite_db):
    async with sqlite_db.begin() as connection:
        with pytest.raises(ValueError, match="IN list"):
            await Prepared(select(ACCOUNTS.c.id).where(ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)))
                           ).first(connection, {"ids": [1, 2]})
        # A column whose default is a Python function (drafts.data: dict) must be given, not left to a NULL.
        with pytest.raises(ValueError, match="data"):
            await Prepared(insert(DRAFTS)).rowcount(connection, {
                "account_id": 1, "kind": "complaint", "step": "text", "created_at": NOW, "updated_at": NOW})


async def test_new_row_values_are_what_the_unit_of_work_would_insert(db):
    from bot.db.models import CaseEvent
    from bot.db.prepared import new_row_values

    draft = Draft(account_id=1, kind="complaint", step="text", created_at=NOW, updated_at=NOW)
    values = new_row_values(draft)
    assert values["data"] == {} and values["case_id"] is None and "id" not in values  # default=dict, called
    event = CaseEvent(case_id=1, seq=1, action="create", actor_role="citizen", created_at=NOW, prev_hash="0" * 64,
                      hash="1" * 64)
    assert new_row_values(event)["hash_version"] == 2  # the Python default, not the server's 1


async def test_outbound_rows_alone_are_inserted_without_a_flush_and_keep_their_order(db):
    from bot.db.models import OutboundMessage
    from bot.domain.notices import Notices

    await _citizen_with_draft(db, 5105)
    async with db.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == 5105))
        alone = Notices(session, now=NOW)
        alone.to_account(account, "第一条")
        alone.to_chat(-1001, "第二条", reply_markup={"inline_keyboard": [[{"text": "受理", "callback_data": "a"}]]})
        await alone.write(session)
        assert alone.ids == sorted(alone.ids) and len(alone.ids) == 2
        assert not session.new and all(row not in session for row in alone.rows)  # written, not left to a flush

        with_more = Notices(session, now=NOW)
        account.full_name = "改名"  # something else to write: the session's flush writes everything together
        with_more.to_account(account, "第三条")
        await with_more.write(session)
        assert with_more.ids and with_more.rows[0] in session and not session.dirty
        await session.commit()
    async with db.session() as session:
        rows = (await session.execute(select(OutboundMessage.id, OutboundMessage.chat_id, OutboundMessage.text,
                                             OutboundMessage.state, OutboundMessage.attempts, OutboundMessage.markup)
                                      .order_by(OutboundMessage.id))).all()
    assert [r.id for r in rows] == alone.ids + with_more.ids
    assert [(r.chat_id, r.text, r.state, r.attempts) for r in rows] == [
        (5105, "第一条", "pending", 0), (-1001, "第二条", "pending", 0), (5105, "第三条", "pending", 0)]
    assert rows[1].markup["inline_keyboard"][0][0]["text"] == "受理"


def test_a_new_case_inserted_by_a_prepared_statement_misses_no_hook_a_flush_would_run():
    """`cases._insert_case` writes a new case without the unit of work and does by hand what a flush would do
    around its INSERT. A hook added later (a mapper or session event) would be skipped there: this fails first."""
    from sqlalchemy.orm import Session as OrmSession

    from bot.db.models import Case
    from bot.domain import audit, cases, drafts

    mapper_events = Case.__mapper__.dispatch
    assert event.contains(Case, "before_insert", cases._fold_for_search)
    assert (len(mapper_events.before_insert), len(mapper_events.after_insert)) == (1, 0)
    session_events = OrmSession().dispatch
    # The seal (done by hand) and the drafts' own UPDATE (no draft in it); nothing after a flush.
    assert list(session_events.before_flush) == [audit._seal_rows, drafts._save_changed_drafts]
    assert not list(session_events.after_flush) and not list(session_events.after_flush_postexec)


async def test_a_case_opened_by_the_prepared_insert_is_as_a_flush_leaves_it(database_url):
    from bot.db.models import Case
    from bot.domain.cases import NewCase, open_case
    from bot.domain.obligations import Deadlines
    from bot.domain.roles import Actor, Role
    from bot.domain.workdays import WorkCalendar
    from bot.policy import Policy

    db = Database(database_url, audit_key=b"chengxin-test-audit-key-32-bytes")
    await _citizen_with_draft(db, 5106)
    tz = ZoneInfo("Asia/Shanghai")
    deadlines = Deadlines(policy=Policy(), calendar=WorkCalendar(), tz=tz)
    async with db.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == 5106))
        case = await open_case(session=session, new=NewCase(
            text="區住建局拖欠工程款", domain="debt", suggested_domain="debt", confidence=0.9, terms=["拖欠"],
            department_code=None, contact_allowed=True, evidence=[]), actor=Actor(role=Role.CITIZEN, account=account),
            now=NOW, prefix="CX", tz=tz, daily_limit=10, deadlines=deadlines)
        assert case in session and not session.dirty and not session.new  # persistent, nothing left to write
        assert case.complainant is account  # found in the session, not loaded
        await session.commit()
    async with db.session() as session:
        stored = await session.scalar(select(Case).where(Case.id == case.id))
        checked, broken = await audit_verify(session)
    await db.dispose()
    assert stored.text_search == "区住建局拖欠工程款"  # the search fold the flush's hook would have written
    assert (stored.reopen_count, stored.domain_terms, stored.audit_count) == (0, ["拖欠"], 1)
    assert stored.audit_seal == case.audit_seal and broken == []


async def audit_verify(session):
    from bot.domain.audit import verify_chains

    return await verify_chains(session=session)
