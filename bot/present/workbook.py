"""The organizers' workbook, in Chinese.

Sheets: a 汇总 for each reported form, in the form's own layout — a prose form (附件2) as its
table itself with the totals written into its blanks, followed by 各单位明细 (one row per unit,
one column per blank); a grid form as one row per unit with its fields as columns; a list form
as the records of all units with a 单位 column first — then 报送情况 (units × items, dates and
coloured states), 及时率 (the timeliness score with a bar chart), 联络员名单 (the liaison form's
fields), 消息记录. With one reported form its sheets are 汇总 and 各单位明细 (2020); with several,
each carries its form's name (附件2汇总).

Text that came from units is always written as a string cell, never as a formula: openpyxl
turns any str starting with "=" into a formula, so `_text` forces the string type.

Styles: openpyxl hashes a Font/Border/Fill/Alignment on every assignment to find it in the
workbook's style tables, and a Border hashes its four Sides recursively; at 500 units that was
about 40% of the build time. `_text` therefore assigns each combination of style objects once per
workbook and copies the resulting style indices (`cell._style`, what openpyxl's own
copy_worksheet copies) to the other cells. The saved file is byte for byte the same.
"""
from __future__ import annotations

import io
import re
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable
from weakref import WeakKeyDictionary

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from ..campaign.calendar import Calendar
from ..campaign.standing import Consolidated, FormReport, UnitStanding, form_email, int_fields, ranked, summarise
from ..forms.definition import (DATE, EMAIL, GENDER, GRID, ID_NUMBER, INT, LIST, MANY, MOBILE, PHONE, PROSE, QQ,
                                TEXT, Field)
from .labels import OUTCOME_LABELS, field_label, header_label, kind_short, numbered_label, report_forms, score_use

STATE_TEXT = {"on_time": "按时", "late": "逾期", "missing": "缺报", "open": "未到期"}
STATE_FILL = {"on_time": "C6EFCE", "late": "FFEB9C", "missing": "FFC7CE", "open": "EDEDED"}
OUTCOME_TEXT = OUTCOME_LABELS
BOLD = Font(bold=True)
RED = Font(color="C00000")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


# workbook -> {((attribute, id(style object)), ...): (StyleArray, the style objects)}. The
# objects are kept in the value so that their ids cannot be reused while the key lives.
_STYLE_CACHE: WeakKeyDictionary = WeakKeyDictionary()


@dataclass
class WorkbookData:
    title: str
    now: datetime
    calendar: Calendar
    standings: list[UnitStanding]
    report: Consolidated  # the first reported form's (2020: the 附件2's)
    messages: list[dict]
    # every reported form's figures (labels.report_forms), summed over `standings` when not given
    reports: list[FormReport] | None = field(default=None)

    def __post_init__(self):
        if self.reports is None:
            self.reports = [summarise(self.standings, form) for form in report_forms(self.calendar.campaign)]


# Column widths by what a field holds (its key's last part, else its type).
_KEY_WIDTHS = {"unit_name": 14, "contact": 8, "phone": 13, "fill_date": 12, "name": 7, "gender": 5, "title": 10,
               "office_phone": 13, "mobile": 12, "fax": 13, "qq": 10, "wechat": 11, "email": 20, "address": 24}
_TYPE_WIDTHS = {INT: 8, TEXT: 14, DATE: 12, MOBILE: 12, PHONE: 13, EMAIL: 20, ID_NUMBER: 20, GENDER: 5, QQ: 10}
_SHEET_NAME_BAD = str.maketrans({c: "" for c in "[]:*?/\\"})


def _field_width(f: Field) -> int:
    return _KEY_WIDTHS.get(f.key.rsplit(".", 1)[-1], _TYPE_WIDTHS.get(f.type, 14))


