"""Resident memory of the real `chengxin run` process at idle, against a local Bot API stand-in.

The stand-in (aiohttp, 127.0.0.1, a free port) answers `POST /bot<token>/<method>` with
`{"ok": true, "result": ...}`: getMe, deleteWebhook, setMyCommands, and getUpdates (held ~1 s,
then []); anything else gets `true`. `chengxin run` is started with TELEGRAM_API_URL pointing at
it, the fake token below and a SQLite file in a temporary directory (also its working directory,
so no .env is read). Once it has polled getUpdates a few times it is idle; VmRSS from
/proc/PID/status is sampled over a few seconds; then it gets SIGTERM (SIGKILL if it lingers)
and the stand-in stops.

Then (unless --no-complaint) the stand-in hands the bot one complaint typed in a private chat
through getUpdates and waits for the reply: jieba's dictionary is loaded lazily on the first
classification, so this shows the resident memory of a bot that has served one complaint, and how
long that first answer took.

Target: < 200 MB at idle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, machine  # noqa: E402

TARGET_MB = 200.0
TOKEN = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "诚信", "username": "chengxin_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
HOLD_S = 1.0
COMPLAINT = "亭湖区住建局拖欠我们工程款380万元，项目2022年底就竣工验收了，到现在一分钱没给，工人工资都发不出来。"
CITIZEN = {"id": 424242, "is_bot": False, "first_name": "测试", "language_code": "zh-hans"}


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class StandIn:
    """The smallest Bot API server `chengxin run` needs."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.polled = asyncio.Event()
        self.first_poll_at: float | None = None
        self.runner = None
        self.port = 0
        self.pending: list[dict] = []  # updates for the next getUpdates
        self.replied = asyncio.Event()
        self.message_ids = 0
        self.delivered_at: float | None = None
        self.replied_at: float | None = None

    async def handle(self, request):
        from aiohttp import web

        token, method = request.match_info["token"], request.match_info["method"]
        if token != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        await request.read()
        self.calls[method] += 1
        if method == "getMe":
            result = BOT_USER
        elif method == "getUpdates":
            if self.first_poll_at is None:
                self.first_poll_at = time.monotonic()
            self.polled.set()
            if self.pending:
                result, self.pending = self.pending, []
                self.delivered_at = time.monotonic()
            else:
                await asyncio.sleep(HOLD_S)
                result = []
        elif method == "sendMessage":
            fields = await request.post() if request.content_type != "application/json" else await request.json()
            self.message_ids += 1
            result = {"message_id": self.message_ids, "date": int(time.time()), "text": str(fields.get("text", "")),
                      "chat": {"id": int(fields.get("chat_id", 0)), "type": "private"}, "from": BOT_USER}
            if self.replied_at is None:
                self.replied_at = time.monotonic()
            self.replied.set()
        else:  # deleteWebhook, setMyCommands, ...
            result = True
        return web.json_response({"ok": True, "result": result})

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def _chengxin_command() -> list[str]:
    script = Path(sys.executable).with_name("chengxin")
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot", "run"]


async def _sample(pid: int, seconds: float, samples: int) -> list[float]:
    readings = []
    for _ in range(samples):
        value = rss_mb(pid)
        if value is not None:
            readings.append(round(value, 1))
        await asyncio.sleep(seconds / samples)
    if not readings:
        raise RuntimeError("could not read VmRSS")
    return readings


