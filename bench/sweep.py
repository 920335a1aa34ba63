"""One reminder sweep over a large backlog: claiming the due rungs, writing the digests, delivering them.

Data: 100,000 open obligations (one case each) spread over 200 departments with one official each;
every obligation has 5 pending future rungs (before T-1, due, overdue, escalate_head,
escalate_supervisors, all after `now`), and 2,000 of them also have a "before" rung due at 09:00 —
502,000 reminder rows. Rows are generated in the database with INSERT … SELECT (SQLite: a recursive
CTE; PostgreSQL: generate_series), the small tables with executemany.

Measured, with the real Application (`build_application`, LocalRequest, FrozenClock at Monday
2026-11-30 09:00:30 Asia/Shanghai, rate limiter off):

- select: the claim's `SELECT … FOR UPDATE SKIP LOCKED` alone, in a transaction that is rolled back;
- claim: `claim_due_reminders` in one session, then COMMIT (the due rungs are reset between trials);
- dispatch: `reminder_sweep_job` with its final `deliver_owed_messages` replaced by a no-op, i.e.
  claim + recipients + one digest per official into `outbound_messages` + COMMIT; once with the
  day's morning digest (which lists all 100,000 open clocks) and then without it;
- delivery: `reminder_sweep_job` again with nothing left to claim, i.e. `deliver_owed_messages`
  sending the owed digests through LocalRequest.

With --postgres URL the same runs against that database, and EXPLAIN (ANALYZE, BUFFERS) of the claim
query is printed. THE DATABASE IS EMPTIED (schema public dropped and re-created): use a throwaway
database (e.g. `createdb -h 127.0.0.1 -U postgres chengxin_bench_sweep`), never `test`.

Target: claim < 200 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, machine  # noqa: E402

TARGET_CLAIM_MS_PG = 200.0
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 9, 0, 30, tzinfo=SHANGHAI)  # a Monday, just after the 09:00 rungs
FUTURE_STAGES = (("before", -1, -1), ("due", 0, 0), ("overdue", 1, 1), ("escalate_head", 3, 3),
                 ("escalate_supervisors", 5, 5))  # (stage, overdue_days, days after due_at)
REFUSED_DATABASES = {"test", "postgres", "template0", "template1"}


# --- data -------------------------------------------------------------------------------------

class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL in the generators."""

    def __init__(self, is_sqlite: bool) -> None:
        self.sqlite = is_sqlite

    def series(self, n: int) -> tuple[str, str]:
        """(WITH prefix, FROM clause) yielding i = 1..n."""
        if self.sqlite:
            return (f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) ", "g")
        return "", f"generate_series(1, {n}) AS g(i)"

    def ts(self, base: datetime, seconds_expr: str) -> str:
        """base + seconds_expr seconds, stored the way UTCDateTime stores it."""
        utc = base.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if self.sqlite:
            return f"strftime('%Y-%m-%d %H:%M:%S.000000', '{utc}', printf('%+d seconds', {seconds_expr}))"
        return f"(TIMESTAMPTZ '{utc}+00' + ({seconds_expr}) * INTERVAL '1 second')"

    def json(self, literal: str) -> str:
        return f"'{literal}'" if self.sqlite else f"CAST('{literal}' AS json)"


