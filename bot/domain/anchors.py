"""Daily audit anchors: one root over every chain head, kept in an append-only table, logged, and published.

The root is SHA-256 over one line per chain, in row-id order (cases, then register commitments):
`kind TAB ref TAB length TAB head-hash`, where a chain counts the events with an id up to the anchor's
cut. Since migration 0016 the root ends with one more line for the account-events chain (who was given or
lost staff rights; bot.domain.account_chain): `account-events TAB - TAB length TAB head-hash` up to the
anchor's `account_event_cut`, left out while that chain has no event. Anchors made before 0016 have no
account cut (None): their roots, digests and MACs are computed as before. Cuts are taken while no event is
being written (PostgreSQL: `LOCK … IN SHARE MODE` for the anchor's transaction; SQLite: the write lock
every transaction takes), so every event below a cut is
committed and every later one gets a higher id. Anyone holding a copy of the database can recompute a
published root; `verify_anchors` does it for the latest anchor (or all of them) and checks each anchor
row's MAC and its link to the one before (`prev_root` is the previous anchor's own digest, published
with it).

The first anchor also seals the rows of chains written before keyed audit (migration 0011), and the first
anchor with an account cut the account-events head left unsealed by migration 0016: after it,
an unsealed row is a broken link.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AccountEvent, AuditAnchor, Case, CaseEvent, Commitment, CommitmentEvent
from bot.domain import account_chain
from bot.domain.audit import GENESIS, BrokenLink, _subjects, check_events, session_key

log = logging.getLogger(__name__)

_CHAINS = (
    ("case", Case, CaseEvent, CaseEvent.case_id, None),
    ("commitment", Commitment, CommitmentEvent, CommitmentEvent.commitment_id, Commitment.ref.is_not(None)),
)


async def has_anchor(*, session: AsyncSession) -> bool:
    return await session.scalar(select(AuditAnchor.id).limit(1)) is not None


async def latest_anchor(*, session: AsyncSession) -> AuditAnchor | None:
    return await session.scalar(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1))


async def compute_root(*, session: AsyncSession, case_cut: int, commitment_cut: int,
                       account_cut: int | None = None) -> tuple[str, int, int]:
    """(root, chains, events) over the events with ids up to the cuts (no account-events line without
    `account_cut`: anchors from before migration 0016)."""
    digest = hashlib.sha256()
    chains = events = 0
    for (kind, row_model, model, column, condition), cut in zip(_CHAINS, (case_cut, commitment_cut)):
        heads = (select(column.label("subject_id"), func.max(model.seq).label("n"))
                 .where(model.id <= cut).group_by(column).subquery())
        query = (select(row_model.ref, heads.c.n, model.hash)
                 .join(heads, heads.c.subject_id == row_model.id)
                 .join(model, and_(column == heads.c.subject_id, model.seq == heads.c.n))
                 .order_by(row_model.id)
                 .execution_options(yield_per=5000))
        if condition is not None:
            query = query.where(condition)
        async for ref, n, head in await session.stream(query):
            digest.update(f"{kind}\t{ref}\t{n}\t{head}\n".encode())
            chains += 1
            events += n
    if account_cut is not None:
        line = await account_chain.anchor_line(session=session, cut=account_cut)
        if line is not None:
            digest.update(line[0].encode())
            chains += 1
            events += line[1]
    return digest.hexdigest(), chains, events


def _anchor_content(anchor: AuditAnchor) -> list:
    content = ["anchor", anchor.day, anchor.chains, anchor.events, anchor.case_event_cut,
               anchor.commitment_event_cut, anchor.root, anchor.prev_root]
    if anchor.account_event_cut is not None:  # anchors from before migration 0016 keep their digests
        content.append(anchor.account_event_cut)
    return content


def anchor_digest(anchor: AuditAnchor) -> str:
    """The anchor's own hash (published with it): the next anchor's `prev_root` is this, so the published
    anchors form a chain that loses no day unnoticed."""
    content = _anchor_content(anchor)
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def anchor_mac(key: bytes, anchor: AuditAnchor) -> str:
    content = _anchor_content(anchor)
    return hmac.new(key, json.dumps(content).encode(), hashlib.sha256).hexdigest()


async def seal_legacy_chains(*, session: AsyncSession) -> int:
    """Record head and length (and so the seal) on rows whose chains are all from before keyed audit."""
    key = session_key(session)
    sealed = 0
    async for row, events in _subjects(session, unsealed_only=True):
        state = check_events(key, row.ref, events)
        if state.broken is not None or state.keyed:
            continue  # not legacy: verify reports it
        row.audit_count, row.audit_head = state.count, state.head
        sealed += 1
    await session.flush()
    return sealed


async def make_anchor(*, session: AsyncSession, now: datetime, tz: ZoneInfo) -> AuditAnchor | None:
    """Today's anchor (local day), or None when one was already made today (by this or another instance)."""
    key = session_key(session)
    day = now.astimezone(tz).date().isoformat()
    if await session.scalar(select(AuditAnchor.id).where(AuditAnchor.day == day)) is not None:
        return None
    previous = await latest_anchor(session=session)
    if previous is None:
        sealed = await seal_legacy_chains(session=session)
        if sealed:
            log.info("audit: sealed %d chains written before keyed audit", sealed)
    if previous is None or previous.account_event_cut is None:
        if await account_chain.seal_legacy_chain(session=session):
            log.info("audit: sealed the account-events chain written before migration 0016")
    if session.bind.dialect.name == "postgresql":
        # After the row updates above: a writer waiting for one of those rows holds no event-table lock yet.
        await session.execute(text("LOCK TABLE case_events, commitment_events, account_events IN SHARE MODE"))
    case_cut = await session.scalar(select(func.max(CaseEvent.id))) or 0
    commitment_cut = await session.scalar(select(func.max(CommitmentEvent.id))) or 0
    account_cut = await session.scalar(select(func.max(AccountEvent.id))) or 0
    root, chains, events = await compute_root(session=session, case_cut=case_cut, commitment_cut=commitment_cut,
                                              account_cut=account_cut)
    anchor = AuditAnchor(day=day, created_at=now, chains=chains, events=events, case_event_cut=case_cut,
                         commitment_event_cut=commitment_cut, account_event_cut=account_cut, root=root,
                         prev_root=anchor_digest(previous) if previous else GENESIS, mac="")
    anchor.mac = anchor_mac(key, anchor)
    try:
        async with session.begin_nested():
            session.add(anchor)
            await session.flush()
    except IntegrityError:
        return None
    log.info("audit anchor %s: anchor %s, root %s over %d chains and %d events, previous anchor %s",
             day, anchor_digest(anchor), root, chains, events, anchor.prev_root)
    return anchor