def _text(ws, row: int, col: int, value, **style):
    """Write a cell; strings are forced to the string type so "=cmd|..." stays text."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, (list, tuple, dict, set)):  # never from a form's field, but never a crash
        value = str(value)
    if value is None:
        cell.value = None
    elif isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
    else:
        cell.value = value
    if style:
        cache = _STYLE_CACHE.setdefault(ws.parent, {})
        key = tuple((k, id(v)) for k, v in style.items())
        known = cache.get(key)
        if known is None:
            for k, v in style.items():
                setattr(cell, k, v)
            cache[key] = (copy(cell._style), tuple(style.values()))
        else:
            cell._style = copy(known[0])
    return cell


def _widths(ws, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _local(cal: Calendar, moment: datetime | None) -> str:
    return "" if moment is None else cal.local(moment).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class _Sheet:
    title: str
    fill: Callable
    title_rows: str = "1:1"  # repeated on every printed page
    grid: bool = True  # print gridlines (cells without borders of their own)


def _sheet_title(text: str) -> str:
    return text.translate(_SHEET_NAME_BAD)[:31]


def _plan(data: WorkbookData) -> list[_Sheet]:
    """The workbook's sheets in order, each with how it is filled and printed."""
    reports = [r for r in data.reports if r.form is not None]
    one = len(reports) == 1
    sheets = []
    for r in reports:
        form = r.form
        summary = "汇总" if one else _sheet_title(f"{form.form}汇总")
        # the summary's title rows above its column headers, boxed like the notice's table
        if form.shape == PROSE:
            sheets.append(_Sheet(summary, lambda ws, d, r=r: _prose_summary_sheet(ws, d, r), "3:3", False))
            sheets.append(_Sheet("各单位明细" if one else _sheet_title(f"{form.form}各单位明细"),
                                 lambda ws, d, r=r: _prose_detail_sheet(ws, d, r)))
        elif form.shape == GRID:
            sheets.append(_Sheet(summary, lambda ws, d, r=r: _rows_sheet(ws, d, r), "3:3"))
        else:
            sheets.append(_Sheet(summary, lambda ws, d, r=r: _rows_sheet(ws, d, r), "3:3"))
    sheets += [_Sheet("报送情况", _delivery_sheet), _Sheet("及时率", _timeliness_sheet)]
    if data.calendar.campaign.liaison_form is not None:
        sheets.append(_Sheet("联络员名单", _liaison_sheet))
    sheets.append(_Sheet("消息记录", _messages_sheet))
    return sheets


def sheet_names(data: WorkbookData) -> list[str]:
    """The workbook's sheet names, in order (the digest lists them)."""
    return [sheet.title for sheet in _plan(data)]


def build_workbook(data: WorkbookData) -> bytes:
    wb = Workbook()
    plan = _plan(data)
    for n, sheet in enumerate(plan):
        ws = wb.active if n == 0 else wb.create_sheet(sheet.title)
        ws.title = sheet.title
        sheet.fill(ws, data)
    for ws, sheet in zip(wb.worksheets, plan):
        _fit_rows(ws)
        _page_setup(ws, data, title_rows=sheet.title_rows, grid=sheet.grid)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _title_rows(ws, data: WorkbookData, report: FormReport, columns: int, counted: str = "") -> None:
    """Rows 1-2 of a 汇总 sheet: the form's title, then who sent it and when it was counted."""
    last = get_column_letter(max(columns, 1))
    ws.merge_cells(f"A1:{last}1")
    _text(ws, 1, 1, f"{report.form.title}（汇总）", font=Font(bold=True, size=14), alignment=CENTER)
    ws.merge_cells(f"A2:{last}2")
    _text(ws, 2, 1, f"{data.title}　已报单位 {len(report.units)} 个{counted}，未报 {len(report.missing_units)} 个"
                    f"　统计时间：{_local(data.calendar, data.now)}", alignment=CENTER)


