"""A campaign's forms as files: blank, to send out (`intake templates DIR`: the campaign
folder's own blank files), and filled the way a clerk fills them (what is typed into each blank,
verbatim), for tests and the demo.

A prose form (附件2) is written from its `ProseTemplate` — the wording of its blank .docx and
the keys of its campaign.toml — so the forms filled and the parser reading them back cannot
drift apart; any campaign's prose form is filled the same way (`form=`, default the shipped
2020 附件2).
"""
from __future__ import annotations

import io
import re
import shutil
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

from bot.forms.definition import Form, forms_in
from bot.forms.progress_template import ProseTemplate, prose_template, render_progress, title_own_part

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


def blank_files(campaign_folder: Path | str | None = None) -> list[Path]:
    """The blank forms of a campaign folder (None: the shipped 2020 campaign): each
    [[forms]] table's `file`, each followed by its .xlsx twin when the folder has one."""
    if campaign_folder is None:
        from bot.resources import project_file

        campaign_folder = project_file("campaigns", "2020-anqing-safety-month")
    folder = Path(campaign_folder)
    out: list[Path] = []
    for form in forms_in(folder):  # validated: a file that is not a usable form is refused here
        path = folder / form.file
        twin = path.with_suffix(".xlsx")
        for candidate in (path, twin):
            if candidate.is_file() and candidate not in out:
                out.append(candidate)
    return out


