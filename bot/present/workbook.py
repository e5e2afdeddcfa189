"""The organizers' workbook, in Chinese.

Sheets: 汇总 (the 附件2 table itself, totals written into its blanks), 各单位明细 (one row per
unit, one column per key), 报送情况 (units × items, dates and coloured states), 及时率 (the
timeliness score with a bar chart), 联络员名单, 消息记录.

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
from copy import copy
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..campaign.calendar import Calendar
from ..campaign.standing import Consolidated, UnitStanding, form_email, ranked
from ..forms import progress_template as tpl
from .labels import OUTCOME_LABELS

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
    report: Consolidated
    messages: list[dict]


def _text(ws, row: int, col: int, value, **style):
    """Write a cell; strings are forced to the string type so "=cmd|..." stays text."""
    cell = ws.cell(row=row, column=col)
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


def build_workbook(data: WorkbookData) -> bytes:
    wb = Workbook()
    _summary_sheet(wb.active, data)
    _detail_sheet(wb.create_sheet("各单位明细"), data)
    _delivery_sheet(wb.create_sheet("报送情况"), data)
    _timeliness_sheet(wb.create_sheet("及时率"), data)
    _liaison_sheet(wb.create_sheet("联络员名单"), data)
    _messages_sheet(wb.create_sheet("消息记录"), data)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _summary_sheet(ws, data: WorkbookData) -> None:
    """The 附件2 table as the notice prints it, each blank filled with the consolidated total
    (text blanks list how many units filled them)."""
    ws.title = "汇总"
    ws.merge_cells("A1:C1")
    _text(ws, 1, 1, "“安全生产月”活动进展情况统计表（汇总）", font=Font(bold=True, size=14), alignment=CENTER)
    ws.merge_cells("A2:C2")
    _text(ws, 2, 1, f"{data.title}　已报单位 {len(data.report.units)} 个，未报 {len(data.report.missing_units)} 个"
                    f"　统计时间：{_local(data.calendar, data.now)}", alignment=CENTER)
    for col, head in enumerate(("活动项目", "内容要求", "进展情况"), start=1):
        _text(ws, 3, col, head, font=BOLD, alignment=CENTER, border=BOX, fill=PatternFill("solid", fgColor="D9E1F2"))
    row = 4
    for item in tpl.ITEMS:
        prose = tpl.render_progress(item, {b.key: _total_text(b, data.report) for b in item.blanks})
        _text(ws, row, 1, item.name, alignment=CENTER, border=BOX)
        _text(ws, row, 2, item.requirements, alignment=WRAP, border=BOX)
        _text(ws, row, 3, prose, alignment=WRAP, border=BOX)
        row += 1
    _widths(ws, [22, 48, 70])


def _total_text(blank, report: Consolidated) -> str:
    if blank.type == tpl.INT:
        return str(report.totals.get(blank.key, 0))
    filled = sum(1 for values in report.units.values() if values.get(blank.key))
    return f"{filled}个单位填写" if filled else ""


def _detail_sheet(ws, data: WorkbookData) -> None:
    keys = [b.key for b in tpl.BLANKS]
    headers = ["单位", "填报单位", "联系人", "电话", "填报日期"] + [tpl.numbered_label(b) for b in tpl.BLANKS]
    for col, head in enumerate(headers, start=1):
        _text(ws, 1, col, head, font=BOLD, alignment=WRAP, border=BOX)
    row = 2
    for s in data.standings:
        values = s.progress or {}
        _text(ws, row, 1, s.unit)
        for col, key in enumerate(("header.unit_name", "header.contact", "header.phone", "header.fill_date"), start=2):
            _text(ws, row, col, values.get(key))
        for col, key in enumerate(keys, start=6):
            _text(ws, row, col, values.get(key))
        row += 1
    _text(ws, row, 1, "合计", font=BOLD)
    for col, b in enumerate(tpl.BLANKS, start=6):
        if b.type == tpl.INT:
            _text(ws, row, col, data.report.totals.get(b.key, 0), font=BOLD)
    ws.freeze_panes = "B2"
    _widths(ws, [24, 20, 10, 14, 14] + [12] * len(keys))


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
    _text(ws, len(order) + 3, 1, "得分 = 100 × (按时 + 0.5 × 逾期) ÷ 已到期项数；得分相同的单位名次相同；"
                                 "供“安康杯”名额分配参考。")
    if order:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "各单位报送得分"
        chart.y_axis.title = "得分"
        chart.add_data(Reference(ws, min_col=10, min_row=1, max_row=len(order) + 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=2, max_row=len(order) + 1))
        chart.height = max(7.5, 0.5 * len(order))
        chart.width = 18
        ws.add_chart(chart, "L2")
    _widths(ws, [6, 24, 8, 8, 8, 8, 14, 14, 10, 8])


def _liaison_sheet(ws, data: WorkbookData) -> None:
    headers = ("单位", "姓名", "性别", "职务", "办公电话", "手机", "传真", "QQ号", "微信号", "电子邮箱", "通信地址",
               "提醒发送地址")
    keys = ("name", "gender", "title", "office_phone", "mobile", "fax", "qq", "wechat", "email", "address")
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
    _widths(ws, [24, 10, 6, 14, 16, 14, 14, 12, 14, 26, 30, 30])


def _messages_sheet(ws, data: WorkbookData) -> None:
    headers = ("编号", "收到时间", "发件人", "主题", "单位", "结果", "材料", "说明")
    for col, head in enumerate(headers, start=1):
        _text(ws, 1, col, head, font=BOLD, border=BOX)
    for row, m in enumerate(data.messages, start=2):
        note = "；".join(([m["reason"]] if m["reason"] else []) + list(m["flags"]))
        for col, v in enumerate((m["id"], (m["received_at"] or "")[:16].replace("T", " "), m["from"], m["subject"],
                                 m["unit"], OUTCOME_TEXT.get(m["outcome"], m["outcome"]), "、".join(m["kinds"]), note),
                                start=1):
            _text(ws, row, col, v)
    ws.freeze_panes = "A2"
    _widths(ws, [6, 17, 26, 40, 24, 12, 20, 50])
