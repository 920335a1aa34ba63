"""Updates of different chats handled concurrently, updates of one chat strictly one after another.

Most of a step's time is spent waiting for Telegram (each Bot API call is a network round trip), so
handling updates one at a time, python-telegram-bot's default, leaves the instance idle while citizens
queue. `ChatOrderedProcessor` runs up to `max_concurrent_updates` updates at once, but never two of the
same chat: a citizen's button press is handled only after the message they sent before it.

How it fits python-telegram-bot 22 (`Application.concurrent_updates(processor)`): the Application's
update fetcher takes updates off `update_queue` in arrival order and starts one task per update (the webhook
and the poller skip the queue: `handle_and_wait` calls `process_update` here in their own task); each
task's first step, before it awaits anything, is `process_update` here. So taking a chat's turn there,
synchronously, records the updates in arrival order — whatever order the tasks then run in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates with neither a chat nor a user (a poll's state, for example) share one turn.
NO_CHAT = "no-chat"


def chat_key(update: object) -> int | str:
    """The chat an update belongs to; its sender when it has no chat (an inline query). A private
    chat's id is its user's id, so a person's messages and button presses share one key."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return NO_CHAT


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates handled at once; within a chat, in arrival order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        # Per chat, the future the chat's newest update resolves when it has finished.
        self._last: dict[int | str, asyncio.Future] = {}

    @property
    def chats_in_flight(self) -> int:
        """Chats with an update being handled or waiting for its turn."""
        return len(self._last)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:  # type: ignore[misc]
        # Overrides the base class on purpose: it takes a concurrency slot first and only then hands
        # over. An update waiting for its chat's turn must not hold a slot (twenty presses from one
        # chat would otherwise stall every other chat), and the turn must be taken before any await.
        key = chat_key(update)
        previous = self._last.get(key)
        mine = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        mine.add_done_callback(lambda done: self._last.get(key) is done and self._last.pop(key))
        started = False
        try:
            if previous is not None:
                await asyncio.shield(previous)
            async with self._semaphore:
                started = True
                await self.do_process_update(update, coroutine)
        finally:
            if not started and isinstance(coroutine, Coroutine):
                coroutine.close()  # cancelled while waiting: it never ran
            if previous is not None and not previous.done():
                # Cancelled before the update ahead finished: the next one still waits for that one.
                previous.add_done_callback(lambda _: mine.done() or mine.set_result(None))
            else:
                mine.set_result(None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close: Application.stop() has already waited for the updates in flight."""
