"""Officials and supervisors by invitation: one-time codes, binding, listing, unbinding."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, BindFailure, Department, Invite
from bot.domain.errors import DomainError, Forbidden, NotFound
from bot.domain import scope
from bot.domain.access_log import BIND, INVITE, UNBIND, access_of, record_account_change
from bot.domain.roles import Actor, Role

INVITE_TTL = timedelta(hours=72)
FAILURE_WINDOW = timedelta(hours=1)
MAX_FAILURES = 5
# No 0/O/1/I/L: codes are read aloud and typed on phones.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def hash_code(code: str) -> str:
    """Codes are stored hashed: a database reader cannot bind with them."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


async def create_invite(
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    department: Department | None,
    is_head: bool = False,
    role: Role = Role.OFFICIAL,
    region: str | None = None,
) -> tuple[Invite, str]:
    """A single-use code valid for 72 hours; returns the row and the code to hand over (shown once)."""
    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    if role is Role.OFFICIAL and department is None:
        raise NotFound("department_not_found", query="")
    code = _new_code()
    invite = Invite(
        code_hash=hash_code(code), role=role, department_id=department.id if department else None,
        is_head=is_head, region=region, created_by_id=actor.account_id, created_at=now,
        expires_at=now + INVITE_TTL,
    )
    session.add(invite)
    await session.flush()
    await record_account_change(session=session, action=INVITE, actor=actor, now=now, after=access_of(invite),
                          invite=invite)
    return invite, code


async def recent_failures(*, session: AsyncSession, account_id: int, now: datetime) -> int:
    return await session.scalar(
        select(func.count(BindFailure.id)).where(
            BindFailure.account_id == account_id, BindFailure.created_at > now - FAILURE_WINDOW
        )
    ) or 0


async def bind_account(*, session: AsyncSession, actor: Actor, code: str, now: datetime) -> Invite:
    """Bind the caller to the invite's role and department. Wrong codes count toward a one-hour lock.

    Raises DomainError with codes bind_locked, invite_wrong, invite_used, invite_expired. A refused
    attempt is recorded by the caller committing after catching (see record_bind_failure).
    """
    account = actor.account
    if await recent_failures(session=session, account_id=account.id, now=now) >= MAX_FAILURES:
        raise DomainError("bind_locked")
    invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
    if invite is None:
        raise DomainError("invite_wrong")
    if invite.used_at is not None:
        raise DomainError("invite_used")
    if invite.expires_at <= now:
        raise DomainError("invite_expired")
    # Conditional update: two people racing with one code, only one wins.
    claimed = await session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=now, used_by_id=account.id)
    )
    if claimed.rowcount != 1:
        raise DomainError("invite_used")
    before = access_of(account)
    account.role = invite.role
    account.department_id = invite.department_id
    account.is_head = invite.is_head
    account.region = invite.region
    await record_account_change(session=session, action=BIND, actor=actor, now=now, account=account, before=before,
                          after=access_of(account), invite=invite)
    return invite


async def record_bind_failure(*, session: AsyncSession, account_id: int, now: datetime) -> None:
    session.add(BindFailure(account_id=account_id, created_at=now))


async def officials_of(*, session: AsyncSession, department_id: int, heads_only: bool = False) -> list[Account]:
    query = select(Account).where(Account.role == Role.OFFICIAL, Account.department_id == department_id)
    if heads_only:
        query = query.where(Account.is_head.is_(True))
    return list((await session.scalars(query.order_by(Account.id))).all())


async def revoke_account(*, session: AsyncSession, actor: Actor, telegram_id: int, now: datetime,
                         configured: Collection[int] = ()) -> tuple[Account, str]:
    """Take an official's or an invited supervisor's role away (/unbind); returns the account and the role
    it had. Someone outside the actor's scope gets the same refusal as someone unknown. Supervisors named
    in the configuration are supervisors by configuration and cannot be unbound here."""
    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    account = await session.scalar(select(Account).where(Account.telegram_id == telegram_id))
    if (account is None or account.role not in (Role.OFFICIAL, Role.SUPERVISOR) or telegram_id in configured
            or not scope.may_manage_account(actor, account)):
        raise NotFound("account_not_found", who=telegram_id)
    role = account.role
    await _revoke(session, actor, account, now)
    return account, role


async def _revoke(session: AsyncSession, actor: Actor, account: Account, now: datetime) -> None:
    before = access_of(account)
    account.role, account.department_id, account.is_head, account.region = Role.CITIZEN, None, False, None
    account.department = None
    await record_account_change(session=session, action=UNBIND, actor=actor, now=now, account=account, before=before,
                          after=access_of(account))


async def supervisor_chat_ids(*, session: AsyncSession, configured: Collection[int]) -> list[int]:
    """Everyone who supervises: configured ids and invited supervisors."""
    invited = (await session.scalars(
        select(Account.telegram_id).where(Account.role == Role.SUPERVISOR, Account.unreachable.is_(False))
    )).all()
    return sorted(set(configured) | set(invited))
