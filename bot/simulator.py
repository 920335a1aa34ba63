"""A local Bot API transport and update factory: the console and the tests drive the real Application with them.

`LocalRequest` stands where HTTP would be (python-telegram-bot's BaseRequest seam): it records every call
and answers as the Bot API would. `Chat` builds the updates a person would cause — typing, tapping a
button, sending a photo — and hands them to `Application.process_update`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 700000001, "is_bot": True, "first_name": "诚信", "username": "chengxin_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    # Uploaded files (sendPhoto, sendDocument): {field: (filename, bytes, mime type)}; the console saves them.
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard, row by row."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (button["text"], button.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]


Fault = Callable[[ApiCall], tuple[int, dict] | None]


class LocalRequest(BaseRequest):
    """Records every Bot API call and answers it like the server would; faults can be injected."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.faults: list[Fault] = []
        self._message_ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=None, write_timeout=None, connect_timeout=None,
                         pool_timeout=None) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file download (File.download_*): some bytes stand for the file
            return 200, b"%PDF-1.4 local transport file"
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = dict(request_data.multipart_data) if request_data and request_data.contains_files else {}
        if files:
            # Uploaded files: their names, as the recipient would see them.
            params["_files"] = {name: part[0] for name, part in files.items() if isinstance(part, tuple)}
        call = ApiCall(api_method, params, files)
        for fault in self.faults:
            injected = fault(call)
            if injected is not None:
                status, body = injected
                return status, json.dumps(body).encode()
        self.calls.append(call)
        return 200, json.dumps({"ok": True, "result": self._result(call)}).encode()

    def _result(self, call: ApiCall) -> Any:
        if call.method == "getMe":
            return BOT_USER
        if call.method == "getUpdates":
            return []
        if call.method == "getFile":
            file_id = str(call.params.get("file_id", ""))
            return {"file_id": file_id, "file_unique_id": file_id[:16] or "f", "file_size": 30,
                    "file_path": "documents/file.bin"}
        if call.method in ("sendMessage", "sendPhoto", "sendDocument", "copyMessage"):
            return self._message(call, next(self._message_ids))
        if call.method.startswith("editMessage") and "message_id" in call.params:
            return self._message(call, int(call.params["message_id"]))
        return True

    def _message(self, call: ApiCall, message_id: int) -> dict:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(datetime.now(timezone.utc).timestamp()),
            "chat": {"id": call.chat_id or 0, "type": "private"},
            "from": BOT_USER,
        }
        if "text" in call.params:
            message["text"] = call.params["text"]
        if call.params.get("reply_markup"):
            markup = call.params["reply_markup"]
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup
        return message

    # --- what tests and the console read ----------------------------------------------------

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[ApiCall]:
        return [c for c in self.calls
                if (chat_id is None or c.chat_id == chat_id) and (method is None or c.method == method)]

    def messages_to(self, chat_id: int) -> list[ApiCall]:
        """What the person sees arrive or change: sent messages, and messages edited into new text."""
        return [c for c in self.sent(chat_id) if c.method in ("sendMessage", "sendPhoto", "sendDocument",
                                                               "editMessageText")]

    def last_to(self, chat_id: int) -> ApiCall:
        messages = self.messages_to(chat_id)
        if not messages:
            raise AssertionError(f"nothing was sent to {chat_id}")
        return messages[-1]

    def clear(self) -> None:
        self.calls.clear()


_update_ids = itertools.count(1)
_message_ids = itertools.count(10_000)
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(@\w+)?")


@dataclass
class Chat:
    """One person talking to the bot in a private chat (or in a group, with `chat_type`)."""

    app: Application
    user_id: int
    first_name: str = "测试"
    last_name: str | None = None
    username: str | None = None
    chat_type: str = "private"
    chat_id: int | None = None
    sent_updates: list[Update] = field(default_factory=list)

    @property
    def request(self) -> LocalRequest:
        return self.app.bot.request  # type: ignore[return-value]

    def _user(self) -> dict:
        user = {"id": self.user_id, "is_bot": False, "first_name": self.first_name, "language_code": "zh-hans"}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        return user

    def _chat(self) -> dict:
        chat: dict[str, Any] = {"id": self.chat_id or self.user_id, "type": self.chat_type}
        if self.chat_type == "private":
            chat["first_name"] = self.first_name
        else:
            chat["title"] = "测试群"
        return chat

    def _message(self, **content: Any) -> dict:
        return {"message_id": next(_message_ids), "date": int(datetime.now(timezone.utc).timestamp()),
                "chat": self._chat(), "from": self._user(), **content}

    async def _process(self, payload: dict) -> Update:
        update = Update.de_json({"update_id": next(_update_ids), **payload}, self.app.bot)
        self.sent_updates.append(update)
        await self.app.process_update(update)
        return update

    async def send(self, text: str) -> Update:
        """Type a message; a leading /command gets the bot_command entity Telegram would add."""
        content: dict[str, Any] = {"text": text}
        if match := _COMMAND.match(text):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(match.group(0))}]
        return await self._process({"message": self._message(**content)})

    async def edit(self, text: str) -> Update:
        return await self._process({"edited_message": {**self._message(text=text), "edit_date": 1}})

    async def photo(self, caption: str | None = None, unique: str | None = None) -> Update:
        unique = unique or f"ph{next(_message_ids)}"
        content: dict[str, Any] = {"photo": [
            {"file_id": f"{unique}-small", "file_unique_id": f"{unique}s", "width": 90, "height": 90},
            {"file_id": f"{unique}-large", "file_unique_id": unique, "width": 1280, "height": 960},
        ]}
        if caption:
            content["caption"] = caption
        return await self._process({"message": self._message(**content)})

    async def document(self, file_name: str = "合同.pdf", caption: str | None = None) -> Update:
        unique = f"doc{next(_message_ids)}"
        content: dict[str, Any] = {"document": {"file_id": f"{unique}-id", "file_unique_id": unique,
                                                "file_name": file_name, "mime_type": "application/pdf"}}
        if caption:
            content["caption"] = caption
        return await self._process({"message": self._message(**content)})

    async def sticker(self) -> Update:
        sticker = {"file_id": "stk", "file_unique_id": "stk1", "width": 512, "height": 512, "is_animated": False,
                   "is_video": False, "type": "regular"}
        return await self._process({"message": self._message(sticker=sticker)})

    async def voice(self) -> Update:
        return await self._process({"message": self._message(voice={"file_id": "v", "file_unique_id": "v1",
                                                                     "duration": 3})})

    async def location(self) -> Update:
        return await self._process({"message": self._message(location={"latitude": 33.35, "longitude": 120.16})})

    async def press(self, data: str, message_id: int = 1) -> Update:
        """Press an inline button with this callback data (on a message the bot sent)."""
        message = {"message_id": message_id, "date": int(datetime.now(timezone.utc).timestamp()),
                   "chat": self._chat(), "from": BOT_USER, "text": "…"}
        query = {"id": str(next(_update_ids)), "from": self._user(), "chat_instance": "ci", "data": data,
                 "message": message}
        return await self._process({"callback_query": query})

    async def tap(self, label: str) -> Update:
        """Press the button labelled `label` on the newest bot message to this chat that has it."""
        for call in reversed(self.request.messages_to(self.chat_id or self.user_id)):
            for text, data in call.buttons:
                if text == label:
                    return await self.press(data)
        raise AssertionError(f"no button {label!r} in messages to {self.user_id}")

    def last(self) -> ApiCall:
        return self.request.last_to(self.chat_id or self.user_id)

    def texts(self) -> list[str]:
        return [c.text for c in self.request.messages_to(self.chat_id or self.user_id)]
