"""What one update costs the database: the statements a conversation step and an official's update make."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from bot import texts
from bot.db.models import Draft
from tests.flows import PROCUREMENT_TEXT, bind_official, reach_confirmation, skip_details


@contextmanager
def statements(harness):
    """The SQL the bot runs meanwhile (each statement on one line)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()))

    engine = harness.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def _counting(instance, name: str):
    """The calls made meanwhile to `instance.name` (which still runs)."""
    calls: list[tuple] = []
    original = getattr(instance, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    setattr(instance, name, counted)
    try:
        yield calls
    finally:
        delattr(instance, name)


async def test_a_conversation_step_claims_reads_and_writes_its_draft_once(harness):
    citizen = harness.chat(7101)
    await citizen.send(texts.BTN_COMPLAIN)
    await citizen.send(PROCUREMENT_TEXT)
    await citizen.press(citizen.last().buttons[0][1])
    await citizen.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(citizen)

    with statements(harness) as seen:
        await citizen.tap(texts.BTN_EVIDENCE_SKIP)

    assert texts.ASK_CONTACT in citizen.last().text
    if harness.services.db.engine.dialect.name == "postgresql":
        # The claim is a CTE of the read: one statement, one round trip.
        assert len(seen) == 2, seen
        read, write = seen
        assert read.startswith("WITH claim AS (INSERT INTO processed_updates"), read
    else:
        assert len(seen) == 3, seen
        claim, read, write = seen
        assert claim.startswith("INSERT INTO processed_updates")  # the update claimed
        assert read.startswith("SELECT")
    assert "accounts.telegram_id" in read and "drafts.data" in read  # the account and its draft: one read
    assert write.startswith("UPDATE drafts SET step=")  # the draft moved on
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.step == "contact" and draft.data["text"] == PROCUREMENT_TEXT and draft.reminded_at is None

    # The next step starts from what was written.
    await citizen.tap(texts.BTN_CONTACT_YES)
    await citizen.tap(texts.BTN_SUBMIT)
    assert "已立案" in citizen.last().text


async def test_a_first_draft_is_inserted_without_deleting_first(harness):
    citizen = harness.chat(7102)
    with statements(harness) as seen:
        await citizen.send(texts.BTN_COMPLAIN)
    assert texts.ASK_TEXT in citizen.last().text
    assert not [s for s in seen if s.startswith("DELETE")], seen
    assert [s for s in seen if s.startswith("INSERT INTO drafts")], seen

    # A second 我要投诉 mid-conversation resumes it; /complain with a text replaces it.
    await citizen.send(texts.BTN_COMPLAIN)
    assert texts.RESUME in citizen.texts()[-2]
    await citizen.send("/complain " + PROCUREMENT_TEXT)
    async with harness.session() as session:
        rows = (await session.scalars(select(Draft))).all()
    assert len(rows) == 1 and rows[0].data["text"] == PROCUREMENT_TEXT


async def test_an_officials_update_reads_the_department_without_its_aliases(harness):
    official = await bind_official(harness, 7103)
    with statements(harness) as seen:
        await official.send("/help")
    assert official.last().text
    assert not [s for s in seen if "department_aliases" in s], seen
    # The directory still reads them (the text matcher's entries, in a session that also resolved the official).
    from bot.domain.accounts import resolve_actor
    from bot.domain.departments import directory_entries

    async with harness.session() as session:
        actor = await resolve_actor(session=session, telegram_id=7103, full_name=None, username=None,
                                    supervisors=(), now=harness.clock.now())
        entries = {e.code: e for e in await directory_entries(session=session)}
        assert entries[actor.account.department.code].aliases


async def test_a_draft_written_by_statement_is_undone_with_its_transaction(harness):
    from bot.domain import drafts
    from bot.domain.accounts import resolve_actor

    citizen = harness.chat(7104)
    await citizen.send(texts.BTN_COMPLAIN)
    now = harness.clock.now()
    async with harness.session() as session:
        actor = await resolve_actor(session=session, telegram_id=7104, full_name=None, username=None,
                                    supervisors=(), now=now)
        draft = await drafts.current_draft(session=session, account_id=actor.account_id)
        drafts.advance(draft, step=drafts.Step.DOMAIN, now=now, text="撤回的文字")
        await session.flush()
        assert not session.dirty  # written, nothing left for the unit of work
        savepoint = await session.begin_nested()
        drafts.advance(draft, step=drafts.Step.CONTACT, now=now)
        await session.flush()
        await savepoint.rollback()
        await session.refresh(draft)  # expired by the rollback, as after the unit of work's own UPDATE
        assert draft.step == "domain"  # the savepoint's write undone, the transaction's kept
        await session.rollback()
    async with harness.session() as session:
        row = await session.scalar(select(Draft))
    assert row.step == "text" and "text" not in row.data  # nothing of the rolled-back transaction
    await citizen.send(PROCUREMENT_TEXT)  # and the conversation goes on from where it was
    assert citizen.last().buttons


async def test_submitting_writes_the_case_once_and_delivers_its_confirmation_in_two_updates(harness):
    from bot.db.models import Case, CaseEvent, OutboundMessage
    from bot.domain.audit import verify_chains

    citizen = harness.chat(7105)
    await reach_confirmation(citizen)

    triager = harness.services.triager
    cut = triager.classifier.tokenize
    with statements(harness) as seen, _counting(triager.classifier, "tokenize") as cuts:
        await citizen.tap(texts.BTN_SUBMIT)

    assert "已立案" in citizen.last().text
    assert cuts == []  # the text is not cut again: its fingerprint was kept from triage
    assert triager.classifier.tokenize == cut
    # The case row is written once, already carrying its audit chain's head and seal (no UPDATE after the
    # creation event); the 已立案 row is written claimed by the update's own sender (no claim after the
    # commit) and marked sent by one statement.
    assert [s for s in seen if s.startswith("INSERT INTO cases")] and not [s for s in seen if s.startswith("UPDATE cases")], seen
    outbound = [s.split(" SET")[0] + (" claim" if "claimed_by" in s else " sent") for s in seen
                if s.startswith("UPDATE outbound_messages")]
    assert outbound == ["UPDATE outbound_messages sent"], seen
    assert len([s for s in seen if s.startswith("INSERT INTO outbound_messages")]) == 1, seen
    assert not [s for s in seen if s.startswith("SELECT outbound_messages")], seen
    async with harness.session() as session:
        case = await session.scalar(select(Case))
        events = (await session.scalars(select(CaseEvent))).all()
        assert case.fingerprint == harness.services.triager.fingerprint(case.text).to_bytes()  # kept since triage
        row = await session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "reply"))
        assert (await verify_chains(session=session))[1] == []  # chain and seal agree
    assert case.audit_count == 1 and case.audit_head == events[0].hash and case.audit_seal
    assert [e.action for e in events] == ["create"]
    assert (row.state, row.attempts, row.claimed_by is not None, row.sent_at is not None) == ("sent", 1, True, True)
    assert "已立案" in row.text
