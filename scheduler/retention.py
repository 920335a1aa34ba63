"""Closed cases older than the policy's retention period lose their complainant's identity (PIPL)."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.domain.personal_data import anonymise_expired
from bot.domain.roles import SYSTEM
from bot.services import services

log = logging.getLogger(__name__)

CHECK_SECONDS = 6 * 3600


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anonymise, in batches, the closed cases past retention; each erasure is an audit event."""
    svc = services(context)
    now = svc.clock.now()
    async with svc.db.session() as session:
        done = await anonymise_expired(session=session, now=now, years=svc.policy.retention_years, actor=SYSTEM)
        await session.commit()
    if done:
        log.info("retention: %d closed cases anonymised", done)
