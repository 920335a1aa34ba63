"""Tables offices send: CSV in UTF-8 (with or without BOM) or GBK/GB18030, and Excel workbooks (.xlsx).

`read_table` gives the header and each data row with the number a person sees: the CSV line (the
header is line 1) or the Excel row, so an importer's "第 N 行" points at the right place whatever the
format. Both importers (departments, commitment ledger) read through it, so they accept the same files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a ZIP archive
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (OLE2)
MAX_ROWS = 100_000


class TableError(ValueError):
    """The file cannot be read as a table; the message (Chinese) says what to do."""


@dataclass
class Table:
    fieldnames: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line or row number, values)
    encoding: str = "utf-8"  # utf-8 | gbk | xlsx


def decode_text(raw: bytes) -> tuple[str, str]:
    """UTF-8 (a BOM is dropped), else GB18030 (a superset of GBK, as Chinese Excel saves CSV)."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise TableError("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV，或 Excel 工作簿（.xlsx）") from None


def read_table(raw: bytes) -> Table:
    """The header and the data rows of a CSV or .xlsx file (told apart by content, not by name)."""
    if raw.startswith(XLSX_MAGIC):
        return _read_xlsx(raw)
    if raw.startswith(XLS_MAGIC):
        raise TableError("不支持旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 或 CSV")
    content, encoding = decode_text(raw)
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader, None)
        table = Table(fieldnames=[(name or "").strip() for name in header or []], encoding=encoding)
        line = reader.line_num + 1  # where the next record starts
        for values in reader:
            if any(v.strip() for v in values):
                table.rows.append((line, _record(table.fieldnames, values)))
                if len(table.rows) > MAX_ROWS:
                    raise TableError(f"文件超过 {MAX_ROWS} 行，请分批导入")
            line = reader.line_num + 1
    except csv.Error as error:
        raise TableError(f"第 {reader.line_num} 行：CSV 格式有误（{error}）") from None
    return table


def _record(fieldnames: list[str], values: list[str]) -> dict[str, str]:
    record = {name: (values[i] if i < len(values) else "") for i, name in enumerate(fieldnames) if name}
    return record


def _read_xlsx(raw: bytes) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as error:
        raise TableError(f"无法读取 Excel 文件（{type(error).__name__}）：请确认是 .xlsx 工作簿，或另存为 CSV") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()
        table = Table(fieldnames=[_cell(v).strip() for v in header], encoding="xlsx")
        for number, values in enumerate(rows, start=2):
            cells = [_cell(v) for v in values]
            if any(c.strip() for c in cells):
                table.rows.append((number, _record(table.fieldnames, cells)))
                if len(table.rows) > MAX_ROWS:
                    raise TableError(f"文件超过 {MAX_ROWS} 行，请分批导入")
        return table
    finally:
        workbook.close()


def _cell(value: object) -> str:
    """A cell as the text a person sees: dates as YYYY-MM-DD, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)
