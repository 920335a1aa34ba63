"""Unfinished complaints: one gentle nudge after a day idle, discarded with a notice after a week."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import ContextTypes

from bot import delivery, texts
from bot.domain import drafts, outbox
from bot.domain.updates import prune_processed_updates
from bot.services import services

log = logging.getLogger(__name__)



async def draft_sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Nudge drafts idle past the reminder delay, once; discard drafts idle past expiry, with a notice."""
    svc = services(context)
    now = svc.clock.now()
    settings = svc.settings
    async with svc.db.session() as session:
        stale = await drafts.expired_drafts(session=session, now=now, ttl=timedelta(days=settings.draft_expiry_days))
        expired = []
        for draft in stale:
            # Claim per row: a second instance sweeping at the same moment gets rowcount 0.
            if await drafts.claim_expiry(session=session, draft_id=draft.id, updated_at=draft.updated_at):
                expired.append((draft.account.telegram_id, draft.account_id, draft.kind))
        idle = await drafts.drafts_due_for_nudge(
            session=session, now=now, idle=timedelta(hours=settings.draft_reminder_hours)
        )
        nudged = []
        for draft in idle:
            if draft.kind == drafts.DraftKind.COMPLAINT and await drafts.claim_nudge(
                session=session, draft_id=draft.id, now=now
            ):
                nudged.append((draft.account.telegram_id, draft.account_id))
        # The notices are outbound rows of the same transaction as the claims: sent once, by the one sender.
        notices = []
        for chat_id, account_id, kind in expired:
            if kind == drafts.DraftKind.COMPLAINT:
                notices.append(outbox.enqueue(session=session, chat_id=chat_id, account_id=account_id, kind="draft", now=now,
                               text=texts.DRAFT_EXPIRED.format(days=settings.draft_expiry_days)))
        for chat_id, account_id in nudged:
            notices.append(outbox.enqueue(session=session, chat_id=chat_id, account_id=account_id, kind="draft",
                                          now=now, text=texts.DRAFT_NUDGE))
        # Update ids past Telegram's redelivery horizon are forgotten here, on the same slow cadence.
        await prune_processed_updates(session=session, now=now)
        await session.flush()
        ids = [notice.id for notice in notices]
        await session.commit()
    await delivery.deliver_pending(context, ids)
    if expired or nudged:
        log.info("draft sweep: %d nudged, %d expired", len(nudged), len(expired))
