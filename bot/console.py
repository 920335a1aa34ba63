"""`chengxin console`: the real Application and handlers, driven from the terminal through the local transport."""

from __future__ import annotations

import asyncio
import html
import json
import re
import sys
from pathlib import Path

from bot.app import build_application
from bot.config import Settings
from bot.simulator import ApiCall, Chat, LocalRequest

OUT_DIR = Path("chengxin-console-out")  # where charts and workbooks the bot sends are saved (--out)
CITIZEN_ID = 10001
SUPERVISOR_ID = 90001

BANNER = """诚信 Chengxin 控制台 — 不连 Telegram，直接与机器人对话。
  直接输入文字或 /命令 发送给机器人；#N 点击上一条消息的第 N 个按钮
  :photo [说明]  发送照片      :doc [文件名]  发送文件      :sticker  发送贴纸
  :citizen / :supervisor  切换为群众 / 督办身份      :user ID  换一个群众      :quit  退出
  机器人发来的图表和报表保存在 {out}/ 下（路径会打印出来）；[键盘] 一行是聊天框下方的按钮，可直接输入其文字
"""


def _reply_keyboard(call: ApiCall) -> list[str]:
    """The labels of a reply keyboard (the buttons under the input box), if the call sets one."""
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [button if isinstance(button, str) else button.get("text", "")
            for row in markup.get("keyboard", []) for button in row]


def save_files(call: ApiCall, out_dir: Path) -> list[Path]:
    """Write the chart or workbook a call uploads into `out_dir`; the paths written."""
    saved = []
    for index, upload in enumerate(call.files.values()):
        filename, content = upload[0], upload[1]
        name = Path(str(filename or "")).name
        if call.method == "sendPhoto" or not name:
            name = f"chart-{len(list(out_dir.glob('chart-*'))) + 1:03d}.png" if call.method == "sendPhoto" \
                else f"file-{index + 1}"
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / name
        path.write_bytes(content if isinstance(content, bytes) else bytes(content))
        saved.append(path)
    return saved


def render(call: ApiCall, out_dir: Path | None = None) -> str | None:
    """How a Bot API call looks to the person at the terminal (files saved under `out_dir`, paths shown)."""
    if call.method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText"):
        body = html.unescape(re.sub(r"<[^>]+>", "", call.text))
        # A pressed button's message turned into the next step is shown as a new message at the terminal.
        prefix = {"sendPhoto": "[照片] ", "sendDocument": "[文件] ", "editMessageText": "[更新] "}.get(call.method, "")
        lines = [f"诚信> {prefix}{body}"]
        if out_dir is not None and call.files:
            lines += [f"   已保存：{path.resolve()}" for path in save_files(call, out_dir)]
        lines += [f"   #{i} [{label}]" for i, (label, _) in enumerate(call.buttons, start=1)]
        keyboard = _reply_keyboard(call)
        if keyboard:
            lines.append("   [键盘] " + " | ".join(keyboard))
        return "\n".join(lines)
    if call.method == "answerCallbackQuery" and call.params.get("text"):
        return f"诚信> (提示) {call.params['text']}"
    return None


async def run_console(settings: Settings, out_dir: Path = OUT_DIR) -> int:
    request = LocalRequest()
    settings = settings.model_copy(update={"rate_limit": False, "supervisors": settings.supervisors | {SUPERVISOR_ID}})
    application = build_application(settings, request=request)
    print("正在加载分词词典……", file=sys.stderr)
    async with application:
        await application.post_init(application)
        chat = Chat(application, CITIZEN_ID, first_name="王", last_name="女士")
        print(BANNER.format(out=out_dir))
        await _loop(application, request, chat, out_dir)
        await application.post_shutdown(application)
    return 0


async def _loop(application, request: LocalRequest, chat: Chat, out_dir: Path = OUT_DIR) -> None:
    buttons: list[tuple[str, str]] = []
    while True:
        try:
            line = (await asyncio.to_thread(input, f"[{chat.first_name} {chat.user_id}] > ")).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        seen = len(request.calls)
        if line == ":quit":
            return
        elif line == ":citizen":
            chat = Chat(application, CITIZEN_ID, first_name="王", last_name="女士")
            continue
        elif line == ":supervisor":
            chat = Chat(application, SUPERVISOR_ID, first_name="督办", last_name="李")
            continue
        elif line.startswith(":user "):
            user_id = int(line.split()[1]) if line.split()[1].isdigit() else CITIZEN_ID
            chat = Chat(application, user_id, first_name="群众")
            continue
        elif line.startswith(":photo"):
            await chat.photo(caption=line[len(":photo"):].strip() or None)
        elif line.startswith(":doc"):
            await chat.document(file_name=line[len(":doc"):].strip() or "材料.pdf")
        elif line == ":sticker":
            await chat.sticker()
        elif re.fullmatch(r"#\d+", line):
            index = int(line[1:]) - 1
            if not 0 <= index < len(buttons):
                print("没有这个按钮。")
                continue
            await chat.press(buttons[index][1])
        else:
            await chat.send(line)
        for call in request.calls[seen:]:
            if call.chat_id not in (None, chat.user_id) and call.method != "answerCallbackQuery":
                print(f"（发给用户 {call.chat_id} 的消息）")
            shown = render(call, out_dir)
            if shown:
                print(shown)
            if call.buttons:
                buttons = call.buttons
