"""Production mode against Telegram trouble, over real HTTP to the stand-in Bot API: 5xx on getUpdates,
429 with retry_after and 500 on sendMessage. No update is lost; offsets confirm only handled updates."""

from __future__ import annotations

import asyncio

from bot import texts
from bot.app import build_application
from bot.clock import FrozenClock
from bot.web.server import serve
from handlers.commands import help_text
from tests.conftest import START, make_settings
from tests.standin_api import StandinApi, text_update

CITIZEN_HELP = help_text("citizen")

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
USER = 7401


async def test_updates_survive_api_errors_and_offsets_follow_handling(database_url, classifier):
    api = StandinApi()
    await api.start()
    settings = make_settings(database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url,
                             CHENGXIN_RATE_LIMIT=True)
    application = build_application(settings, clock=FrozenClock(START), classifier=classifier)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(application, settings, stop=stop, install_signals=False))
    failures = {"getUpdates": 2, "429": 1}

    def lost_poll(call):  # the updates were found, then the answer is a 502: Telegram has them still
        if call.method == "getUpdates" and api.updates and failures["getUpdates"]:
            failures["getUpdates"] -= 1
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    def rate_limited(call):
        if call.method == "sendMessage" and call.params.get("text") == CITIZEN_HELP and failures["429"]:
            failures["429"] -= 1
            return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                         "parameters": {"retry_after": 1}}
        return None

    api.late_faults.append(lost_poll)
    api.faults.append(rate_limited)
    try:
        await api.wait_for(lambda: api.sent(method="getUpdates"), 30, "polling")
        ids = [await api.push(text_update(USER, "/start"))]
        await api.wait_for(lambda: api.sent(USER), 20, "the welcome")
        assert failures["getUpdates"] == 0                      # served after two 502s, not lost
        ids.append(await api.push(text_update(USER, "/help")))
        await api.wait_for(lambda: len(api.sent(USER)) >= 3, 20, "the help after a 429")
        helps = [c for c in api.sent(USER) if c.text == CITIZEN_HELP]
        assert len(helps) == 2 and failures["429"] == 0         # retried by the rate limiter after retry_after
        ids.append(await api.push(text_update(USER, "/start")))
        await api.wait_for(lambda: len(api.sent(USER)) >= 4, 20, "the third reply")
        await api.wait_for(lambda: api.updates == [], 20, "every update confirmed")

        # A getUpdates offset that confirms n updates is only sent once n replies have gone out.
        delivered = sorted(c.at for c in api.sent(USER) if c.status == 200)
        assert len(delivered) == len(ids)
        for call in api.sent(method="getUpdates"):
            confirmed = sum(uid < int(call.params.get("offset") or 0) for uid in ids)
            assert sum(at <= call.at for at in delivered) >= confirmed, (call.params, confirmed)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await api.stop()
    assert [c.method for c in api.calls].count("deleteWebhook") == 1   # at start only, never on stop
