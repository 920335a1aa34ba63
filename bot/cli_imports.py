"""`chengxin departments import FILE` and `chengxin commitments import FILE`: the same files (CSV in UTF-8,
UTF-8 with BOM or GBK/GB18030, or an Excel .xlsx workbook), the same rule (every row or none), each
problem with its line or row number."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

FORMAT_NOTES = {"gbk": "提示：文件按 GBK 编码读取。", "xlsx": "提示：按 Excel 工作簿读取（第一个工作表）。"}


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        print(f"无法读取文件 {path}：{error.strerror or error}", file=sys.stderr)
        return None


def _rows_hint(raw: bytes) -> int | None:
    """How many rows a CSV has, for the progress bar (a workbook's count is unknown until read)."""
    return None if raw[:2] == b"PK" else (max(0, raw.count(b"\n") - 1) or None)


def _refused(errors: list[str]) -> int:
    print("导入失败，未做任何更改：", file=sys.stderr)
    for problem in errors:
        print(f"  {problem}", file=sys.stderr)
    return 1


def departments_import(path: str, with_db, *, replace: bool = False) -> int:
    from bot.domain.departments import import_directory
    from bot.progress import Bar

    raw = _read(path)
    if raw is None:
        return 1

    async def work(db) -> int:
        async with db.session() as session:
            with Bar("导入部门", total=_rows_hint(raw)) as bar:
                report = await import_directory(session=session, raw=raw, replace=replace, progress=bar.advance)
            if report.errors:
                return _refused(report.errors)
            await session.commit()
        if note := FORMAT_NOTES.get(report.encoding):
            print(note)
        deactivated = f"，停用 {report.deactivated} 个（不在文件中；历史案件保留）" if replace else ""
        print(f"导入完成：新增 {report.created} 个部门，更新 {report.updated} 个{deactivated}（运行中的机器人重启后生效）")
        return 0

    return asyncio.run(with_db(work))


def commitments_import(path: str, settings, with_db) -> int:
    """Load an existing ledger (台账); all rows or none."""
    from bot.clock import Clock
    from bot.domain.commitments import import_ledger
    from bot.domain.obligations import Deadlines
    from bot.domain.roles import Actor, Role
    from bot.domain.workdays import WorkCalendar
    from bot.policy import load_policy
    from bot.progress import Bar

    raw = _read(path)
    if raw is None:
        return 1
    deadlines = Deadlines(
        policy=load_policy(Path(settings.policy_file) if settings.policy_file else None),
        calendar=WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None),
        tz=settings.tz,
    )

    async def work(db) -> int:
        async with db.session() as session:
            with Bar("登记承诺", total=_rows_hint(raw)) as bar:
                report = await import_ledger(session=session, raw=raw, actor=Actor(Role.SUPERVISOR),
                                             now=Clock().now(), deadlines=deadlines, progress=bar.advance)
            if report.errors:
                return _refused(report.errors)
            await session.commit()
        if note := FORMAT_NOTES.get(report.encoding):
            print(note)
        for warning in report.duplicates:
            print(f"重复：{warning}")
        print(f"导入完成：登记 {len(report.created)} 项承诺" + (f"（{report.created[0]} 起）" if report.created else ""))
        return 0

    return asyncio.run(with_db(work))
