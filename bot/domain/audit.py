"""The audit log: append-only events per case and per register commitment, chained and keyed.

- Each event's `hash` is HMAC-SHA-256, with the audit key, over its content and the previous event's hash
  (`hash_version` 2). Events written before migration 0011 keep their unkeyed SHA-256 (`hash_version` 1);
  they are accepted only as the start of a chain (a keyed event covers them through its `prev_hash`) and
  only in a chain whose row is sealed.
- The case (or commitment) row carries the chain's head (`audit_head`), its length (`audit_count`) and a
  keyed seal over its content (ref, text, complainant, department, domain, status; for a commitment ref,
  content, due date, department, domain, status) together with head and length. The seal is recomputed
  at every flush of a session that holds the key, so whatever the application writes stays sealed, and a
  row changed outside it (SQL, a restored copy edited by hand) no longer matches.
- The key comes from `CHENGXIN_AUDIT_KEY` or a key file made on first start (`load_audit_key`); sessions
  carry it in `session.info["audit_key"]` (bot.db.session.Database). It is never logged.

`verify_chains` names the first broken link of each chain: a missing event (deleted), one that does not
link (inserted or replaced), content that does not match its hash, a hash recomputed without the key,
a chain shorter or longer than its row records (truncated or appended outside), a row whose content
does not match its seal. The account-events chain (who was given or lost staff rights) is checked the
same way: bot.domain.account_chain. Daily anchors over every chain head: bot.domain.anchors.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timezone
from datetime import datetime
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.db.models import Case, CaseEvent, Commitment, CommitmentEvent
from bot.domain.roles import Actor

log = logging.getLogger(__name__)

GENESIS = "0" * 64
LEGACY, KEYED = 1, 2
KEY_FILE_NAME = "audit.key"
MIN_KEY_LENGTH = 32


class AuditKeyMissing(RuntimeError):
    """A session without the audit key tried to write or check audit events."""


# --- the key ---------------------------------------------------------------------------------------


def default_key_path(database_url: str) -> Path | None:
    """Where the key file lives when none is configured: beside the SQLite file; for a server database,
    the working directory; None for an in-memory database (a key for this process only)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return None
        return Path(database).expanduser().resolve().parent / KEY_FILE_NAME
    return Path.cwd() / KEY_FILE_NAME


def load_audit_key(configured: str, database_url: str) -> bytes:
    """The audit key: `configured` itself, or the file it names (`file:/path`), or the default key file;
    a missing file is made (mode 0600) with a fresh random key. The key is never logged, only its path."""
    configured = (configured or "").strip()
    if configured and not configured.startswith("file:"):
        if len(configured) < MIN_KEY_LENGTH:
            raise ValueError(f"the audit key must be at least {MIN_KEY_LENGTH} characters")
        return configured.encode()
    path = Path(configured[5:]).expanduser() if configured else default_key_path(database_url)
    if path is None:
        return secrets.token_hex(32).encode()
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another instance made it meanwhile
            key = path.read_text(encoding="ascii").strip()
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
            log.info("made a new audit key in %s: keep it with the backups (without it the audit log "
                        "cannot be verified)", path)
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"the audit key in {path} is shorter than {MIN_KEY_LENGTH} characters")
    return key.encode()


def audit_key_for(settings) -> bytes:
    """The key for a Settings (CHENGXIN_AUDIT_KEY and DATABASE_URL)."""
    return load_audit_key(settings.audit_key.get_secret_value(), settings.database_url)


def session_key(session: AsyncSession | Session) -> bytes:
    key = session.info.get("audit_key")
    if not key:
        raise AuditKeyMissing("this database session has no audit key (Database(..., audit_key=...))")
    return key


# --- hashes ----------------------------------------------------------------------------------------


def _event_content(event: CaseEvent | CommitmentEvent, ref: str) -> list:
    return [
        event.prev_hash,
        ref,
        event.seq,
        event.action,
        event.actor_id,
        event.actor_role,
        event.from_status,
        event.to_status,
        event.note,
        event.created_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
    ]


def event_digest(event: CaseEvent | CommitmentEvent, case_ref: str) -> str:
    """The unkeyed SHA-256 of events before migration 0011 (hash_version 1)."""
    return hashlib.sha256(json.dumps(_event_content(event, case_ref), ensure_ascii=False).encode()).hexdigest()


def _kind(model) -> str:
    return "case" if model is CaseEvent or model is Case else "commitment"


