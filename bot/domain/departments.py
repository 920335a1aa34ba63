"""The department directory: import from CSV, look up by code, name or alias."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Department, DepartmentAlias
from nlp import DepartmentEntry

SAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "departments.csv"
KINDS = {"municipal", "district", "bureau", "township", "street", "enterprise"}
COLUMNS = ("code", "name", "kind", "parent", "region", "aliases")


@dataclass
class DirectoryRow:
    code: str
    name: str
    kind: str
    parent: str | None
    region: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    errors: list[str] = field(default_factory=list)


def parse_directory(raw: bytes) -> tuple[list[DirectoryRow], list[str]]:
    """Rows of a directory CSV and every problem found (line number first); all-or-nothing input."""
    errors: list[str] = []
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], ["文件不是 UTF-8 编码；如为 GBK，请先另存为 UTF-8（iconv -f GBK -t UTF-8）"]
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"缺少列：{', '.join(missing)}（需要 {','.join(COLUMNS)}）"]
    rows: list[DirectoryRow] = []
    seen: set[str] = set()
    for line, record in enumerate(reader, start=2):
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
        rows.append(DirectoryRow(code, name, kind, (record["parent"] or "").strip() or None, region, aliases))
    for row in rows:
        if row.parent and row.parent not in seen:
            errors.append(f"code {row.code}：上级 {row.parent} 不在文件中")
    return rows, errors


async def import_directory(*, session: AsyncSession, raw: bytes, replace: bool = False,
                           progress=None) -> ImportReport:
    """Create or update departments from a CSV; a file with any bad row changes nothing.

    With `replace`, the file is the whole directory: departments missing from it are deactivated (kept, with
    their cases and history, but no longer offered, matched or assigned) and those in it are active again.
    `progress(n)` is called as rows are written (the command line's progress bar)."""
    rows, errors = parse_directory(raw)
    report = ImportReport(errors=errors)
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
        wanted = dict.fromkeys(row.aliases)
        department.aliases = [a for a in department.aliases if a.alias in wanted] + [
            DepartmentAlias(alias=alias)
            for alias in wanted
            if alias not in {a.alias for a in department.aliases}
        ]
    await session.flush()
    return report


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
