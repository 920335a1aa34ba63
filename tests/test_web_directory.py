"""The department directory's 统一社会信用代码 column: optional, checked, imported, published."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Department
from bot.domain.departments import import_directory, parse_directory

HEADER = "code,name,kind,parent,region,aliases,credit_code\n"


def test_the_column_is_optional_and_checked():
    rows, errors = parse_directory("code,name,kind,parent,region,aliases\nx,某局,bureau,,city,\n".encode())
    assert not errors and rows[0].credit_code is None
    rows, errors = parse_directory((HEADER + "x,某局,bureau,,city,,11320900MB1234567X\n").encode())
    assert not errors and rows[0].credit_code == "11320900MB1234567X"
    _, errors = parse_directory((HEADER + "x,某局,bureau,,city,,11320900MB12345\n").encode())
    assert errors == ["第 2 行：统一社会信用代码 '11320900MB12345' 不是 18 位有效格式"]
    _, errors = parse_directory((HEADER + "x,某局,bureau,,city,,11320900IO1234567X\n").encode())
    assert errors  # I and O are not used in the code


async def test_import_stores_the_code(harness):
    async with harness.session() as session:
        report = await import_directory(session=session, raw=(HEADER + "city-czj,盐城市财政局,bureau,,city,"
                                                               "财政局,11320900014123456K\n").encode())
        await session.commit()
        assert not report.errors and report.updated == 1
        department = await session.scalar(select(Department).where(Department.code == "city-czj"))
    assert department.credit_code == "11320900014123456K"


REGIONS = "code,name,kind,parent,region,aliases,region_name\n"


def test_region_names_are_optional_and_must_agree():
    rows, errors = parse_directory((REGIONS + "x,某局,bureau,,tinghu,,亭湖区\ny,某办,bureau,,tinghu,,\n").encode())
    assert not errors and [r.region_name for r in rows] == ["亭湖区", None]
    _, errors = parse_directory((REGIONS + "x,某局,bureau,,tinghu,,亭湖区\ny,某办,bureau,,tinghu,,盐都区\n").encode())
    assert errors == ["第 3 行：区域 tinghu 的名称 '盐都区' 与前面的 '亭湖区' 不一致"]


async def test_import_stores_region_names_and_a_later_file_renames_them(harness):
    from bot.domain.departments import region_label, region_names

    async with harness.session() as session:
        names = await region_names(session=session)  # the shipped sample names its regions
        assert names["tinghu"] == "亭湖区" and names["city"] == "市本级" and len(names) == 10
        report = await import_directory(session=session, raw=(
            REGIONS + "city-czj,盐城市财政局,bureau,,city,财政局,盐城市本级\nnew-x,新区某局,bureau,,newzone,,\n").encode())
        await session.commit()
        assert not report.errors
        names = await region_names(session=session)
    assert names["city"] == "盐城市本级" and names["tinghu"] == "亭湖区" and "newzone" not in names
    assert region_label("newzone", names) == "newzone" and region_label(None, names) == ""