async def populate(engine, *, now: datetime, obligations: int, due: int, departments: int,
                   future_rungs: bool = True, tag: str = "bench") -> dict:
    """Departments with one official each, one case + one open obligation per clock, its rungs.

    Obligation i (1-based) belongs to department (i-1) % departments; obligations 1..due have a
    "before" rung due at `now` minus 30 s; all have the 5 future rungs when `future_rungs`.
    Returns {"department_ids": [...], "official_telegram_ids": [...], "rows": {...}}.
    """
    from sqlalchemy import func, insert, select, text

    from bot.db.models import Account, Department, Obligation, Reminder

    q = _Sql(engine.url.get_backend_name() == "sqlite")
    day = 86_400
    rows: dict[str, int] = {}
    async with engine.begin() as conn:
        base_dept = (await conn.scalar(select(func.max(Department.id)))) or 0
        await conn.execute(insert(Department), [
            {"code": f"{tag}-{n:05d}", "name": f"基准测试部门{n:05d}", "kind": "bureau", "parent_code": None,
             "region": "基准", "active": True} for n in range(departments)])
        dept_ids = list((await conn.scalars(
            select(Department.id).where(Department.id > base_dept).order_by(Department.id))).all())
        base_acc = (await conn.scalar(select(func.max(Account.id)))) or 0
        tg_base = 8_000_000_000
        await conn.execute(insert(Account).values(telegram_id=tg_base, role="citizen", is_head=False,
                                                  unreachable=False, created_at=now, last_seen_at=now))
        await conn.execute(insert(Account), [
            {"telegram_id": tg_base + 1 + n, "role": "official", "department_id": d, "is_head": n % 2 == 0,
             "unreachable": False, "full_name": f"办事员{n}", "created_at": now, "last_seen_at": now}
            for n, d in enumerate(dept_ids)])
        citizen_id = await conn.scalar(select(Account.id).where(Account.telegram_id == tg_base))
        first_dept = dept_ids[0]
        if dept_ids != list(range(first_dept, first_dept + departments)):
            raise RuntimeError("department ids are not contiguous; the generators assume they are")

        base_case = (await conn.scalar(text("SELECT COALESCE(MAX(id), 0) FROM cases"))) or 0
        with_, from_ = q.series(obligations)
        created = q.ts(now, "-30 * 86400")
        await conn.execute(text(
            f"{with_}INSERT INTO cases (ref, status, domain, domain_confidence, domain_terms, suggested_domain, "
            f"department_id, complainant_id, text, text_masked, contact_allowed, created_at, updated_at, reopen_count) "
            f"SELECT 'BM-20261127-' || i, 'in_progress', 'debt', 1.0, {q.json('[]')}, 'debt', "
            f"{first_dept} + (i - 1) % {departments}, {citizen_id}, '拖欠工程款', '拖欠工程款', FALSE, "
            f"{created}, {created}, 0 FROM {from_}"))
        # due_at: the due ones 3 days ahead (their T-3 rung is today), the rest 4..43 days ahead.
        due_at = q.ts(now, f"(CASE WHEN i <= {due} THEN 3 ELSE 4 + i % 40 END) * {day} + 8 * 3600")
        await conn.execute(text(
            f"{with_}INSERT INTO obligations (case_id, kind, department_id, due_at, state, created_at) "
            f"SELECT {base_case} + i, 'reply', {first_dept} + (i - 1) % {departments}, {due_at}, 'open', {created} "
            f"FROM {from_}"))
        base_obl = await conn.scalar(select(func.min(Obligation.id)).where(Obligation.case_id == base_case + 1))
        rows["cases"] = rows["obligations"] = obligations
        if due:
            with_d, from_d = q.series(due)
            await conn.execute(text(
                f"{with_d}INSERT INTO reminders (obligation_id, stage, overdue_days, send_at, state, created_at) "
                f"SELECT {base_obl} - 1 + i, 'before', -3, {q.ts(now, '-30')}, 'pending', {created} FROM {from_d}"))
        rows["due_rungs"] = due
        if future_rungs:
            for stage, overdue_days, after in FUTURE_STAGES:
                send_at = q.ts(now, f"(CASE WHEN i <= {due} THEN 3 ELSE 4 + i % 40 END) * {day} + {after} * {day} - 30")
                await conn.execute(text(
                    f"{with_}INSERT INTO reminders (obligation_id, stage, overdue_days, send_at, state, created_at) "
                    f"SELECT {base_obl} - 1 + i, '{stage}', {overdue_days}, {send_at}, 'pending', {created} "
                    f"FROM {from_}"))
            rows["future_rungs"] = obligations * len(FUTURE_STAGES)
        check = await conn.scalar(select(func.count(Reminder.id)).where(Reminder.state == "pending",
                                                                          Reminder.send_at <= now))
        if check != due:
            raise RuntimeError(f"expected {due} due rungs, the database has {check}")
    return {"department_ids": dept_ids, "official_telegram_ids": [tg_base + 1 + n for n in range(departments)],
            "rows": rows}


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = make_url(url).database
    if not name or name in REFUSED_DATABASES:
        raise SystemExit(f"refusing to empty database {name!r}: give a throwaway database of your own")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def settings(database_url: str, **extra):
    from bot.config import Settings

    return Settings(_env_file=None, **{
        "DATABASE_URL": database_url,
        "CHENGXIN_SUPERVISORS": "",
        "CHENGXIN_RATE_LIMIT": False,
        "CHENGXIN_LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": "",
        **extra,
    })


# --- the measurements -------------------------------------------------------------------------

def _claim_statement(now: datetime, limit: int = 2000):
    """The statement claim_due_reminders runs (bot/domain/reminders.py), for timing it alone and EXPLAIN."""
    from sqlalchemy import select

    from bot.db.models import Reminder

    return (select(Reminder).where(Reminder.state == "pending", Reminder.send_at <= now)
            .order_by(Reminder.send_at, Reminder.id).limit(limit).with_for_update(skip_locked=True))


