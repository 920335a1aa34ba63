"""What every handler shares: the acting account in one session, and polite refusals."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.domain.accounts import resolve_actor
from bot.domain.errors import DomainError
from bot.domain.roles import Actor
from bot.services import services

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


@asynccontextmanager
async def acting(update: Update, context: ContextTypes.DEFAULT_TYPE) -> AsyncIterator[tuple[AsyncSession, Actor]]:
    """One database session for this update, and who is acting in it. The handler commits."""
    svc = services(context)
    user = update.effective_user
    async with svc.db.session() as session:
        actor = await resolve_actor(
            session=session,
            telegram_id=user.id,
            full_name=user.full_name,
            username=user.username,
            supervisors=svc.settings.supervisors,
            now=svc.clock.now(),
        )
        yield session, actor


async def answer(update: Update, text: str, **kwargs) -> None:
    """Reply in the chat the update came from (message or button press)."""
    await update.effective_chat.send_message(text, **kwargs)


async def close_buttons(query: CallbackQuery) -> None:
    """Acknowledge a press and take the buttons off its message, so it cannot be pressed twice.

    Both requests go out at once (on a phone each round trip is waiting). Neither may stop the handler:
    they come after its commit, and the reply that follows is what tells the user what happened. They
    fail for harmless reasons: a press answered too late after a restart, a message the user deleted.
    """
    results = await asyncio.gather(
        query.answer(), query.edit_message_reply_markup(reply_markup=None), return_exceptions=True
    )
    for result in results:
        if isinstance(result, TelegramError):
            log.warning("could not close the pressed buttons: %s", result)
        elif isinstance(result, BaseException):
            raise result


def refuses_politely(handler: Handler) -> Handler:
    """Turn a DomainError into its message; nothing was committed, so nothing changed."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handler(update, context)
        except DomainError as refusal:
            message = texts.refusal(refusal.code, refusal.params)
            if update.callback_query is not None:
                await update.callback_query.answer(_plain(message), show_alert=True)
            else:
                await answer(update, message)

    return wrapper


def _plain(html_text: str) -> str:
    """Callback alerts are plain text and at most 200 characters."""
    import re

    return re.sub(r"<[^>]+>", "", html_text)[:200]


def command_args(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    return list(context.args or [])
