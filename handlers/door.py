"""The one door in: every command, message and button handler is wrapped by `door`.

The wrapper does the plumbing, so a handler body only parses, calls the domain and chooses its reply:
- the chat kind: private only unless the handler says otherwise; a button pressed in a group is
  answered with a short alert there and nothing else (no case data ever goes to a group);
- callback data: parsed by the module's codec before anything else; forged, truncated or stale data
  gets the stale-button alert and no ERROR log;
- one session and one transaction (`session.begin()`), committed when the body returns;
- the update id, claimed in that transaction: a second delivery of an update already committed (to
  this instance or another) changes nothing and says nothing, one still in flight elsewhere waits
  for it (PostgreSQL holds the second insert until the first transaction ends);
- the acting account and its role; a caller without one of the allowed roles is refused;
- domain refusals turned into their polite texts (nothing was committed, so nothing changed);
- after the commit: the pressed buttons closed, the replies sent to the person who acted, and the
  outbound rows the body wrote delivered at once through the one sender (`bot.delivery`).

`door(reads=True)` is for a body that only reads and may take long (/stats, /report, /score): the claim,
the actor and the role are committed first, then the body runs in a read session (`turn.session`,
`Database.read_session()`), so its long read never holds the write lock citizens' updates wait for. A
write there fails; a refusal it raises is still the polite text (the committed claim only means a second
delivery of the same update does nothing, as it would after any reply).

`door(light=…)` is for a conversation step that only reads its actor and draft and writes the draft back (the
complaint's buttons and texts): it is tried first in the Core mode, one Core connection and no ORM session —
the claim, the account and its draft read by Core statements, the draft's changed columns written by one
UPDATE (the session's setup, flush and close and the ORM objects were a quarter of such a step's CPU). The
rest is the same code: chat kind, callback data, role, refusals, after-commit sends. First contact, the
account's changes (a new name, `last_seen_at`) and a new draft (`turn.start_draft`) are Core statements too.
When the step needs more (`turn.session` is used, an outbound row, the official's department),
`NeedsSession` is raised, the Core transaction rolls back with its claim, and the update is handled again in
the ordinary mode. With `on_demand=True` a body that uses
`turn.session` gets an ORM session on the same connection and transaction instead (确认提交 and 取消 of the
complaint: the claim and the actor read by Core statements are kept, and the update does not start over).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import delivery, sends, texts
from bot.db.models import Draft
from bot.domain import drafts
from bot.domain.errors import DomainError
from bot.domain.roles import Actor, Role
from bot.domain.rows import DraftRow, NeedsSession
from bot.services import Services, services
from handlers.codec import BadData, Codec
from handlers.door_modes import CoreMode, OrmMode
from bot.domain.notices import Notices

log = logging.getLogger(__name__)

ANYONE = frozenset(Role) - {Role.SYSTEM}
OFFICIALS = frozenset({Role.OFFICIAL})
SUPERVISORS = frozenset({Role.SUPERVISOR})
STAFF = OFFICIALS | SUPERVISORS
# Both staff roles, ordered, so the refusal anyone else gets never depends on a set's hash order.
SUPERVISORS_OR_OFFICIALS = (Role.SUPERVISOR, Role.OFFICIAL)

# The rows an update writes are sent by the door right after its commit, in the order written; the delivery
# job leaves them alone this long, and sends them only if this instance died in between.
DELIVERY_HOLD = timedelta(seconds=15)

# A refused role is told why in the words of what they lack.
_ROLE_REFUSALS = {Role.OFFICIAL: "not_official", Role.SUPERVISOR: "not_supervisor"}


def _role_refusal(roles: Collection[Role]) -> str:
    """The refusal for a caller without the role: what they lack (one role, or staff), else plain forbidden."""
    allowed = set(roles)
    if allowed == STAFF:
        return "staff_only"
    return _ROLE_REFUSALS.get(allowed.pop(), "forbidden") if len(allowed) == 1 else "forbidden"


_UNREAD = object()


@dataclass
class Turn:
    """One update being handled: who acts, in which session, what they typed or pressed, what to answer."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    svc: Services
    session: AsyncSession
    actor: Actor
    now: datetime
    data: tuple = ()
    outbox: Notices = field(default_factory=Notices)
    replies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: list[tuple[str, bytes, str | None, str | None]] = field(default_factory=list)
    alert_text: str | None = None
    close: bool = False
    edit: bool = False
    # Replies that confirm a committed change go out as outbound rows of the same transaction (see `reply`).
    durable: bool = False
    # Bot API calls that only make sense once the change is committed (e.g. a new role's command menu).
    after_commit: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    # The Core mode's draft, read with the actor (`_UNREAD` in the ORM mode: `current_draft` asks the session).
    core_draft: Any = _UNREAD
    mode: Any = None  # the door's OrmMode or CoreMode (handlers/door_modes.py)

    async def current_draft(self) -> Draft | DraftRow | None:
        """The acting account's draft: read with the actor in either mode (a `DraftRow` in the Core mode,
        which a step changes the same way and the door writes back)."""
        if self.core_draft is not _UNREAD:
            return self.core_draft
        return await drafts.current_draft(session=self.session, account_id=self.actor.account_id)

    async def start_draft(self, *, kind: drafts.DraftKind, step: drafts.Step, data: dict[str, Any] | None = None,
                          case_id: int | None = None) -> Draft | DraftRow:
        """`drafts.start_draft` for the acting account in either mode (the Core mode inserts a `DraftRow`)."""
        return await self.mode.start_draft(self, kind=kind, step=step, data=data, case_id=case_id)

    @property
    def query(self) -> CallbackQuery | None:
        return self.update.callback_query

    @property
    def text(self) -> str:
        """The message's text (or caption), without NUL characters (no database stores them)."""
        message = self.update.effective_message
        raw = (message.text or message.caption or "") if message is not None else ""
        return raw.replace("\x00", "")

    @property
    def args(self) -> list[str]:
        """The words after a /command (none for other messages)."""
        return self.text.split()[1:] if self.context.args is not None else []

    def ref_and_rest(self) -> tuple[str, str]:
        """`/cmd REF rest of the line` → (REF, rest); both may be empty."""
        parts = self.text.split(maxsplit=2)
        return (parts[1] if len(parts) > 1 else ""), (parts[2].strip() if len(parts) > 2 else "")

    def rest(self) -> str:
        """Everything after the command word."""
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""

    def reply(self, text: str, *, durable: bool | None = None, **kwargs: Any) -> None:
        """Answer the person who acted, once the transaction has committed.

        `durable` (default: the door's setting) for a reply that confirms a change ("已立案", "已转达"): it is
        written as an outbound row in the change's own transaction and sent by the one sender right after
        the commit, so a crash between the commit and the send loses it no more than it loses the change
        (the delivery job of any instance sends it), and the redelivered update, already claimed, sends
        nothing twice. Prompts and views stay direct: they are cheaper, and a lost one is asked again."""
        if self.durable if durable is None else durable:
            self.outbox.to_account(self.actor.account, text, reply_markup=kwargs.get("reply_markup"), kind="reply")
        else:
            self.replies.append((text, kwargs))

    def reply_file(self, kind: str, payload: bytes, *, caption: str | None = None,
                   filename: str | None = None) -> None:
        """A chart ("photo") or workbook ("document") for the person who acted, after the text replies."""
        self.files.append((kind, payload, caption, filename))

    def alert(self, text: str) -> None:
        """Answer a button press with a pop-up instead of (or before) a message."""
        self.alert_text = text

    def close_buttons(self) -> None:
        """Take the buttons off the pressed message after the commit, so it cannot be pressed twice."""
        self.close = True

    def replace_pressed(self) -> None:
        """Turn the pressed message itself into the first reply (one call instead of two, and the old
        buttons are gone with it); used by conversations whose next prompt replaces the last."""
        self.close = self.edit = True


