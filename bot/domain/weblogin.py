"""Dashboard login: one-time links sent by /web, and the sessions they open.

A link is short-lived (LINK_LIFETIME), single use and bound to the Telegram id that asked for it; only
its SHA-256 is stored. Redeeming it opens a session, stored hashed as well; the browser keeps the
session id in a signed cookie (bot/web/auth.py). Each request reads the account afresh, so a supervisor
who was unbound loses the dashboard at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, WebLoginLink, WebSession
from bot.domain.errors import Forbidden
from bot.domain.roles import Actor, Role

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)
WEB_ROLES = (Role.SUPERVISOR, Role.OFFICIAL)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_use_dashboard(actor: Actor) -> bool:
    """Supervisors (the whole dashboard) and officials of a department (their department, read-only)."""
    if actor.role is Role.SUPERVISOR:
        return actor.account is not None
    return actor.role is Role.OFFICIAL and actor.account is not None and actor.account.department_id is not None


async def issue_link(*, session: AsyncSession, actor: Actor, now: datetime) -> str:
    """A fresh one-time login token for the actor (the raw token goes only into their private chat)."""
    if not may_use_dashboard(actor):
        raise Forbidden("forbidden")
    token = secrets.token_urlsafe(32)
    session.add(WebLoginLink(token_hash=_digest(token), telegram_id=actor.account.telegram_id,
                             account_id=actor.account.id, created_at=now, expires_at=now + LINK_LIFETIME))
    await session.flush()
    return token


async def redeem_link(*, session: AsyncSession, token: str, now: datetime) -> str | None:
    """Use a link once: a new session id, or None when the link is unknown, used or expired.

    The UPDATE … WHERE used_at IS NULL is the claim: two clicks at once cannot both win.
    """
    if not token or len(token) > 128:
        return None
    link = await session.scalar(select(WebLoginLink).where(WebLoginLink.token_hash == _digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    claimed = await session.execute(
        update(WebLoginLink).where(WebLoginLink.id == link.id, WebLoginLink.used_at.is_(None)).values(used_at=now))
    if claimed.rowcount != 1:
        return None
    account = await session.get(Account, link.account_id)
    if account is None or account.telegram_id != link.telegram_id:
        return None
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(session_hash=_digest(session_id), account_id=account.id, telegram_id=account.telegram_id,
                           created_at=now, expires_at=now + SESSION_LIFETIME))
    await session.flush()
    return session_id


async def session_actor(*, session: AsyncSession, session_id: str, now: datetime,
                        supervisors: Collection[int]) -> Actor | None:
    """Who a live session acts for, with their role now; None for an unknown, ended or expired session,
    or an account that may no longer use the dashboard."""
    found = await session.scalar(select(WebSession).where(WebSession.session_hash == _digest(session_id)))
    if found is None or found.ended_at is not None or found.expires_at <= now:
        return None
    account = await session.get(Account, found.account_id)
    if account is None or account.telegram_id != found.telegram_id:
        return None
    role = Role.SUPERVISOR if account.telegram_id in supervisors else Role(account.role)
    actor = Actor(role=role, account=account)
    return actor if may_use_dashboard(actor) else None


async def end_session(*, session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(update(WebSession).where(WebSession.session_hash == _digest(session_id),
                                                   WebSession.ended_at.is_(None)).values(ended_at=now))
