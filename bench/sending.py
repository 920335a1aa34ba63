"""Sending throughput of the reminder sweep against a transport that enforces Telegram's flood limits.

The transport (`ThrottledRequest`, a `bot.simulator.LocalRequest`) answers sendMessage like the Bot
API, except with HTTP 429 `{"ok": false, "error_code": 429, "parameters": {"retry_after": N}}` when
accepting it would make more than 30 messages in the last second overall, or (group chats only,
negative chat ids) more than 1 message in the last second to that chat. Private chats have only the
overall limit. Rejected requests do not count as sent; N is the whole seconds until the oldest
message in the window leaves it (at least 1), as Telegram gives whole seconds.

The bot: the real Application from `build_application` with `CHENGXIN_RATE_LIMIT=true` (so
`AIORateLimiter(overall_max_rate=1, overall_time_period=1/29, max_retries=3)`), the real clock
(`bot.clock.Clock`), a SQLite file database (WAL) in a temporary directory, and its real JobQueue started with `Application.start()` — the
reminder sweep runs at +5 s and then every `CHENGXIN_SWEEP_SECONDS` (default 60), as in production;
nothing calls the job by hand. Because the clock is real, the policy file written for the run has
no quiet hours, and a calendar override makes today and tomorrow working days, so the sweep sends
whatever the hour and day of the run.

Backlog: 3,000 departments with one official each, one open obligation each with a rung due a
minute ago (plus 5 future rungs), so the first sweep writes 3,000 digests to 3,000 different
private chats. The run ends when all 3,000 have been accepted by the transport (or after --timeout).

Output: messages/s sustained (first to last accepted message), messages/s from the first sweep,
the number of 429 answers, the busiest 1-second window, and messages per 5-second slice.
Target: >= 27 messages/s (90 % of the 30/s ceiling) and zero 429s. --quick: 600 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import json
import math
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, machine  # noqa: E402

CEILING = 30.0
TARGET_RATE = 0.9 * CEILING
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "copyMessage")


def throttled_request_class():
    from telegram.request import RequestData

    from bot.simulator import ApiCall, LocalRequest

    class ThrottledRequest(LocalRequest):
        """LocalRequest that enforces 30 messages/s overall and 1 message/s per group chat (sliding window)."""

        def __init__(self, overall: int = 30, per_group_chat: int = 1, window: float = 1.0,
                     latency: float = 0.0) -> None:
            super().__init__()
            self.overall, self.per_group_chat, self.window, self.latency = overall, per_group_chat, window, latency
            self.accepted: collections.deque[float] = collections.deque()
            self.by_chat: dict[int, collections.deque[float]] = {}
            self.sent_times: list[float] = []  # every accepted message, monotonic
            self.rejections: list[tuple[float, int]] = []  # (when, retry_after)

        async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                             read_timeout=None, write_timeout=None, connect_timeout=None,
                             pool_timeout=None) -> tuple[int, bytes]:
            if self.latency:
                await asyncio.sleep(self.latency)
            api_method = url.rsplit("/", 1)[-1]
            if api_method in SEND_METHODS:
                params = dict(request_data.parameters) if request_data else {}
                chat_id = ApiCall(api_method, params).chat_id or 0
                now = time.monotonic()
                while self.accepted and self.accepted[0] <= now - self.window:
                    self.accepted.popleft()
                oldest = None
                if len(self.accepted) >= self.overall:
                    oldest = self.accepted[0]
                chat = self.by_chat.get(chat_id) if chat_id < 0 else None
                if chat is not None:
                    while chat and chat[0] <= now - self.window:
                        chat.popleft()
                    if len(chat) >= self.per_group_chat:
                        oldest = chat[0] if oldest is None else max(oldest, chat[0])
                if oldest is not None:
                    retry_after = max(1, math.ceil(oldest + self.window - now))
                    self.rejections.append((now, retry_after))
                    return 429, json.dumps({"ok": False, "error_code": 429,
                                            "description": f"Too Many Requests: retry after {retry_after}",
                                            "parameters": {"retry_after": retry_after}}).encode()
                self.accepted.append(now)
                if chat_id < 0:
                    self.by_chat.setdefault(chat_id, collections.deque()).append(now)
                self.sent_times.append(now)
            return await super().do_request(url, method, request_data, read_timeout, write_timeout,
                                            connect_timeout, pool_timeout)

    return ThrottledRequest


def _write_policy_and_calendar(folder: Path, tz) -> tuple[Path, Path]:
    """The shipped policy without quiet hours; today and tomorrow (local) as working days."""
    from bot.policy import DEFAULT_POLICY_FILE

    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    text = text.replace('start = "21:00"', 'start = "00:00"').replace('end = "08:00"', 'end = "00:00"')
    if 'start = "00:00"' not in text or 'end = "00:00"' not in text:
        raise RuntimeError("could not switch the quiet hours off in a copy of policy.toml")
    policy = folder / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    today = datetime.now(tz).date()
    calendar = folder / "calendar.toml"
    calendar.write_text("[days]\n" + "".join(f'"{today + timedelta(days=n)}" = "work"\n' for n in range(-1, 3)),
                        encoding="utf-8")
    return policy, calendar


def _smooth_limiter() -> None:
    """Experiment (--smooth-limiter): what build_application would get from AIORateLimiter(overall_max_rate=1,
    overall_time_period=1/29): a bucket of one message, i.e. evenly spaced sends and no burst."""
    import bot.app
    from telegram.ext import AIORateLimiter

    # bot/app.py now builds exactly this limiter, so the flag changes nothing; kept for old command lines.
    bot.app.AIORateLimiter = lambda **kw: AIORateLimiter(**{**kw, "overall_max_rate": 1, "overall_time_period": 1 / 29})


async def _run(messages: int, timeout: float, latency: float, folder: Path, smooth: bool = False) -> dict:
    from sqlalchemy import func, select

    from bench.sweep import populate
    from bot.app import build_application
    from bot.clock import Clock
    from bot.config import Settings
    from bot.db.models import OutboundMessage
    from bot.db.session import Database
    from bot.services import SERVICES_KEY

    url = f"sqlite+aiosqlite:///{folder / 'chengxin.db'}"
    probe = Settings(_env_file=None, DATABASE_URL=url)
    policy, calendar = _write_policy_and_calendar(folder, probe.tz)
    settings = Settings(_env_file=None, **{
        "DATABASE_URL": url,
        "CHENGXIN_SUPERVISORS": "",
        "CHENGXIN_RATE_LIMIT": True,
        "CHENGXIN_POLICY_FILE": str(policy),
        "CHENGXIN_CALENDAR_FILE": str(calendar),
        "CHENGXIN_LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": "",
    })

    # The backlog goes in before the Application starts, so the first sweep (at +5 s) finds it.
    db = Database(url)
    await db.upgrade()
    now = datetime.now(settings.tz)
    await populate(db.engine, now=now + timedelta(seconds=-30), obligations=messages, due=messages,
                   departments=messages)
    await db.dispose()

    if smooth:
        _smooth_limiter()
    request = throttled_request_class()(latency=latency)
    app = build_application(settings, request=request, clock=Clock())
    await app.initialize()
    await app.post_init(app)
    svc = app.bot_data[SERVICES_KEY]
    await app.start()  # starts the JobQueue: the sweep runs at +5 s, then every sweep_seconds
    started = time.monotonic()
    out: dict[str, Any] = {"messages": messages, "sweep_seconds": settings.sweep_seconds,
                           "transport_latency_ms": latency * 1000,
                           "limiter": "AIORateLimiter(1 per 1/29 s) [experiment]" if smooth
                           else "AIORateLimiter as build_application makes it"}
    try:
        while len(request.sent_times) < messages and time.monotonic() - started < timeout:
            await asyncio.sleep(0.25)
        finished = time.monotonic()
    finally:
        await app.stop()
        async with svc.db.session() as session:
            states = dict((await session.execute(
                select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state))).all())
        await app.post_shutdown(app)
        await app.shutdown()

    times = request.sent_times
    out["sent"] = len(times)
    out["outbound_states"] = states
    out["responses_429"] = len(request.rejections)
    out["retry_after_s"] = sorted({r for _, r in request.rejections})
    out["complete"] = len(times) >= messages
    out["elapsed_s"] = round(finished - started, 1)
    if len(times) >= 2:
        span = times[-1] - times[0]
        out["first_message_after_s"] = round(times[0] - started, 2)
        out["span_s"] = round(span, 2)
        out["sustained_per_s"] = round((len(times) - 1) / span, 2) if span > 0 else None
        out["from_first_sweep_per_s"] = round(len(times) / (times[-1] - (started + 5)), 2)
        # the busiest sliding 1-second window, as the transport counts it
        out["max_in_1s_window"] = max(bisect.bisect_right(times, t + 1.0 - 1e-9) - i for i, t in enumerate(times))
        slices: dict[int, int] = collections.Counter(int((t - times[0]) // 5) for t in times)
        out["per_5s_slice"] = [slices.get(k, 0) for k in range(max(slices) + 1)]
        gaps = [b - a for a, b in zip(times, times[1:])]
        out["longest_gap_s"] = round(max(gaps), 2)
        # Delivery stops claiming at 0.8 x sweep_seconds from the job's start and resumes at the next sweep:
        # the pauses between sweeps (gaps > 1 s) are by design, so also report the rate while sending.
        pauses = [g for g in gaps if g > 1.0]
        out["pauses_s"] = [round(g, 1) for g in pauses]
        sending = span - sum(pauses)
        out["while_sending_per_s"] = round((len(times) - 1 - len(pauses)) / sending, 2) if sending > 0 else None
    rate = out.get("sustained_per_s") or 0
    out["rate_target_met"] = bool(out["complete"] and rate >= TARGET_RATE)
    out["zero_429_met"] = out["responses_429"] == 0
    out["target_met"] = out["rate_target_met"] and out["zero_429_met"]
    return out


def run(messages: int = 3000, timeout: float = 600, latency: float = 0.0, smooth: bool = False) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING)
    results: dict = {"benchmark": "sending", "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-") as tmp:
        results.update(asyncio.run(_run(messages, timeout, latency, Path(tmp), smooth)))
    results["target"] = f">= {TARGET_RATE:g} messages/s sustained and zero 429 answers"
    return results


def report(r: dict) -> None:
    def ok(flag: bool) -> str:
        return "MET" if flag else "NOT MET"

    print(f"sending: {r['sent']}/{r['messages']} messages accepted in {r['elapsed_s']} s after start "
          f"(sweep every {r['sweep_seconds']} s, transport latency {r['transport_latency_ms']:g} ms, {r['limiter']})")
    if "sustained_per_s" in r:
        print(f"  first message {r['first_message_after_s']} s after start; first to last {r['span_s']} s")
        print(f"  sustained {r['sustained_per_s']} msg/s; from the first sweep (+5 s) {r['from_first_sweep_per_s']} msg/s")
        print(f"  busiest 1-s window {r['max_in_1s_window']} messages; longest gap {r['longest_gap_s']} s")
        print(f"  per 5-s slice: {r['per_5s_slice']}")
        print(f"  pauses > 1 s (between sweeps): {r['pauses_s']}; rate while sending {r['while_sending_per_s']} msg/s")
    print(f"  429 answers: {r['responses_429']} (retry_after {r['retry_after_s']}); outbox: {r['outbound_states']}")
    print(f"  target >= {TARGET_RATE:g} msg/s: {ok(r['rate_target_met'])}; zero 429s: {ok(r['zero_429_met'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="600 messages instead of 3,000")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="add this round-trip time to every Bot API call (default 0)")
    parser.add_argument("--smooth-limiter", action="store_true",
                        help="no-op now: build_application already uses the limiter without burst")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(600 if args.quick else args.messages, args.timeout, args.latency_ms / 1000, args.smooth_limiter)
    report(result)
    emit(result, args.json)
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
