"""For everyone: /start, /help, the private-chat and flood guards, edits, unknown input, and the error handler."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque

from telegram import BotCommandScopeChat, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import keyboards, texts
from bot.domain import drafts
from bot.domain.drafts import DraftKind
from bot.domain.roles import Role
from handlers import commands, commitments
from handlers.door import Turn, answer_press, door

log = logging.getLogger(__name__)


def menu_role(role: Role) -> str:
    return role.value if role.value in texts.HELP_HEADERS else commands.CITIZEN


@door()
async def start_command(turn: Turn) -> None:
    """Welcome, in the words of the caller's role, with the main menu; a deep link may open a flow."""
    if turn.args and turn.args[0].startswith(texts.DEEP_LINK_UNKEPT):
        # The public commitment page's 举报未兑现 link: t.me/<bot>?start=ru_<commitment id or ref>.
        await commitments.report_unkept_from_link(turn, turn.args[0][len(texts.DEEP_LINK_UNKEPT):])
        return
    role = menu_role(turn.actor.role)
    draft = await drafts.current_draft(session=turn.session, account_id=turn.actor.account_id)
    message = texts.WELCOME[role]
    if draft is not None and draft.kind == DraftKind.COMPLAINT:
        message += "\n\n" + texts.UNFINISHED_DRAFT
    turn.reply(message, reply_markup=keyboards.main_menu())
    if role != commands.CITIZEN:
        chat_id = turn.update.effective_chat.id
        bot = turn.context.bot
        turn.after_commit.append(lambda: bot.set_my_commands(commands.menu(role),
                                                             scope=BotCommandScopeChat(chat_id)))


@door()
async def help_command(turn: Turn) -> None:
    """What the caller can do, for their role (/help or 帮助)."""
    turn.reply(commands.help_text(menu_role(turn.actor.role)), reply_markup=keyboards.main_menu())


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
            await answer_press(update, context, texts.FLOODING)
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
            await answer_press(update, context)
            await update.effective_chat.send_message(texts.DB_UNAVAILABLE if outage else texts.ERROR_GENERIC)
        except Exception:  # noqa: BLE001 - the error handler must never raise
            log.warning("could not tell the user about the failure")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /command the bot does not have."""
    await update.effective_chat.send_message(texts.UNKNOWN_COMMAND)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no handler knows (an old message from an earlier version, or forged)."""
    await answer_press(update, context, texts.STALE_BUTTON, alert=True)


def register_guards(application: Application, *, flood_messages: int, flood_seconds: float) -> None:
    """Tried before everything: the flood guard, the private-chat guard, edits."""
    application.add_handler(TypeHandler(Update, FloodGuard(flood_messages, flood_seconds)), group=-2)
    application.add_handler(MessageHandler(~filters.ChatType.PRIVATE, group_chat_guard), group=-1)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, edited_message))
    application.add_handler(CommandHandler("start", start_command))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(MessageHandler(filters.Text([texts.BTN_HELP]), help_command))


def register_fallbacks(application: Application) -> None:
    """Tried after every feature's handlers: unknown buttons and commands, then the error handler."""
    application.add_handler(CallbackQueryHandler(unknown_button))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_error_handler(error_handler)
