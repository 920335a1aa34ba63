"""Polling that confirms only what was handled, and fetches while updates are being handled.

Telegram serves every update at or above the last offset sent, and confirms (forgets) those below it. So
the offset sent is always the lowest update still being handled (or, with none, the one after the newest):
a crash re-serves exactly what was unfinished (and perhaps a few finished after it). An update slow to
handle holds back only its confirmation, not the next fetch: other chats' updates keep coming.

While updates are in flight Telegram answers a poll at once (it re-serves them; they are skipped here
before they are decoded). Those short polls overlap: one starts every `busy_interval` without waiting for
the one before it, at most `overlap` at a time, so an update waits about half an interval to be fetched
instead of a whole round trip to Telegram (100 ms or more from a city's servers). Answers may come back
in any order; each holds every unconfirmed update from its offset on, so taking the new ones of each
answer in id order keeps Telegram's order. A long poll is made only when nothing is in flight and no
short poll is out (a long poll parked at Telegram is cut off, 409 Conflict, by any other getUpdates). If
Telegram ever answers overlapping short polls with 409, the poller falls back to one poll at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta

from telegram import Update
from telegram.error import Conflict, RetryAfter, TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)

BUSY_INTERVAL = 0.025   # seconds between short polls while updates are in flight
POLLS_OUT = 8           # short polls out at once: covers a 200 ms round trip at BUSY_INTERVAL
MAX_BACKOFF = 30.0


class Poller:
    """getUpdates in a task of its own; each new update handled by `handle` in a task of its own."""

    def __init__(self, application: Application, handle: Callable[[Application, Update], Awaitable[object]], *,
                 timeout: int = 20, poll_interval: float = 0.5, busy_interval: float = BUSY_INTERVAL,
                 overlap: int = POLLS_OUT) -> None:
        self.application, self.handle = application, handle
        self.timeout, self.poll_interval, self.busy_interval = timeout, poll_interval, busy_interval
        self.overlap = overlap
        self.offset: int | None = None      # the next getUpdates confirms every update below it
        self.confirmed: int | None = None   # the highest offset Telegram has been sent
        self.newest: int | None = None      # the highest update id taken
        self.in_flight: dict[int, asyncio.Task] = {}
        self.handled_above: set[int] = set()  # handled while an earlier one is still in flight
        self.polls: set[asyncio.Task] = set()  # short polls out
        self.stopping = False
        self.task: asyncio.Task | None = None
        self._resume_at = 0.0   # after a RetryAfter or an error: no poll before this loop time
        self._backoff = 1.0
        self._next_short = 0.0  # loop time before which no short poll starts
        self._wake = asyncio.Event()  # nothing in flight any more, room again, or a pause: look again
        self.capacity = getattr(application.update_processor, "max_concurrent_updates", 1)

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name="chengxin:poller")

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping:
            now = loop.time()
            if self._resume_at > now:
                await asyncio.sleep(self._resume_at - now)
            elif self.in_flight:
                self._short_poll_if_due()
                if len(self.polls) >= self.overlap:
                    await asyncio.wait(self.polls, return_when=asyncio.FIRST_COMPLETED)
                else:  # until the next is due; at the Application's bound, until there is room
                    due = self._next_short - loop.time()
                    await self._nap(due if due > 0 else self.busy_interval)
            elif self.polls:
                await asyncio.wait(self.polls)  # what they bring decides whether the next poll is long
            else:
                found = await self._poll(self.timeout)
                if found == 0 and self.poll_interval:
                    await asyncio.sleep(self.poll_interval)

    def _short_poll_if_due(self) -> None:
        """Start a short poll if one is due. Also called as each update finishes: on a busy event loop a
        timer wakes late (it waits for every update's turn before it), a finished update is already here."""
        now = asyncio.get_running_loop().time()
        if (now >= self._next_short and now >= self._resume_at and not self.stopping and self.in_flight
                and len(self.polls) < self.overlap and len(self.in_flight) < self.capacity):
            self._next_short = now + self.busy_interval
            task = asyncio.create_task(self._poll(0), name="chengxin:poll")
            self.polls.add(task)
            task.add_done_callback(self.polls.discard)

    async def _nap(self, seconds: float) -> None:
        """Until the next short poll is due; sooner when nothing is in flight any more (a long poll then), or
        when there is room again after the Application's bound was reached."""
        self._wake.clear()
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _poll(self, timeout: int) -> int | None:
        """One getUpdates; takes the new updates it brings. How many were new, None when it failed."""
        offset = self.offset
        try:
            served = await fetch_updates(self.application.bot, offset=offset, timeout=timeout)
        except RetryAfter as error:
            wait = error.retry_after
            self._pause(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
            return None
        except Conflict as error:
            if timeout == 0 and self.overlap > 1:
                log.warning("Telegram refused overlapping short polls (%s); polling one at a time", error)
                self.overlap = 1
            else:
                self._pause(self._next_backoff())
                log.warning("getUpdates: conflict (%s); another instance polls with this token?", error)
            return None
        except TelegramError as error:
            wait = self._next_backoff()
            log.warning("getUpdates failed (%s); retrying in %.0f s", type(error).__name__, wait)
            self._pause(wait)
            return None
        self._backoff = 1.0
        if offset is not None and (self.confirmed is None or offset > self.confirmed):
            self.confirmed = offset
        new = 0
        for data in sorted(served, key=lambda u: u["update_id"]):  # Telegram's order
            if self._is_new(data["update_id"]):
                self._take(data)
                new += 1
        return new

    def _pause(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, asyncio.get_running_loop().time() + seconds)
        self._wake.set()

    def _next_backoff(self) -> float:
        wait, self._backoff = self._backoff, min(self._backoff * 2, MAX_BACKOFF)
        return wait

    def _is_new(self, update_id: int) -> bool:
        return (update_id not in self.in_flight and update_id not in self.handled_above
                and (self.offset is None or update_id >= self.offset))

    def _take(self, data: dict) -> None:
        bot = self.application.bot
        update = Update.de_json(data, bot)
        insert_callback_data = getattr(bot, "insert_callback_data", None)  # ExtBot: arbitrary callback data
        if insert_callback_data is not None:
            insert_callback_data(update)
        update_id = update.update_id
        self.newest = update_id if self.newest is None else max(self.newest, update_id)
        task = asyncio.create_task(self.handle(self.application, update), name=f"chengxin:update:{update_id}")
        self.in_flight[update_id] = task
        task.add_done_callback(lambda _: self._handled(update_id))

    def _handled(self, update_id: int) -> None:
        del self.in_flight[update_id]
        self.handled_above.add(update_id)
        self.offset = min(self.in_flight) if self.in_flight else self.newest + 1
        self.handled_above = {i for i in self.handled_above if i >= self.offset}
        if not self.in_flight or len(self.in_flight) == self.capacity - 1:
            self._wake.set()  # idle (a long poll now) or room again (a short poll now)
        else:
            self._short_poll_if_due()

    async def stop(self) -> None:
        """Stop fetching; let the updates being handled finish; confirm them so they are not served again."""
        self.stopping = True
        if self.task is None:
            return
        for task in (self.task, *self.polls):
            task.cancel()
        with suppress(asyncio.CancelledError):
            await self.task
        if self.polls:
            await asyncio.gather(*self.polls, return_exceptions=True)
        if self.in_flight:
            await asyncio.gather(*self.in_flight.values(), return_exceptions=True)

    async def confirm(self) -> None:
        if self.offset is not None and self.offset != self.confirmed:
            with suppress(TelegramError):
                await fetch_updates(self.application.bot, offset=self.offset, timeout=0, limit=1)
                self.confirmed = self.offset


async def fetch_updates(bot, *, offset: int | None, timeout: int, limit: int = 100) -> list[dict]:
    """`bot.get_updates(...)` with the updates left as JSON: the re-served ones are skipped undecoded.

    Through `Bot._post` as bot/sends.py does (the same request object, timeouts and errors as
    get_updates); the read timeout is PTB's: its getUpdates request's own plus the long poll's."""
    read_timeout = (bot._request[0].read_timeout or 0) + timeout
    return await bot._post("getUpdates", {"timeout": timeout, "offset": offset, "limit": limit,
                                          "allowed_updates": Update.ALL_TYPES}, read_timeout=read_timeout)
