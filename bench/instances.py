"""Updates per second and p95 handling latency with one and with two instances on one PostgreSQL database.

Each instance is its own process (multiprocessing, spawn) running the real Application over the local
transport (bot.simulator.LocalRequest, so no network and no Telegram), all against the same PostgreSQL
database, as production instances behind a reverse proxy would be. The complaint conversations are split
between the instances; each instance files its share one after another (one update at a time, as PTB
handles them without concurrent_updates). Throughput is all updates / wall time from a common start
barrier to the last instance's end; latency is per update (process_update, the reply included).

    python -m bench.instances --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/chengxin_bench_instances
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, machine  # noqa: E402
from bench.filings import TEXTS, _settings  # noqa: E402


async def _instance(url: str, filings: int, user_base: int, barrier, warmup: int) -> dict:
    from bot import texts
    from bot.app import build_application
    from bot.simulator import Chat, LocalRequest
    from nlp import Classifier

    classifier = Classifier.default()
    classifier.classify(TEXTS[0])
    request = LocalRequest()
    app = build_application(_settings(url), request=request, classifier=classifier)
    await app.initialize()
    await app.post_init(app)
    latencies: list[float] = []

    async def timed(action) -> None:
        started = time.perf_counter()
        await action
        latencies.append(time.perf_counter() - started)

    async def file(chat: Chat, text: str) -> None:
        await timed(chat.send(texts.BTN_COMPLAIN))
        await timed(chat.send(text))
        await timed(chat.press(chat.last().buttons[0][1]))
        await timed(chat.tap(texts.BTN_DEPT_UNKNOWN))
        for _ in range(10):
            if "已立案" in chat.last().text:
                return
            buttons = dict(chat.last().buttons)
            label = next(label for label in (texts.BTN_SUBMIT, texts.BTN_CONTACT_YES, texts.BTN_EVIDENCE_SKIP)
                         if label in buttons)
            await timed(chat.press(buttons[label]))
        raise RuntimeError(f"filing did not end in 已立案: {chat.last().text!r}")

    try:
        for i in range(warmup):
            await file(Chat(app, user_base - 1 - i), TEXTS[i % len(TEXTS)])
            request.clear()
        latencies.clear()
        await asyncio.to_thread(barrier.wait)
        start = time.perf_counter()
        for i in range(filings):
            await file(Chat(app, user_base + i), TEXTS[i % len(TEXTS)])
            request.clear()
        end = time.perf_counter()
    finally:
        await app.post_shutdown(app)
        await app.shutdown()
    return {"start": start, "end": end, "latencies": latencies}


def _worker(url: str, filings: int, user_base: int, barrier, warmup: int, results) -> None:
    results.put(asyncio.run(_instance(url, filings, user_base, barrier, warmup)))


async def _reset(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.session import Database

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    db = Database(url)
    await db.upgrade()
    await db.dispose()


def run(url: str, instances: int, filings: int, warmup: int) -> dict:
    asyncio.run(_reset(url))
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(instances), ctx.Queue()
    share = filings // instances
    processes = [ctx.Process(target=_worker, args=(url, share, 10_000_000 * (n + 1), barrier, warmup, results))
                 for n in range(instances)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    latencies = sorted(x for o in outcomes for x in o["latencies"])
    wall = max(o["end"] for o in outcomes) - min(o["start"] for o in outcomes)
    return {
        "instances": instances,
        "filings": share * instances,
        "updates": len(latencies),
        "seconds": round(wall, 2),
        "updates_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="a PostgreSQL URL whose database this may wipe")
    parser.add_argument("--filings", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    one = run(args.postgres, 1, args.filings, args.warmup)
    two = run(args.postgres, 2, args.filings, args.warmup)
    scaling = round(two["updates_per_s"] / one["updates_per_s"], 2)
    for r in (one, two):
        print(f"{r['instances']} instance(s): {r['filings']} filings, {r['updates']} updates in {r['seconds']} s = "
              f"{r['updates_per_s']} updates/s; p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms")
    print(f"scaling 1 → 2 instances: ×{scaling} on {machine()['nproc']} cores")
    emit({"machine": machine(), "one": one, "two": two, "scaling": scaling}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