Body = Callable[[Turn], Awaitable[None]]


def door(*, roles: Collection[Role] = ANYONE, codec: Codec | None = None, private: bool = True,
         claim: bool = True, durable: bool = False, reads: bool = False,
         light: bool | Callable[[tuple], bool] = False, on_demand: bool = False,
         ) -> Callable[[Body], Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]]:
    """Wrap a handler body (see the module docstring); `roles` may act, `codec` parses the button data,
    `durable` makes every reply of the body an outbound row (see `Turn.reply`), `reads`: the body only
    reads, in a read session after the claim's commit (never with `durable`: it writes no rows).
    `light` (True, or a test of the parsed button data): try the Core mode first (see the module docstring);
    the body reads its draft with `turn.current_draft()`. `on_demand`: in the Core mode, a body that uses
    `turn.session` gets one on the same connection and goes on (`door_modes.SessionOnDemand`) instead of the
    update starting over in the ORM mode."""

    if durable and reads:
        raise ValueError("a reads=True body writes nothing, so no durable replies")
    if light is not False and (durable or reads or not claim):
        raise ValueError("the Core mode is for a claimed step that writes only its draft")
    if on_demand and light is False:
        raise ValueError("a session on demand is the Core mode's")

    def wrap(body: Body):
        @functools.wraps(body)
        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            query = update.callback_query
            if private and update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE:
                await _refuse_in_group(update, context)
                return
            data: tuple = ()
            if codec is not None:
                try:
                    data = codec.parse(query.data if query is not None else "")
                except BadData:
                    await answer_press(update, context, texts.STALE_BUTTON, alert=True)
                    return
            svc = services(context)
            turn = await _run(body, update, context, svc, data, roles, claim, durable, reads,
                              light is True or (light is not False and light(data)), on_demand)
            if turn is None:
                return
            await _after_commit(turn)

        handler.door = True  # the command table checks that every handler went through here
        return handler

    return wrap