def _prose_summary_sheet(ws, data: WorkbookData, report: FormReport) -> None:
    """A prose form's table as the notice prints it, each blank filled with the consolidated
    total (text blanks say how many units filled them)."""
    form = report.form
    with_requirements = any(section.requirements for section in form.sections)
    width = 3 if with_requirements else 2
    heads = tuple(form.column_headers[-width:]) if len(form.column_headers) >= width else (
        ("活动项目", "内容要求", "进展情况") if with_requirements else ("活动项目", "进展情况"))
    _title_rows(ws, data, report, width)
    for col, head in enumerate(heads, start=1):
        _text(ws, 3, col, head, font=BOLD, alignment=CENTER, border=BOX, fill=PatternFill("solid", fgColor="D9E1F2"))
    blanks = {f.number: f for f in form.blanks}
    number = 0
    for row, section in enumerate(form.sections, start=4):
        out = []
        for position, part in enumerate(section.parts):
            if position % 2 == 0:
                out.append(part)
                continue
            number += 1
            out.append(part[0] + _total_text(blanks[number], report) + part[-1])
        cells = [section.name] + ([section.requirements] if with_requirements else []) + ["".join(out)]
        for col, value in enumerate(cells, start=1):
            _text(ws, row, col, value, alignment=CENTER if col == 1 else WRAP, border=BOX)
    _widths(ws, [22, 48, 70] if with_requirements else [22, 70])


def _total_text(blank: Field, report: Consolidated) -> str:
    if blank.type == INT:
        return str(report.totals.get(blank.key, 0))
    filled = sum(1 for values in report.units.values() if values.get(blank.key))
    return f"{filled}个单位填写" if filled else ""


def _prose_detail_sheet(ws, data: WorkbookData, report: FormReport) -> None:
    """One row per unit, one column per header field and per blank, the totals under them."""
    form = report.form
    fields = list(form.header_fields) + list(form.blanks)
    first = len(form.header_fields) + 2  # the first blank's column
    headers = ["单位"] + [header_label(f) for f in form.header_fields] + [numbered_label(f) for f in form.blanks]
    for col, head in enumerate(headers, start=1):
        _text(ws, 1, col, head, font=BOLD, alignment=WRAP, border=BOX)
    row = 2
    for s in data.standings:
        values = report.units.get(s.unit) or {}
        _text(ws, row, 1, s.unit)
        for col, f in enumerate(fields, start=2):
            _text(ws, row, col, values.get(f.key))
        row += 1
    _text(ws, row, 1, "合计", font=BOLD)
    for col, b in enumerate(form.blanks, start=first):
        if b.type == INT:
            _text(ws, row, col, report.totals.get(b.key, 0), font=BOLD)
    ws.freeze_panes = "B2"
    _widths(ws, [16] + [_field_width(f) for f in form.header_fields]
            + [24 if b.type == TEXT else 8 for b in form.blanks])
    # printed in bands of whole activity items (进企业…进家庭 one band each), 单位 on every band
    groups: dict[str, list[int]] = {"header": list(range(2, first))} if form.header_fields else {}
    for col, b in enumerate(form.blanks, start=first):
        groups.setdefault(b.key.rsplit(".", 1)[0] if "." in b.key else f"section{b.section}", []).append(col)
    _column_bands(ws, 2, list(groups.values()))


