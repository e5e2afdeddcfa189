"""The 附件1 / 附件2 forms as files: blank, to send out (`intake templates DIR`), and filled the
way a clerk fills them (what is typed into each blank, verbatim), for tests and the demo.

Everything about 附件2's wording comes from progress_template, so the forms sent out and the
parser reading them back cannot drift apart.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Callable, Iterable, Mapping

import docx
import openpyxl
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from bot.forms.progress_template import (
    ATTACHMENT_LABEL,
    BLANKS,
    CATEGORY,
    CATEGORY_GROUPS,
    COLUMN_HEADERS,
    HEADER_FIELDS,
    ITEMS,
    TITLE,
    render_header_line,
    render_progress,
)

LIAISON_ATTACHMENT_LABEL = "附件1"
LIAISON_TITLE = "“安全生产月”活动联络员推荐表"
# The 附件1 grid as printed: (label, key) pairs per row; one-field rows span the whole width.
LIAISON_GRID: tuple[tuple[tuple[str, str], ...], ...] = (
    (("姓名", "name"), ("性别", "gender"), ("职务", "title")),
    (("办公电话", "office_phone"), ("手机", "mobile"), ("传真", "fax")),
    (("QQ号", "qq"), ("微信号", "wechat"), ("电子邮箱", "email")),
    (("单位名称", "unit_name"),),
    (("通信地址", "address"),),
)
LIAISON_FIELDS: tuple[tuple[str, str], ...] = tuple(pair for row in LIAISON_GRID for pair in row)

LIAISON_DOCX = "附件1（联络员推荐表）.docx"
LIAISON_XLSX = "附件1（联络员推荐表）.xlsx"
PROGRESS_DOCX = "附件2（进展情况统计表）.docx"
PROGRESS_XLSX = "附件2（进展情况统计表）.xlsx"

_FONT = "宋体"


def write_blank_forms(directory: Path) -> list[Path]:
    """Write the four blank forms into `directory` (created if needed); return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        LIAISON_DOCX: fill_liaison_docx({}),
        LIAISON_XLSX: fill_liaison_xlsx({}),
        PROGRESS_DOCX: fill_progress_docx({}, {}),
        PROGRESS_XLSX: fill_progress_xlsx({}, {}),
    }
    paths = []
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------- docx helpers


def _new_docx(landscape: bool) -> docx.document.Document:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = _FONT
    style.font.size = Pt(11)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FONT)
    section = document.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    return document


def _title(document, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(16)


def _set_lines(cell, text: str) -> None:
    """Cell text with one paragraph per line, as the notice's cells are written."""
    lines = text.split("\n")
    paragraphs = cell.paragraphs
    for extra in paragraphs[1:]:
        extra._element.getparent().remove(extra._element)
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


def _to_bytes(document) -> bytes:
    # LibreOffice drops a table that ends the body when converting to .doc: end with a paragraph
    document.add_paragraph(" ")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------- 附件2


def fill_progress_docx(
    values: Mapping[str, str],
    header: Mapping[str, str],
    *,
    drop_parens_for: Iterable[str] = (),
    drop_close_for: Iterable[str] = (),
    retype: Callable[[str], str] | None = None,
) -> bytes:
    """附件2 as the notice's .docx, with `values` (key -> exactly what is typed into that blank)
    and `header` (header.* key -> what is typed after the label). Keys absent stay blank; keys in
    `drop_parens_for` lose the blank's brackets, keys in `drop_close_for` its closing one;
    `retype` rewrites each filled 进展情况 text (a clerk retyping punctuation or line breaks)."""
    document = _new_docx(landscape=True)
    document.add_paragraph(ATTACHMENT_LABEL)
    _title(document, TITLE)
    document.add_paragraph(render_header_line(dict(header)))
    table = document.add_table(rows=len(ITEMS) + 1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(2.2), Cm(3.2), Cm(8.0), Cm(12.3))
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
    head = table.rows[0].cells
    merged = head[0].merge(head[1])
    _set_lines(merged, COLUMN_HEADERS[0])
    _set_lines(head[2], COLUMN_HEADERS[1])
    _set_lines(head[3], COLUMN_HEADERS[2])
    for paragraph in (merged.paragraphs[0], head[2].paragraphs[0], head[3].paragraphs[0]):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for first, last in CATEGORY_GROUPS:
        cell = table.cell(first + 1, 0).merge(table.cell(last, 0))
        _set_lines(cell, CATEGORY)
    drop_parens, drop_close = frozenset(drop_parens_for), frozenset(drop_close_for)
    for index, item in enumerate(ITEMS):
        cells = table.rows[index + 1].cells
        _set_lines(cells[1], item.name)
        _set_lines(cells[2], item.requirements)
        prose = render_progress(item, dict(values), drop_parens_for=drop_parens, drop_close_for=drop_close)
        _set_lines(cells[3], retype(prose) if retype else prose)
    return _to_bytes(document)


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="center")


