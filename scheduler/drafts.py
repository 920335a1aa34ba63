"""Unfinished complaints: one gentle nudge after a day idle, discarded with a notice after a week."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.domain import drafts
from bot.domain.accounts import mark_unreachable
from bot.services import services

log = logging.getLogger(__name__)


async def _send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, account_id: int, text: str) -> None:
    try:
        await context.bot.send_message(chat_id, text)
    except Forbidden:
        async with services(context).db.session() as session:
            await mark_unreachable(session=session, account_id=account_id)
            await session.commit()
    except TelegramError as error:
        log.warning("draft notice to account %s failed: %s", account_id, error)


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
        # Commit the claims before sending: a crash after this sends nothing twice.
        await session.commit()
    for chat_id, account_id, kind in expired:
        if kind == drafts.DraftKind.COMPLAINT:
            await _send(context, chat_id, account_id, texts.DRAFT_EXPIRED.format(days=settings.draft_expiry_days))
    for chat_id, account_id in nudged:
        await _send(context, chat_id, account_id, texts.DRAFT_NUDGE)
    if expired or nudged:
        log.info("draft sweep: %d nudged, %d expired", len(nudged), len(expired))
