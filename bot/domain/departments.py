"""The department directory: import from CSV, look up by code, name or alias."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Department, DepartmentAlias, Region
from bot.domain.tables import Table, TableError, read_table
from nlp import DepartmentEntry

SAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "departments.csv"
KINDS = {"municipal", "district", "bureau", "township", "street", "enterprise"}
COLUMNS = ("code", "name", "kind", "parent", "region", "aliases")
# Optional column: the 统一社会信用代码 (18 characters, GB 32100-2015), published in the open-data feed.
CREDIT_CODE_COLUMN = "credit_code"
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
# Optional column: the region's Chinese name (亭湖区 for `tinghu`), shown on the web pages instead of the code.
# Given on any of the region's rows (or all of them: then it must be the same on each).
REGION_NAME_COLUMN = "region_name"
REGION_NAME_LIMIT = 64


@dataclass
class DirectoryRow:
    code: str
    name: str
    kind: str
    parent: str | None
    region: str
    aliases: list[str] = field(default_factory=list)
    credit_code: str | None = None
    region_name: str | None = None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    errors: list[str] = field(default_factory=list)
    encoding: str = "utf-8"  # utf-8 | gbk | xlsx


def parse_directory(raw: bytes) -> tuple[list[DirectoryRow], list[str]]:
    """Rows of a directory file (CSV in UTF-8 or GBK, or .xlsx) and every problem found (line or row
    number first); all-or-nothing input."""
    try:
        table = read_table(raw)
    except TableError as error:
        return [], [str(error)]
    return _directory_rows(table)


def _directory_rows(table: Table) -> tuple[list[DirectoryRow], list[str]]:
    errors: list[str] = []
    missing = [c for c in COLUMNS if c not in table.fieldnames]
    if missing:
        return [], [f"缺少列：{', '.join(missing)}（需要 {','.join(COLUMNS)}）"]
    rows: list[DirectoryRow] = []
    seen: set[str] = set()
    named: dict[str, str] = {}
    for line, record in table.rows:
        code = (record["code"] or "").strip()
        name = (record["name"] or "").strip()
        kind = (record["kind"] or "").strip()
        region = (record["region"] or "").strip()
        if not code or not name:
            errors.append(f"第 {line} 行：code 和 name 不能为空")
            continue
        if code in seen:
            errors.append(f"第 {line} 行：code {code} 重复")
        if kind not in KINDS:
            errors.append(f"第 {line} 行：kind {kind!r} 不在 {sorted(KINDS)} 之中")
        if not region:
            errors.append(f"第 {line} 行：region 不能为空")
        seen.add(code)
        aliases = [a.strip() for a in (record["aliases"] or "").split("|") if a.strip()]
        credit_code = (record.get(CREDIT_CODE_COLUMN) or "").strip().upper() or None
        if credit_code is not None and not CREDIT_CODE.fullmatch(credit_code):
            errors.append(f"第 {line} 行：统一社会信用代码 {credit_code!r} 不是 18 位有效格式")
        region_name = (record.get(REGION_NAME_COLUMN) or "").strip() or None
        if region_name is not None and region:
            if len(region_name) > REGION_NAME_LIMIT:
                errors.append(f"第 {line} 行：区域名称 {region_name!r} 超过 {REGION_NAME_LIMIT} 个字")
            elif named.setdefault(region, region_name) != region_name:
                errors.append(f"第 {line} 行：区域 {region} 的名称 {region_name!r} 与前面的 "
                              f"{named[region]!r} 不一致")
        rows.append(DirectoryRow(code, name, kind, (record["parent"] or "").strip() or None, region, aliases,
                                 credit_code, region_name))
    for row in rows:
        if row.parent and row.parent not in seen:
            errors.append(f"code {row.code}：上级 {row.parent} 不在文件中")
    return rows, errors


async def import_directory(*, session: AsyncSession, raw: bytes, replace: bool = False,
                           progress=None) -> ImportReport:
    """Create or update departments from a CSV or .xlsx; a file with any bad row changes nothing.

    With `replace`, the file is the whole directory: departments missing from it are deactivated (kept, with
    their cases and history, but no longer offered, matched or assigned) and those in it are active again.
    `progress(n)` is called as rows are written (the command line's progress bar)."""
    try:
        table = read_table(raw)
    except TableError as error:
        return ImportReport(errors=[str(error)])
    rows, errors = _directory_rows(table)
    report = ImportReport(errors=errors, encoding=table.encoding)
    if errors:
        return report
    existing = {d.code: d for d in (await session.scalars(select(Department))).all()}
    if replace:
        listed = {row.code for row in rows}
        for code, department in existing.items():
            if code not in listed and department.active:
                department.active = False
                report.deactivated += 1
    for row in rows:
        department = existing.get(row.code)
        if department is None:
            department = Department(code=row.code, active=True)
            session.add(department)
            report.created += 1
        else:
            report.updated += 1
            if replace:
                department.active = True
        if progress is not None:
            progress(1)
        department.name, department.kind = row.name, row.kind
        department.parent_code, department.region = row.parent, row.region
        department.credit_code = row.credit_code
        wanted = dict.fromkeys(row.aliases)
        department.aliases = [a for a in department.aliases if a.alias in wanted] + [
            DepartmentAlias(alias=alias)
            for alias in wanted
            if alias not in {a.alias for a in department.aliases}
        ]
    await _save_region_names(session, {row.region: row.region_name for row in rows if row.region_name})
    await session.flush()
    return report


async def _save_region_names(session: AsyncSession, names: dict[str, str]) -> None:
    """Create or rename the regions the file names; regions it does not name keep theirs."""
    existing = {r.code: r for r in (await session.scalars(select(Region))).all()}
    for code, name in names.items():
        if code in existing:
            existing[code].name = name
        else:
            session.add(Region(code=code, name=name))


async def region_names(*, session: AsyncSession) -> dict[str, str]:
    """Region code -> Chinese name, for the regions the directory named."""
    return dict((await session.execute(select(Region.code, Region.name))).all())


async def find_region(*, session: AsyncSession, query: str, names: dict[str, str]) -> str | None:
    """The region code a supervisor means: a code the directory uses (tinghu) or a region's name (亭湖区, or
    亭湖 without its 区/县/市); None when no region matches. `names`: `region_names`, read by the caller."""
    query = query.strip()
    codes = set(names) | set((await session.scalars(select(Department.region).distinct())).all())
    by_code = {code.lower(): code for code in codes if code}
    if query.lower() in by_code:
        return by_code[query.lower()]
    for code, name in names.items():
        if query in (name, name.rstrip("区县市")) and query:
            return code
    return None


def region_label(code: str | None, names: dict[str, str]) -> str:
    """What a page shows for a region: its name when the directory gave one, else the code itself."""
    if not code:
        return ""
    return names.get(code, code)


async def seed_sample_directory(*, session: AsyncSession) -> int:
    """Load the shipped sample directory into an empty database; returns departments created."""
    if await session.scalar(select(func.count(Department.id))):
        return 0
    report = await import_directory(session=session, raw=SAMPLE_DIRECTORY.read_bytes())
    if report.errors:
        raise ValueError("shipped departments.csv is invalid: " + "; ".join(report.errors))
    return report.created


async def directory_entries(*, session: AsyncSession) -> list[DepartmentEntry]:
    """Every active department with its aliases, for the text matcher."""
    departments = (await session.scalars(select(Department).where(Department.active.is_(True)))).all()
    return [
        DepartmentEntry(code=d.code, name=d.name, aliases=tuple(a.alias for a in d.aliases))
        for d in departments
    ]


async def department_by_code(*, session: AsyncSession, code: str) -> Department | None:
    return await session.scalar(select(Department).where(Department.code == code))


async def find_departments(*, session: AsyncSession, query: str) -> list[Department]:
    """Departments whose code, name or alias equals the query; several when an alias is shared."""
    query = query.strip()
    if not query:
        return []
    alias_owner = select(DepartmentAlias.department_id).where(DepartmentAlias.alias == query)
    result = await session.scalars(
        select(Department)
        .where(or_(Department.code == query, Department.name == query, Department.id.in_(alias_owner)),
               Department.active.is_(True))  # a deactivated department (import --replace) is no longer offered
        .order_by(Department.code)
    )
    return list(result.unique().all())


async def departments_by_id(*, session: AsyncSession, ids) -> dict[int, Department]:
    """The directory entries with these ids, by id."""
    ids = list(ids)
    if not ids:
        return {}
    return {d.id: d for d in (await session.scalars(select(Department).where(Department.id.in_(ids)))).all()}