def _rows_sheet(ws, data: WorkbookData, report: FormReport) -> None:
    """A grid form as one row per unit (a many-per-unit form: per copy), a list form as the
    records of all units; 单位 first, then the form's fields, the int fields summed below."""
    form = report.form
    fields = list(form.fields)
    records = form.shape == LIST or form.per_unit == MANY
    counted = f"，共 {report.records} 条记录" if records else ""
    _title_rows(ws, data, report, len(fields) + 1, counted)
    for col, head in enumerate(["单位"] + [field_label(form, f) for f in fields], start=1):
        _text(ws, 3, col, head, font=BOLD, alignment=CENTER, border=BOX, fill=PatternFill("solid", fgColor="D9E1F2"))
    row = 4
    for s in data.standings:
        got = report.units.get(s.unit)
        if got is None:
            if not records:  # a grid form's unit that sent nothing still has its row
                _text(ws, row, 1, s.unit)
                _text(ws, row, 2, "（未报送）", font=RED)
                row += 1
            continue
        for values in (got if isinstance(got, list) else [got]):
            _text(ws, row, 1, s.unit)
            for col, f in enumerate(fields, start=2):
                _text(ws, row, col, values.get(f.key))
            row += 1
    keys = set(int_fields(form))
    if keys:
        _text(ws, row, 1, "合计", font=BOLD)
        for col, f in enumerate(fields, start=2):
            if f.key in keys:
                _text(ws, row, col, report.totals.get(f.key, 0), font=BOLD)
        row += 1
    if records and report.missing_units:
        ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=len(fields) + 1)
        _text(ws, row + 1, 1, "未报单位：" + "、".join(report.missing_units), alignment=WRAP)
    ws.freeze_panes = "B4"
    _widths(ws, [16] + [_field_width(f) for f in fields])


def _delivery_sheet(ws, data: WorkbookData) -> None:
    cal = data.calendar
    items = [dl.item for dl in cal.items_due_by_end()]
    fills = {state: PatternFill("solid", fgColor=color) for state, color in STATE_FILL.items()}  # one per state
    _text(ws, 1, 1, "单位", font=BOLD, border=BOX)
    _text(ws, 1, 2, "类别", font=BOLD, border=BOX)
    for col, item in enumerate(items, start=3):
        _text(ws, 1, col, f"{cal.item_label(item)}\n截止 {_local(cal, cal.deadline(item).due)}", font=BOLD,
              alignment=CENTER, border=BOX)
    for row, s in enumerate(data.standings, start=2):
        _text(ws, row, 1, s.unit, border=BOX)
        _text(ws, row, 2, s.category, border=BOX)
        for col, item in enumerate(items, start=3):
            st = s.items[item]
            label = STATE_TEXT[st.state] + (f"\n{_local(cal, st.received_at)}" if st.received_at else "")
            _text(ws, row, col, label, alignment=CENTER, border=BOX,
                  fill=fills[st.state])
    ws.freeze_panes = "C2"
    _widths(ws, [24, 14] + [18] * len(items))


def _timeliness_sheet(ws, data: WorkbookData) -> None:
    headers = ("名次", "单位", "按时", "逾期", "缺报", "未到期", "累计提前天数", "累计逾期天数", "及时率", "得分")
    for col, head in enumerate(headers, start=1):
        _text(ws, 1, col, head, font=BOLD, border=BOX)
    order = ranked(data.standings)  # equal scores share a rank
    for row, (rank, s) in enumerate(order, start=2):
        t = s.timeliness
        _text(ws, row, 1, rank)
        _text(ws, row, 2, s.unit)
        for col, v in enumerate((t.on_time, t.late, t.missing, t.open, round(t.days_early, 1),
                                 round(t.days_late, 1)), start=3):
            _text(ws, row, col, v)
        rate = ws.cell(row=row, column=9, value=t.rate if t.rate is not None else None)
        rate.number_format = "0%"
        _text(ws, row, 10, t.score)
    ws.merge_cells(start_row=len(order) + 3, start_column=1, end_row=len(order) + 3, end_column=len(headers))
    use = score_use(data.calendar.campaign)
    _text(ws, len(order) + 3, 1, "得分 = 100 × (按时 + 0.5 × 逾期) ÷ 已到期项数；得分相同的单位名次相同"
                                 + (f"；供{use}名额分配参考。" if use else "。"))
    if order:
        ws.add_chart(_score_chart(ws, len(order)), "L2")
    _widths(ws, [5, 24, 6, 6, 6, 7, 8, 8, 7, 7])


