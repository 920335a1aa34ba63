"""Messages the bot sends on its own initiative to a known account."""

from __future__ import annotations

import logging

from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.db.models import Account
from bot.domain.accounts import mark_unreachable
from bot.services import services

log = logging.getLogger(__name__)


async def notify_account(context: ContextTypes.DEFAULT_TYPE, account: Account, text: str, **kwargs) -> bool:
    """Send to an account; a user who blocked the bot is marked unreachable instead of failing the caller."""
    if account.unreachable:
        return False
    try:
        await context.bot.send_message(account.telegram_id, text, **kwargs)
        return True
    except Forbidden:
        async with services(context).db.session() as session:
            await mark_unreachable(session=session, account_id=account.id)
            await session.commit()
        log.info("account %s blocked the bot; marked unreachable", account.id)
    except TelegramError as error:
        log.warning("could not notify account %s: %s", account.id, error)
    return False