async def _run(body: Body, update: Update, context, svc: Services, data: tuple, roles, claim: bool,
               durable: bool, reads: bool = False, light: bool = False, on_demand: bool = False) -> Turn | None:
    user = update.effective_user
    who = {"telegram_id": user.id, "full_name": user.full_name, "username": user.username,
           "supervisors": svc.settings.supervisors, "now": svc.clock.now()}
    entered: list[Role] = [Role.CITIZEN]  # the role refusals are worded for, once the actor is known
    try:
        if light:
            try:
                async with svc.db.begin() as connection:
                    mode = CoreMode(connection, sessions=svc.db.sessions if on_demand else None,
                                    held_for=DELIVERY_HOLD)
                    try:
                        return await _enter(mode, body, update, context, svc, data, roles, claim, durable, reads,
                                            who, entered)
                    finally:
                        await mode.close()
            except NeedsSession as needed:  # rolled back, claim and all: handled afresh with a session
                log.debug("update %s needs a session (%s)", update.update_id, needed)
        async with svc.db.session() as session, session.begin():
            turn = await _enter(OrmMode(session, held_for=DELIVERY_HOLD), body, update, context, svc, data, roles,
                                claim, durable, reads, who, entered)
        if reads and turn is not None:
            await _read(body, turn)
    except DomainError as refusal:  # rolled back with the transaction (reads=True: only the claim was written)
        await _refuse(update, context, refusal, entered[0])
        return None
    return turn


async def _enter(mode: OrmMode | CoreMode, body: Body, update: Update, context, svc: Services, data: tuple,
                 roles, claim: bool, durable: bool, reads: bool, who: dict, entered: list[Role]) -> Turn | None:
    """The update in one transaction of either mode: claim, actor, role, the body, the mode's writes."""
    actor = await mode.claim_and_resolve(update.update_id, who) if claim else await mode.resolve(who)
    if actor is None:
        log.info("update %s was already handled; nothing done", update.update_id)
        await answer_press(update, context)
        return None
    entered[0] = actor.role
    if actor.role not in roles:
        raise DomainError(_role_refusal(roles))
    turn = Turn(update=update, context=context, svc=svc, session=mode.session, actor=actor, now=who["now"],
                data=data, durable=durable, mode=mode)
    if not reads:
        mode.bind(turn)
        await body(turn)
        await mode.write(turn)
    return turn


async def _read(body: Body, turn: Turn) -> None:
    """A reads=True body, after the claim's commit, in a read session (the write lock is free meanwhile)."""
    async with turn.svc.db.read_session() as reader:
        turn.session = reader
        await body(turn)


