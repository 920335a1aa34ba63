"""The public pages and the open-data feed at scale: each page and feed page rendered over HTTP on localhost.

Seeds 1,000,000 cases (bench/supervision.py's INSERT … SELECT generator), keeps 10,000 dishonesty records
and adds 2,000 public register commitments, then serves the pages with the real aiohttp application
(bot.web.site) and times each request from a local client (one warm-up, then the median of --repeat).
The score pages read a per-month cache (bot.domain.disclosure.ScoreCache, 10 minutes) that the site refreshes
in the background for the last six months; the table shows each page's first request as well. Targets: ≤ 150 ms on PostgreSQL, ≤ 500 ms on SQLite.

    .venv/bin/python -m bench.web [--cases 1000000] [--postgres URL] [--repeat 5] [--no-docs]
    .venv/bin/python -m bench.web --seed-only --database URL   # seed a database you created, once
    .venv/bin/python -m bench.web --database URL                # measure it again (before/after a change)

With --database the named database (PostgreSQL or SQLite) is used as it is and never dropped: seed it once
(an hour and more at 1,000,000 cases), then measure as often as needed, e.g. before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench._common import ROOT, emit, machine  # noqa: E402
from bench.supervision import NOW, TZ, _pg_scratch, _ts, generate  # noqa: E402

RECORDS = 10_000
COMMITMENTS = 2_000
TARGET_MS = {"sqlite": 500.0, "postgresql": 150.0}
PAGES = [
    "/", "/records", "/records?department=d042", "/records?domain=debt&year=2026", "/records?page=100",
    "/commitments", "/commitments?department=d042", "/commitments/CN-2026-0042", "/departments",
    "/departments/d042", "/scores?month=2026-11", "/scores?month=2026-10",
    "/open-data/records.json", "/open-data/records.json?page=50&per_page=100", "/open-data/records.csv?per_page=500",
    "/open-data/commitments.json", "/open-data/commitments.csv?per_page=500", "/open-data/scores.json?month=2026-11",
]


async def shape(url: str) -> dict:
    """10,000 records (the newest), 2,000 public commitments with an open clock each."""
    from bot.db.session import Database

    db = Database(url)
    dialect = db.url.get_backend_name()
    async with db.engine.begin() as conn:
        keep = (await conn.execute(text(
            f"SELECT id FROM dishonesty_records ORDER BY created_at DESC LIMIT 1 OFFSET {RECORDS - 1}"))).scalar()
        if keep is not None:
            cutoff = (await conn.execute(text(f"SELECT created_at FROM dishonesty_records WHERE id = {keep}"))).scalar()
            await conn.execute(text("DELETE FROM dishonesty_records WHERE created_at < :c"), {"c": cutoff})
        now_epoch = int(NOW.timestamp())
        series = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {COMMITMENTS}) "
                  "SELECT i FROM s" if dialect == "sqlite"
                  else f"SELECT g.i AS i FROM generate_series(1, {COMMITMENTS}) AS g(i)")
        await conn.execute(text(
            "INSERT INTO commitments (case_id, department_id, content, due_on, status, created_at, ref, source, "
            "amount, is_public, domain, version) "
            f"SELECT NULL, 1 + i % 300, '兑现招商引资奖补资金 ' || i || ' 万元', "
            f"{'date(' + _ts(dialect, f'{now_epoch} + i * 3600') + ')' if dialect == 'sqlite' else 'to_timestamp(' + str(now_epoch) + ' + i * 3600)::date'}, "
            "CASE i % 4 WHEN 0 THEN 'fulfilled' WHEN 1 THEN 'broken' ELSE 'approved' END, "
            f"{_ts(dialect, f'{now_epoch} - i * 3600')}, 'CN-2026-' || substr('0000' || i, -4, 4), '招商协议', "
            "i * 10000, true, 'investment', 1 "
            f"FROM ({series}) x" if dialect == "sqlite" else
            "INSERT INTO commitments (case_id, department_id, content, due_on, status, created_at, ref, source, "
            "amount, is_public, domain, version) "
            f"SELECT NULL, 1 + i % 300, '兑现招商引资奖补资金 ' || i || ' 万元', "
            f"(to_timestamp({now_epoch} + i * 3600))::date, "
            "CASE i % 4 WHEN 0 THEN 'fulfilled' WHEN 1 THEN 'broken' ELSE 'approved' END, "
            f"to_timestamp({now_epoch} - i * 3600), 'CN-2026-' || lpad(i::text, 4, '0'), '招商协议', "
            "i * 10000, true, 'investment', 1 "
            f"FROM ({series}) x"))
        if dialect == "postgresql":
            await conn.execute(text(
                "SELECT setval(pg_get_serial_sequence('commitments', 'id'), (SELECT max(id) FROM commitments))"))
        await conn.execute(text("ANALYZE"))
        counts = {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                  for t in ("cases", "dishonesty_records", "commitments")}
    await db.dispose()
    return counts


async def measure(url: str, repeat: int) -> dict:
    import aiohttp
    from aiohttp import web

    from bot.clock import FrozenClock
    from bot.config import Settings
    from bot.db.session import Database
    from bot.domain.calendar_table import refresh_calendar_table
    from bot.domain.obligations import Deadlines
    from bot.domain.workdays import WorkCalendar
    from bot.policy import load_policy
    from bot.services import SERVICES_KEY, Services
    from bot.web.server import web_app

    db = Database(url)
    calendar = WorkCalendar.china()
    async with db.session() as session:
        await refresh_calendar_table(session=session, calendar=calendar, today=NOW.date(), now=NOW)
        await session.commit()
    policy = load_policy()
    settings = Settings(_env_file=None, DATABASE_URL=url, CHENGXIN_WEB=True, CHENGXIN_BOT_USERNAME="bench_bot")
    services = Services(settings=settings, db=db, clock=FrozenClock(NOW), triager=None, policy=policy,
                        deadlines=Deadlines(policy=policy, calendar=calendar, tz=TZ))
    application = SimpleNamespace(bot_data={SERVICES_KEY: services}, bot=SimpleNamespace(username="bench_bot"),
                                  running=True)
    app = web_app(application, pages=True)
    from bot.web.site import WEB

    app[WEB].feed_limit.limit = 10**9
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    # The site precomputes the last six months' scores in the background at start; wait for that pass.
    web_state = app[WEB]
    started = time.perf_counter()
    while len(web_state.scores._months) < web_state.warm_months:
        await asyncio.sleep(0.02)
    warm_ms = (time.perf_counter() - started) * 1000
    results: dict[str, dict] = {"_warm_scores": {"ms": warm_ms}}
    async with aiohttp.ClientSession() as http:
        for path in PAGES:
            runs = []
            for attempt in range(repeat + 1):
                started = time.perf_counter()
                async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                    body = await response.read()
                    status = response.status
                runs.append((time.perf_counter() - started) * 1000)
            results[path] = {"first_ms": runs[0], "median_ms": statistics.median(runs[1:]), "max_ms": max(runs[1:]),
                             "status": status, "bytes": len(body)}
    await runner.cleanup()
    await db.dispose()
    return results


async def existing_counts(url: str) -> dict:
    from bot.db.session import Database

    db = Database(url)
    await db.upgrade()  # a database seeded before a migration gets it, as a deployment would
    async with db.engine.begin() as conn:
        counts = {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                  for t in ("cases", "dishonesty_records", "commitments")}
    await db.dispose()
    return counts


def run(cases: int, postgres: str | None, repeat: int, database: str | None = None,
        seed_only: bool = False) -> dict:
    result: dict = {"machine": machine(), "cases": cases, "load": os.getloadavg()}
    if database:
        result["backend"] = "postgresql" if database.startswith("postgresql") else "sqlite"
        started = time.perf_counter()
        if seed_only:
            asyncio.run(generate(database, cases))
            result["counts"] = asyncio.run(shape(database))
        else:
            result["counts"] = asyncio.run(existing_counts(database))
        result["seed_s"] = time.perf_counter() - started
        if seed_only:
            return result
        result["pages"] = asyncio.run(measure(database, repeat))
        result["load_after"] = os.getloadavg()
    elif postgres:
        url = asyncio.run(_pg_scratch(postgres, True))
        try:
            started = time.perf_counter()
            asyncio.run(generate(url, cases))
            result["counts"] = asyncio.run(shape(url))
            result["seed_s"] = time.perf_counter() - started
            result["pages"] = asyncio.run(measure(url, repeat))
        finally:
            asyncio.run(_pg_scratch(postgres, False))
        result["backend"] = "postgresql"
    else:
        with tempfile.TemporaryDirectory(prefix="chengxin-bench-web-") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            started = time.perf_counter()
            asyncio.run(generate(url, cases))
            result["counts"] = asyncio.run(shape(url))
            result["seed_s"] = time.perf_counter() - started
            result["pages"] = asyncio.run(measure(url, repeat))
        result["backend"] = "sqlite"
    result.setdefault("load_after", os.getloadavg())
    result["target_ms"] = TARGET_MS[result["backend"]]
    result["met"] = all(p["median_ms"] <= result["target_ms"] and p["status"] == 200
                        for path, p in result["pages"].items() if not path.startswith("_"))
    return result


def report(r: dict) -> str:
    c = r["counts"]
    lines = [
        f"### {r['backend']}: {c['cases']:,} cases, {c['dishonesty_records']:,} records, "
        f"{c['commitments']:,} commitments",
        "",
        f"{r['machine']['nproc']} CPU ({r['machine']['cpu']}), {r['machine']['ram_gb']} GB RAM, "
        f"Python {r['machine']['python']}, {r['machine']['date']}"
        + (f"; seeded in {r['seed_s']:.0f} s" if r['seed_s'] > 60 else "; a database seeded beforehand")
        + f"; load average {r['load'][0]:.1f} before, {r['load_after'][0]:.1f} after. "
        "Times are whole HTTP requests from a client on the same host (loopback).",
        "",
        "| page | first request | median | max | size | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    warm = r["pages"].pop("_warm_scores", None)
    for path, p in r["pages"].items():
        ok = "MET" if p["median_ms"] <= r["target_ms"] and p["status"] == 200 else "NOT MET"
        lines.append(f"| `{path}` | {p['first_ms']:.0f} ms | {p['median_ms']:.0f} ms | {p['max_ms']:.0f} ms | "
                     f"{p['bytes'] / 1024:.0f} KB | ≤ {r['target_ms']:.0f} ms: {ok} |")
    if warm:
        lines += ["", f"Scores of the last six months, precomputed in the background when the site starts "
                      f"(and every five minutes): {warm['ms'] / 1000:.1f} s for the six."]
    lines.append("")
    return "\n".join(lines)


def append_to_docs(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    existing = path.read_text(encoding="utf-8")
    heading = "## Web pages and open data"
    if heading not in existing:
        existing = existing.rstrip("\n") + "\n\n" + heading + "\n\n" + __doc__.split("\n\n", 1)[1].strip() + "\n"
    path.write_text(existing.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", metavar="URL", help="an existing database: never dropped (see --seed-only)")
    parser.add_argument("--seed-only", action="store_true", help="with --database: seed it and stop")
    parser.add_argument("--json")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.cases, args.postgres, args.repeat, args.database, args.seed_only)
    if args.seed_only:
        print(result["counts"], f"seeded in {result['seed_s']:.0f} s")
        return 0
    section = report(result)
    print(section)
    emit(result, args.json)
    if not args.no_docs:
        append_to_docs(section)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
