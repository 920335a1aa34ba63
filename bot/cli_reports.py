"""`chengxin report --month 2026-11 --out FILE.xlsx`: the monthly review workbook, written to a file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


def report_command(month: str, out: str, *, region: str | None = None) -> int:
    """Write the month's review (city-wide, or one region's) to `out`; 0 on success, 1 when the month is empty,
    2 on a malformed month."""
    from bot.config import Settings
    from bot.db.session import Database
    from bot.domain.audit import audit_key_for
    from bot.domain.errors import InvalidInput
    from bot.domain.reports import monthly_review
    from bot.domain.stats import parse_month
    from bot.domain.workdays import WorkCalendar
    from bot.clock import Clock
    from bot.progress import Bar

    settings = Settings()
    now = Clock().now()
    try:
        period = parse_month(month, today=now.astimezone(settings.tz).date(), tz=settings.tz)
    except InvalidInput:
        print(f"chengxin report: 无法识别月份 {month!r}，可以写 2026-11、2026年11月、11月、上个月、本月", file=sys.stderr)
        return 2
    calendar = WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None)

    async def work() -> int:
        db = Database(settings.database_url, audit_key=audit_key_for(settings))
        try:
            await db.upgrade()
            # A read session: on SQLite a running bot's writers (another process) never wait for this build.
            async with db.read_session() as session:
                with Bar(f"{period.label} 月度报表"):  # one activity bar while the figures and sheets are built
                    review = await monthly_review(session=session, period=period, now=now, region=region,
                                                  calendar=calendar)
        finally:
            await db.dispose()
        if review.workbook is None:
            print(f"{period.label}：没有任何数据（无案件、无逾期、无失信记录），未生成报表", file=sys.stderr)
            return 1
        Path(out).write_bytes(review.workbook)
        print(f"已写入 {out}（{len(review.workbook) / 1024:.0f} KB）")
        return 0

    return asyncio.run(work())