async def _reset_due(db, now: datetime) -> None:
    from sqlalchemy import delete, update

    from bot.db.models import OutboundMessage, Reminder

    async with db.session() as session:
        await session.execute(update(Reminder).where(Reminder.send_at <= now)
                              .values(state="pending", dispatched_at=None))
        await session.execute(delete(OutboundMessage))
        await session.commit()
    if not db.is_sqlite:
        # The resets rewrite the same 2,000 rows every trial; without a vacuum their dead versions pile up
        # (the state column is indexed, so no HOT updates) and each trial's UPDATEs walk more of them.
        # In production a rung is updated once; autovacuum cleans up behind. Untimed, like the reset.
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM reminders, outbound_messages")


async def _explain(db, now: datetime) -> tuple[str, bool]:
    from sqlalchemy.dialects import postgresql

    stmt = _claim_statement(now)
    compiled = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": False})
    sql = compiled.string
    params = compiled.params
    # pyformat -> the literal values (a timestamptz and an int), for an EXPLAIN the server can plan
    def literal(v) -> str:
        if isinstance(v, datetime):
            return f"TIMESTAMPTZ '{v.astimezone(timezone.utc).isoformat()}'"
        return f"'{v}'" if isinstance(v, str) else str(v)

    literal = {k: literal(v) for k, v in params.items()}
    sql = sql % literal
    async with db.engine.connect() as conn:
        trans = await conn.begin()
        plan = [row[0] for row in (await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql)).all()]
        await trans.rollback()
    text_plan = "\n".join(plan)
    return sql + "\n" + text_plan, "ix_reminders_state_send_at" in text_plan


async def backend_run(url: str, *, obligations: int, due: int, departments: int, trials: int) -> dict:
    from sqlalchemy import func, select, text

    import scheduler.reminders as sweep_module
    from bot.app import build_application
    from bot.clock import FrozenClock
    from bot.db.models import OutboundMessage, Reminder
    from bot.domain.reminders import claim_due_reminders
    from bot.services import SERVICES_KEY
    from bot.simulator import LocalRequest

    request = LocalRequest()
    clock = FrozenClock(NOW)
    app = build_application(settings(url), request=request, clock=clock)
    await app.initialize()
    await app.post_init(app)
    svc = app.bot_data[SERVICES_KEY]
    db = svc.db
    out: dict = {"backend": db.url.get_backend_name()}
    try:
        t0 = time.perf_counter()
        data = await populate(db.engine, now=NOW, obligations=obligations, due=due, departments=departments)
        out["populate_s"] = round(time.perf_counter() - t0, 2)
        if not db.is_sqlite:
            async with db.engine.begin() as conn:  # what autovacuum would do shortly after such a load
                await conn.exec_driver_sql("ANALYZE")
        async with db.session() as session:
            out["rows"] = {**data["rows"], "reminders_total": await session.scalar(select(func.count(Reminder.id)))}

        # 1. the SELECT … FOR UPDATE SKIP LOCKED alone (rolled back), and the whole claim + COMMIT
        select_ms, claim_ms = [], []
        for _ in range(trials):
            await _reset_due(db, NOW)
            async with db.session() as session:
                t = time.perf_counter()
                got = (await session.scalars(_claim_statement(NOW))).all()
                select_ms.append((time.perf_counter() - t) * 1000)
                await session.rollback()
            if len(got) != due:
                raise RuntimeError(f"select returned {len(got)} rows, expected {due}")
            await _reset_due(db, NOW)
            async with db.session() as session:
                t = time.perf_counter()
                items = await claim_due_reminders(session=session, now=NOW, deadlines=svc.deadlines)
                await session.commit()
                claim_ms.append((time.perf_counter() - t) * 1000)
            if len(items) != due:
                raise RuntimeError(f"claimed {len(items)} items, expected {due}")
        out["select_ms"] = {"min": round(min(select_ms), 1), "median": round(statistics.median(select_ms), 1),
                            "all": [round(x, 1) for x in select_ms]}
        out["claim_ms"] = {"min": round(min(claim_ms), 1), "median": round(statistics.median(claim_ms), 1),
                           "all": [round(x, 1) for x in claim_ms]}
        if not db.is_sqlite:
            await _reset_due(db, NOW)
            out["explain"], out["index_used"] = await _explain(db, NOW)

        # 2. dispatch: the job without its delivery
        job = app.job_queue.get_jobs_by_name("reminder_sweep_job")[0]
        real_deliver = sweep_module.deliver_owed_messages

        async def no_delivery(context, **kwargs) -> int:
            return 0

        sweep_module.deliver_owed_messages = no_delivery
        try:
            dispatch = []
            for trial in range(trials + 1):  # the first includes the morning digest (first sweep of the day)
                await _reset_due(db, NOW)
                t = time.perf_counter()
                await job.run(app)
                dispatch.append((time.perf_counter() - t) * 1000)
                async with db.session() as session:
                    digests = await session.scalar(select(func.count(OutboundMessage.id)))
                    dispatched = await session.scalar(
                        select(func.count(Reminder.id)).where(Reminder.state == "dispatched"))
                if dispatched != due:
                    raise RuntimeError(f"dispatch: {dispatched} rungs dispatched, expected {due}")
        finally:
            sweep_module.deliver_owed_messages = real_deliver
        out["dispatch_with_morning_digest_ms"] = round(dispatch[0], 1)
        out["dispatch_ms"] = {"min": round(min(dispatch[1:]), 1), "median": round(statistics.median(dispatch[1:]), 1),
                              "all": [round(x, 1) for x in dispatch[1:]]}
        out["digests"] = digests

        # 3. delivery of those digests: the job again, nothing left to claim
        request.clear()
        t = time.perf_counter()
        await job.run(app)
        delivery_s = time.perf_counter() - t
        sent = len(request.sent(method="sendMessage"))
        if sent != digests:
            raise RuntimeError(f"delivered {sent} of {digests} digests")
        out["delivery_ms"] = round(delivery_s * 1000, 1)
        out["delivery_per_message_ms"] = round(delivery_s * 1000 / sent, 2)
    finally:
        await app.post_shutdown(app)
        await app.shutdown()
    return out