def _typed(value: str) -> str | int:
    """What a spreadsheet makes of a typed entry: plain digits become a number."""
    stripped = value.strip()
    if stripped.isascii() and stripped.isdigit() and not (len(stripped) > 1 and stripped[0] == "0"):
        return int(stripped)
    return value


def _header_rows(sheet, row: int, header: Mapping[str, str], width: int, in_cells: bool) -> int:
    """The header line: one merged row, or each label and value in its own cell."""
    if in_cells:
        column = 1
        for label, key in HEADER_FIELDS:
            sheet.cell(row, column, f"{label}：")
            value = header.get(key, "")
            if value:
                sheet.cell(row, column + 1, value)
            column += 2
    else:
        sheet.cell(row, 1, render_header_line(dict(header)))
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    return row + 1


def fill_progress_xlsx(
    values: Mapping[str, str],
    header: Mapping[str, str],
    *,
    drop_parens_for: Iterable[str] = (),
    drop_close_for: Iterable[str] = (),
    layout: str = "table",
    header_in_cells: bool = False,
    retype: Callable[[str], str] | None = None,
) -> bytes:
    """附件2 as a workbook, in the layouts units make:

    * "table": the notice's table in a sheet (活动项目 / 内容要求 / 进展情况, merged cells);
    * "rows": one row per activity item with its 进展情况 prose;
    * "cells": one row per blank — 序号 / 活动项目 / 内容 (the blank's label) / 数值; a key in
      `drop_parens_for` gets its label without the blank's brackets.

    `header_in_cells` puts each header label and value in cells of their own; `retype` rewrites
    each filled 进展情况 text ("table" and "rows").
    """
    if layout not in ("table", "rows", "cells"):
        raise ValueError(f"unknown layout {layout!r}")
    drop_parens, drop_close = frozenset(drop_parens_for), frozenset(drop_close_for)

    def prose(item) -> str:
        text = render_progress(item, dict(values), drop_parens_for=drop_parens, drop_close_for=drop_close)
        return retype(text) if retype else text

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "进展情况统计表"
    width = 4 if layout != "rows" else 3
    sheet.cell(1, 1, ATTACHMENT_LABEL)
    sheet.cell(2, 1, TITLE).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    row = _header_rows(sheet, 3, header, width, header_in_cells)
    first_body = row
    if layout == "table":
        sheet.cell(row, 1, COLUMN_HEADERS[0])
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        sheet.cell(row, 3, COLUMN_HEADERS[1])
        sheet.cell(row, 4, COLUMN_HEADERS[2])
        for first, last in CATEGORY_GROUPS:
            sheet.cell(row + 1 + first, 1, CATEGORY)
            sheet.merge_cells(start_row=row + 1 + first, start_column=1, end_row=row + last, end_column=1)
        for index, item in enumerate(ITEMS):
            r = row + 1 + index
            sheet.cell(r, 2, item.name)
            sheet.cell(r, 3, item.requirements)
            sheet.cell(r, 4, prose(item))
        last_row = row + len(ITEMS)
        widths = (10, 16, 45, 70)
    elif layout == "rows":
        for column, title in enumerate(("序号", COLUMN_HEADERS[0], COLUMN_HEADERS[2]), start=1):
            sheet.cell(row, column, title)
        for index, item in enumerate(ITEMS):
            r = row + 1 + index
            sheet.cell(r, 1, index + 1)
            sheet.cell(r, 2, item.name.replace("\n", ""))
            sheet.cell(r, 3, prose(item))
        last_row = row + len(ITEMS)
        widths = (6, 20, 90)
    else:
        for column, title in enumerate(("序号", "活动项目", "内容", "数值"), start=1):
            sheet.cell(row, column, title)
        for blank in BLANKS:
            r = row + blank.number
            label = blank.label
            if blank.key in drop_parens:
                label = label.replace("（ ）", "").replace("( )", "").replace("（ )", "")
            sheet.cell(r, 1, blank.number)
            sheet.cell(r, 2, ITEMS[blank.item].name.replace("\n", ""))
            sheet.cell(r, 3, label)
            if blank.key in values and values[blank.key] != "":
                sheet.cell(r, 4, _typed(values[blank.key]))
        last_row = row + len(BLANKS)
        widths = (6, 26, 36, 16)
    for column, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = w
    for r in range(first_body, last_row + 1):
        for column in range(1, len(widths) + 1):
            cell = sheet.cell(r, column)
            cell.border = _BOX
            cell.alignment = _WRAP
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------- 附件1


