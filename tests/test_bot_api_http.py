"""The aiohttp Bot API transport (bot/bot_api_http.py) against the local HTTP stand-in: what a bot using it
sends and what it is told when Telegram answers late, with an error, or not at all."""

from __future__ import annotations

import asyncio
import io
import socket
import traceback
import warnings
from datetime import timedelta

import pytest
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.bot_api_http import BotApiHttp, close_transports
from tests.standin_api import bot_on

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawZ"
SECRET = TOKEN.split(":")[1]
CHAT = 6_100_000_001


def make_bot(url: str, **settings) -> ExtBot:
    return bot_on(url, TOKEN, **settings)


def assert_no_token(error: BaseException) -> None:
    """Neither the error nor anything chained to it (a logged traceback prints both) shows the token."""
    printed = "".join(traceback.format_exception(error))
    assert SECRET not in printed, printed


async def test_a_reply_with_buttons_reaches_telegram_as_sent_and_comes_back_as_a_message(api):
    bot = make_bot(api.url)
    async with bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认提交", callback_data="cmp:s")]])
        message = await bot.send_message(CHAT, "<b>请确认</b>：拖欠工程款 380 万元", reply_markup=keyboard)
    call = api.sent(CHAT)[0]
    assert call.text == "<b>请确认</b>：拖欠工程款 380 万元"
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert call.buttons == [("确认提交", "cmp:s")]
    assert message.text == "<b>请确认</b>：拖欠工程款 380 万元" and message.chat.id == CHAT


async def test_a_workbook_is_uploaded_with_its_chinese_name_and_caption(api):
    workbook = b"PK\x03\x04" + bytes(range(256)) * 40
    bot = make_bot(api.url)
    async with bot:
        await bot.send_document(CHAT, InputFile(io.BytesIO(workbook), filename="2026-11 按月排查.xlsx"),
                                caption="<b>11 月</b>按月排查")
    call = api.sent(CHAT, method="sendDocument")[0]
    assert call.files["document"] == ("2026-11 按月排查.xlsx", workbook)
    assert call.params["caption"] == "<b>11 月</b>按月排查" and call.params["parse_mode"] == "HTML"
    assert int(call.params["chat_id"]) == CHAT


async def test_an_answer_later_than_the_read_timeout_is_a_timeout_and_the_next_call_works(api):
    api.faults.append(lambda call: 1.0 if call.text == "slow" else None)
    bot = make_bot(api.url, read_timeout=0.3)
    async with bot:
        with pytest.raises(TimedOut) as raised:
            await bot.send_message(CHAT, "slow")
        await bot.send_message(CHAT, "quick")
        # A timeout passed to the call wins over the default.
        await bot.send_message(CHAT, "slow", read_timeout=3)
    assert_no_token(raised.value)
    assert [c.text for c in api.sent(CHAT) if c.answered] == ["slow", "quick", "slow"]


async def test_a_long_poll_waits_longer_than_the_read_timeout(api):
    bot = make_bot(api.url, read_timeout=0.3)
    async with bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await bot.get_updates(timeout=1) == ()   # PTB adds the poll's timeout to the read timeout
        assert loop.time() - started >= 0.9


@pytest.mark.parametrize(("status", "body", "expected"), [
    (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, NetworkError),
    (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}, NetworkError),
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
           "parameters": {"retry_after": 7}}, RetryAfter),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}, BadRequest),
])
async def test_errors_from_telegram_reach_the_bot_as_python_telegram_bot_names_them(api, status, body, expected):
    api.faults.append(lambda call: (status, body) if call.method == "sendMessage" else None)
    bot = make_bot(api.url)
    async with bot:
        with pytest.raises(expected) as raised:
            await bot.send_message(CHAT, "x")
    assert type(raised.value) is expected
    if expected is RetryAfter:
        with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
            warnings.simplefilter("ignore")
            assert raised.value.retry_after in (7, timedelta(seconds=7))
    else:
        assert body["description"].split(": ")[-1].lower() in str(raised.value).lower()


async def test_a_rejected_token_is_invalid_token(api):
    api.faults.append(lambda call: (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}))
    bot = make_bot(api.url)
    with pytest.raises(InvalidToken):
        await bot.initialize()
    await close_transports(bot)   # (PTB itself names the token in this error; `chengxin run` prints its own line)


async def test_a_call_finding_every_connection_busy_fails_unsent_after_the_pool_timeout(api):
    api.faults.append(lambda call: 0.8 if call.text == "first" else None)
    bot = make_bot(api.url, connection_pool_size=1, pool_timeout=0.1)
    async with bot:
        first = asyncio.create_task(bot.send_message(CHAT, "first"))
        await api.wait_for(lambda: api.sent(CHAT), 5, "the first call")
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(CHAT, "second")
        await first
        await bot.send_message(CHAT, "third")   # the connection is free again
    assert [c.text for c in api.sent(CHAT)] == ["first", "third"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_server_that_is_not_there_is_a_network_error_without_the_token():
    bot = make_bot(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(NetworkError) as raised:
        await bot.initialize()
    await close_transports(bot)
    assert not isinstance(raised.value, TimedOut)
    assert_no_token(raised.value)


async def test_a_server_that_never_accepts_is_a_connect_timeout_without_the_token():
    # A listening socket whose backlog is full: the kernel answers no further handshakes.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        bot = make_bot(f"http://127.0.0.1:{port}", connect_timeout=0.3)
        with pytest.raises(TimedOut) as raised:
            await asyncio.wait_for(bot.initialize(), 10)
        await close_transports(bot)
        assert_no_token(raised.value)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_proxy_from_the_environment_carries_the_calls(api, monkeypatch):
    # The API's host does not exist: only through the proxy (the stand-in, which takes the absolute URL)
    # can the call arrive.
    monkeypatch.setenv("HTTP_PROXY", api.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    bot = make_bot("http://api.telegram.invalid")
    async with bot:
        await bot.send_message(CHAT, "经代理")
    assert [c.text for c in api.sent(CHAT)] == ["经代理"]


async def test_after_shutdown_calls_are_refused_and_a_new_start_works(api):
    request = BotApiHttp()
    bot = ExtBot(TOKEN, base_url=f"{api.url}/bot", request=request, get_updates_request=BotApiHttp())
    async with bot:
        await bot.send_message(CHAT, "一")
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{api.url}/bot{TOKEN}/getMe", "POST")
    await request.shutdown()   # a second shutdown is harmless
    async with bot:
        await bot.send_message(CHAT, "二")
    assert [c.text for c in api.sent(CHAT)] == ["一", "二"]


async def test_a_redirect_is_not_followed_with_the_token(api):
    # Telegram never redirects; a server that does must not get the token sent on to another address.
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{api.url}{request.path}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        bot = make_bot(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")
        # The 307 comes back to python-telegram-bot as the answer: 22.8 raises NetworkError naming it, 22.0
        # (the floor) finds no JSON in it ("Invalid server response"); either way the call fails here.
        with pytest.raises(TelegramError, match="Temporary Redirect|Invalid server response"):
            await bot.initialize()
        await close_transports(bot)
    finally:
        await runner.cleanup()
    assert api.calls == []
