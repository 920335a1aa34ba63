"""The daily audit anchor: once per local day (the first run of the day on any instance), the root over every
audit chain head is written to `audit_anchors` and to the log (bot.domain.anchors)."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.domain.anchors import make_anchor
from bot.services import services

log = logging.getLogger(__name__)

# How often the job looks whether today's anchor exists; it makes one per day.
CHECK_SECONDS = 3600


async def audit_anchor_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    async with svc.db.session() as session:
        anchor = await make_anchor(session=session, now=svc.clock.now(), tz=svc.settings.tz)
        await session.commit()
    if anchor is not None:
        log.info("audit anchor for %s committed", anchor.day)
