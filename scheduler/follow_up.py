"""回访: some days after a case closes, ask the complainant whether they are satisfied — once."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import ContextTypes

from bot import delivery, keyboards, texts
from bot.domain import outbox
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
                question = texts.FOLLOW_UP_ASK.format(ref=case.ref, closed=texts.local_date(case.closed_at, tz),
                                                      outcome=texts.OUTCOME_LABELS.get(case.outcome, ""))
                asks.append(outbox.enqueue(session=session, chat_id=case.complainant.telegram_id,
                                           account_id=case.complainant_id, kind="follow_up", text=question,
                                           now=now, markup=keyboards.satisfaction(case.ref).to_dict()))
        await session.flush()
        ids = [ask.id for ask in asks]
        await session.commit()
    await delivery.deliver_pending(context, ids)
