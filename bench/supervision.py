"""Supervision at scale: /stats, /overdue and /score domain queries, and the monthly workbook's peak memory.

Generates N cases (default 200,000 on SQLite; 1,000,000 with --postgres) across 300 departments, with
their clocks (accept, reply), audit events (create, assign, closing, reopen), ratings and dishonesty
records, by INSERT … SELECT over a generated series — no ORM objects. Then it times each query (one
warm-up, then the median of --repeat runs, each in a fresh session) and builds the monthly workbook under
tracemalloc. Targets: each query under 2 s on SQLite and under 300 ms on PostgreSQL; workbook peak under
300 MB. With --postgres URL it creates (and afterwards drops) a scratch database next to the one named.

    .venv/bin/python -m bench.supervision [--cases 200000] [--postgres URL [--keep]] [--repeat 5] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench._common import ROOT, emit, machine  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
START_EPOCH = int(datetime(2025, 6, 1, tzinfo=TZ).timestamp())
NOW_EPOCH = int(NOW.timestamp())
DAY = 86400
DEPARTMENTS = 300
DOMAINS = ("procurement", "ppp", "bidding", "investment", "debt", "statistics", "township", "judgment", "conduct")
TARGET_MS = {"sqlite": 2000.0, "postgresql": 300.0}
WORKBOOK_TARGET_MB = 300.0


def _ts(dialect: str, expr: str) -> str:
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f', {expr}, 'unixepoch')"
    return f"to_timestamp({expr})"


def _end_of_day(expr: str) -> str:
    """Deadlines fall at 23:59:59 local time (UTC+8), as the bot sets them."""
    return f"((({expr}) + 28800) / {DAY}) * {DAY} + {DAY - 1} - 28800"


def _series(dialect: str, n: int) -> str:
    """Rows (i, h, c, dur, closed, dept) for i in 1..n: h a hash, c the filing epoch, closed 0/1."""
    span = NOW_EPOCH - START_EPOCH - 3 * DAY
    source = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"
              if dialect == "sqlite" else f"SELECT g.i::bigint AS i FROM generate_series(1, {n}) AS g(i)")
    return (
        f"SELECT i, h, c, dur, dept, CASE WHEN h % 10 < 9 AND c + dur < {NOW_EPOCH} THEN 1 ELSE 0 END AS closed "
        f"FROM (SELECT i, h, {START_EPOCH} + (i * {span}) / {n} AS c, (3 + (h / 10) % 40) * {DAY} + 3600 AS dur, "
        f"1 + h % {DEPARTMENTS} AS dept FROM (SELECT i, (i * 2654435761) % 1000003 AS h FROM ({source}) src) a) b"
    )


def _domain_case() -> str:
    return "CASE i % 9 " + " ".join(f"WHEN {k} THEN '{d}'" for k, d in enumerate(DOMAINS)) + " END"


async def generate(url: str, n: int) -> dict[str, float]:
    from bot.db.session import Database

    db = Database(url)
    await db.upgrade()
    dialect = db.url.get_backend_name()
    ts = lambda e: _ts(dialect, e)  # noqa: E731
    series = _series(dialect, n)
    timings: dict[str, float] = {}
    async with db.engine.begin() as conn:
        started = time.perf_counter()
        await conn.execute(text(
            "INSERT INTO departments (id, code, name, kind, parent_code, region, active) VALUES "
            "(:id, :code, :name, 'bureau', NULL, :region, :active)"),
            [{"id": k, "code": f"d{k:03d}", "name": f"部门{k:03d}", "region": f"r{k % 10}", "active": True}
             for k in range(1, DEPARTMENTS + 1)])
        await conn.execute(text(
            f"INSERT INTO accounts (id, telegram_id, role, is_head, unreachable, created_at, last_seen_at) "
            f"VALUES (1, 1, 'citizen', false, false, {ts(str(START_EPOCH))}, {ts(str(START_EPOCH))})"))
        closed_at = ts("c + dur")
        await conn.execute(text(
            "INSERT INTO cases (id, ref, status, domain, domain_confidence, domain_terms, suggested_domain, "
            "department_id, complainant_id, text, text_masked, text_search, contact_allowed, created_at, updated_at, closed_at, "
            "outcome, reopen_count, satisfaction, satisfaction_at) "
            f"SELECT i, 'BM-' || i, CASE WHEN closed = 1 THEN 'closed' WHEN h % 3 = 0 THEN 'assigned' "
            f"ELSE 'in_progress' END, {_domain_case()}, 0.9, '[]', {_domain_case()}, dept, 1, "
            f"'拖欠工程款的投诉 ' || i, '拖欠工程款的投诉 ' || i, '拖欠工程款的投诉 ' || i, false, {ts('c')}, {ts('c')}, "
            f"CASE WHEN closed = 1 THEN {closed_at} END, "
            "CASE WHEN closed = 1 THEN CASE WHEN h % 20 = 0 THEN 'substantiated' WHEN h % 20 = 1 THEN 'tolerated' "
            "ELSE 'unsubstantiated' END END, CASE WHEN h % 50 = 2 THEN 1 ELSE 0 END, "
            # 'basically_satisfied' (19 characters) does not fit Case.satisfaction (String(16)) on PostgreSQL.
            "CASE WHEN closed = 1 AND h % 5 < 3 THEN CASE WHEN h % 3 < 2 THEN 'satisfied' "
            "ELSE 'unsatisfied' END END, "
            f"CASE WHEN closed = 1 AND h % 5 < 3 THEN {ts(f'c + dur + {7 * DAY}')} END "
            f"FROM ({series}) x"))
        timings["cases_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute(text(
            "INSERT INTO obligations (case_id, commitment_id, kind, department_id, due_at, state, created_at, "
            "closed_at) "
            f"SELECT i, NULL, 'accept', dept, {ts(_end_of_day(f'c + {2 * DAY}'))}, CASE WHEN h % 7 = 0 THEN 'missed' ELSE 'met' "
            f"END, {ts('c')}, {ts(f'c + CASE WHEN h % 7 = 0 THEN {4 * DAY} ELSE {DAY} END')} FROM ({series}) x"))
        await conn.execute(text(
            "INSERT INTO obligations (case_id, commitment_id, kind, department_id, due_at, state, created_at, "
            "closed_at) "
            f"SELECT i, NULL, 'reply', dept, {ts(_end_of_day(f'c + {14 * DAY}'))}, CASE WHEN closed = 0 THEN 'open' "
            f"WHEN dur > {14 * DAY} THEN 'missed' ELSE 'met' END, {ts('c')}, "
            f"CASE WHEN closed = 1 THEN {closed_at} END FROM ({series}) x"))
        timings["obligations_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for seq, action, at, where in (
            (1, "create", "c", "1 = 1"),
            (2, "assign", "c + 3600", "1 = 1"),
            (3, "verify", "c + dur", "closed = 1 AND h % 20 <> 1"),
            (3, "tolerate", "c + dur", "closed = 1 AND h % 20 = 1"),
            (4, "reopen", f"c + dur + {8 * DAY}", f"closed = 1 AND h % 50 = 2 AND c + dur + {8 * DAY} < {NOW_EPOCH}"),
        ):
            await conn.execute(text(
                "INSERT INTO case_events (case_id, seq, action, actor_id, actor_role, from_status, to_status, note, "
                f"created_at, prev_hash, hash) SELECT i, {seq}, '{action}', NULL, 'system', NULL, NULL, NULL, "
                f"{ts(at)}, '', '' FROM ({series}) x WHERE {where}"))
        timings["events_s"] = time.perf_counter() - started
        await conn.execute(text(
            "INSERT INTO dishonesty_records (case_id, commitment_id, department_id, domain, summary, status, "
            "created_at) "
            f"SELECT i, NULL, dept, {_domain_case()}, '拖欠工程款', CASE h % 7 WHEN 0 THEN 'repaired' "
            f"WHEN 1 THEN 'revoked' WHEN 2 THEN 'objection_pending' ELSE 'active' END, {closed_at} "
            f"FROM ({series}) x WHERE closed = 1 AND h % 20 = 0"))
        if dialect == "postgresql":
            for table in ("cases", "departments", "accounts", "obligations", "case_events", "dishonesty_records"):
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    if dialect == "postgresql":
        # Fresh bulk-loaded tables: set the visibility map (index-only scans) as autovacuum would.
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    async with db.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
        counts = {}
        for table in ("cases", "obligations", "case_events", "dishonesty_records"):
            counts[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
    await db.dispose()
    timings.update({f"rows_{k}": v for k, v in counts.items()})
    return timings


async def measure(url: str, repeat: int) -> dict:
    from bot.db.session import Database
    from bot.domain.calendar_table import refresh_calendar_table
    from bot.domain.reports import monthly_review
    from bot.domain.scores import department_scores
    from bot.domain.stats import month_period, monthly_trend, overdue_by_department, period_stats
    from bot.domain.workdays import WorkCalendar

    db = Database(url)
    calendar = WorkCalendar.china()
    async with db.session() as session:  # as the bot does at start
        await refresh_calendar_table(session=session, calendar=calendar, today=NOW.date(), now=NOW)
        await session.commit()
    period = month_period(2026, 11, TZ)
    queries = {
        "stats": lambda s: period_stats(session=s, period=period, region=None),
        "stats_chart_data": lambda s: monthly_trend(session=s, period=period, region=None),
        "overdue": lambda s: overdue_by_department(session=s, now=NOW, region=None, calendar=calendar, tz=TZ),
        "overdue_region": lambda s: overdue_by_department(session=s, now=NOW, region="r3", calendar=calendar, tz=TZ),
        "score": lambda s: department_scores(session=s, period=period, now=NOW, region=None, calendar=calendar),
        "score_one": lambda s: department_scores(session=s, period=period, now=NOW, region=None, calendar=calendar,
                                                 department_ids=[42]),
    }
    results: dict[str, dict] = {}
    for name, query in queries.items():
        runs = []
        for attempt in range(repeat + 1):
            async with db.session() as session:
                started = time.perf_counter()
                await query(session)
                elapsed = (time.perf_counter() - started) * 1000
            if attempt:
                runs.append(elapsed)
        results[name] = {"median_ms": statistics.median(runs), "max_ms": max(runs)}

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    async with db.session() as session:
        review = await monthly_review(session=session, period=period, now=NOW, region=None, calendar=calendar)
    workbook_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await db.dispose()
    return {
        "queries": results,
        "workbook": {
            "seconds": workbook_s, "bytes": len(review.workbook or b""), "overdue_rows": review.overdue,
            "tracemalloc_peak_mb": peak / 1024 / 1024, "rss_peak_mb": rss_after, "rss_before_mb": rss_before,
        },
    }


async def _pg_scratch(url: str, create: bool) -> str:
    """A scratch database beside the given one (dropped afterwards); returns its URL."""
    base = make_url(url)
    scratch = "chengxin_bench_supervision"
    engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        if create:
            await conn.execute(text(f"CREATE DATABASE {scratch}"))
    await engine.dispose()
    return base.set(database=scratch).render_as_string(hide_password=False)


def run(cases: int, postgres: str | None, repeat: int, keep: bool = False) -> dict:
    result: dict = {"machine": machine(), "cases": cases, "departments": DEPARTMENTS}
    if postgres:
        url = asyncio.run(_pg_scratch(postgres, True))
        try:
            result["generate"] = asyncio.run(generate(url, cases))
            result.update(asyncio.run(measure(url, repeat)))
        finally:
            if not keep:
                asyncio.run(_pg_scratch(postgres, False))
        result["backend"] = "postgresql"
    else:
        with tempfile.TemporaryDirectory(prefix="chengxin-bench-supervision-") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            result["generate"] = asyncio.run(generate(url, cases))
            result.update(asyncio.run(measure(url, repeat)))
        result["backend"] = "sqlite"
    target = TARGET_MS[result["backend"]]
    result["target_ms"] = target
    result["queries_met"] = all(q["median_ms"] < target for q in result["queries"].values())
    result["workbook_met"] = result["workbook"]["tracemalloc_peak_mb"] < WORKBOOK_TARGET_MB
    return result


def report(r: dict) -> str:
    g = r["generate"]
    lines = [
        f"### {r['backend']}: {r['cases']:,} cases, {r['departments']} departments",
        "",
        f"{r['machine']['nproc']} CPU ({r['machine']['cpu']}), {r['machine']['ram_gb']} GB RAM, "
        f"Python {r['machine']['python']}, {r['machine']['date']}. Generated {g['rows_cases']:,} cases, "
        f"{g['rows_obligations']:,} clocks, {g['rows_case_events']:,} events, "
        f"{g['rows_dishonesty_records']:,} records in {g['cases_s'] + g['obligations_s'] + g['events_s']:.0f} s.",
        "",
        f"| query (period 2026-11) | median | max | target |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, q in r["queries"].items():
        ok = "MET" if q["median_ms"] < r["target_ms"] else "NOT MET"
        lines.append(f"| {name} | {q['median_ms']:.0f} ms | {q['max_ms']:.0f} ms | < {r['target_ms']:.0f} ms: {ok} |")
    w = r["workbook"]
    ok = "MET" if r["workbook_met"] else "NOT MET"
    lines += [
        "",
        f"Monthly workbook: {w['seconds']:.1f} s, {w['bytes'] / 1024 / 1024:.1f} MB, {w['overdue_rows']:,} overdue "
        f"rows; Python peak (tracemalloc) {w['tracemalloc_peak_mb']:.1f} MB (< {WORKBOOK_TARGET_MB:.0f} MB: {ok}); "
        f"process max RSS {w['rss_peak_mb']:.0f} MB (was {w['rss_before_mb']:.0f} MB before the workbook).",
        "",
    ]
    return "\n".join(lines)


def append_to_docs(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    heading = "## Supervision"
    if heading not in existing:
        existing = existing.rstrip("\n") + "\n\n" + heading + "\n\n" + (
            "`bench/supervision.py`: the /stats, /overdue and /score domain queries and the monthly workbook "
            "over generated data (INSERT … SELECT; 300 departments, two clocks and 2–4 audit events per case, "
            "about 85 % closed, with ratings and dishonesty records; deadlines at the end of a local day as the bot sets them). Each figure is the median of 5 runs after a warm-up, "
            "each run in a fresh session.\n\n"
            "```sh\n.venv/bin/python -m bench.supervision                      # SQLite, 200,000 cases\n"
            ".venv/bin/python -m bench.supervision --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
            "  # 1,000,000 cases in a scratch database\n```\n"
        )
    path.write_text(existing.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.supervision", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, help="cases to generate (default 200,000; 1,000,000 with --postgres)")
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL (a scratch database is created)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL scratch database afterwards (for EXPLAIN ANALYZE)")
    parser.add_argument("--json", help="write the result as JSON")
    parser.add_argument("--no-docs", action="store_true", help="do not append the figures to docs/benchmarks.md")
    args = parser.parse_args(argv)
    cases = args.cases or (1_000_000 if args.postgres else 200_000)
    result = run(cases, args.postgres, args.repeat, args.keep)
    section = report(result)
    print(section)
    emit(result, args.json)
    if not args.no_docs:
        append_to_docs(section)
    return 0 if result["queries_met"] and result["workbook_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
