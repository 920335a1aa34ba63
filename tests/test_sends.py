"""bot/sends.py: the sends that skip decoding the answer reach Telegram exactly as PTB's own methods would
send them (same parameters, the application's Defaults), fail the same way, and pass the rate limiter."""

from __future__ import annotations

import pytest
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest
from telegram.ext import AIORateLimiter, ExtBot

from bot import sends
from tests.standin_api import bot_on

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawZ"
CHAT = 6_100_000_002
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("跳过", callback_data="cmp:skip")],
                                 [InlineKeyboardButton("同意联系", callback_data="cmp:c:1")]])


def make_bot(url: str, **settings) -> ExtBot:
    return bot_on(url, TOKEN, **settings)


def pressed(bot) -> Message:
    message = Message(42, None, Chat(CHAT, "private"), text="上一步")
    message.set_bot(bot)
    return message


async def test_each_send_carries_the_parameters_ptb_sends(api):
    bot = make_bot(api.url)
    async with bot:
        message = pressed(bot)
        pairs = [
            (bot.send_message(CHAT, "<b>已收到</b> https://example.gov.cn", reply_markup=KEYBOARD),
             sends.send_text(bot, CHAT, "<b>已收到</b> https://example.gov.cn", reply_markup=KEYBOARD)),
            (bot.send_message(CHAT, "没有按钮"), sends.send_text(bot, CHAT, "没有按钮")),
            (message.edit_text("下一步 <i>可跳过</i>", reply_markup=KEYBOARD),
             sends.edit_text(bot, message, "下一步 <i>可跳过</i>", reply_markup=KEYBOARD)),
            (message.edit_text("最后一步"), sends.edit_text(bot, message, "最后一步")),
            (message.edit_reply_markup(reply_markup=None), sends.remove_buttons(bot, message)),
        ]
        for ptb, ours in pairs:
            await ptb
            await ours
    calls = [c for c in api.calls if c.method != "getMe"]
    assert len(calls) == 10
    for ptb_call, our_call in zip(calls[::2], calls[1::2]):
        assert (our_call.method, our_call.params) == (ptb_call.method, ptb_call.params)
    assert calls[0].params["parse_mode"] == "HTML" and calls[0].params["link_preview_options"] == {"is_disabled": True}


async def test_a_refused_edit_raises_as_ptb_would(api):
    api.faults.append(lambda call: (400, {"ok": False, "error_code": 400,
                                          "description": "Bad Request: message can't be edited"})
                      if call.method == "editMessageText" else None)
    bot = make_bot(api.url)
    async with bot:
        with pytest.raises(BadRequest, match="can't be edited"):
            await sends.edit_text(bot, pressed(bot), "下一步")


async def test_sends_pass_the_rate_limiter(api):
    seen = []

    class Counting(AIORateLimiter):
        async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
            seen.append((endpoint, data.get("chat_id")))
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

    bot = make_bot(api.url, rate_limiter=Counting())
    async with bot:
        await sends.send_text(bot, CHAT, "经限速")
        await sends.remove_buttons(bot, pressed(bot))
    assert ("sendMessage", CHAT) in seen and ("editMessageReplyMarkup", CHAT) in seen
    assert [c.text for c in api.sent(CHAT)] == ["经限速"]