def _score_chart(ws, units: int) -> BarChart:
    """Horizontal bars in the table's order (first place on top), each named by its unit, the
    score written at its end; as tall as the table beside it so the sheet prints on one page."""
    from openpyxl.chart.label import DataLabelList
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties

    def small(points: float) -> RichText:
        size = CharacterProperties(sz=int(points * 100))
        return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=size), endParaRPr=size)])

    chart = BarChart()
    chart.type = "bar"
    chart.title = "各单位报送得分"
    chart.add_data(Reference(ws, min_col=10, min_row=1, max_row=units + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=2, max_row=units + 1))
    chart.legend = None  # one series, named by the value axis
    chart.x_axis.title = "单位"
    chart.y_axis.title = "得分"
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes unless told
    chart.x_axis.scaling.orientation = "maxMin"  # first place on top, as in the table
    chart.y_axis.crosses = "max"  # which keeps the score axis at the bottom
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.x_axis.tickLblSkip = 1  # every unit named, none skipped for want of room
    chart.x_axis.txPr = small(8)
    chart.dataLabels = DataLabelList(showVal=True, showCatName=False, showSerName=False, showLegendKey=False,
                                     showPercent=False)
    chart.dataLabels.txPr = small(8)
    chart.gapWidth = 40
    chart.height = max(7.5, 3 + 0.6 * units)
    chart.width = 15
    return chart


def _liaison_sheet(ws, data: WorkbookData) -> None:
    """The liaison form's fields per unit (its 单位名称 is the roster's, in the first column),
    and where reminders go."""
    fields = [f for f in data.calendar.campaign.liaison_form.fields if f.key != "unit_name"]
    headers = ["单位"] + [f.short for f in fields] + ["提醒发送地址"]
    keys = [f.key for f in fields]
    for col, head in enumerate(headers, start=1):
        _text(ws, 1, col, head, font=BOLD, border=BOX)
    for row, s in enumerate(data.standings, start=2):
        _text(ws, row, 1, s.unit)
        if s.liaison is None:
            _text(ws, row, 2, "（未报送）", font=RED)
            continue
        for col, key in enumerate(keys, start=2):
            _text(ws, row, col, s.liaison.get(key))
        if s.liaison_address and s.liaison_address != form_email(s.liaison):
            _text(ws, row, len(keys) + 2, f"{s.liaison_address}（表中未填邮箱，用报送邮件的发件地址）")
        else:
            _text(ws, row, len(keys) + 2, s.liaison_address)
    _widths(ws, [16] + [_field_width(f) for f in fields] + [20])


def _messages_sheet(ws, data: WorkbookData) -> None:
    headers = ("编号", "收到时间", "发件人", "主题", "单位", "结果", "材料", "说明")
    for col, head in enumerate(headers, start=1):
        _text(ws, 1, col, head, font=BOLD, border=BOX)
    shorts = kind_short(data.calendar.campaign)
    for row, m in enumerate(data.messages, start=2):
        note = "；".join(([m["reason"]] if m["reason"] else []) + list(m["flags"]))
        for col, v in enumerate((m["id"], (m["received_at"] or "")[:16].replace("T", " "), m["from"], m["subject"],
                                 m["unit"], OUTCOME_TEXT.get(m["outcome"], m["outcome"]),
                                 "、".join(shorts.get(k, k) for k in m["kinds"]), note),
                                start=1):
            _text(ws, row, col, v)
    ws.freeze_panes = "A2"
    _widths(ws, [5, 16, 22, 44, 20, 10, 10, 38])


# ---------------------------------------------------------------------------------------------
# Printing. The workbook is printed and forwarded as PDF, by LibreOffice, WPS or Excel, which
# size nothing themselves. Every sheet says its paper (A4), orientation (landscape when its
# columns are wider than a portrait page), fit to the page width (to one page in all when that
# costs little), the header rows repeated on every page, margins, a header with the campaign,
# the sheet's name and the moment, and a footer "第 N 页，共 M 页". 各单位明细 (56 columns)
# would be unreadable fitted to one page width: it prints in bands of whole activity items at a
# fixed scale, 单位 repeated on each. Every row gets an explicit height estimated from the width
# of its text (an importer keeps the one-line default and prints wrapped lines over the next
# row), and each cell that takes more than one line wraps.