def keyed_digest(key: bytes, event: CaseEvent | CommitmentEvent, ref: str) -> str:
    """HMAC-SHA-256 of an event (hash_version 2)."""
    content = [KEYED, _kind(type(event)), *_event_content(event, ref)]
    return hmac.new(key, json.dumps(content, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()


def row_seal(key: bytes, row: Case | Commitment) -> str:
    """The keyed hash over a case's (or commitment's) content and its chain's head and length."""
    if isinstance(row, Case):
        content = ["case", row.ref, row.text, row.complainant_id, row.department_id, row.domain, row.status]
    else:
        content = ["commitment", row.ref, row.content, row.due_on.isoformat() if row.due_on else None,
                   row.department_id, row.domain, row.status]
    content += [row.audit_count or 0, row.audit_head or GENESIS]
    return hmac.new(key, json.dumps(content, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()


def _sealed(row) -> bool:
    return isinstance(row, Case) or (isinstance(row, Commitment) and row.ref is not None)


@sa_event.listens_for(Session, "before_flush")
def _seal_rows(session: Session, _context, _instances) -> None:
    """Keep the seal of every case and register commitment this session writes up to date."""
    key = session.info.get("audit_key")
    if not key:
        return
    for row in (*session.new, *session.dirty):
        if _sealed(row):
            seal = row_seal(key, row)
            if row.audit_seal != seal:
                row.audit_seal = seal


# --- appending -------------------------------------------------------------------------------------


async def append_event(
    *,
    session: AsyncSession,
    case: Case,
    action: str,
    actor: Actor,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> CaseEvent:
    """Add one event to the case's chain. The caller holds the case row (see cases.lock_case)."""
    return await _append(session, CaseEvent, CaseEvent.case_id, case, action=action, actor=actor,
                         now=now, from_status=from_status, to_status=to_status, note=note)


def first_case_event(*, session: AsyncSession, case: Case, action: str, actor: Actor, now: datetime,
                     to_status: str | None = None, note: str | None = None) -> CaseEvent:
    """The first event of a case not inserted yet: there is no chain to read, and its hash needs the case's
    ref, not its id. The case gets its chain head and length now, so its own INSERT carries them (and its
    seal) instead of an UPDATE after the event; the caller adds the event once the case has its id."""
    event = _new_event(session_key(session), CaseEvent, case, None, action=action, actor=actor, now=now,
                       from_status=None, to_status=to_status, note=note)
    case.audit_head, case.audit_count = event.hash, event.seq
    return event


async def append_commitment_event(
    *,
    session: AsyncSession,
    commitment: Commitment,
    action: str,
    actor: Actor,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> CommitmentEvent:
    """Add one event to a register commitment's chain."""
    return await _append(session, CommitmentEvent, CommitmentEvent.commitment_id, commitment,
                         action=action, actor=actor, now=now, from_status=from_status, to_status=to_status, note=note)


async def _append(session: AsyncSession, model, subject_column, subject: Case | Commitment, *, action: str,
                  actor: Actor, now: datetime, from_status: str | None, to_status: str | None, note: str | None):
    key = session_key(session)
    last = (
        await session.execute(
            select(model.seq, model.hash).where(subject_column == subject.id).order_by(model.seq.desc()).limit(1)
        )
    ).first()
    event = _new_event(key, model, subject, last, action=action, actor=actor, now=now, from_status=from_status,
                       to_status=to_status, note=note)
    setattr(event, subject_column.key, subject.id)
    session.add(event)
    if subject.ref is not None:
        subject.audit_head, subject.audit_count = event.hash, event.seq
    await session.flush()
    return event


def _new_event(key: bytes, model, subject: Case | Commitment, last, *, action: str, actor: Actor, now: datetime,
               from_status: str | None, to_status: str | None, note: str | None):
    """The next link after `last` (a row of seq and hash; None: the chain starts here), hashed."""
    event = model(
        seq=(last.seq + 1) if last else 1,
        action=action,
        actor_id=actor.account_id,
        actor_role=str(actor.role),
        from_status=from_status,
        to_status=to_status,
        note=note,
        created_at=now,
        prev_hash=last.hash if last else GENESIS,
        hash_version=KEYED,
    )
    event.hash = keyed_digest(key, event, subject.ref)
    return event


async def case_events(*, session: AsyncSession, case_id: int) -> list[CaseEvent]:
    return list(
        (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))).all()
    )


# --- verifying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    case_ref: str
    seq: int
    reason: str


@dataclass
class ChainState:
    """What a chain's events say, for verification and anchoring."""

    count: int
    head: str
    broken: BrokenLink | None
    keyed: bool  # at least one keyed event


def check_events(key: bytes, ref: str, events, *, start: ChainState | None = None,
                 digest=None, mac=None) -> ChainState:
    """Walk one chain's events (in seq order; from `start` for a later batch); the first broken link, if any.
    `digest` / `mac`: an event's unkeyed and keyed hash (default: a case's or commitment's event under `ref`)."""
    digest = digest or (lambda event: event_digest(event, ref))
    mac = mac or (lambda event: keyed_digest(key, event, ref))
    previous, expected, keyed = (GENESIS, 1, False) if start is None else (start.head, start.count + 1, start.keyed)
    for event in events:
        if event.seq != expected:
            gap = f"event {expected} is missing" if event.seq == expected + 1 else \
                f"events {expected}–{event.seq - 1} are missing"
            return ChainState(expected - 1, previous, BrokenLink(ref, event.seq, f"{gap} (deleted)"), keyed)
        if event.prev_hash != previous:
            return ChainState(expected - 1, previous, BrokenLink(
                ref, event.seq, f"does not link to event {event.seq - 1} (an event was inserted, replaced or edited)"),
                keyed)
        if event.hash_version == LEGACY:
            if keyed:
                return ChainState(expected - 1, previous, BrokenLink(
                    ref, event.seq, "an unkeyed event after keyed ones (hash recomputed without the key)"), keyed)
            found = digest(event)
        elif event.hash_version == KEYED:
            keyed, found = True, mac(event)
        else:
            return ChainState(expected - 1, previous, BrokenLink(
                ref, event.seq, f"unknown hash version {event.hash_version}"), keyed)
        if not hmac.compare_digest(found, event.hash):
            reason = "content does not match its hash (the event was edited)"
            if event.hash_version == KEYED and event.hash == digest(event):
                reason = "hash recomputed without the audit key"
            elif event.hash_version == KEYED and event.hash != found:
                reason += " or its hash was recomputed without the audit key"
            return ChainState(expected - 1, previous, BrokenLink(ref, event.seq, reason), keyed)
        previous, expected = event.hash, expected + 1
    return ChainState(expected - 1, previous, None, keyed)


def check_row(key: bytes, row: Case | Commitment, state: ChainState, *, legacy_allowed: bool) -> BrokenLink | None:
    """The row's recorded head, length and seal against its chain."""
    kind = "case" if isinstance(row, Case) else "commitment"
    if state.broken is not None:
        return state.broken
    if row.audit_seal is None:
        if legacy_allowed and not state.keyed:
            return None  # written before keyed audit, sealed by the first anchor
        return BrokenLink(row.ref, state.count, f"the {kind} row carries no seal (its chain head was removed)")
    recorded = row.audit_count or 0
    if recorded > state.count:
        return BrokenLink(row.ref, state.count + 1,
                          f"the chain ends at event {state.count} but the {kind} records {recorded} events "
                          f"(events {state.count + 1}–{recorded} were deleted: truncated)")
    if recorded < state.count:
        return BrokenLink(row.ref, recorded + 1,
                          f"the {kind} records {recorded} events but the chain has {state.count} "
                          f"(events after {recorded} were added outside the application)")
    if (row.audit_head or GENESIS) != state.head:
        return BrokenLink(row.ref, state.count, f"the last event's hash is not the head the {kind} records")
    if not hmac.compare_digest(row_seal(key, row), row.audit_seal):
        what = "text, complainant, department, domain or status" if kind == "case" else \
            "content, due date, department, domain or status"
        return BrokenLink(row.ref, state.count, f"the {kind}'s {what} does not match its seal (edited)")
    return None


BATCH = 500


async def _subjects(session: AsyncSession, *, unsealed_only: bool = False, release: bool = False):
    """Every case and register commitment with its events (in seq order), read in batches; `release` drops
    each batch from the session afterwards (for a session used for nothing else)."""
    for row_model, model, column, condition in (
        (Case, CaseEvent, CaseEvent.case_id, None),
        (Commitment, CommitmentEvent, CommitmentEvent.commitment_id, Commitment.ref.is_not(None)),
    ):
        last_id = 0
        while True:
            query = select(row_model).where(row_model.id > last_id).order_by(row_model.id).limit(BATCH)
            if condition is not None:
                query = query.where(condition)
            if unsealed_only:
                query = query.where(row_model.audit_seal.is_(None))
            rows = list((await session.scalars(query)).unique().all())
            if not rows:
                break
            last_id = rows[-1].id
            events = (await session.scalars(
                select(model).where(column.in_([r.id for r in rows])).order_by(column, model.seq))).all()
            by_subject: dict[int, list] = {}
            for event in events:
                by_subject.setdefault(getattr(event, column.key), []).append(event)
            for row in rows:
                yield row, by_subject.get(row.id, [])
            if release:
                for item in (*rows, *events):
                    if item in session and item not in session.dirty:
                        session.expunge(item)


async def verify_chains(*, session: AsyncSession, key: bytes | None = None,
                        release: bool = False) -> tuple[int, list[BrokenLink]]:
    """Check every case's and register commitment's chain and row, and the account-events chain
    (bot.domain.account_chain, one chain once it has an event); returns chains checked and the first broken link of
    each bad one. Rows from before keyed audit may be unsealed until the first anchor."""
    from bot.domain.account_chain import verify_account_chain
    from bot.domain.anchors import has_anchor

    key = key or session_key(session)
    legacy_allowed = not await has_anchor(session=session)
    broken: list[BrokenLink] = []
    checked = 0
    async for row, events in _subjects(session, release=release):
        checked += 1
        problem = check_row(key, row, check_events(key, row.ref, events), legacy_allowed=legacy_allowed)
        if problem is not None:
            broken.append(problem)
    exists, problem = await verify_account_chain(session=session, key=key, release=release)
    if problem is not None:
        broken.append(problem)
    return checked + exists, broken
