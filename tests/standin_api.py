"""A stand-in Bot API server on 127.0.0.1 for tests that run the bot as a real process (or over real HTTP).

Answers getMe, setMyCommands, deleteWebhook, setWebhook, sendMessage (and the other sends),
answerCallbackQuery, editMessageText, editMessageReplyMarkup and getUpdates; records every call and the
files uploaded with it. getUpdates serves queued updates and honours
`offset` the way Telegram does: an offset confirms (drops) every update before it, so confirmed updates
are never served again and unconfirmed ones are. Faults are injected per call: a fault returns
(status, body) to answer with, or a number of seconds to wait before answering normally; a late fault
is checked just before answering (so a long poll that found updates can still fail).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 700000001, "is_bot": True, "first_name": "诚信", "username": "chengxin_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
JSON_PARAMS = {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options"}
INT_PARAMS = {"offset", "limit", "timeout", "chat_id", "message_id"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    answered: bool = False
    status: int = 0
    # Uploaded files (sendDocument, sendPhoto): {field: (file name, bytes)}.
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


Fault = Callable[[Call], "tuple[int, dict] | float | None"]


class StandinApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.late_faults: list[Fault] = []     # checked just before answering (after a long poll's wait)
        self.updates: list[dict] = []          # not yet confirmed, in update_id order
        self.confirmed_below = 0               # the highest offset seen: everything before it is confirmed
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what a test does -----------------------------------------------------------------------

    async def push(self, payload: dict) -> int:
        """Queue an update (without update_id); returns its id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **payload})
        async with self._new_update:
            self._new_update.notify_all()
        return update_id

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        """Calls of `method`; the default, sendMessage, also counts messages edited into a new prompt
        (a pressed button's message becomes the next step), since that is what the person sees arrive."""
        methods = {"sendMessage", "editMessageText"} if method == "sendMessage" else {method}
        return [c for c in self.calls if c.method in methods and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.02)

    # --- the Bot API ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.method == "POST":
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
                files = {k: (v.filename, v.file.read()) for k, v in form.items() if isinstance(v, web.FileField)}
        for key in list(params):
            if key in JSON_PARAMS and isinstance(params[key], str):
                params[key] = json.loads(params[key])
            elif key in INT_PARAMS and isinstance(params[key], str):
                params[key] = int(params[key])
        call = Call(request.match_info["method"], params, files=files)
        self.calls.append(call)
        for fault in self.faults:
            injected = fault(call)
            if isinstance(injected, (int, float)) and not isinstance(injected, bool):
                await asyncio.sleep(injected)
            elif injected is not None:
                status, body = injected
                call.answered, call.status = True, status
                return web.json_response(body, status=status)
        result = await self._result(call)
        for fault in self.late_faults:
            injected = fault(call)
            if isinstance(injected, tuple):
                status, body = injected
                call.answered, call.status = True, status
                return web.json_response(body, status=status)
        call.answered, call.status = True, 200
        return web.json_response({"ok": True, "result": result})

    async def _result(self, call: Call) -> Any:
        if call.method == "getMe":
            return BOT_USER
        if call.method == "getUpdates":
            return await self._get_updates(call.params)
        if call.method.startswith("send"):  # sendMessage, sendDocument, sendPhoto: the message sent
            return self._message(call, next(self._message_ids))
        if call.method.startswith("editMessage"):
            return self._message(call, int(call.params.get("message_id", 0)))
        return True

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed_below = max(self.confirmed_below, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), 1.0)  # long polls kept short for tests
        if not self.updates and timeout:
            async with self._new_update:
                try:
                    await asyncio.wait_for(self._new_update.wait_for(lambda: bool(self.updates)), timeout)
                except asyncio.TimeoutError:
                    return []
        return self.updates[:limit]

    def _message(self, call: Call, message_id: int) -> dict:
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()),
                                   "chat": {"id": call.chat_id or 0, "type": "private"}, "from": BOT_USER}
        if "text" in call.params:
            message["text"] = call.params["text"]
        if "caption" in call.params:
            message["caption"] = call.params["caption"]
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


# --- updates a citizen's client would cause -------------------------------------------------------------

_message_ids = itertools.count(50_000)


def _user(user_id: int) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": "测试", "language_code": "zh-hans"}


def text_update(user_id: int, text: str) -> dict:
    message: dict[str, Any] = {"message_id": next(_message_ids), "date": int(time.time()),
                               "chat": {"id": user_id, "type": "private", "first_name": "测试"},
                               "from": _user(user_id), "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def button_update(user_id: int, data: str) -> dict:
    message = {"message_id": 1, "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
               "from": BOT_USER, "text": "…"}
    return {"callback_query": {"id": str(next(_message_ids)), "from": _user(user_id), "chat_instance": "ci",
                               "data": data, "message": message}}


def bot_on(url: str, token: str, *, rate_limiter=None, **transport):
    """An ExtBot as bot/app.py builds it against the stand-in at `url`: the project's defaults (HTML, no link
    previews) and the aiohttp transport for both kinds of call (`transport`: BotApiHttp's settings)."""
    from telegram import LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.ext import Defaults, ExtBot

    from bot.bot_api_http import BotApiHttp

    updates_transport = {k: v for k, v in transport.items() if k != "connection_pool_size"}
    return ExtBot(token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot",
                  defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
                  request=BotApiHttp(**transport),
                  get_updates_request=BotApiHttp(connection_pool_size=1, **updates_transport),
                  rate_limiter=rate_limiter)

