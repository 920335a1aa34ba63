"""Bot API calls whose answer nobody reads: a reply, a notice, the pressed message edited or closed.

python-telegram-bot turns every answer into a `telegram.Message` (about 0.15 ms of CPU for a reply with a
keyboard), which a sender that only needs "it went" throws away. These send the same request — the same
parameters, the application's `Defaults` (HTML, no link previews) and its rate limiter applied the same
way, the same errors raised — and keep the answer as JSON (tests/test_sends.py compares them with PTB's).

They go through `Bot._post`, the step below every PTB method that fills in the defaults and passes the
rate limiter: `Bot.do_api_request`, the public way in, warns for every method PTB already has.
"""

from __future__ import annotations

from typing import Any

from telegram import MaybeInaccessibleMessage
from telegram._utils.defaultvalue import DEFAULT_NONE

# What PTB's send and edit methods leave to the application's Defaults, as they pass them on (its edit of
# the buttons alone passes no link preview options; it does pass the parse mode).
_DEFAULTED_MARKUP = {"parse_mode": DEFAULT_NONE, "disable_notification": DEFAULT_NONE, "protect_content": DEFAULT_NONE}
_DEFAULTED = {**_DEFAULTED_MARKUP, "link_preview_options": DEFAULT_NONE}


async def send_text(bot: Any, chat_id: int, text: str, *, reply_markup: Any = None) -> Any:
    """`bot.send_message(chat_id, text, reply_markup=...)`, its answer left as JSON."""
    return await bot._post("sendMessage", {"chat_id": chat_id, "text": text, **_DEFAULTED,
                                           "reply_markup": reply_markup})


async def edit_text(bot: Any, message: MaybeInaccessibleMessage, text: str, *, reply_markup: Any = None) -> Any:
    """`bot.edit_message_text(text, chat_id, message_id, reply_markup=...)` for this message, answer as JSON.
    Also for a message Telegram reports inaccessible (PTB's shortcut refuses those before asking): Telegram
    answers 400 if it cannot be edited, which the caller handles like any refusal."""
    return await bot._post("editMessageText", {"chat_id": message.chat.id, "message_id": message.message_id,
                                               "text": text, **_DEFAULTED, "reply_markup": reply_markup})


async def remove_buttons(bot: Any, message: MaybeInaccessibleMessage) -> Any:
    """`bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)`, answer as JSON."""
    return await bot._post("editMessageReplyMarkup", {"chat_id": message.chat.id, "message_id": message.message_id,
                                                      **_DEFAULTED_MARKUP})