def write_blank_forms(directory: Path, campaign_folder: Path | str | None = None) -> list[Path]:
    """Copy the blank forms of `campaign_folder` (None: the shipped 2020 campaign's four:
    附件1 and 附件2, .docx and .xlsx) into `directory` (created if needed); return the paths
    written, in the order of the campaign's [[forms]]."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in blank_files(campaign_folder):
        path = directory / source.name
        shutil.copyfile(source, path)
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


def _columns(template: ProseTemplate) -> tuple[int | None, int, int | None, int, int]:
    """Where each part of a row goes: (category column or None, name column, requirements
    column or None, prose column, number of columns)."""
    category = 0 if template.has_category else None
    name = 1 if template.has_category else 0
    requirements = name + 1 if template.has_requirements else None
    prose = (requirements if requirements is not None else name) + 1
    return category, name, requirements, prose, prose + 1


# Column widths (docx, cm; xlsx, characters) by what the column holds.
_DOCX_WIDTHS = {"category": 2.2, "name": 3.2, "requirements": 8.0, "prose": 12.3}
_XLSX_WIDTHS = {"category": 10, "name": 16, "requirements": 45, "prose": 70}


def _widths(template: ProseTemplate, table: dict[str, float]) -> list[float]:
    category, name, requirements, prose, count = _columns(template)
    widths = [0.0] * count
    if category is not None:
        widths[category] = table["category"]
    widths[name] = table["name"]
    if requirements is not None:
        widths[requirements] = table["requirements"]
    widths[prose] = table["prose"] + (0 if requirements is not None else table["requirements"])
    return widths


def _header_cells(template: ProseTemplate, count: int) -> list[tuple[int, int, str]]:
    """(first column, last column, text) of each column header."""
    spans = template.column_spans or (1,) * min(count, len(template.COLUMN_HEADERS))
    out, column = [], 0
    for span, text in zip(spans, template.COLUMN_HEADERS):
        out.append((column, column + span - 1, text))
        column += span
    return out


def fill_progress_docx(
    values: Mapping[str, str],
    header: Mapping[str, str],
    *,
    form: Form | None = None,
    drop_parens_for: Iterable[str] = (),
    drop_close_for: Iterable[str] = (),
    retype: Callable[[str], str] | None = None,
) -> bytes:
    """A prose form (`form`, default the shipped 附件2) as its blank .docx prints it, with
    `values` (key -> exactly what is typed into that blank) and `header` (header.* key -> what
    is typed after the label). Keys absent stay blank; keys in `drop_parens_for` lose the
    blank's brackets, keys in `drop_close_for` its closing one; `retype` rewrites each filled
    进展情况 text (a clerk retyping punctuation or line breaks)."""
    template = prose_template(form)
    category_column, name_column, requirements_column, prose_column, count = _columns(template)
    document = _new_docx(landscape=True)
    if template.ATTACHMENT_LABEL:
        document.add_paragraph(template.ATTACHMENT_LABEL)
    _title(document, template.TITLE)
    if template.HEADER_FIELDS:
        document.add_paragraph(template.render_header_line(dict(header)))
    table = document.add_table(rows=len(template.ITEMS) + 1, cols=count)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Cm(w) for w in _widths(template, _DOCX_WIDTHS)]
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
    head = table.rows[0].cells
    for first, last, text in _header_cells(template, count):
        cell = head[first].merge(head[last]) if last > first else head[first]
        _set_lines(cell, text)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if category_column is not None:
        for (first, last), category in zip(template.CATEGORY_GROUPS, template.CATEGORIES):
            cell = table.cell(first + 1, category_column)
            if last - first > 1:
                cell = cell.merge(table.cell(last, category_column))
            _set_lines(cell, category)
    drop_parens, drop_close = frozenset(drop_parens_for), frozenset(drop_close_for)
    for index, item in enumerate(template.ITEMS):
        cells = table.rows[index + 1].cells
        _set_lines(cells[name_column], item.name)
        if requirements_column is not None:
            _set_lines(cells[requirements_column], item.requirements)
        prose = render_progress(item, dict(values), drop_parens_for=drop_parens, drop_close_for=drop_close)
        _set_lines(cells[prose_column], retype(prose) if retype else prose)
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


def _header_rows(sheet, row: int, template: ProseTemplate, header: Mapping[str, str], width: int,
                 in_cells: bool) -> int:
    """The header line: one merged row, or each label and value in its own cell."""
    if not template.HEADER_FIELDS:
        return row
    if in_cells:
        column = 1
        for label, key in template.HEADER_FIELDS:
            sheet.cell(row, column, f"{label}：")
            value = header.get(key, "")
            if value:
                sheet.cell(row, column + 1, value)
            column += 2
    else:
        sheet.cell(row, 1, template.render_header_line(dict(header)))
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    return row + 1


_SHEET_TITLE_BAD_RE = re.compile(r"[\[\]:*?/\\：？＊／＼]")


def sheet_title(template: ProseTemplate) -> str:
    """The worksheet's name: the title's own part (进展情况统计表), as Excel allows it."""
    title = _SHEET_TITLE_BAD_RE.sub("", title_own_part(template.TITLE)).strip("' ")[:31]
    return title or "Sheet1"


def fill_progress_xlsx(
    values: Mapping[str, str],
    header: Mapping[str, str],
    *,
    form: Form | None = None,
    drop_parens_for: Iterable[str] = (),
    drop_close_for: Iterable[str] = (),
    layout: str = "table",
    header_in_cells: bool = False,
    retype: Callable[[str], str] | None = None,
) -> bytes:
    """A prose form (`form`, default the shipped 附件2) as a workbook, in the layouts units make:

    * "table": the form's table in a sheet (2020: 活动项目 / 内容要求 / 进展情况, merged cells);
    * "rows": one row per activity item with its 进展情况 prose;
    * "cells": one row per blank — 序号 / 活动项目 / 内容 (the blank's label) / 数值; a key in
      `drop_parens_for` gets its label without the blank's brackets.

    `header_in_cells` puts each header label and value in cells of their own; `retype` rewrites
    each filled 进展情况 text ("table" and "rows").
    """
    if layout not in ("table", "rows", "cells"):
        raise ValueError(f"unknown layout {layout!r}")
    template = prose_template(form)
    drop_parens, drop_close = frozenset(drop_parens_for), frozenset(drop_close_for)

    def prose(item) -> str:
        text = render_progress(item, dict(values), drop_parens_for=drop_parens, drop_close_for=drop_close)
        return retype(text) if retype else text

    category_column, name_column, requirements_column, prose_column, count = _columns(template)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(template)
    width = {"table": count, "rows": 3, "cells": 4}[layout]
    sheet.cell(1, 1, template.ATTACHMENT_LABEL or None)
    sheet.cell(2, 1, template.TITLE).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    row = _header_rows(sheet, 3, template, header, width, header_in_cells)
    first_body = row
    if layout == "table":
        for first, last, text in _header_cells(template, count):
            sheet.cell(row, first + 1, text)
            if last > first:
                sheet.merge_cells(start_row=row, start_column=first + 1, end_row=row, end_column=last + 1)
        if category_column is not None:
            for (first, last), category in zip(template.CATEGORY_GROUPS, template.CATEGORIES):
                sheet.cell(row + 1 + first, category_column + 1, category)
                if last - first > 1:
                    sheet.merge_cells(start_row=row + 1 + first, start_column=category_column + 1,
                                      end_row=row + last, end_column=category_column + 1)
        for index, item in enumerate(template.ITEMS):
            r = row + 1 + index
            sheet.cell(r, name_column + 1, item.name)
            if requirements_column is not None:
                sheet.cell(r, requirements_column + 1, item.requirements)
            sheet.cell(r, prose_column + 1, prose(item))
        last_row = row + len(template.ITEMS)
        widths = _widths(template, _XLSX_WIDTHS)
    elif layout == "rows":
        for column, title in enumerate(("序号", template.name_header, template.progress_header), start=1):
            sheet.cell(row, column, title)
        for index, item in enumerate(template.ITEMS):
            r = row + 1 + index
            sheet.cell(r, 1, index + 1)
            sheet.cell(r, 2, item.name.replace("\n", ""))
            sheet.cell(r, 3, prose(item))
        last_row = row + len(template.ITEMS)
        widths = [6, 20, 90]
    else:
        for column, title in enumerate(("序号", template.name_header, "内容", "数值"), start=1):
            sheet.cell(row, column, title)
        for blank in template.BLANKS:
            r = row + blank.number
            label = blank.label
            if blank.key in drop_parens:
                label = label.replace("（ ）", "").replace("( )", "").replace("（ )", "")
            sheet.cell(r, 1, blank.number)
            sheet.cell(r, 2, template.ITEMS[blank.item].name.replace("\n", ""))
            sheet.cell(r, 3, label)
            if blank.key in values and values[blank.key] != "":
                sheet.cell(r, 4, _typed(values[blank.key]))
        last_row = row + len(template.BLANKS)
        widths = [6, 26, 36, 16]
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
