"""Counting turns of the event loop: under load every turn an update waits for is a wait behind every other
update in flight, so tests pin where there should be none."""

from __future__ import annotations

import asyncio


class LoopTurns:
    """`async with LoopTurns() as turns:` … `turns.count` is how many times the loop has gone round."""

    def __init__(self) -> None:
        self.count = 0
        self._running = False

    def _tick(self) -> None:
        self.count += 1
        if self._running:
            asyncio.get_running_loop().call_soon(self._tick)

    async def __aenter__(self) -> LoopTurns:
        self._running = True
        asyncio.get_running_loop().call_soon(self._tick)
        await asyncio.sleep(0)  # the counter is going
        return self

    async def __aexit__(self, *exc) -> None:
        self._running = False
