"""The account-events chain: one keyed hash chain over the whole `account_events` table (who was given or
lost staff rights), checked by `chengxin audit verify` and covered by the daily anchors like the case and
commitment chains (bot.domain.audit, bot.domain.anchors).

- Each event's `hash` is HMAC-SHA-256, with the audit key, over its content (seq, account, actor, invite,
  action, before, after, time) and the previous event's hash (`hash_version` 2). `seq` counts 1, 2, 3 … in
  id order.
- The one `account_event_chain` row holds the chain's length, head and a keyed seal over both, so events
  deleted from the tail, or the head row rewritten to match, are found.
- `append_account_event` is the one writer (called by access_log.record_account_change, in the transaction
  of the change). It locks the head row first (PostgreSQL: SELECT … FOR UPDATE; SQLite: the write lock every
  write transaction takes with BEGIN IMMEDIATE), so concurrent changes chain one after the other.
- Rows written before migration 0016 were chained by it, in id order, with unkeyed SHA-256 (`hash_version`
  1; the migration has no key): they are accepted only as the chain's start, and an unsealed head row only
  until the first keyed event or the first anchor covering the chain seals it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timezone

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AccountEvent, AccountEventChain, AuditAnchor
from bot.domain.audit import GENESIS, KEYED, BrokenLink, ChainState, check_events, session_key

CHAIN_NAME = "account-events"
HEAD_ROW_ID = 1
BATCH = 2000


def _content(event: AccountEvent) -> list:
    return [
        "account",
        event.prev_hash,
        event.seq,
        event.account_id,
        event.actor_account_id,
        event.invite_id,
        event.action,
        json.dumps(event.before, ensure_ascii=False, sort_keys=True),
        json.dumps(event.after, ensure_ascii=False, sort_keys=True),
        event.created_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
    ]


def account_event_digest(event: AccountEvent) -> str:
    """The unkeyed SHA-256 migration 0016 gave rows written before it (hash_version 1). The migration
    repeats this computation: change neither without the other."""
    return hashlib.sha256(json.dumps(_content(event), ensure_ascii=False).encode()).hexdigest()


def account_event_mac(key: bytes, event: AccountEvent) -> str:
    """HMAC-SHA-256 of an account event (hash_version 2)."""
    content = [KEYED, *_content(event)]
    return hmac.new(key, json.dumps(content, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()


def head_seal(key: bytes, count: int, head: str) -> str:
    return hmac.new(key, json.dumps([CHAIN_NAME, count, head]).encode(), hashlib.sha256).hexdigest()


async def _locked_head(session: AsyncSession) -> AccountEventChain:
    head = await session.scalar(
        select(AccountEventChain).where(AccountEventChain.id == HEAD_ROW_ID).with_for_update())
    if head is None:  # migration 0016 makes the row; a database without it was not migrated
        raise RuntimeError("the account_event_chain row is missing (run `chengxin db upgrade`)")
    return head


async def append_account_event(*, session: AsyncSession, event: AccountEvent) -> AccountEvent:
    """Link `event` (its content set, not yet added) after the chain's head, add it and move the head."""
    key = session_key(session)
    head = await _locked_head(session)
    event.seq, event.prev_hash, event.hash_version = head.count + 1, head.head, KEYED
    event.hash = account_event_mac(key, event)
    session.add(event)
    head.count, head.head = event.seq, event.hash
    head.seal = head_seal(key, head.count, head.head)
    await session.flush()
    return event


async def chain_state(*, session: AsyncSession, key: bytes, release: bool = False) -> ChainState:
    """Walk the whole chain in batches; `release` drops each batch from the session afterwards."""
    state = ChainState(0, GENESIS, None, False)
    last_seq = 0
    while state.broken is None:
        events = list((await session.scalars(
            select(AccountEvent).where(AccountEvent.seq > last_seq).order_by(AccountEvent.seq).limit(BATCH))).all())
        if not events:
            break
        state = check_events(key, CHAIN_NAME, events, start=state, digest=account_event_digest,
                             mac=lambda event: account_event_mac(key, event))
        last_seq = events[-1].seq
        if release:
            for event in events:
                session.expunge(event)
    return state


async def _legacy_allowed(session: AsyncSession) -> bool:
    """An unsealed head row is accepted until an anchor covers the account-events chain."""
    return await session.scalar(
        select(AuditAnchor.id).where(AuditAnchor.account_event_cut.is_not(None)).limit(1)) is None


async def verify_account_chain(*, session: AsyncSession, key: bytes,
                               release: bool = False) -> tuple[bool, BrokenLink | None]:
    """(whether there is a chain to check: an event or a head that records some, the first broken link or
    None when chain and head row hold)."""
    state = await chain_state(session=session, key=key, release=release)
    head = await session.get(AccountEventChain, HEAD_ROW_ID)
    exists = state.count > 0 or state.broken is not None or head is None or head.count > 0
    return exists, await _check_head(session, key, state, head)


async def _check_head(session: AsyncSession, key: bytes, state: ChainState,
                      head: AccountEventChain | None) -> BrokenLink | None:
    if state.broken is not None:
        return state.broken
    if head is None:
        return BrokenLink(CHAIN_NAME, state.count, "the chain's head row was deleted")
    if head.seal is None:
        if not state.keyed and await _legacy_allowed(session):
            return None  # rows from before migration 0016, sealed by the first anchor
        return BrokenLink(CHAIN_NAME, state.count, "the head row carries no seal (its seal was removed)")
    if head.count > state.count:
        return BrokenLink(CHAIN_NAME, state.count + 1,
                          f"the chain ends at event {state.count} but its head records {head.count} events "
                          f"(events {state.count + 1}–{head.count} were deleted: truncated)")
    if head.count < state.count:
        return BrokenLink(CHAIN_NAME, head.count + 1,
                          f"the head records {head.count} events but the chain has {state.count} "
                          f"(events after {head.count} were added outside the application)")
    if head.head != state.head:
        return BrokenLink(CHAIN_NAME, state.count, "the last event's hash is not the head the chain row records")
    if not hmac.compare_digest(head_seal(key, head.count, head.head), head.seal):
        return BrokenLink(CHAIN_NAME, state.count, "the head row does not match its seal (edited)")
    return None


async def seal_legacy_chain(*, session: AsyncSession) -> bool:
    """Seal an unsealed head row whose chain is all from before migration 0016 (the first anchor does it)."""
    key = session_key(session)
    head = await _locked_head(session)
    if head.seal is not None:
        return False
    state = await chain_state(session=session, key=key)
    if state.broken is not None or state.keyed:
        return False  # verify reports it
    head.count, head.head = state.count, state.head
    head.seal = head_seal(key, head.count, head.head)
    await session.flush()
    return True


async def anchor_line(*, session: AsyncSession, cut: int) -> tuple[str, int] | None:
    """The anchor's line for the chain up to event id `cut` (`account-events TAB - TAB length TAB head`) and its
    length; None while the chain has no event up to the cut."""
    last = (await session.execute(
        select(AccountEvent.seq, AccountEvent.hash).where(
            AccountEvent.seq == select(func.max(AccountEvent.seq)).where(AccountEvent.id <= cut).scalar_subquery())
    )).first()
    if last is None:
        return None
    return f"{CHAIN_NAME}\t-\t{last.seq}\t{last.hash}\n", last.seq
