"""For everyone: /start, /help, private-chat and flood guards, edits, and the error handler."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import texts
from bot import keyboards
from handlers.base import acting, answer

log = logging.getLogger(__name__)


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome, in the words of the caller's role, with the main menu."""
    async with acting(update, context) as (session, actor):
        await session.commit()
    await answer(update, texts.WELCOME[actor.role.value], reply_markup=keyboards.main_menu())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the caller can do, for their role (/help or 帮助)."""
    async with acting(update, context) as (session, actor):
        await session.commit()
    message = texts.HELP[actor.role.value]
    if actor.role.value != "citizen":
        message += "\n\n" + texts.HELP["citizen"]
    await answer(update, message, reply_markup=keyboards.main_menu())


async def group_chat_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything from a group or channel: say the bot is private-only, and stop there."""
    if update.effective_message is not None and update.effective_chat.type in ("group", "supergroup"):
        await update.effective_message.reply_text(texts.PRIVATE_ONLY)
    raise ApplicationHandlerStop


class FloodGuard:
    """Drops a user's updates beyond `limit` within `window` seconds; warns once per burst.

    Kept in process memory on purpose: it is throttling, not state a restart must keep.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[int, deque[float]] = defaultdict(deque)
        self._warned: set[int] = set()

    def allow(self, user_id: int, now: float | None = None) -> tuple[bool, bool]:
        """(allowed, warn_now) for one more update from this user."""
        now = time.monotonic() if now is None else now
        seen = self._seen[user_id]
        while seen and now - seen[0] > self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._warned.discard(user_id)
            return True, False
        first_warning = user_id not in self._warned
        self._warned.add(user_id)
        return False, first_warning

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        allowed, warn = self.allow(user.id)
        if allowed:
            return
        if warn and update.effective_chat is not None:
            await update.effective_chat.send_message(texts.FLOODING)
        if update.callback_query is not None:
            await update.callback_query.answer(texts.FLOODING)
        raise ApplicationHandlerStop


async def edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edit of an earlier message: nothing already taken changes."""
    await update.edited_message.reply_text(texts.EDIT_IGNORED)


def _database_unavailable(error: BaseException | None) -> bool:
    """The database could not be reached (connection refused or lost, failover, timeout)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    for _ in range(5):  # the error and the ones it was raised from
        if error is None:
            return False
        if isinstance(error, (OperationalError, OSError)):
            return True
        if isinstance(error, DBAPIError) and (error.connection_invalidated or isinstance(error.orig, OSError)):
            return True
        error = error.__cause__ or error.__context__
    return False


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (never the token) and tell the user that nothing was half-done."""
    outage = _database_unavailable(context.error)
    if outage:
        # Expected during a database outage: one line, no traceback; the transaction was rolled back.
        log.warning("update %s not handled, database unavailable: %s", getattr(update, "update_id", "?"),
                    type(context.error).__name__)
    else:
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(texts.DB_UNAVAILABLE if outage else texts.ERROR_GENERIC)
        except Exception:  # noqa: BLE001 - the error handler must never raise
            log.warning("could not tell the user about the failure")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /command the bot does not have."""
    await answer(update, texts.UNKNOWN_COMMAND)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no handler knows (an old message from an earlier version)."""
    await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)
