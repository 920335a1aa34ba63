"""The one sender: every message the bot owes someone leaves through here.

Messages are rows of the outbound table (bot.domain.outbox), written in the transaction that decided
them. This module claims them, sends them (texts over Telegram's limit in parts, evidence as photo or
document), and records the outcome: sent; retried with backoff on timeouts, network errors and 5xx;
retried after `retry_after` on 429; given up after the policy's attempts or a 400; a recipient who
blocked the bot is marked unreachable and, for an official, their head or the supervisors are told.

Two callers: the delivery job (every instance, claims with SKIP LOCKED) and the handler wrapper, which
delivers the rows an update wrote right after its commit, so a notice arrives at once and survives a
crash either way.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import sends, texts
from bot.db.models import Account, Department, OutboundMessage
from bot.domain import outbox
from bot.domain.scope import supervisors_for
from bot.services import Services, services

log = logging.getLogger(__name__)

CLAIM_BATCH = 30
# Who holds a claim: one name per process, so a clean shutdown releases everything this process claimed.
WORKER = f"{socket.gethostname()}:{os.getpid()}"
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at line ends where possible (tags here never span lines)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


async def deliver_due(context: Any, *, worker: str = WORKER, deadline: float | None = None,
                      quiet: Callable[[datetime], bool] | None = None) -> int:
    """Claim and send what is due until nothing is left, `deadline` (time.monotonic()) passes or it is `quiet`."""
    svc = services(context)
    delivered = 0
    while True:
        now = svc.clock.now()
        if (quiet is not None and quiet(now)) or (deadline is not None and time.monotonic() >= deadline):
            return delivered
        async with svc.db.session() as session:
            batch = await outbox.claim_deliverable(session=session, now=now, worker=worker, limit=CLAIM_BATCH,
                                                   lease=timedelta(seconds=svc.settings.outbox_lease_seconds))
            await session.commit()
        if not batch:
            return delivered
        delivered += await _send_claimed(context, svc, batch)


async def deliver_rows(context: Any, rows: Sequence[OutboundMessage]) -> int:
    """Send these rows now: an update just wrote them, claimed by this sender (`Notices.bind(sender=WORKER)`),
    so no other sender takes them until their claim runs out."""
    if not rows:
        return 0
    return await _send_claimed(context, services(context), rows)


async def deliver_pending(context: Any, ids: Sequence[int], *, worker: str = WORKER) -> int:
    """Send these pending rows now (a job just wrote them); rows another sender holds are left to it."""
    if not ids:
        return 0
    svc = services(context)
    async with svc.db.begin() as connection:
        batch = await outbox.claim_rows(session=connection, ids=ids, now=svc.clock.now(), worker=worker,
                                        lease=timedelta(seconds=svc.settings.outbox_lease_seconds))
    return await _send_claimed(context, svc, batch)


async def _send_claimed(context: Any, svc: Services, batch: list[OutboundMessage]) -> int:
    delivered = 0
    for message in batch:
        outcome = await _send(context.bot, message)
        if outcome[0] == "sent":  # the common case, in one statement on a Core connection
            async with svc.db.begin() as connection:
                await outbox.record_sent(session=connection, message_id=message.id, now=svc.clock.now())
        else:
            async with svc.db.session() as session:
                row = await session.get(OutboundMessage, message.id)
                await _record(session, svc, row, outcome)
                await session.commit()
        delivered += outcome[0] == "sent"
    return delivered


def _markup(stored: dict | None, bot):
    """A stored keyboard back as Telegram's object: buttons under the message, the reply keyboard (a
    durable reply may carry the main menu), or its removal."""
    if not stored:
        return None
    if "inline_keyboard" in stored:
        return InlineKeyboardMarkup.de_json(stored, bot)
    if "keyboard" in stored:
        return ReplyKeyboardMarkup.de_json(stored, bot)
    return ReplyKeyboardRemove(selective=stored.get("selective"))


async def _send(bot, message: OutboundMessage) -> tuple[str, object]:
    markup = _markup(message.markup, bot)
    caption = message.text[:CAPTION_LIMIT] or None
    try:
        payload = await _payload(bot, message)
        if message.media == "photo":
            await bot.send_photo(message.chat_id, payload, caption=caption, reply_markup=markup)
        elif message.media == "document":
            await bot.send_document(message.chat_id, payload, caption=caption, reply_markup=markup)
        else:
            parts = split_text(message.text)
            for number, part in enumerate(parts, start=1):
                # The buttons belong under the last part, where the reader ends.
                await sends.send_text(bot, message.chat_id, part, reply_markup=markup if number == len(parts) else None)
        return "sent", None
    except RetryAfter as error:
        return "retry_after", error
    except Forbidden as error:
        return "forbidden", error
    except BadRequest as error:
        return "bad_request", error
    except TelegramError as error:  # timeouts, network errors, 5xx
        return "transient", error


async def _payload(bot, message: OutboundMessage):
    """What to upload: bytes we made, a Telegram file under a new (neutral) name, or the file id as it is."""
    if message.attachment is not None:
        return InputFile(io.BytesIO(message.attachment), filename=message.filename)
    if message.media == "document" and message.filename:
        # Sending by file id keeps the sender's file name, which may name them: download, upload renamed.
        original = await bot.get_file(message.file_id)
        return InputFile(bytes(await original.download_as_bytearray()), filename=message.filename)
    return message.file_id


async def _record(session, svc: Services, message: OutboundMessage, outcome: tuple[str, object]) -> None:
    kind, error = outcome
    now = svc.clock.now()
    if kind == "retry_after":
        with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
            warnings.simplefilter("ignore")
            wait = error.retry_after
        delay = wait if isinstance(wait, timedelta) else timedelta(seconds=wait)
        outbox.mark_retry(message, now, delay=delay, error=str(error), count=False)
    elif kind == "forbidden":
        outbox.mark_failed(message, error=str(error), state="unreachable")
        await _blocked(session, svc, message.account_id, now)
    elif kind == "bad_request" or message.attempts + 1 >= svc.policy.max_send_attempts:
        outbox.mark_failed(message, error=str(error))
        log.warning("giving up on message %s to chat %s: %s", message.id, message.chat_id, error)
    else:
        delay = timedelta(seconds=svc.policy.retry_base_seconds * 2 ** message.attempts)
        outbox.mark_retry(message, now, delay=delay, error=str(error))


async def _blocked(session, svc: Services, account_id: int | None, now: datetime) -> None:
    """Mark the account unreachable and, the first time, tell its department head or the supervisors."""
    from bot.domain.officials import officials_of

    if account_id is None:
        return
    account = await session.get(Account, account_id)
    if account is None or account.unreachable:
        return
    account.unreachable = True
    if account.role != "official":
        return
    department = await session.get(Department, account.department_id) if account.department_id else None
    notice = texts.UNREACHABLE_NOTICE.format(name=texts.esc(account.full_name or str(account.telegram_id)),
                                             department=texts.esc(department.name if department else ""))
    heads = [a for a in await officials_of(session=session, department_id=account.department_id, heads_only=True)
             if a.id != account.id and not a.unreachable] if account.department_id else []
    people = [(a.telegram_id, a.id) for a in heads] or [
        (s.chat_id, s.account_id) for s in await supervisors_for(
            session=session, configured=svc.settings.supervisors, region=department.region if department else None)]
    for chat_id, recipient_id in people:
        outbox.enqueue(session=session, chat_id=chat_id, account_id=recipient_id, kind="notice", text=notice, now=now)