def fill_liaison_docx(values: Mapping[str, str]) -> bytes:
    """附件1 as the notice's .docx: the title row, then label cells each followed by its value
    cell; 单位名称 and 通信地址 values span the row."""
    document = _new_docx(landscape=False)
    document.add_paragraph(LIAISON_ATTACHMENT_LABEL)
    table = document.add_table(rows=len(LIAISON_GRID) + 1, cols=6)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    title = table.cell(0, 0).merge(table.cell(0, 5))
    _set_lines(title, LIAISON_TITLE)
    title.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraphs[0].runs[0].bold = True
    for r, fields in enumerate(LIAISON_GRID, start=1):
        if len(fields) == 1:
            label, key = fields[0]
            _set_lines(table.cell(r, 0), label)
            value_cell = table.cell(r, 1).merge(table.cell(r, 5))
            _set_lines(value_cell, values.get(key, ""))
            continue
        for position, (label, key) in enumerate(fields):
            _set_lines(table.cell(r, 2 * position), label)
            _set_lines(table.cell(r, 2 * position + 1), values.get(key, ""))
    return _to_bytes(document)


def fill_liaison_xlsx(values: Mapping[str, str], layout: str = "grid") -> bytes:
    """附件1 as a workbook: "grid" (the notice's grid) or "columns" (labels in column A,
    values in column B)."""
    if layout not in ("grid", "columns"):
        raise ValueError(f"unknown layout {layout!r}")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "联络员推荐表"

    def put(r: int, c: int, key: str) -> None:
        value = values.get(key, "")
        if value != "":
            sheet.cell(r, c, _typed(value) if key == "mobile" else value)

    if layout == "columns":
        sheet.cell(1, 1, f"{LIAISON_ATTACHMENT_LABEL}  {LIAISON_TITLE}")
        sheet.merge_cells("A1:B1")
        for r, (label, key) in enumerate(LIAISON_FIELDS, start=2):
            sheet.cell(r, 1, label)
            put(r, 2, key)
        sheet.column_dimensions["A"].width = 12
        sheet.column_dimensions["B"].width = 36
    else:
        sheet.cell(1, 1, LIAISON_ATTACHMENT_LABEL)
        sheet.cell(2, 1, LIAISON_TITLE).font = Font(bold=True, size=14)
        sheet.merge_cells("A2:F2")
        for r, fields in enumerate(LIAISON_GRID, start=3):
            for position, (label, key) in enumerate(fields):
                sheet.cell(r, 2 * position + 1, label)
                put(r, 2 * position + 2, key)
            if len(fields) == 1:
                sheet.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
        for column, w in enumerate((10, 16, 8, 16, 10, 26), start=1):
            sheet.column_dimensions[get_column_letter(column)].width = w
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
