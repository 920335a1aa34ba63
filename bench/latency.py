"""Step latency and throughput with the network in the picture: the real bot against a Bot API that answers late.

The bot runs as its own process, the way `chengxin run` runs it: `bot.app.build_application` and
`bot.web.server.serve` in polling mode (its `Poller`), rate limiter off, a SQLite file in a temporary
directory (or PostgreSQL with --postgres URL). Telegram is a stand-in on 127.0.0.1 (tests/standin_api.py)
that delays every Bot API call by the round trip, half on the way in and half on the way back, so a call
reaches "Telegram" (is seen by the citizen) rtt/2 after the bot sent it and its answer is back after rtt.

N citizens file at once, each a whole complaint conversation (tests/flows.py `file_complaint`: 我要投诉 →
text → domain → 不清楚 → 跳过 each follow-up question → 跳过 evidence → 同意联系 → 确认提交), each filing from a new
user. A step's latency runs from the citizen's update reaching Telegram to the bot's answer for it
reaching Telegram: the next prompt (a message or an edit carrying a keyboard; for 我要投诉 the request for
the text; for 确认提交 `已立案`). The citizen then acts at once. Only what a citizen sees is read, so the
benchmark keeps working whatever calls the handlers make.

Echo: a stock python-telegram-bot Application (its default httpx transport) with one MessageHandler
replying with the text, PTB's own `run_polling`, `concurrent_updates` at Chengxin's concurrency, the same
stand-in and citizens (each sends as many messages as a filing has steps and waits for each echo).

Output, per run: step p50/p95/p99 (all steps and per step), filings/s (updates/s for echo), the bot
process's CPU seconds per update (/proc/PID/stat), Bot API calls per update. Targets (issue 18): 100 ms,
10 citizens: step p50 <= 250 ms, p95 <= 400 ms; 50 citizens: filings/s >= 80 % of the same at 0 ms; CPU per
update <= 2x the echo bot's; beside the ratio, the hold it leaves the bot per update (`_hold_allowed`).
--jitter F varies each half trip by up to ±F (default 0: every trip exactly rtt/2). --profile: the bot also
runs under cProfile during the timed part and the imports it made per Bot API request are counted (issue 18
item 4: none).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, emit, machine  # noqa: E402

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
SECRET = "bench-webhook-secret"
REF = re.compile(r"[A-Z]+-\d{8}-\d{4,}")
STEP_TIMEOUT_S = 60
CITIZEN_BASE = 6_100_000_000
TEXTS = [
    "我公司2025年给市财政局做政府采购项目，供货验收合格已经一年了，采购人一直拖欠货款38万元，履约保证金也不退。",
    "亭湖区住建局拖欠我们工程款380万元，项目2022年底就竣工验收了，到现在一分钱没给，工人工资都发不出来。",
    "区政府招商时承诺给我们企业三年税收返还和土地优惠，换了领导以后新官不理旧账，承诺一项都没兑现。",
    "法院判决区交通局支付我公司工程款，判决生效一年多了，交通局一直拒不履行，申请强制执行也没有结果。",
    "这次道路改造项目招标明显是内定的，招标文件量身定做，评标专家和中标单位有关系，存在串标围标。",
]
# Runs with fewer citizens file more each, so every run has enough updates for a CPU figure.
MIN_FILINGS = 20
TARGETS = {"p50_ms": 250, "p95_ms": 400, "throughput_ratio": 0.8, "cpu_ratio": 2.0}
# --jitter: each half trip is rtt/2 × (1 ± up to this fraction), drawn from a seeded generator. 0 (the
# issue's definition): every trip exactly rtt/2, so citizens served together come back together.
JITTER = {"fraction": 0.0}


# --- Telegram, a round trip away ------------------------------------------------------------------------

def delayed_api_class():
    from tests.standin_api import StandinApi

    class DelayedApi(StandinApi):
        """The tests' stand-in, each call delayed by the round trip; what reaches a chat is queued for it."""

        def __init__(self, rtt_ms: float) -> None:
            super().__init__()
            self.half = rtt_ms / 2000
            self._random = random.Random(18)
            self.inboxes: dict[int, asyncio.Queue] = defaultdict(asyncio.Queue)
            self.faults.append(self._arrived)
            self.webhook: str | None = None   # set: updates are posted there instead of served to getUpdates
            self.posting: set[asyncio.Task] = set()
            self.webhook_failures = 0
            self.webhook_answers = 0   # methods Telegram would perform from webhook responses (no round trip)
            self._connections: asyncio.Semaphore | None = None
            self._session = None

        def use_webhook(self, url: str) -> None:
            """Post updates to `url`, with as many connections at once as the bot's setWebhook asks."""
            import aiohttp

            self.webhook = url
            self._session = aiohttp.ClientSession()

        async def push(self, payload: dict) -> int:
            if self.webhook is None:
                return await super().push(payload)
            update_id = next(self._update_ids)
            task = asyncio.create_task(self._post({"update_id": update_id, **payload}))
            self.posting.add(task)
            task.add_done_callback(self.posting.discard)
            return update_id

        async def _post(self, update: dict) -> None:
            # As Telegram does: at most max_connections requests open, each until the bot answers it.
            async with self._connections:
                await asyncio.sleep(self._half_trip())
                async with self._session.post(self.webhook, json=update,
                                              headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                    if response.status != 200:
                        self.webhook_failures += 1
                    elif response.content_type == "application/json" and "method" in await response.json():
                        self.webhook_answers += 1

        def _half_trip(self) -> float:
            return self.half * (1 + JITTER["fraction"] * (2 * self._random.random() - 1))

        async def stop(self) -> None:
            if self._session is not None:
                await self._session.close()
            await super().stop()

        def _arrived(self, call) -> None:
            if call.method == "setWebhook":  # Telegram's default is 40
                self._connections = asyncio.Semaphore(int(call.params.get("max_connections") or 40))
            if call.chat_id is not None and (call.method.startswith("send") or call.method.startswith("edit")):
                self.inboxes[call.chat_id].put_nowait(call)
            return None

        async def _handle(self, request):
            await asyncio.sleep(self._half_trip())      # the request on its way to Telegram
            response = await super()._handle(request)
            await asyncio.sleep(self._half_trip())      # the answer on its way back
            return response

        async def _get_updates(self, params: dict) -> list[dict]:
            # A long poll parked at Telegram answers as soon as an update comes (the tests' stand-in
            # caps it at 1 s; here it waits as long as asked, up to 20 s).
            offset = int(params.get("offset") or 0)
            if offset:
                self.confirmed_below = max(self.confirmed_below, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            timeout = min(float(params.get("timeout") or 0), 20.0)
            if not self.updates and timeout:
                async with self._new_update:
                    try:
                        await asyncio.wait_for(self._new_update.wait_for(lambda: bool(self.updates)), timeout)
                    except asyncio.TimeoutError:
                        return []
            return self.updates[: int(params.get("limit") or 100)]

    return DelayedApi


# --- citizens -----------------------------------------------------------------------------------------------

class Steps:
    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)

    async def take(self, api, user: int, payload: dict, name: str, done) -> object:
        """Push one update; wait for the bot's answer that `done` recognises; record how long it took."""
        inbox = api.inboxes[user]
        while not inbox.empty():
            inbox.get_nowait()
        pushed = time.monotonic()
        await api.push(payload)
        while True:
            try:
                call = await asyncio.wait_for(inbox.get(), STEP_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise RuntimeError(f"citizen {user}: no answer to {name} in {STEP_TIMEOUT_S} s") from None
            if done(call):
                self.ms[name].append((call.at - pushed) * 1000)
                return call


def _has_keyboard(call) -> bool:
    return bool(call.buttons)


def _button(call, label: str) -> str:
    for text, data in call.buttons:
        if text == label:
            return data
    raise RuntimeError(f"no button {label!r} in {call.text[:60]!r}: {call.buttons}")


async def file_complaint(api, steps: Steps, user: int, text: str) -> str:
    """Answer whatever the bot asks next (it skips the department when the text names one) until 已立案."""
    from bot import texts
    from tests.standin_api import button_update, text_update

    ask_text = texts.ASK_TEXT[:12]
    await steps.take(api, user, text_update(user, texts.BTN_COMPLAIN), "我要投诉", lambda c: ask_text in c.text)
    reply = await steps.take(api, user, text_update(user, text), "text", _has_keyboard)
    reply = await steps.take(api, user, button_update(user, reply.buttons[0][1]), "domain", _has_keyboard)
    for _ in range(20):
        labels = [label for label, _ in reply.buttons]
        if texts.BTN_SUBMIT in labels:
            reply = await steps.take(api, user, button_update(user, _button(reply, texts.BTN_SUBMIT)), "submit",
                                     lambda c: "已立案" in c.text)
            return REF.search(reply.text).group(0)
        if texts.BTN_CONTACT_YES in labels:
            name, label = "contact", texts.BTN_CONTACT_YES
        elif texts.BTN_DEPT_UNKNOWN in labels:
            name, label = "department", texts.BTN_DEPT_UNKNOWN
        elif "补充信息" in reply.text:
            name, label = "details", texts.BTN_DETAIL_SKIP
        else:
            name, label = "evidence", texts.BTN_EVIDENCE_SKIP
        reply = await steps.take(api, user, button_update(user, _button(reply, label)), name, _has_keyboard)
    raise RuntimeError(f"the conversation did not reach 确认提交: {reply.text[:80]!r}")


async def echo_chat(api, steps: Steps, user: int, messages: int) -> None:
    from tests.standin_api import text_update

    for k in range(messages):
        said = f"{TEXTS[k % len(TEXTS)][:20]} #{k}"
        await steps.take(api, user, text_update(user, said), "echo", lambda c, said=said: c.text == said)


# --- the bot process --------------------------------------------------------------------------------------

def serve_bot(kind: str, api_url: str, database_url: str, concurrency: int, profile: str | None,
              webhook_port: int | None = None) -> None:
    """Runs in the bot's own process until SIGTERM. SIGUSR1/SIGUSR2 start/stop the profile."""
    import cProfile
    import logging

    logging.basicConfig(level=logging.WARNING)
    # PTB's Updater says so when its last getUpdates on the way out is cut short by the stop: harmless here.
    logging.getLogger("telegram.ext.Updater").setLevel(logging.CRITICAL)
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
        signal.signal(signal.SIGUSR2, lambda *_: (profiler.disable(), profiler.dump_stats(profile)))
    if kind == "echo":
        from telegram import Update
        from telegram.ext import ApplicationBuilder, MessageHandler, filters

        async def echo(update: Update, context) -> None:
            await update.message.reply_text(update.message.text)

        app = (ApplicationBuilder().token(TOKEN).base_url(f"{api_url}/bot").concurrent_updates(concurrency).build())
        app.add_handler(MessageHandler(filters.TEXT, echo))
        app.run_polling(poll_interval=0, timeout=20, allowed_updates=Update.ALL_TYPES)
        return
    from bot.app import build_application
    from bot.config import Settings
    from bot.web.server import serve

    settings = Settings(_env_file=None, **{
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api_url, "DATABASE_URL": database_url,
        "CHENGXIN_SUPERVISORS": "", "CHENGXIN_RATE_LIMIT": False, "CHENGXIN_FLOOD_MESSAGES": 10_000_000,
        "CHENGXIN_DAILY_CASE_LIMIT": 1_000_000, "CHENGXIN_LOG_LEVEL": "WARNING",
        "CHENGXIN_CONCURRENT_UPDATES": concurrency,
    } | ({"CHENGXIN_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/tg", "CHENGXIN_WEBHOOK_SECRET": SECRET,
          "CHENGXIN_PORT": webhook_port} if webhook_port else {}))
    asyncio.run(serve(build_application(settings), settings, own_process=True))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"n": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1)}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def scenario(kind: str, rtt_ms: float, citizens: int, per_citizen: int, database_url: str | None,
                   concurrency: int, profile: str | None = None, webhook: bool = False) -> dict:
    api = delayed_api_class()(rtt_ms)
    await api.start()
    port = _free_port() if webhook and kind == "chengxin" else None
    if port:
        api.use_webhook(f"http://127.0.0.1:{port}/tg")
    with tempfile.TemporaryDirectory(prefix="chengxin-latency-") as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'chengxin.db'}"
        command = [sys.executable, "-m", "bench.latency", "--serve", kind, "--api", api.url, "--database", url,
                   "--concurrency", str(concurrency)] + (["--profile-to", profile] if profile else []) \
            + (["--webhook-port", str(port)] if port else [])
        bot = subprocess.Popen(command, cwd=ROOT)
        try:
            ready = "setWebhook" if port else "getUpdates"
            await api.wait_for(lambda: api.sent(method=ready) or bot.poll() is not None, 120, "the bot to start")
            if bot.poll() is not None:
                raise RuntimeError(f"the {kind} bot exited with {bot.returncode}")
            base = CITIZEN_BASE + int(time.time() * 1000) % 1_000_000 * 1000  # fresh users on a reused database
            steps = Steps()

            async def citizen(i: int, filings: int, warm: bool = False) -> list[str]:
                refs = []
                for k in range(filings):
                    user = base + (i + (50_000 if warm else 0)) * 100 + k
                    if kind == "echo":
                        await echo_chat(api, steps, user, 9)
                    else:
                        refs.append(await file_complaint(api, steps, user, TEXTS[(i + k) % len(TEXTS)]))
                return refs

            await asyncio.gather(*(citizen(i, 1, warm=True) for i in range(min(citizens, 5))))  # warm-up
            steps.ms.clear()
            calls_before, answers_before = len(api.calls), getattr(api, "webhook_answers", 0)
            if profile:
                bot.send_signal(signal.SIGUSR1)
            cpu_before, started = _cpu_seconds(bot.pid), time.monotonic()
            refs = [r for rs in await asyncio.gather(*(citizen(i, per_citizen) for i in range(citizens))) for r in rs]
            elapsed, cpu = time.monotonic() - started, _cpu_seconds(bot.pid) - cpu_before
            if profile:
                bot.send_signal(signal.SIGUSR2)
                await asyncio.sleep(2)
            await api.wait_for(lambda: not api.updates and not api.posting, 30, "every update acknowledged")
            if api.webhook_failures:
                raise RuntimeError(f"{api.webhook_failures} webhook requests not answered 200")
            bot_calls = [c for c in api.calls[calls_before:] if c.method != "getUpdates"]
            polls = len(api.calls) - calls_before - len(bot_calls)
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(60)
            except subprocess.TimeoutExpired:
                bot.kill()
            await api.stop()
    updates = sum(len(v) for v in steps.ms.values())
    if kind != "echo" and len(set(refs)) != citizens * per_citizen:
        raise RuntimeError(f"{citizens * per_citizen} filings but {len(set(refs))} distinct references")
    result = {
        "bot": kind, "mode": "webhook" if port else "polling", "rtt_ms": rtt_ms, "jitter": JITTER["fraction"],
        "citizens": citizens,
        "concurrency": concurrency,
        "updates": updates, "seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2),
        "updates_per_s": round(updates / elapsed, 1),
        "cpu_ms_per_update": round(cpu / updates * 1000, 3),
        "api_calls_per_update": round(len(bot_calls) / updates, 2),
        "webhook_answers_per_update": round((getattr(api, "webhook_answers", 0) - answers_before) / updates, 2),
        "get_updates_per_update": round(polls / updates, 2),
        "steps_ms": _percentiles([ms for v in steps.ms.values() for ms in v]),
        "per_step_ms": {name: _percentiles(v) for name, v in steps.ms.items()},
    }
    if kind != "echo":
        result["filings"] = len(refs)
        result["filings_per_s"] = round(len(refs) / elapsed, 2)
    if profile:
        result["profile"] = imports_in_profile(profile, len(bot_calls))
    return result


