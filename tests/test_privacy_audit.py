"""The audit log proves what happened: keyed event hashes, sealed case and commitment rows, daily anchors.

Each kind of tampering is done the way someone with database access but without the audit key would do
it (plain SQL), and `verify` must name the first broken link; an insider with the key who rewrites history
is caught by the anchor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.db.models import AuditAnchor, Case, CaseEvent, Commitment, CommitmentEvent
from bot.domain.anchors import anchor_digest, make_anchor, publishable, verify_anchors
from bot.domain.audit import (
    GENESIS,
    KEY_FILE_NAME,
    LEGACY,
    event_digest,
    keyed_digest,
    load_audit_key,
    row_seal,
    verify_chains,
)
from tests.conftest import SHANGHAI
from tests.flows import file_complaint

REGISTER = "/register 亭湖区人民政府 | 2027年6月30日 | 兑现设备补贴500万元 | 亭湖区招商协议第5条 | 500万元 | 公开"


async def case_with_events(harness, user_id: int = 4101) -> str:
    """A case with four events: create, supplement, assign, supplement."""
    citizen = harness.chat(user_id)
    ref = await file_complaint(citizen)
    await citizen.send(f"/supplement {ref} 第一次补充")
    await harness.supervisor().send(f"/assign {ref} 市财政局")
    await citizen.send(f"/supplement {ref} 第二次补充")
    return ref


async def verify(harness) -> list[tuple[str, int, str]]:
    async with harness.session() as session:
        _, broken = await verify_chains(session=session)
        broken += await verify_anchors(session=session)
    return [(b.case_ref, b.seq, b.reason) for b in broken]


async def case_id(harness, ref: str) -> int:
    async with harness.session() as session:
        return await session.scalar(select(Case.id).where(Case.ref == ref))


async def sql(harness, *statements) -> None:
    async with harness.session() as session:
        for statement in statements:
            await session.execute(statement)
        await session.commit()


async def test_untouched_chains_verify_and_rows_carry_head_count_seal(harness):
    ref = await case_with_events(harness)
    await harness.supervisor().send(REGISTER)
    assert await verify(harness) == []
    async with harness.session() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                        .order_by(CaseEvent.seq))).all()
        assert case.audit_count == len(events) == 4 and case.audit_head == events[-1].hash
        assert {e.hash_version for e in events} == {2}
        key = session.info["audit_key"]
        assert case.audit_seal == row_seal(key, case)
        assert all(e.hash == keyed_digest(key, e, ref) for e in events)
        commitment = await session.scalar(select(Commitment).where(Commitment.ref.is_not(None)))
        assert commitment.audit_count == 1 and commitment.audit_seal == row_seal(key, commitment)


async def test_truncation_is_detected(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    await sql(harness, delete(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq >= 3))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 3) and "truncated" in reason


async def test_truncation_with_the_row_rewritten_is_detected(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    async with harness.session() as session:
        head = await session.scalar(select(CaseEvent.hash).where(CaseEvent.case_id == cid, CaseEvent.seq == 2))
    await sql(harness, delete(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq >= 3),
              update(Case).where(Case.id == cid).values(audit_count=2, audit_head=head))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 2) and "seal" in reason


async def test_a_deleted_event_is_named(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    await sql(harness, delete(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == 2))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 3) and "event 2 is missing" in reason


async def test_an_inserted_event_is_detected(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    async with harness.session() as session:
        last = await session.scalar(select(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == 4))
        forged = CaseEvent(case_id=cid, seq=5, action="withdraw", actor_id=None, actor_role="citizen",
                           from_status="in_progress", to_status="withdrawn", note=None,
                           created_at=last.created_at + timedelta(minutes=1), prev_hash=last.hash, hash_version=2)
        forged.hash = keyed_digest(b"a guessed key, not the real one!!", forged, ref)
        values = {c: getattr(forged, c) for c in ("case_id", "seq", "action", "actor_id", "actor_role", "from_status",
                                                  "to_status", "note", "created_at", "prev_hash", "hash",
                                                  "hash_version")}
    await sql(harness, insert(CaseEvent).values(**values))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 5) and "hash" in reason


async def test_an_event_inserted_mid_chain_is_detected(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    # Make room after event 1 (renumber 2-4 to 3-5) and put a forged event 2 there.
    await sql(harness, *(update(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == n).values(seq=n + 1)
                         for n in (4, 3, 2)))
    async with harness.session() as session:
        first = await session.scalar(select(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == 1))
        prev_hash, created_at = first.hash, first.created_at
    await sql(harness, insert(CaseEvent).values(
        case_id=cid, seq=2, action="supplement", actor_id=None, actor_role="citizen", note="插入的",
        created_at=created_at, prev_hash=prev_hash, hash="f" * 64, hash_version=2))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 2)


@pytest.mark.parametrize("column, value", [("text", "改写后的投诉内容"), ("complainant_id", None),
                                           ("status", "closed"), ("domain", "other"), ("department_id", None)])
async def test_case_content_edits_are_detected(harness, column, value):
    ref = await case_with_events(harness)
    await case_with_events(harness, 4102)
    cid = await case_id(harness, ref)
    if column == "complainant_id":
        async with harness.session() as session:
            value = await session.scalar(select(Case.complainant_id).where(Case.id != cid))
    await sql(harness, update(Case).where(Case.id == cid).values({column: value}))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 4) and "does not match its seal" in reason


async def test_event_content_edit_is_detected(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    await sql(harness, update(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == 2).values(note="改过的"))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 2) and "edited" in reason


async def recompute_without_key(harness, ref: str, *, legacy: bool) -> None:
    """Edit event 2 and recompute every hash after it, and the row's head, as a tamperer without the key can."""
    cid = await case_id(harness, ref)
    async with harness.session() as session:
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == cid)
                                        .order_by(CaseEvent.seq))).all()
        previous = events[0].hash
        changes = []
        for event in events[1:]:
            if event.seq == 2:
                event.note = "改过的"
            event.prev_hash = previous
            event.hash = event_digest(event, ref)
            changes.append(update(CaseEvent).where(CaseEvent.id == event.id).values(
                note=event.note, prev_hash=event.prev_hash, hash=event.hash,
                hash_version=LEGACY if legacy else 2))
            previous = event.hash
        session.expunge_all()
    await sql(harness, *changes, update(Case).where(Case.id == cid).values(audit_head=previous))


