"""`intake roster import`: the roster the office already keeps (.xlsx or .csv, Chinese headers,
several addresses in one cell) turned into the roster CSV the bot reads.

A row without a unit name is skipped with its reason; in a row with a name, a value that cannot
be read (邮箱 "不知道") is left out and named, and the unit is kept: a unit missing from the
roster would get no reminders and never be counted as missing. A unit listed twice is one unit
with the addresses of both rows. 联系人 and 手机 columns are kept in the roster (contact,
mobile), the unit's contact until its liaison form arrives; any other column is reported as not
used. What is written is checked by `Roster.parse`, the same rules the bot loads it with, and
the roster it replaces is kept as a dated backup.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .roster import Roster, RosterError, decode_csv
from ..forms.fold import fold
from ..os_errors import os_reason

# Header text (folded: NFKC, no spaces, lower case, no trailing number) -> roster column.
HEADERS = {
    "unit": ("单位名称", "单位", "单位全称", "工会名称", "名称", "unit", "unitname", "name"),
    "aliases": ("别称", "简称", "别名", "其他名称", "aliases", "alias"),
    "category": ("类别", "分类", "类型", "单位类别", "category"),
    "emails": ("邮箱", "电子邮箱", "电子邮件", "邮箱地址", "电子邮箱地址", "邮件地址", "备用邮箱", "e-mail", "email",
               "emails", "mail"),
    "contact": ("联系人", "联络员", "联络人", "联系人姓名", "姓名", "contact"),
    "mobile": ("手机", "手机号", "手机号码", "联系电话", "电话", "移动电话", "mobile", "phone"),
}
_HEADER_LOOKUP = {h: column for column, names in HEADERS.items() for h in names}
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common
# Columns that are never data: not worth reporting as unused.
_NUMBERING = {"序号", "编号", "no", "no.", "#"}
_EMAIL_SPLIT = re.compile(r"[；;,，、\s]+")
_ALIAS_SPLIT = re.compile(r"[；;,，、|｜/\s]+")
_EMAIL = re.compile(r"^[^@\s<>()（）\"“”]+@[^@\s<>()（）\"“”]+\.[^@\s<>()（）\"“”]+$")
_EMAIL_INSIDE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# What a clerk types for "none": an empty cell, not a bad address.
_NOTHING = {"无", "暂无", "没有", "空", "-", "--", "—", "——", "/", "／", "n/a", "na", "none", "null"}
_MOBILE_DIGITS = 7  # fewer digits than a local phone number: not a number


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
    notes: list[str] = field(default_factory=list)  # kept rows worth a look (a value left out, no address)
    used: list[str] = field(default_factory=list)  # the source's headers that were read, in order
    ignored: list[str] = field(default_factory=list)  # the source's headers that were not
    contacts: int = 0  # units with a 联系人 or 手机 from the file
    backup: Path | None = None  # where the roster it replaced was copied
    unchanged: bool = False  # the file held what the roster already held: nothing written

    def lines(self, target: Path) -> list[str]:
        """The Chinese summary `intake roster import` prints."""
        if self.unchanged:
            head = f"已导入 {self.units} 个单位 → {target}（与现有名单相同，未改动）"
        elif self.backup is not None:
            head = f"已导入 {self.units} 个单位 → {target}（原文件已备份为 {self.backup.name}）"
        else:
            head = f"已导入 {self.units} 个单位 → {target}"
        out = [head, "读取的列：" + "、".join(self.used)]
        if self.contacts:
            out.append(f"联系人、手机已存入名单（{self.contacts} 个单位），收到该单位的联络员推荐表之前作为联系人")
        if self.ignored:
            out.append("未使用的列：" + "、".join(self.ignored))
        if self.skipped:
            out.append(f"跳过 {len(self.skipped)} 行：")
            out += [f"  第 {s.row} 行：{s.reason}" for s in self.skipped]
        if self.notes:
            out.append("请注意：")
            out += [f"  {note}" for note in self.notes]
        return out


def _header_key(text: str) -> str:
    """A header as HEADERS spells it: the folding rule with `lower`, a trailing colon dropped."""
    return fold(text, lower=True).rstrip(":")


def _header_column(text: str) -> str | None:
    """The roster column a header names; 邮箱1, 邮箱2 and 备用邮箱 are all addresses."""
    folded = _header_key(text)
    return _HEADER_LOOKUP.get(folded) or _HEADER_LOOKUP.get(folded.rstrip("0123456789"))


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
        raise RosterImportError(f"无法读取 {path}：{os_reason(exc)}") from None
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
        with warnings.catch_warnings():  # openpyxl's English notes on what it drops (drop-down lists)
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
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
    text = decode_csv(data)
    if text is None:
        raise RosterImportError(f"{path.name} 的编码无法识别（请存为 UTF-8 或 GBK）")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def find_header(rows: list[list[str]]) -> tuple[int, dict[str, list[int]]]:
    """(index of the header row, roster column -> its positions), from the first rows. Only
    the e-mail column may appear more than once (邮箱1, 邮箱2); another repeat is not read."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, list[int]] = {}
        for position, text in enumerate(row):
            column = _header_column(text)
            if column and (column == "emails" or column not in columns):
                columns.setdefault(column, []).append(position)
        if "unit" in columns and ("emails" in columns or len(columns) >= 2):
            return index, columns
    raise RosterImportError("前 10 行中找不到表头：需要“单位名称”（或“单位”）列和“邮箱”列")


@dataclass
class _Row:
    number: int
    name: str
    aliases: list[str]
    category: str
    emails: list[str]
    contact: str
    mobile: str