async def _after_commit(turn: Turn) -> None:
    """After the commit: answer, edit or close the pressed message, and send what the update says."""
    query, update, context = turn.query, turn.update, turn.context
    alert = turn.alert_text is not None
    pressed = None
    if query is not None and turn.edit and turn.replies and await _edit_pressed(turn):
        turn.replies.pop(0)
    elif query is not None:
        # The press is answered (and its message's buttons closed) while the reply goes out: two round trips
        # become one (an answer is no message, and the closed one is another message, so the order of the
        # new messages is untouched).
        pressed = asyncio.ensure_future(_close_buttons(update, context, turn.alert_text) if turn.close
                                        else answer_press(update, context, turn.alert_text, alert=alert))
    elif alert:
        turn.replies.insert(0, (turn.alert_text, {}))
    try:
        await _send_after_commit(turn)
    finally:
        if pressed is not None:
            await pressed


async def _send_after_commit(turn: Turn) -> None:
    """The replies, files, after-commit calls and the update's outbound rows, in that order."""
    update, context = turn.update, turn.context
    chat = update.effective_chat
    for text, kwargs in turn.replies:
        parts = delivery.split_text(text)
        for number, part in enumerate(parts, start=1):
            extra = kwargs if number == len(parts) else {}
            await sends.send_text(context.bot, chat.id, part, **extra)
    for kind, payload, caption, filename in turn.files:
        upload = InputFile(io.BytesIO(payload), filename=filename)
        if kind == "photo":
            await chat.send_photo(upload, caption=caption)
        else:
            await chat.send_document(upload, caption=caption)
    for call in turn.after_commit:
        try:
            await call()
        except TelegramError as error:  # a convenience (a menu): it must not turn a done action into an error
            log.warning("after-commit call failed: %s", error)
    if turn.outbox.ids:
        await delivery.deliver_rows(context, turn.outbox.written)


async def _edit_pressed(turn: Turn) -> bool:
    """Edit the pressed message into the first reply; False when it cannot be (then it is sent instead)."""
    query = turn.query
    text, kwargs = turn.replies[0]
    markup = kwargs.get("reply_markup")
    if len(text) > delivery.TEXT_LIMIT or (markup is not None and not isinstance(markup, InlineKeyboardMarkup)):
        return False
    edited, _ = await asyncio.gather(
        sends.edit_text(turn.context.bot, query.message, text, reply_markup=markup),
        answer_press(turn.update, turn.context, turn.alert_text, alert=turn.alert_text is not None),
        return_exceptions=True,
    )
    for result in (edited, _):
        if isinstance(result, BaseException) and not isinstance(result, TelegramError):
            raise result
    if isinstance(edited, TelegramError):
        # Too old to edit, or deleted: close it the ordinary way and send the reply as a new message.
        log.info("could not edit the pressed message: %s", edited)
        with contextlib.suppress(TelegramError):
            await sends.remove_buttons(turn.context.bot, query.message)
        return False
    return True


async def _refuse(update: Update, context, refusal: DomainError, role: Role) -> None:
    message = texts.refusal(refusal.code, refusal.params, role=role.value)
    if update.callback_query is not None:
        await answer_press(update, context, texts.plain(message), alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(message)


async def _refuse_in_group(update: Update, context) -> None:
    if update.callback_query is not None:
        await answer_press(update, context, texts.PRIVATE_ONLY_BUTTON, alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.PRIVATE_ONLY)


async def answer_press(update: Update, context, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (Telegram shows a spinner until it is): in the webhook's response when the
    update came by webhook, which saves a round trip, else by a call; failing to (too late after a
    restart) must not undo what was done."""
    query = update.callback_query
    if query is None:
        return
    text = text[:200] if text else None
    by_webhook = getattr(context.application, "answer_by_webhook", None)
    method = {"method": "answerCallbackQuery", "callback_query_id": query.id}
    if text:
        method["text"] = text
    if alert:
        method["show_alert"] = True
    if by_webhook is not None and by_webhook(update.update_id, method):
        return
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as error:
        log.warning("could not answer a button press: %s", error)


async def _close_buttons(update: Update, context, text: str | None) -> None:
    results = await asyncio.gather(
        answer_press(update, context, text, alert=text is not None),
        sends.remove_buttons(context.bot, update.callback_query.message), return_exceptions=True,
    )
    for result in results:
        if isinstance(result, TelegramError):
            log.warning("could not close the pressed buttons: %s", result)
        elif isinstance(result, BaseException):
            raise result