def run(obligations: int = 100_000, due: int = 2_000, departments: int = 200, trials: int = 5,
        postgres: str | None = None) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING)
    results: dict = {"benchmark": "sweep", "machine": machine(),
                     "obligations": obligations, "due": due, "departments": departments}
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'chengxin.db'}"
        results["sqlite"] = asyncio.run(backend_run(url, obligations=obligations, due=due,
                                                    departments=departments, trials=trials))
    if postgres:
        asyncio.run(reset_postgres(postgres))
        pg = asyncio.run(backend_run(postgres, obligations=obligations, due=due, departments=departments,
                                     trials=trials))
        pg["target_met"] = pg["claim_ms"]["median"] < TARGET_CLAIM_MS_PG
        results["postgresql"] = pg
        results["target_met"] = pg["target_met"]
    else:
        results["target_met"] = None
    results["target"] = f"claim < {TARGET_CLAIM_MS_PG:g} ms (PostgreSQL, median)"
    return results


def report(r: dict) -> None:
    print(f"sweep: {r['obligations']:,} open obligations, {r['due']:,} due rungs, {r['departments']} departments")
    for backend in ("sqlite", "postgresql"):
        if backend not in r:
            continue
        c = r[backend]
        print(f"[{backend}] rows: {c['rows']} (populated in {c['populate_s']} s)")
        print(f"  SELECT … FOR UPDATE SKIP LOCKED : median {c['select_ms']['median']} ms  {c['select_ms']['all']}")
        print(f"  claim_due_reminders + COMMIT    : median {c['claim_ms']['median']} ms  {c['claim_ms']['all']}")
        print(f"  dispatch (job without delivery) : median {c['dispatch_ms']['median']} ms  {c['dispatch_ms']['all']}"
              f"  -> {c['digests']} digests")
        print(f"  dispatch incl. morning digest   : {c['dispatch_with_morning_digest_ms']} ms")
        print(f"  delivery of the digests         : {c['delivery_ms']} ms ({c['delivery_per_message_ms']} ms/message,"
              f" LocalRequest, no rate limiter)")
        if backend == "postgresql":
            print("  EXPLAIN (ANALYZE, BUFFERS) of the claim query:")
            print("    " + c["explain"].replace("\n", "\n    "))
            print(f"  index ix_reminders_state_send_at used: {c['index_used']}")
            print(f"  target claim < {TARGET_CLAIM_MS_PG:g} ms: {'MET' if c['target_met'] else 'NOT MET'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obligations", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=2_000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--postgres", metavar="URL",
                        help="also run against this PostgreSQL database (postgresql+asyncpg://...); "
                             "its schema public is DROPPED and re-created — use a throwaway database")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args.obligations, args.due, args.departments, args.trials, args.postgres)
    report(result)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
