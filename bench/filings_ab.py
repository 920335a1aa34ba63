"""Chengxin and the floors of bench/filings.py measured in turns, in one process: a ratio a busy machine skews less.

`python -m bench.filings` measures Chengxin, then each floor, one after the other; on a machine that something
else is using, the load moves between those runs and their ratio moves with it (2026-12-01: 1.15× to 3.1× in
six runs of the same code). Here each takes short turns — a few filings, then as many floor conversations (9
updates each, about a filing's 8.6) — round after round in rotating order, so all see the same load; the
ratios are of the totals, in wall time and in CPU time. Same harness, database kind and checks as
bench/filings.py (each filing must end in 已立案).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, machine  # noqa: E402
from bench.filings import CORE_FLOOR_TARGET, TEXTS, _file, _settings, floor_app, floor_conversation  # noqa: E402
from bot.gc_tuning import settle_after_start  # noqa: E402

KINDS = ("chengxin", "core", "orm")


async def measure(rounds: int, per_turn: int, directory: Path) -> dict:
    from bot.app import build_application
    from bot.simulator import Chat, LocalRequest
    from nlp import Classifier

    classifier = Classifier.default()
    classifier.classify(TEXTS[0])  # jieba loaded before anything is timed
    request = LocalRequest()
    app = build_application(_settings(f"sqlite+aiosqlite:///{directory / 'chengxin.db'}"), request=request,
                            classifier=classifier)
    await app.initialize()
    await app.post_init(app)
    floors = {kind: await floor_app(f"sqlite+aiosqlite:///{directory / kind}.db", kind) for kind in ("core", "orm")}
    users = itertools.count(3_000_000_000 + random.randrange(1_000_000_000))
    filed = itertools.count()

    async def chengxin_turn() -> int:
        updates = 0
        for _ in range(per_turn):
            chat = Chat(app, next(users))
            await _file(chat, TEXTS[next(filed) % len(TEXTS)])
            updates += len(chat.sent_updates)
            request.clear()
        return updates

    def floor_turn(kind: str):
        floor, _db = floors[kind]

        async def turn() -> int:
            updates = 0
            for _ in range(per_turn):
                chat = Chat(floor, next(users))
                await floor_conversation(chat)
                updates += len(chat.sent_updates)
                floor.bot.request.clear()
            return updates
        return turn

    turns = {"chengxin": chengxin_turn, "core": floor_turn("core"), "orm": floor_turn("orm")}
    totals = {kind: {"updates": 0, "seconds": 0.0, "cpu_seconds": 0.0} for kind in KINDS}
    try:
        for number in range(rounds + 1):  # round 0 warms everything up and is not counted
            shift = number % len(KINDS)
            settle_after_start()  # as `chengxin run` does once started (bot/gc_tuning.py)
            for kind in KINDS[shift:] + KINDS[:shift]:
                start, start_cpu = time.perf_counter(), time.process_time()
                updates = await turns[kind]()
                if number:
                    total = totals[kind]
                    total["updates"] += updates
                    total["seconds"] += time.perf_counter() - start
                    total["cpu_seconds"] += time.process_time() - start_cpu
    finally:
        await app.post_shutdown(app)
        await app.shutdown()
        for floor, db in floors.values():
            await floor.shutdown()
            await db.dispose()
    for total in totals.values():
        total["ms_per_update"] = round(total["seconds"] / total["updates"] * 1000, 3)
        total["cpu_ms_per_update"] = round(total["cpu_seconds"] / total["updates"] * 1000, 3)
        total["seconds"], total["cpu_seconds"] = round(total["seconds"], 3), round(total["cpu_seconds"], 3)
    chengxin = totals["chengxin"]
    chengxin["filings_per_s"] = round(rounds * per_turn / chengxin["seconds"], 1)
    for kind in ("core", "orm"):
        chengxin[f"ratio_to_{kind}_floor"] = round(chengxin["ms_per_update"] / totals[kind]["ms_per_update"], 2)
        chengxin[f"cpu_ratio_to_{kind}_floor"] = round(
            chengxin["cpu_ms_per_update"] / totals[kind]["cpu_ms_per_update"], 2)
    return totals


def run(rounds: int = 30, per_turn: int = 5) -> dict:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-") as tmp:
        totals = asyncio.run(measure(rounds, per_turn, Path(tmp)))
    return {"benchmark": "filings_ab", "machine": machine(), "rounds": rounds, "per_turn": per_turn, **totals,
            "core_target_met": totals["chengxin"]["ratio_to_core_floor"] <= CORE_FLOOR_TARGET}


def report(r: dict) -> None:
    c = r["chengxin"]
    print(f"filings_ab: {r['rounds']} rounds of {r['per_turn']} filings / floor conversations each, in turns")
    for kind in KINDS:
        t = r[kind]
        print(f"  {kind:<9} {t['updates']:>6} updates  {t['ms_per_update']:.3f} ms/update  "
              f"(CPU {t['cpu_ms_per_update']:.3f})")
    print(f"  chengxin {c['filings_per_s']} filings/s in its turns")
    print(f"  chengxin / Core floor = {c['ratio_to_core_floor']}x (CPU {c['cpu_ratio_to_core_floor']}x)   "
          f"target <= {CORE_FLOOR_TARGET}x: {'MET' if r['core_target_met'] else 'NOT MET'}")
    print(f"  chengxin / ORM floor  = {c['ratio_to_orm_floor']}x (CPU {c['cpu_ratio_to_orm_floor']}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-turn", type=int, default=5, help="filings (or floor conversations) per turn")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args.rounds, args.per_turn)
    report(result)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