def publishable(anchor: AuditAnchor) -> str:
    """The anchor as published (notice board, website, a letter to the supervising office)."""
    return (f"诚信 audit anchor {anchor.day}\n"
            f"anchor   {anchor_digest(anchor)}\n"
            f"root     {anchor.root}\n"
            f"previous {anchor.prev_root}\n"
            f"chains   {anchor.chains}\n"
            f"events   {anchor.events}\n"
            f"cuts     case_events<={anchor.case_event_cut} commitment_events<={anchor.commitment_event_cut}"
            + (f" account_events<={anchor.account_event_cut}" if anchor.account_event_cut is not None else "")
            + "\n")


async def verify_anchors(*, session: AsyncSession, key: bytes | None = None,
                         every: bool = False) -> list[BrokenLink]:
    """Each anchor's MAC and link to the one before; the latest anchor's root (every anchor's with
    `every`) recomputed from the events as they are now."""
    key = key or session_key(session)
    broken: list[BrokenLink] = []
    anchors = list((await session.scalars(select(AuditAnchor).order_by(AuditAnchor.id))).all())
    previous = GENESIS
    for anchor in anchors:
        name = f"anchor {anchor.day}"
        if anchor.prev_root != previous:
            broken.append(BrokenLink(name, 0, "does not follow the anchor before it (an anchor was deleted or inserted)"))
        if not hmac.compare_digest(anchor_mac(key, anchor), anchor.mac):
            broken.append(BrokenLink(name, 0, "the anchor row was edited (its MAC does not match)"))
        previous = anchor_digest(anchor)
    for anchor in (anchors if every else anchors[-1:]):
        root, chains, events = await compute_root(session=session, case_cut=anchor.case_event_cut,
                                                  commitment_cut=anchor.commitment_event_cut,
                                                  account_cut=anchor.account_event_cut)
        if root != anchor.root:
            broken.append(BrokenLink(
                f"anchor {anchor.day}", 0,
                f"the audit log no longer gives the root anchored on {anchor.day} ({chains} chains, {events} events "
                f"now against {anchor.chains} and {anchor.events}): events up to then were changed"))
    return broken
