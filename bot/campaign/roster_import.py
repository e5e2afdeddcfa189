"""`intake roster import`: the roster the office already keeps (.xlsx or .csv, Chinese headers,
several addresses in one cell) turned into the roster CSV the bot reads.

Rows that cannot be used are skipped with their reason, never guessed at; what is written is
checked by `Roster.parse`, the same rules the bot loads it with.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .roster import Roster, RosterError

# Header text (folded: NFKC, no spaces, lower case) -> roster column.
HEADERS = {
    "unit": ("单位名称", "单位", "单位全称", "工会名称", "名称", "unit", "unitname", "name"),
    "aliases": ("别称", "简称", "别名", "其他名称", "aliases", "alias"),
    "category": ("类别", "分类", "类型", "单位类别", "category"),
    "emails": ("邮箱", "电子邮箱", "电子邮件", "邮箱地址", "电子邮箱地址", "邮件地址", "e-mail", "email", "emails",
               "mail"),
}
_HEADER_LOOKUP = {h: column for column, names in HEADERS.items() for h in names}
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common
_EMAIL_SPLIT = re.compile(r"[；;,，、\s]+")
_ALIAS_SPLIT = re.compile(r"[；;,，、|｜/\s]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RosterImportError(RosterError):
    """The file cannot be imported at all; one Chinese line."""


@dataclass
class Skipped:
    row: int  # as the office numbers it: 1-based, in the sheet or file
    reason: str


@dataclass
class Imported:
    csv_bytes: bytes
    units: int
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # kept rows worth a look (no address)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower().rstrip(":：")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(path: Path) -> list[list[str]]:
    """Every row of the file's first sheet (or the CSV) as text; merged cells (a 类别 spanning
    a group of units) repeat their value in every row they cover."""
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RosterImportError(f"找不到文件 {path}") from None
    except OSError as exc:
        raise RosterImportError(f"无法读取 {path}：{exc.strerror}") from None
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(data, path)
    if suffix == ".csv":
        return _csv_rows(data, path)
    if suffix in (".xls", ".et", ".wps"):
        raise RosterImportError(f"{path.name} 是旧版表格格式：请在 Excel/WPS 中另存为 .xlsx 或 .csv 后再导入")
    raise RosterImportError(f"{path.name}：只能导入 .xlsx 或 .csv 文件")


def _xlsx_rows(data: bytes, path: Path) -> list[list[str]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one line for the admin
        raise RosterImportError(f"{path.name} 无法作为 Excel 文件打开（{type(exc).__name__}）") from None
    sheet = book.worksheets[0]
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(rows) else ""
        for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(rows[r]))):
                rows[r][c] = top
    return rows


def _csv_rows(data: bytes, path: Path) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on a Chinese Windows saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise RosterImportError(f"{path.name} 的编码无法识别（请存为 UTF-8 或 GBK）")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    """(index of the header row, roster column -> its position), from the first rows."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, text in enumerate(row):
            column = _HEADER_LOOKUP.get(_fold(text))
            if column and column not in columns:
                columns[column] = position
        if "unit" in columns and ("emails" in columns or len(columns) >= 2):
            return index, columns
    raise RosterImportError("前 10 行中找不到表头：需要“单位名称”（或“单位”）列和“邮箱”列")


def convert(rows: list[list[str]]) -> Imported:
    """The roster CSV (unit,aliases,category,emails; | between several) from the office's rows."""
    header_index, columns = find_header(rows)

    def get(row: list[str], column: str) -> str:
        position = columns.get(column)
        return row[position] if position is not None and position < len(row) else ""

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["unit", "aliases", "category", "emails"])
    seen: dict[str, int] = {}
    skipped, notes, count = [], [], 0
    for index in range(header_index + 1, len(rows)):
        row, number = rows[index], index + 1
        if not (get(row, "unit") or get(row, "aliases") or get(row, "emails")):
            continue  # an empty row, or one holding only its 序号 or a merged 类别
        # Chinese unit names have no spaces; a line break typed into the cell is not part of it.
        name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", get(row, "unit")))
        if not name:
            skipped.append(Skipped(number, "缺少单位名称"))
            continue
        if name in seen:
            skipped.append(Skipped(number, f"单位“{name}”与第 {seen[name]} 行重复"))
            continue
        emails = [e.lower().removeprefix("mailto:").strip("<>") for e in _EMAIL_SPLIT.split(
            unicodedata.normalize("NFKC", get(row, "emails"))) if e]
        bad = [e for e in emails if not _EMAIL.match(e)]
        if bad:
            skipped.append(Skipped(number, f"邮箱“{bad[0]}”无效"))
            continue
        aliases = [a for a in _ALIAS_SPLIT.split(get(row, "aliases")) if a and a != name]
        if not emails:
            notes.append(f"第 {number} 行：{name} 没有邮箱，只能按单位名称识别，也收不到催报提醒")
        seen[name] = number
        writer.writerow([name, "|".join(dict.fromkeys(aliases)), " ".join(get(row, "category").split()),
                         "|".join(dict.fromkeys(emails))])
        count += 1
    data = out.getvalue().encode("utf-8")
    Roster.parse(data, "导入结果")  # the rules the bot loads it with; raises RosterError
    return Imported(data, count, skipped, notes)


def import_roster(source: Path, target: Path) -> Imported:
    """Read `source`, write the roster CSV to `target` (the old one kept as <name>.bak)."""
    result = convert(read_rows(Path(source)))
    if result.units == 0:
        raise RosterImportError(f"{Path(source).name} 中没有可导入的单位")
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(result.csv_bytes)
        if target.exists():
            shutil.copy2(target, target.with_name(target.name + ".bak"))
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RosterImportError(f"无法写入 {target}：{exc.strerror or exc}") from None
    return result
