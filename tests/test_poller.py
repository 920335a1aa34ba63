"""Polling over a slow network: short polls overlap while updates are in flight, nothing is handled twice or
out of order, re-served updates are not decoded again, and a Telegram that refuses overlapping polls (409)
gets one poll at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from telegram import Update

from bot.app import build_application
from bot.clock import FrozenClock
from bot.web.server import serve
from tests.conftest import START, make_settings
from tests.standin_api import StandinApi, text_update

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
SLOW = 7601
QUICK = (7602, 7603, 7604, 7605)
ORDERED = 7606
ROUND_TRIP = 0.15
CONFLICT = (409, {"ok": False, "error_code": 409,
                  "description": "Conflict: terminated by other getUpdates request"})


class Run:
    """The bot polling the stand-in; every getUpdates answered a round trip late; each call's answer time."""

    def __init__(self, database_url: str, classifier) -> None:
        self.api = StandinApi()
        self.answered: dict[int, float] = {}
        self.database_url, self.classifier = database_url, classifier

    async def __aenter__(self) -> StandinApi:
        api = self.api
        await api.start()
        api.faults.append(lambda call: ROUND_TRIP if call.method == "getUpdates" and not call.params.get("timeout")
                          else None)
        api.late_faults.append(lambda call: self.answered.setdefault(id(call), time.monotonic()) and None)
        settings = make_settings(self.database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url)
        application = build_application(settings, clock=FrozenClock(START), classifier=self.classifier)
        self.stop = asyncio.Event()
        self.running = asyncio.create_task(serve(application, settings, stop=self.stop, install_signals=False))
        await api.wait_for(lambda: api.sent(method="getUpdates"), 30, "polling")
        return api

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        await asyncio.wait_for(self.running, 30)
        await self.api.stop()

    def short_polls(self) -> list[tuple[float, float]]:
        """(asked, answered) of every short poll that was answered."""
        return [(c.at, self.answered[id(c)]) for c in self.api.sent(method="getUpdates")
                if not c.params.get("timeout") and id(c) in self.answered]


def most_out_at_once(polls: list[tuple[float, float]]) -> int:
    return max((sum(1 for a, b in polls if a <= at < b) for at, _ in polls), default=0)


async def test_short_polls_overlap_while_updates_are_in_flight_and_each_update_is_handled_once_in_order(
        database_url, classifier, monkeypatch):
    decoded: Counter[int] = Counter()
    original = Update.de_json

    def counting(data, bot=None):
        decoded[data["update_id"]] += 1
        return original(data, bot)

    monkeypatch.setattr(Update, "de_json", staticmethod(counting))
    run = Run(database_url, classifier)
    async with run as api:
        api.faults.append(lambda call: 2.0 if call.method == "sendMessage" and call.chat_id == SLOW else None)
        await api.push(text_update(SLOW, "/start"))
        await api.wait_for(lambda: api.sent(SLOW), 20, "the slow chat's reply to be on its way")
        quick = [await api.push(text_update(user, "/help")) for user in QUICK]
        ordered = [await api.push(text_update(ORDERED, text)) for text in ("/help", "/start")]
        await api.wait_for(lambda: all(api.sent(user) for user in QUICK) and len(api.sent(ORDERED)) == 2, 20,
                           "the other chats' replies")
        assert not api.sent(SLOW)[0].answered  # all of them went while the slow one was still in flight
        await api.wait_for(lambda: api.updates == [], 20, "every update confirmed")
    # Short polls went out a round trip apart at most twice as often as one at a time would allow.
    assert most_out_at_once(run.short_polls()) >= 2
    assert [len(api.sent(user)) for user in (SLOW, *QUICK)] == [1, 1, 1, 1, 1]
    help_reply, start_reply = api.sent(ORDERED)
    assert help_reply.at < start_reply.at and help_reply.text != start_reply.text
    # Each update decoded once, though every poll re-served the slow one while it was in flight.
    assert all(decoded[update_id] == 1 for update_id in (*quick, *ordered))
    assert sum(1 for c in api.sent(method="getUpdates") if not c.params.get("timeout")) > 5


async def test_a_telegram_refusing_overlapping_polls_gets_one_at_a_time(database_url, classifier, caplog):
    run = Run(database_url, classifier)
    refused: list[float] = []

    def refuse_the_second_short_poll_out(call):
        if call.method != "getUpdates" or call.params.get("timeout"):
            return None
        out = [c for c in run.api.sent(method="getUpdates") if c is not call and not c.answered
               and not c.params.get("timeout")]
        if out and not refused:
            refused.append(time.monotonic())
            return CONFLICT
        return None

    caplog.set_level(logging.WARNING)
    async with run as api:
        api.faults.insert(0, refuse_the_second_short_poll_out)
        api.faults.append(lambda call: 1.5 if call.method == "sendMessage" and call.chat_id == SLOW else None)
        await api.push(text_update(SLOW, "/start"))
        await api.wait_for(lambda: refused, 20, "two short polls out at once")
        for user in QUICK:
            await api.push(text_update(user, "/help"))
        await api.wait_for(lambda: all(api.sent(user) for user in (SLOW, *QUICK)), 20, "every reply")
        await api.wait_for(lambda: api.updates == [], 20, "every update confirmed")
    assert "polling one at a time" in caplog.text
    after = [(a, b) for a, b in run.short_polls() if a > refused[0] + ROUND_TRIP]
    assert after and most_out_at_once(after) == 1
    assert [len(api.sent(user)) for user in (SLOW, *QUICK)] == [1, 1, 1, 1, 1]
