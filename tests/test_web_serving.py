"""`chengxin run` serves the pages: on --web-port in polling mode (off by default), against the stand-in
Bot API over real HTTP; and /web says so when the web side is off."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.__main__ import parser
from bot.app import build_application
from bot.clock import FrozenClock
from bot.web.server import serve
from tests.conftest import START, make_settings
from tests.standin_api import StandinApi
from tests.web_support import free_port

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"


def test_run_takes_web_port():
    args = parser().parse_args(["run", "--web-port", "8080"])
    assert args.web_port == 8080
    assert parser().parse_args(["run"]).web_port is None


async def serving(settings, classifier) -> tuple[asyncio.Task, asyncio.Event, StandinApi]:
    api = StandinApi()
    await api.start()
    settings = settings.model_copy(update={"telegram_bot_token": settings.telegram_bot_token,
                                           "telegram_api_url": api.url})
    application = build_application(settings, clock=FrozenClock(START), classifier=classifier)
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(application, settings, stop=stop, install_signals=False, started=started))
    await asyncio.wait_for(started.wait(), 60)
    return task, stop, api


async def test_polling_mode_serves_the_pages_on_the_web_port(database_url, classifier):
    port = free_port()
    settings = make_settings(database_url, TELEGRAM_BOT_TOKEN=TOKEN, CHENGXIN_WEB=True, CHENGXIN_WEB_PORT=port)
    task, stop, api = await serving(settings, classifier)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/records") as response:
                assert response.status == 200 and "政务失信记录公示" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        await api.stop()


async def test_pages_are_off_by_default(database_url, classifier):
    port = free_port()
    settings = make_settings(database_url, TELEGRAM_BOT_TOKEN=TOKEN, CHENGXIN_PORT=port)
    task, stop, api = await serving(settings, classifier)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/records") as response:
                assert response.status == 404
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        await api.stop()


async def test_web_command_says_when_the_web_is_off(harness):
    await harness.supervisor().send("/web")
    assert "尚未启用" in harness.supervisor().last().text