def imports_in_profile(path: str, requests: int) -> dict:
    """Calls into the import system (a failed `import x` inside a function repeats the whole search)."""
    stats = pstats.Stats(path)
    found = {"requests": requests}
    for (filename, _, function), (_, ncalls, _, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if function == "_find_and_load" or (function == "current_async_library" and "httpcore" in filename):
            key = "import_searches" if function == "_find_and_load" else "httpcore_current_async_library"
            found[key] = found.get(key, 0) + ncalls
            found[key + "_ms"] = round(found.get(key + "_ms", 0) + cumtime * 1000, 1)
    found["import_searches_per_request"] = round(found.get("import_searches", 0) / max(requests, 1), 3)
    return found


def run(rtt_ms: float, citizens: list[int], per_citizen: int, database_url: str | None, concurrency: int,
        profile: bool, webhook: bool = False) -> dict:
    results: dict = {"benchmark": "latency", "machine": machine(), "load_average": os.getloadavg(), "runs": []}

    def once(kind: str, rtt: float, n: int, filings: int, prof: str | None = None, hook: bool = False) -> dict:
        r = asyncio.run(scenario(kind, rtt, n, filings, database_url, concurrency, prof, hook))
        results["runs"].append(r)
        print(line(r), flush=True)
        return r

    for n in citizens:
        once("chengxin", rtt_ms, n, max(per_citizen, -(-MIN_FILINGS // n)))
    once("chengxin", 0, max(citizens), per_citizen)
    once("echo", 0, max(citizens), per_citizen)
    once("echo", rtt_ms, max(citizens), per_citizen)
    by = {(r["bot"], r["mode"], r["rtt_ms"], r["citizens"]): r for r in results["runs"]}
    if webhook:
        for n in sorted({10, max(citizens)}):
            by[("chengxin", "webhook", rtt_ms, n)] = once("chengxin", rtt_ms, n, max(per_citizen, -(-MIN_FILINGS // n)),
                                                          hook=True)
        if rtt_ms:  # the like-for-like throughput ratio: the same webhook run at 0 ms
            by[("chengxin", "webhook", 0, max(citizens))] = once("chengxin", 0, max(citizens), per_citizen, hook=True)
    results["targets"] = {}
    for mode in ("polling", "webhook") if webhook else ("polling",):
        results["targets"].update(_targets(by, mode, rtt_ms, max(citizens), "" if mode == "polling" else "_webhook"))
    if profile:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("chengxin", "echo"):
                once(kind, rtt_ms, 10, 1, str(Path(tmp) / f"{kind}.prof"))
    return results


def _targets(by: dict, mode: str, rtt_ms: float, most: int, suffix: str) -> dict:
    """Issue 18's targets for one mode: step latency at 10 citizens, the throughput at the RTT against the
    same run at 0 ms, CPU per update against the echo bot's at 0 ms and at the RTT."""
    ten, fifty = by.get(("chengxin", mode, rtt_ms, 10)), by.get(("chengxin", mode, rtt_ms, most))
    zero = by.get(("chengxin", mode, 0, most))
    echo, echo_rtt = by.get(("echo", "polling", 0, most)), by.get(("echo", "polling", rtt_ms, most))

    def ratio(a: dict | None, b: dict | None, key: str, limit: float, at_least: bool) -> dict | None:
        if not a or not b:
            return None
        value = a[key] / b[key]
        return {"value": round(value, 2), "met": value >= limit if at_least else value <= limit}

    return {
        f"step_p50_10{suffix}": ten and {"value": ten["steps_ms"]["p50"], "met": ten["steps_ms"]["p50"] <= TARGETS["p50_ms"]},
        f"step_p95_10{suffix}": ten and {"value": ten["steps_ms"]["p95"], "met": ten["steps_ms"]["p95"] <= TARGETS["p95_ms"]},
        f"throughput_ratio{suffix}": ratio(fifty, zero, "filings_per_s", TARGETS["throughput_ratio"], True),
        f"hold_allowed_ms{suffix}": _hold_allowed(fifty, zero),
        f"cpu_ratio_0ms{suffix}": ratio(zero, echo, "cpu_ms_per_update", TARGETS["cpu_ratio"], False),
        f"cpu_ratio_rtt{suffix}": ratio(fifty, echo_rtt, "cpu_ms_per_update", TARGETS["cpu_ratio"], False),
    }


def _hold_allowed(at_rtt: dict | None, zero: dict | None) -> dict | None:
    """How long the bot may hold an update (from its arrival to its reply leaving) for the throughput ratio.

    A citizen acts only on the bot's answer, so each of N citizens makes a step per round trip plus the
    bot's hold: at most N / (rtt + hold) updates/s. For 0.8 of the 0 ms run's rate that leaves a hold of
    N / (0.8 × rate at 0 ms) − rtt — less the faster the bot is at 0 ms. `value`: that allowance and the
    hold measured (step p50 − rtt), in ms; met when the measured one fits.
    """
    if not at_rtt or not zero:
        return None
    allowed = at_rtt["citizens"] / (TARGETS["throughput_ratio"] * zero["updates_per_s"]) * 1000 - at_rtt["rtt_ms"]
    held = at_rtt["steps_ms"]["p50"] - at_rtt["rtt_ms"]
    return {"value": f"allowed {allowed:.1f}, held {held:.1f} (p50)", "met": held <= allowed}


def line(r: dict) -> str:
    s = r["steps_ms"]
    rate = f"{r['filings_per_s']:6.2f} filings/s" if "filings_per_s" in r else f"{r['updates_per_s']:6.1f} updates/s"
    text = (f"{r['bot']:<8} {r['mode']:<7} rtt {r['rtt_ms']:>4g} ms  {r['citizens']:>3} citizens: step p50 {s['p50']:7.1f}  "
            f"p95 {s['p95']:7.1f}  p99 {s['p99']:7.1f} ms   {rate}   {r['updates_per_s']:6.1f} updates/s   "
            f"CPU {r['cpu_ms_per_update']:6.2f} ms/update   {r['api_calls_per_update']} calls "
            f"+ {r['get_updates_per_update']} getUpdates per update"
            + (f" (+ {r['webhook_answers_per_update']} answers in webhook responses)"
               if r.get("webhook_answers_per_update") else ""))
    if "profile" in r:
        p = r["profile"]
        text += (f"\n         profile: {p.get('import_searches', 0)} import searches over {p['requests']} requests "
                 f"({p['import_searches_per_request']}/request), httpcore current_async_library "
                 f"{p.get('httpcore_current_async_library', 0)} calls, {p.get('httpcore_current_async_library_ms', 0)} ms")
    return text


def report(results: dict) -> None:
    m = results["machine"]
    print(f"\n{m['nproc']} CPU ({m['cpu']}), load average at start {results['load_average']}")
    for r in results["runs"]:
        if r["bot"] == "chengxin" and r["rtt_ms"] and "profile" not in r:
            print(f"per step, rtt {r['rtt_ms']:g} ms, {r['citizens']} citizens: " + ", ".join(
                f"{name} {v['p50']:.0f}/{v['p95']:.0f}" for name, v in r["per_step_ms"].items()) + " (p50/p95 ms)")
    for name, t in results["targets"].items():
        if t:
            print(f"target {name}: {t['value']} {'MET' if t['met'] else 'NOT MET'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=100)
    parser.add_argument("--citizens", default="1,10,50", help="comma-separated numbers of concurrent citizens")
    parser.add_argument("--filings", type=int, default=3, help="filings per citizen, one after another")
    parser.add_argument("--concurrency", type=int, default=None, help="CHENGXIN_CONCURRENT_UPDATES (default: its default)")
    parser.add_argument("--postgres", metavar="URL", help="a throwaway PostgreSQL database instead of SQLite")
    parser.add_argument("--profile", action="store_true", help="also count imports per request under cProfile")
    parser.add_argument("--json", help="also write the result to this file")
    parser.add_argument("--serve", choices=("chengxin", "echo"), help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    parser.add_argument("--webhook-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--jitter", type=float, default=0.0,
                        help="vary each half trip by up to this fraction (0.5: 25-75 ms at 100 ms); default 0")
    parser.add_argument("--webhook", action="store_true",
                        help="also run Chengxin in webhook mode at the RTT with 10 and the most citizens and at "
                             "0 ms with the most, and judge the targets in that mode too (*_webhook)")
    args = parser.parse_args(argv)
    if args.concurrency is None:
        from bot.config import DEFAULT_CONCURRENT_UPDATES

        args.concurrency = DEFAULT_CONCURRENT_UPDATES
    JITTER["fraction"] = args.jitter
    if args.serve:
        serve_bot(args.serve, args.api, args.database, args.concurrency, args.profile_to, args.webhook_port)
        return 0
    results = run(args.rtt_ms, [int(n) for n in args.citizens.split(",")], args.filings, args.postgres,
                  args.concurrency, args.profile, args.webhook)
    report(results)
    emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
