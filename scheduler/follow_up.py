"""回访: some days after a case closes, ask the complainant whether they are satisfied — once."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import keyboards, texts
from bot.domain.accounts import mark_unreachable
from bot.domain.casework import cases_due_for_follow_up, claim_follow_up
from bot.services import services

log = logging.getLogger(__name__)


async def follow_up_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask 满意 / 基本满意 / 不满意 about cases closed `follow_up_days` ago; the claim makes it once only."""
    svc = services(context)
    now = svc.clock.now()
    tz = svc.settings.tz
    async with svc.db.session() as session:
        due = await cases_due_for_follow_up(session=session, now=now, after=timedelta(days=svc.policy.follow_up_days))
        asks = []
        for case in due:
            if case.outcome == "rejected" or case.complainant.unreachable:
                await claim_follow_up(session=session, case_id=case.id, now=now)
                continue
            if await claim_follow_up(session=session, case_id=case.id, now=now):
                asks.append((case.complainant.telegram_id, case.complainant_id, case.ref,
                             texts.local_date(case.closed_at, tz), texts.OUTCOME_LABELS.get(case.outcome, "")))
        await session.commit()
    for chat_id, account_id, ref, closed, outcome in asks:
        try:
            await context.bot.send_message(chat_id, texts.FOLLOW_UP_ASK.format(ref=ref, closed=closed, outcome=outcome),
                                           reply_markup=keyboards.satisfaction(ref))
        except Forbidden:
            async with svc.db.session() as session:
                await mark_unreachable(session=session, account_id=account_id)
                await session.commit()
        except TelegramError as error:
            log.warning("follow-up question for %s failed: %s", ref, error)