async def test_a_chain_recomputed_without_the_key_is_detected(harness):
    ref = await case_with_events(harness)
    await recompute_without_key(harness, ref, legacy=False)
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 2) and "without the audit key" in reason


async def test_a_chain_recomputed_as_old_unkeyed_events_is_detected(harness):
    ref = await case_with_events(harness)
    await recompute_without_key(harness, ref, legacy=True)
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (ref, 2) and "unkeyed event after keyed ones" in reason


async def test_commitment_tampering_is_detected(harness):
    await harness.supervisor().send(REGISTER)
    async with harness.session() as session:
        commitment = await session.scalar(select(Commitment).where(Commitment.ref.is_not(None)))
    assert await verify(harness) == []
    await sql(harness, update(Commitment).where(Commitment.id == commitment.id).values(content="兑现补贴5万元"))
    [(where, seq, reason)] = await verify(harness)
    assert where == commitment.ref and "seal" in reason
    await sql(harness, update(Commitment).where(Commitment.id == commitment.id).values(content=commitment.content),
              update(CommitmentEvent).where(CommitmentEvent.commitment_id == commitment.id).values(note="x"))
    [(where, seq, reason)] = await verify(harness)
    assert (where, seq) == (commitment.ref, 1) and "edited" in reason


async def test_the_anchor_catches_an_insider_with_the_key(harness, caplog):
    ref = await case_with_events(harness)
    await harness.supervisor().send(REGISTER)
    with caplog.at_level(logging.INFO, logger="bot.domain.anchors"):
        async with harness.session() as session:
            anchor = await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI)
            await session.commit()
    assert anchor.chains == 2 and anchor.events == 5 and anchor.prev_root == GENESIS
    assert anchor.root in caplog.text and anchor.root in publishable(anchor)
    async with harness.session() as session:  # one per day
        assert await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI) is None
    assert await verify(harness) == []

    # Rewrite event 2 with the key, recompute the chain and the row: the chains verify, the anchor does not.
    cid = await case_id(harness, ref)
    async with harness.session() as session:
        key = session.info["audit_key"]
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == cid)
                                        .order_by(CaseEvent.seq))).all()
        previous = events[0].hash
        for event in events[1:]:
            if event.seq == 2:
                event.note = "改过的"
            event.prev_hash = previous
            event.hash = keyed_digest(key, event, ref)
            previous = event.hash
        case = await session.get(Case, cid)
        case.audit_head = previous
        await session.commit()
    async with harness.session() as session:
        _, broken = await verify_chains(session=session)
        assert broken == []
        [link] = await verify_anchors(session=session)
    assert link.case_ref == f"anchor {anchor.day}" and "no longer gives the root" in link.reason


