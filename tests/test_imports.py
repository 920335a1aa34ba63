"""Both imports (department directory, commitment ledger) read the files offices send: UTF-8, UTF-8 with
BOM, GBK, GB18030 and Excel .xlsx; every row or none; each problem names its line (CSV) or row (Excel)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.db.models import Commitment, Department
from bot.domain.commitments import import_ledger
from bot.domain.departments import import_directory
from bot.domain.roles import Actor, Role
from tests.test_cli import chengxin

DIRECTORY_HEADER = ["code", "name", "kind", "parent", "region", "aliases"]
DIRECTORY_GOOD = [
    ["xx-czj", "某某县财政局", "bureau", "", "xx", "某某财政局|县财政局"],
    ["xx-zjj", "某某县住房和城乡建设局", "bureau", "xx-czj", "xx", "某某住建局"],
]
DIRECTORY_BAD = DIRECTORY_GOOD + [["yy", "", "bureau", "", "yy", ""], ["zz", "某某局", "planet", "", "zz", ""]]
LEDGER_HEADER = ["department", "content", "source", "due_date", "amount", "public", "domain"]
LEDGER_GOOD = [
    ["亭湖区人民政府", "兑现设备补贴500万元", "招商协议第5条", "2027-06-30", "500万元", "是", "investment"],
    ["市财政局", "支付采购尾款（䶮字号供应商）", "合同2026-18号", "2027年3月31日", "38万元", "否", "procurement"],
]
LEDGER_BAD = LEDGER_GOOD + [["火星局", "内容", "", "2027-01-01", "", "是", ""],
                            ["亭湖区人民政府", "", "来源", "明年某天", "很多", "也许", "weird"]]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list], *, blank_row_after: int | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for i, row in enumerate(rows):
        sheet.append(row)
        if blank_row_after == i:
            sheet.append([])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def encoded(header, rows, fmt: str) -> bytes:
    if fmt == "xlsx":
        return xlsx_bytes(header, rows)
    if fmt == "gbk":
        rows = [[cell.replace("䶮", "") for cell in row] for row in rows]  # 䶮 is outside GBK, inside GB18030
    return csv_bytes(header, rows, fmt)


FORMATS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "xlsx"]
REPORTED = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gbk", "gb18030": "gbk", "xlsx": "xlsx"}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_directory_import_reads_every_format_all_or_nothing(harness, fmt):
    async with harness.session() as session:
        report = await import_directory(session=session, raw=encoded(DIRECTORY_HEADER, DIRECTORY_BAD, fmt))
        assert [e.split("：")[0] for e in report.errors] == ["第 4 行", "第 5 行"]
        assert await session.scalar(select(func.count()).where(Department.region == "xx")) == 0
        report = await import_directory(session=session, raw=encoded(DIRECTORY_HEADER, DIRECTORY_GOOD, fmt))
        assert report.errors == [] and report.created == 2 and report.encoding == REPORTED[fmt]
        await session.commit()
    async with harness.session() as session:
        department = await session.scalar(select(Department).where(Department.code == "xx-czj"))
        assert department.name == "某某县财政局"
        assert sorted(a.alias for a in department.aliases) == ["县财政局", "某某财政局"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_ledger_import_reads_every_format_all_or_nothing(harness, fmt):
    actor = Actor(Role.SUPERVISOR)
    now, deadlines = harness.clock.now(), harness.services.deadlines
    async with harness.session() as session:
        report = await import_ledger(session=session, raw=encoded(LEDGER_HEADER, LEDGER_BAD, fmt), actor=actor,
                                     now=now, deadlines=deadlines)
        assert [e.split("：")[0] for e in report.errors] == ["第 4 行", "第 5 行"]
        assert "火星局" in report.errors[0] and "缺少承诺内容" in report.errors[1]
        assert await session.scalar(select(func.count(Commitment.id))) == 0
        report = await import_ledger(session=session, raw=encoded(LEDGER_HEADER, LEDGER_GOOD, fmt), actor=actor,
                                     now=now, deadlines=deadlines)
        assert report.errors == [] and report.encoding == REPORTED[fmt] and len(report.created) == 2
        await session.commit()
    async with harness.session() as session:
        rows = (await session.scalars(select(Commitment).order_by(Commitment.id))).all()
    assert [(c.due_on.isoformat(), c.amount) for c in rows] == [("2027-06-30", 5_000_000), ("2027-03-31", 380_000)]
    expected = "支付采购尾款（字号供应商）" if fmt == "gbk" else "支付采购尾款（䶮字号供应商）"
    assert rows[1].content == expected


async def test_excel_cells_typed_as_dates_and_numbers_and_row_numbers_past_a_blank_row(harness):
    """Excel stores dates and numbers typed; the blank row still counts in the row numbers a person sees."""
    rows = [
        ["亭湖区人民政府", "兑现设备补贴", "协议", datetime(2027, 6, 30), 5000000, True, "investment"],
        ["市财政局", "支付尾款", "合同", datetime(2027, 3, 31), 380000.5, False, "procurement"],
        ["市财政局", "", "合同", datetime(2027, 3, 31), 1e20, "也许", ""],
    ]
    actor = Actor(Role.SUPERVISOR)
    now, deadlines = harness.clock.now(), harness.services.deadlines
    async with harness.session() as session:
        report = await import_ledger(session=session, raw=xlsx_bytes(LEDGER_HEADER, rows, blank_row_after=1),
                                     actor=actor, now=now, deadlines=deadlines)
        assert len(report.errors) == 1 and report.errors[0].startswith("第 5 行")
        assert "超过上限" in report.errors[0] and "是/否" in report.errors[0]
        report = await import_ledger(session=session, raw=xlsx_bytes(LEDGER_HEADER, rows[:2]), actor=actor,
                                     now=now, deadlines=deadlines)
        assert report.errors == [] and len(report.created) == 2
        await session.commit()
        stored = (await session.scalars(select(Commitment).order_by(Commitment.id))).all()
    assert [(c.due_on.isoformat(), str(c.amount), c.is_public) for c in stored] == [
        ("2027-06-30", "5000000.00", True), ("2027-03-31", "380000.50", False)]


async def test_unreadable_files_are_refused_with_what_to_do(harness):
    async with harness.session() as session:
        report = await import_directory(session=session, raw=b"\xd0\xcf\x11\xe0" + b"\0" * 100)
        assert ".xlsx" in report.errors[0]
        report = await import_directory(session=session, raw=b"PK\x03\x04 not really a zip")
        assert "Excel" in report.errors[0]
        report = await import_directory(session=session, raw=b"\xff\xfe\x00\xd8" * 10)
        assert "编码" in report.errors[0]


@pytest.mark.parametrize("fmt", ["gbk", "xlsx"])
def test_both_import_commands_take_gbk_and_xlsx(tmp_path, fmt):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    suffix = "xlsx" if fmt == "xlsx" else "csv"
    directory = tmp_path / f"directory.{suffix}"
    directory.write_bytes(encoded(DIRECTORY_HEADER, DIRECTORY_GOOD, fmt))
    imported = chengxin("departments", "import", str(directory), cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert "新增 2 个部门" in imported.stdout
    # The command's database has only the directory just imported.
    good = [["某某县财政局", *LEDGER_GOOD[0][1:]], ["某某住建局", *LEDGER_GOOD[1][1:]]]
    bad = good + LEDGER_BAD[2:]
    ledger = tmp_path / f"ledger.{suffix}"
    ledger.write_bytes(encoded(LEDGER_HEADER, bad, fmt))
    refused = chengxin("commitments", "import", str(ledger), cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "第 4 行" in refused.stderr and "第 5 行" in refused.stderr
    assert "Traceback" not in refused.stderr
    ledger.write_bytes(encoded(LEDGER_HEADER, good, fmt))
    done = chengxin("commitments", "import", str(ledger), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "登记 2 项承诺" in done.stdout
    assert ("GBK" if fmt == "gbk" else "Excel") in done.stdout