_PAGE_MM = {"portrait": 210.0, "landscape": 297.0}
_SIDE_MARGIN_IN = 0.5
_TOP_MARGIN_IN = 0.75  # top and bottom; the header and footer sit inside them
_ONE_PAGE_SLACK = 1.3  # a sheet this many pages long is shrunk onto one
_DEFAULT_WIDTH = 8.43  # a column without an explicit width
_LINE_PT = 1.3  # line spacing per point of font size (Excel's 11 pt 等线 rows are 14.25 pt)
_ROW_PAD_PT = 4.0
_MAX_ROW_PT = 409.0  # the format's limit
_MIN_BAND_SCALE = 65  # the detail sheet's column bands are packed to print at no less than this
PAGE_FOOTER = "第 &P 页，共 &N 页"
_WIDE = 2.1  # column units of a CJK character


def _text_units(text: str) -> float:
    """Display width in column units (digits of the default font): 1 for ASCII, 2.1 for a CJK
    character or full-width mark (an 11 pt CJK glyph is 14.7 px, a Calibri digit 7 px). UTF-8
    takes 3 bytes for those and 1 for ASCII, so the count runs in C."""
    wide = (len(text.encode()) - len(text)) / 2
    return len(text) + (_WIDE - 1) * wide


def _width(ws, col: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.customWidth else _DEFAULT_WIDTH


def _columns_mm(widths) -> float:
    """Printed width of columns at 100 %. A width unit is one digit of the default font:
    Excel's Calibri takes 7 px at 96 dpi plus 5 px padding per column; LibreOffice where Calibri
    (or its metric twin Carlito) is missing lays the DejaVu Sans digit, 7 pt. The wider counts."""
    return sum(widths) * 7 * 25.4 / 72


def _printable_mm(orientation: str, axis: int = 0) -> float:
    """The page's width (axis 0) or height (axis 1) inside the margins."""
    if axis:
        return _PAGE_MM["landscape" if orientation == "portrait" else "portrait"] - 2 * 25.4 * _TOP_MARGIN_IN
    return _PAGE_MM[orientation] - 2 * 25.4 * _SIDE_MARGIN_IN


def _extent_mm(ws) -> tuple[float, float]:
    """Width and height the sheet's cells and charts take at 100 %."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    columns = [_width(ws, c) for c in range(1, ws.max_column + 1)]
    rows = [(ws.row_dimensions[r].height or 15) * 25.4 / 72 for r in range(1, ws.max_row + 1)]
    width, height = _columns_mm(columns), sum(rows)
    for chart in ws._charts:
        letter, row = coordinate_from_string(chart.anchor)
        col = column_index_from_string(letter)
        left = _columns_mm(columns[:col - 1]) + _columns_mm([_DEFAULT_WIDTH] * max(0, col - 1 - len(columns)))
        width = max(width, left + chart.width * 10)
        height = max(height, sum(rows[:row - 1]) + chart.height * 10)
    return width, height


# Where a line may break: between CJK characters, at spaces, not inside a run of ASCII (a word,
# a number, an address), which moves to the next line whole unless it is longer than a line.
_RUNS = re.compile(r" +|[!-~]+|[^ -~]+")
_NO_LINE_START = frozenset("，。、；：？！）》」』”’%…")  # carried down with the character before them


def _lines(text: str, width: float, factor: float) -> int:
    """Lines `text` takes in a wrapping cell of `width` column units, filled as a spreadsheet
    fills them (run by run, not character by character: at 500 units this measures thousands
    of cells)."""
    usable = max(1.0, width - 0.5)  # the cell's padding
    ascii_w, wide_w = factor, _WIDE * factor
    total = 0
    for line in text.split("\n"):
        if _text_units(line) * factor <= usable:
            total += 1
            continue
        lines, x = 1, 0.0
        for run in _RUNS.findall(line):
            if run[0] == " ":  # spaces hang at the end of a line
                x += len(run) * ascii_w
            elif run.isascii():
                w = len(run) * ascii_w
                if x + w <= usable:
                    x += w
                elif w <= usable:
                    lines, x = lines + 1, w
                else:  # a word longer than a line is broken anywhere
                    per = max(1, int(usable // ascii_w))
                    rest = len(run) - max(0, int((usable - x) // ascii_w))
                    lines += -(-rest // per)
                    x = (rest % per or per) * ascii_w
            else:  # CJK: a break may come between any two characters
                i, n = 0, len(run)
                while True:
                    room = max(0, int((usable - x) // wide_w))
                    if n - i <= room:
                        x += (n - i) * wide_w
                        break
                    if room == 0 and x == 0:
                        room = 1  # a column narrower than one character still shows one a line
                    i += room
                    if 0 < i and run[i] in _NO_LINE_START and room > 1:
                        i -= 1
                    lines, x = lines + 1, 0.0
        total += lines
    return total


def _fit_rows(ws) -> None:
    """Give every row the height its tallest cell needs, and make each cell that takes more
    than one line wrap.

    Only those cells are restyled, keeping their vertical alignment (the default is the
    bottom, so a row's single-line cells print on the line its wrapped ones end on): at 500
    units a sheet has some 57,000 cells, and each styled cell costs openpyxl a hash of its
    style when it saves. Hence too StyleArray fields by index (the named descriptors are
    Python calls) and ws._cells rather than ws.iter_rows() (which would create, and the file
    then carry, every empty cell of the rectangle)."""
    wb = ws.parent
    cache = _STYLE_CACHE.setdefault(wb, {})
    wrapped = cache.setdefault("wrapped alignment ids", {})
    fonts = cache.setdefault("font metrics", {})
    widths = [_width(ws, col) for col in range(1, ws.max_column + 1)]
    spans, covered = {}, set()
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = sum(widths[rng.min_col - 1:rng.max_col])
        covered.update((r, c) for r in range(rng.min_row, rng.max_row + 1) for c in range(rng.min_col, rng.max_col + 1)
                       if (r, c) != (rng.min_row, rng.min_col))
    heights: dict[int, float] = {}
    known: dict[tuple, int] = {}  # (text, width, factor) -> lines: units' names and states repeat

    def wrap_id(old: int) -> int:
        new = wrapped.get(old)
        if new is None:
            alignment = wb._alignments[old]
            if not alignment.wrap_text:
                alignment = copy(alignment)
                alignment.wrap_text = True
            new = wrapped[old] = wb._alignments.add(alignment)
        return new

    def metrics_of(font_id: int) -> tuple[float, float]:
        font = wb._fonts[font_id]
        size = font.sz or 11
        fonts[font_id] = (size * _LINE_PT, size / 11 * (1.05 if font.b else 1.0))
        return fonts[font_id]

    plain = [0] * 9  # a cell written without a style, wrapping (StyleArray's fields)
    plain[5] = wrap_id(0)
    for key, cell in ws._cells.items():
        value = cell._value
        if value is None or key in covered:
            continue
        style = cell._style
        font_id = 0 if style is None else style[0]
        line_pt, factor = fonts.get(font_id) or metrics_of(font_id)
        if type(value) is str:
            row, col = key
            measure = (value, spans.get(key) or widths[col - 1], factor)
            lines = known.get(measure)
            if lines is None:
                lines = known[measure] = _lines(*measure)
            if lines > 1:
                if style is None:
                    cell._style = StyleArray(plain)
                else:
                    style[5] = wrap_id(style[5])
            need = lines * line_pt
        else:
            row, need = key[0], line_pt
        if need > heights.get(row, 0.0):
            heights[row] = need
    single = 11 * _LINE_PT  # one line of 11 pt text: the default row height holds it
    for row, height in heights.items():
        if height > single:
            ws.row_dimensions[row].height = round(min(_MAX_ROW_PT, height + _ROW_PAD_PT), 1)


def _column_bands(ws, first: int, groups: list[list[int]]) -> None:
    """A sheet too wide for one readable page prints in bands of columns, each with columns
    1..first-1 repeated on its left, breaking between groups of columns (an activity item's
    blanks) so that no band prints below _MIN_BAND_SCALE."""
    from openpyxl.worksheet.pagebreak import Break

    title = _columns_mm(_width(ws, c) for c in range(1, first))
    budget = _printable_mm("landscape") * 100 / _MIN_BAND_SCALE - title
    sizes = [_columns_mm(_width(ws, c) for c in group) for group in groups]
    count = 1  # the fewest bands, packing greedily in order
    filled = 0.0
    for size in sizes:
        if filled and filled + size > budget:
            count, filled = count + 1, 0.0
        filled += size
    cuts = _balanced_cuts(sizes, count)
    bands = [sum(groups[a:b], []) for a, b in zip([0] + cuts, cuts + [len(groups)])]
    for band in bands[:-1]:
        ws.col_breaks.append(Break(id=band[-1]))
    widest = max(_columns_mm(_width(ws, c) for c in band) for band in bands) + title
    ws.print_title_cols = f"A:{get_column_letter(first - 1)}"
    ws.page_setup.scale = min(100, int(_printable_mm("landscape") * 100 / widest))


def _balanced_cuts(sizes: list[float], count: int) -> list[int]:
    """Where to cut `sizes` (kept in order) into `count` runs so the largest run is smallest."""
    from functools import lru_cache

    prefix = [0.0]
    for size in sizes:
        prefix.append(prefix[-1] + size)

    @lru_cache(maxsize=None)
    def best(start: int, runs: int) -> tuple[float, tuple[int, ...]]:
        if runs == 1:
            return prefix[-1] - prefix[start], ()
        options = []
        for cut in range(start + 1, len(sizes) - runs + 2):
            rest, cuts = best(cut, runs - 1)
            options.append((max(prefix[cut] - prefix[start], rest), (cut, *cuts)))
        return min(options)

    return list(best(0, min(count, len(sizes)))[1])


def _header_footer_text(text: str) -> str:
    return text.replace("&", "&&")


def _page_setup(ws, data: WorkbookData, *, title_rows: str | None = "1:1", grid: bool = True) -> None:
    """Paper, orientation, scale, repeated rows, margins, gridlines, page header and footer."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    if ws.col_breaks.brk:  # printed in column bands at a fixed scale (_column_bands)
        setup.orientation = "landscape"
    else:
        width, height = _extent_mm(ws)
        setup.orientation = "landscape" if width > _printable_mm("portrait") else "portrait"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        # One page wide, as many down as it takes; one page in all when that shrinks it only a
        # little more (a sheet that would leave a few rows or half a chart to a second page).
        pages_down = height * min(1.0, _printable_mm(setup.orientation) / width) / _printable_mm(setup.orientation, 1)
        setup.fitToWidth, setup.fitToHeight = 1, (1 if pages_down <= _ONE_PAGE_SLACK else 0)
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.print_options.gridLines = grid  # data cells have no borders of their own
    ws.page_margins = PageMargins(left=_SIDE_MARGIN_IN, right=_SIDE_MARGIN_IN, top=_TOP_MARGIN_IN,
                                  bottom=_TOP_MARGIN_IN, header=0.3, footer=0.3)
    for part, text in ((ws.oddHeader.left, data.title), (ws.oddHeader.center, ws.title),
                       (ws.oddHeader.right, f"截至 {_local(data.calendar, data.now)}")):
        part.text, part.size = _header_footer_text(text), 9
    ws.oddFooter.center.text, ws.oddFooter.center.size = PAGE_FOOTER, 9