async def test_anchors_are_append_only_and_chained(harness):
    await case_with_events(harness)
    for days in (0, 1, 2):
        harness.clock.advance(days=days and 1)
        async with harness.session() as session:
            assert await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI) is not None
            await session.commit()
    async with harness.session() as session:
        anchors = (await session.scalars(select(AuditAnchor).order_by(AuditAnchor.id))).all()
        assert [a.prev_root for a in anchors[1:]] == [anchor_digest(a) for a in anchors[:-1]]
    for statement in (update(AuditAnchor).values(root="0" * 64), delete(AuditAnchor)):
        with pytest.raises(DBAPIError):
            await sql(harness, statement)
    assert await verify(harness) == []
    # Someone who drops the guard and deletes the middle anchor is still found out.
    guard = ("DROP TRIGGER audit_anchors_no_delete" if harness.services.db.is_sqlite
             else "DROP TRIGGER audit_anchors_no_change ON audit_anchors")
    await sql(harness, text(guard), delete(AuditAnchor).where(AuditAnchor.id == anchors[1].id))
    problems = await verify(harness)
    assert [(w, "does not follow" in r) for w, _, r in problems] == [(f"anchor {anchors[2].day}", True)]


async def test_chains_from_before_keyed_audit_keep_verifying_and_are_sealed_by_the_first_anchor(harness):
    ref = await case_with_events(harness)
    cid = await case_id(harness, ref)
    # As migration 0011 leaves a database written by an earlier version: unkeyed hashes, no head, no seal.
    async with harness.session() as session:
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == cid)
                                        .order_by(CaseEvent.seq))).all()
        previous, changes = GENESIS, []
        for event in events:
            event.prev_hash = previous
            event.hash = event_digest(event, ref)
            changes.append(update(CaseEvent).where(CaseEvent.id == event.id).values(
                prev_hash=event.prev_hash, hash=event.hash, hash_version=LEGACY))
            previous = event.hash
        session.expunge_all()
    await sql(harness, *changes, update(Case).where(Case.id == cid).values(audit_head=None, audit_count=None,
                                                                           audit_seal=None))
    assert await verify(harness) == []
    async with harness.session() as session:
        await make_anchor(session=session, now=harness.clock.now(), tz=SHANGHAI)
        await session.commit()
    async with harness.session() as session:
        case = await session.get(Case, cid)
        assert case.audit_count == 4 and case.audit_head == previous and case.audit_seal
    assert await verify(harness) == []
    # New events chain on with keys; the old ones are covered by them.
    await harness.chat(4101).send(f"/supplement {ref} 升级后的补充")
    assert await verify(harness) == []
    await sql(harness, update(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == 1).values(note="改"))
    [(where, seq, _)] = await verify(harness)
    assert (where, seq) == (ref, 1)
    # After the first anchor, a row whose seal was removed is broken, not "old".
    await sql(harness, update(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == 1)
              .values(note=events[0].note),
              update(Case).where(Case.id == cid).values(audit_seal=None))
    [(where, _, reason)] = await verify(harness)
    assert where == ref and "no seal" in reason


def test_key_file_is_made_once_with_mode_0600_and_never_logged(tmp_path, caplog):
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'chengxin.db'}"
    with caplog.at_level(logging.DEBUG):
        key = load_audit_key("", url)
    path = tmp_path / "data" / KEY_FILE_NAME
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_audit_key("", url) == key and len(key) >= 32
    assert key.decode() not in caplog.text and str(path) in caplog.text
    assert load_audit_key(f"file:{path}", "postgresql+asyncpg://x@y/z") == key
    assert load_audit_key("k" * 40, url) == b"k" * 40
    with pytest.raises(ValueError):
        load_audit_key("short", url)


def test_the_key_is_hmac_sha256():
    event = CaseEvent(seq=1, action="create", actor_id=1, actor_role="citizen", from_status=None,
                      to_status="submitted", note=None, prev_hash=GENESIS)
    from datetime import datetime, timezone
    event.created_at = datetime(2026, 11, 27, tzinfo=timezone.utc)
    content = [2, "case", GENESIS, "YC-1", 1, "create", 1, "citizen", None, "submitted", None,
               "2026-11-27T00:00:00.000000+00:00"]
    expected = hmac.new(b"k" * 32, json.dumps(content, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()
    assert keyed_digest(b"k" * 32, event, "YC-1") == expected


async def test_the_daily_job_makes_one_anchor_per_day(harness, caplog):
    from scheduler.anchor import CHECK_SECONDS, audit_anchor_job

    await case_with_events(harness)
    job = harness.app.job_queue.run_repeating(audit_anchor_job, interval=CHECK_SECONDS, first=CHECK_SECONDS,
                                              name="audit_anchor_job")
    try:
        with caplog.at_level(logging.INFO):
            await job.run(harness.app)
            await job.run(harness.app)
            harness.clock.advance(days=1)
            await job.run(harness.app)
    finally:
        job.schedule_removal()
    async with harness.session() as session:
        days = (await session.scalars(select(AuditAnchor.day).order_by(AuditAnchor.id))).all()
    assert days == ["2026-11-27", "2026-11-28"]
    assert caplog.text.count("audit anchor 2026-11-27: anchor") == 1
    assert await verify(harness) == []