async def measure(polls: int, sample_seconds: float, samples: int, startup_timeout: float,
                  complaint: bool = True) -> dict:
    stand_in = StandIn()
    await stand_in.start()
    tmp = tempfile.TemporaryDirectory(prefix="chengxin-idle-")
    env = {k: v for k, v in os.environ.items()
           if not k.upper().endswith("_PROXY") and not k.startswith(("CHENGXIN_", "TELEGRAM_", "DATABASE_"))}
    env.update({
        "TELEGRAM_API_URL": f"http://127.0.0.1:{stand_in.port}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp.name) / 'chengxin.db'}",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    log_path = Path(tmp.name) / "chengxin.log"
    log = log_path.open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(_chengxin_command(), cwd=tmp.name, env=env, stdout=log, stderr=subprocess.STDOUT)
    result: dict = {"benchmark": "idle_memory", "machine": machine(), "command": " ".join(_chengxin_command())}
    try:
        deadline = started + startup_timeout
        while stand_in.calls["getUpdates"] < polls:
            if proc.poll() is not None:
                raise RuntimeError(f"chengxin run exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"chengxin run did not poll {polls} times in {startup_timeout} s")
            await asyncio.sleep(0.05)
        result["startup_to_first_poll_s"] = round(stand_in.first_poll_at - started, 2)
        result["polls_before_sampling"] = stand_in.calls["getUpdates"]
        readings = await _sample(proc.pid, sample_seconds, samples)
        result.update({
            "pid": proc.pid,
            "rss_samples_mb": readings,
            "rss_peak_mb": max(readings),
            "rss_last_mb": readings[-1],
            "api_calls": dict(stand_in.calls),
            "target": f"RSS < {TARGET_MB:g} MB",
            "target_met": max(readings) < TARGET_MB,
        })
        if complaint:
            stand_in.pending.append({"update_id": 1, "message": {
                "message_id": 1, "date": int(time.time()), "text": COMPLAINT, "from": CITIZEN,
                "chat": {"id": CITIZEN["id"], "type": "private", "first_name": CITIZEN["first_name"]}}})
            try:
                await asyncio.wait_for(stand_in.replied.wait(), timeout=30 + HOLD_S)
            except asyncio.TimeoutError:
                raise RuntimeError("no reply to the complaint within 30 s") from None
            # From the getUpdates answer carrying the complaint to the bot's sendMessage.
            result["first_complaint_reply_s"] = round(stand_in.replied_at - stand_in.delivered_at, 3)
            after = await _sample(proc.pid, sample_seconds, samples)
            result.update({"rss_after_complaint_samples_mb": after, "rss_after_complaint_peak_mb": max(after),
                           "rss_after_complaint_last_mb": after[-1]})
        result["api_calls"] = dict(stand_in.calls)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            for _ in range(150):  # up to 15 s for a graceful stop (a long poll may be in flight)
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            if proc.poll() is None:
                proc.kill()
                result["killed"] = True
            proc.wait(timeout=10)
        result["exit_code"] = proc.returncode
        log.close()
        await stand_in.stop()
        tmp.cleanup()
    return result


def run(polls: int = 3, sample_seconds: float = 5.0, samples: int = 10, startup_timeout: float = 90.0,
        complaint: bool = True) -> dict:
    return asyncio.run(measure(polls, sample_seconds, samples, startup_timeout, complaint))


def report(r: dict) -> None:
    print(f"idle_memory: `{r['command']}` idle after {r['polls_before_sampling']} getUpdates polls "
          f"(first poll {r['startup_to_first_poll_s']} s after start)")
    print(f"  VmRSS samples (MB): {r['rss_samples_mb']}")
    print(f"  peak {r['rss_peak_mb']} MB, last {r['rss_last_mb']} MB   "
          f"(target {r['target']}: {'MET' if r['target_met'] else 'NOT MET'})")
    if "rss_after_complaint_peak_mb" in r:
        print(f"  after one complaint (jieba loaded): peak {r['rss_after_complaint_peak_mb']} MB, "
              f"last {r['rss_after_complaint_last_mb']} MB; the reply came "
              f"{r['first_complaint_reply_s']} s after getUpdates handed the complaint over")
    print(f"  stopped with exit code {r['exit_code']}{' after SIGKILL' if r.get('killed') else ' on SIGTERM'}; "
          f"API calls seen: {r['api_calls']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=3, help="getUpdates polls to wait for before sampling")
    parser.add_argument("--seconds", type=float, default=5.0, help="sampling window")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--no-complaint", action="store_true", help="skip the after-one-complaint measurement")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args.polls, args.seconds, args.samples, complaint=not args.no_complaint)
    report(result)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
