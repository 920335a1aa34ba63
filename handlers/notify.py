"""Messages the bot sends on its own initiative: to an account, to a department's officials, to supervisors."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.db.models import Account, Evidence
from bot.domain.accounts import mark_unreachable
from bot.domain.duplicates import co_complainants_of
from bot.domain.officials import officials_of, supervisor_chat_ids
from bot.services import services
from bot import texts

log = logging.getLogger(__name__)


@dataclass
class Outbox:
    """Messages gathered inside a transaction and sent only after it commits."""

    items: list[tuple[int, int | None, str, dict[str, Any]]] = field(default_factory=list)
    evidence: list[tuple[int, int | None, Evidence]] = field(default_factory=list)

    def to_account(self, account: Account, text: str, **kwargs: Any) -> None:
        if not account.unreachable:
            self.items.append((account.telegram_id, account.id, text, kwargs))

    def to_chat(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.items.append((chat_id, None, text, kwargs))

    async def to_complainants(self, session: AsyncSession, case, text: str, **kwargs: Any) -> None:
        """The person who filed the case and everyone who joined it (联名投诉人)."""
        self.to_account(case.complainant, text, **kwargs)
        for account in await co_complainants_of(session=session, case_id=case.id):
            self.to_account(account, text, **kwargs)

    async def to_officials(self, session: AsyncSession, department_id: int, text: str, *,
                           heads_only: bool = False, **kwargs: Any) -> list[Account]:
        officials = await officials_of(session=session, department_id=department_id, heads_only=heads_only)
        for official in officials:
            self.to_account(official, text, **kwargs)
        return officials

    async def to_supervisors(self, session: AsyncSession, context: ContextTypes.DEFAULT_TYPE, text: str,
                             **kwargs: Any) -> None:
        configured = services(context).settings.supervisors
        for chat_id in await supervisor_chat_ids(session=session, configured=configured):
            self.to_chat(chat_id, text, **kwargs)

    def evidence_to(self, account: Account, items: list[Evidence]) -> None:
        for item in items:
            self.evidence.append((account.telegram_id, account.id, item))

    async def send(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        for chat_id, account_id, text, kwargs in self.items:
            await deliver(context, chat_id, account_id, text, **kwargs)
        for chat_id, account_id, item in self.evidence:
            # Officials get the masked caption: captions can carry phone numbers too.
            caption = texts.excerpt(item.caption_masked, 900) if item.caption_masked else None
            await _deliver_call(context, account_id, chat_id, "photo" if item.kind == "photo" else "document",
                                item.file_id, caption)


async def deliver(context: ContextTypes.DEFAULT_TYPE, chat_id: int, account_id: int | None, text: str,
                  **kwargs: Any) -> bool:
    """Send one message; a user who blocked the bot is marked unreachable instead of failing the caller."""
    return await _deliver_call(context, account_id, chat_id, "text", text, None, **kwargs)


async def _deliver_call(context, account_id, chat_id, kind, payload, caption, **kwargs) -> bool:
    try:
        if kind == "text":
            await context.bot.send_message(chat_id, payload, **kwargs)
        elif kind == "photo":
            await context.bot.send_photo(chat_id, payload, caption=caption)
        else:
            await context.bot.send_document(chat_id, payload, caption=caption)
        return True
    except Forbidden:
        if account_id is not None:
            async with services(context).db.session() as session:
                await mark_unreachable(session=session, account_id=account_id)
                await session.commit()
        log.info("chat %s blocked the bot; marked unreachable", "account %s" % account_id if account_id else "?")
    except TelegramError as error:
        log.warning("could not deliver to account %s: %s", account_id, error)
    return False


async def notify_account(context: ContextTypes.DEFAULT_TYPE, account: Account, text: str, **kwargs: Any) -> bool:
    if account.unreachable:
        return False
    return await deliver(context, account.telegram_id, account.id, text, **kwargs)