def _addresses(cell: str) -> tuple[list[str], list[str]]:
    """(the addresses in a cell, the pieces of it that are not one). 张三<zs@x.cn> is zs@x.cn."""
    good, bad = [], []
    for piece in _EMAIL_SPLIT.split(fold(cell, keep_spaces=True)):
        piece = piece.strip()
        if not piece or piece.lower() in _NOTHING:
            continue
        address = piece.lower().removeprefix("mailto:").strip("<>")
        if _EMAIL.match(address):
            good.append(address)
        elif found := _EMAIL_INSIDE.findall(piece):
            good += [a.lower() for a in found]
        else:
            bad.append(piece)
    return good, bad


def convert(rows: list[list[str]]) -> Imported:
    """The roster CSV (unit,aliases,category,emails,contact,mobile; | between several) from the
    office's rows. A value that cannot be read is left out and named; the unit stays."""
    header_index, columns = find_header(rows)
    header = rows[header_index]

    def get(row: list[str], column: str) -> str:
        return "；".join(row[p] for p in columns.get(column, ()) if p < len(row) and row[p])

    used_positions = {p for positions in columns.values() for p in positions}
    used = [header[p] for p in sorted(used_positions)]
    ignored = [text for p, text in enumerate(header)
               if text and p not in used_positions and _header_key(text) not in _NUMBERING]

    units: dict[str, _Row] = {}
    skipped, notes = [], []
    for index in range(header_index + 1, len(rows)):
        row, number = rows[index], index + 1
        if not (get(row, "unit") or get(row, "aliases") or get(row, "emails")):
            continue  # an empty row, or one holding only its 序号 or a merged 类别
        # Chinese unit names have no spaces; a line break typed into the cell is not part of it.
        name = fold(get(row, "unit"))
        if not name:
            skipped.append(Skipped(number, "缺少单位名称"))
            continue
        emails, bad = _addresses(get(row, "emails"))
        for value in bad:
            notes.append(f"第 {number} 行：{name} 的邮箱“{value}”无效，已略过这一项（单位照常导入）")
        aliases = [a for a in _ALIAS_SPLIT.split(get(row, "aliases")) if a and a != name]
        contact = " ".join(fold(get(row, "contact"), keep_spaces=True).split())
        if contact.lower() in _NOTHING:
            contact = ""
        mobile = " ".join(fold(get(row, "mobile"), keep_spaces=True).split())
        if mobile and sum(c.isdigit() for c in mobile) < _MOBILE_DIGITS:
            if mobile.lower() not in _NOTHING:
                notes.append(f"第 {number} 行：{name} 的手机“{mobile}”不是电话号码，已略过这一项")
            mobile = ""
        if name in units:
            first = units[name]
            new = [e for e in emails if e not in first.emails]
            first.emails += new
            first.aliases += [a for a in aliases if a not in first.aliases]
            first.contact, first.mobile = first.contact or contact, first.mobile or mobile
            notes.append(f"第 {number} 行：单位“{name}”与第 {first.number} 行重复，"
                         + (f"已把邮箱 {'、'.join(new)} 并入第 {first.number} 行" if new else "没有新的邮箱，已略过"))
            continue
        units[name] = _Row(number, name, aliases, " ".join(get(row, "category").split()), emails, contact, mobile)

    for unit in units.values():
        if not unit.emails:
            notes.append(f"第 {unit.number} 行：{unit.name} 没有可用的邮箱，只能按单位名称识别，也收不到催报提醒"
                         "（收到联络员推荐表后按表中的邮箱提醒）")
    with_contacts = sum(bool(u.contact or u.mobile) for u in units.values())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # contact and mobile only when the file had them: a roster without them stays the four columns
    extra = with_contacts > 0
    writer.writerow(["unit", "aliases", "category", "emails"] + ["contact", "mobile"] * extra)
    for u in units.values():
        writer.writerow([u.name, "|".join(dict.fromkeys(u.aliases)), u.category, "|".join(dict.fromkeys(u.emails))]
                        + [u.contact, u.mobile] * extra)
    data = out.getvalue().encode("utf-8")
    Roster.parse(data, "导入结果")  # the rules the bot loads it with; raises RosterError
    notes.sort(key=lambda n: int(re.match(r"第 (\d+) 行", n).group(1)))
    return Imported(data, len(units), skipped, notes, used, ignored, with_contacts)


BACKUP_STAMP = "%Y%m%d-%H%M%S"


def backup_path(target: Path, now: datetime) -> Path:
    """units.csv.bak-20200601-093000: every import keeps the roster it replaced."""
    base = target.with_name(f"{target.name}.bak-{now.strftime(BACKUP_STAMP)}")
    path, n = base, 1
    while path.exists():  # two imports within a second
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def import_roster(source: Path, target: Path, now: datetime) -> Imported:
    """Read `source`, write the roster CSV to `target`; the roster it replaces is copied to a
    dated backup beside it first (`now`, in the office's time zone, names it)."""
    result = convert(read_rows(Path(source)))
    if result.units == 0:
        raise RosterImportError(f"{Path(source).name} 中没有可导入的单位")
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    try:
        if target.exists() and target.read_bytes() == result.csv_bytes:
            result.unchanged = True
            return result
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(result.csv_bytes)
        if target.exists():
            result.backup = backup_path(target, now)
            shutil.copy2(target, result.backup)
        tmp.replace(target)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # a read-only disk, or no folder to hold it: there is nothing to remove
            pass
        raise RosterImportError(f"无法写入 {target}：{os_reason(exc)}") from None
    return result
