"""The blank forms sent out, and the filled ones tests and the demo use, are the notice's forms."""
from __future__ import annotations

import io

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from bot.forms.blank_forms import (
    LIAISON_FIELDS,
    LIAISON_GRID,
    fill_liaison_docx,
    fill_liaison_xlsx,
    fill_progress_docx,
    fill_progress_xlsx,
    write_blank_forms,
)
from bot.forms.definition import derive_form, shipped_form
from bot.forms.progress_template import BLANKS, CATEGORY, HEADER_LINE, ITEMS, TITLE, render_header_line
from bot.resources import project_file
from tests.fixtures.progress_forms import document_from_docx, document_from_xlsx

LIAISON = {
    "name": "高玉兰", "gender": "女", "title": "办公室主任", "office_phone": "0556-8937711",
    "mobile": "13342782718", "fax": "0556-8937712", "qq": "730323223", "wechat": "wx8937711",
    "email": "qsszgh@example.test", "unit_name": "潜山市总工会", "address": "潜山市梅城镇舒州路77号",
}


def _body_ends_with_paragraph(data: bytes) -> bool:
    body = docx.Document(io.BytesIO(data)).element.body
    content = [child for child in body if child.tag != qn("w:sectPr")]
    return content[-1].tag == qn("w:p")


def test_write_blank_forms(tmp_path):
    paths = write_blank_forms(tmp_path / "out")
    assert [p.name for p in paths] == ["附件1（联络员推荐表）.docx", "附件1（联络员推荐表）.xlsx",
                                       "附件2（进展情况统计表）.docx", "附件2（进展情况统计表）.xlsx"]
    for path in paths:
        assert path.is_file() and path.stat().st_size > 1000
    # the campaign folder's own files, as the union sent them out
    folder = project_file("campaigns", "2020-anqing-safety-month")
    assert [p.read_bytes() for p in paths] == [(folder / p.name).read_bytes() for p in paths]
    again = write_blank_forms(tmp_path / "again", folder)
    assert [p.name for p in again] == [p.name for p in paths]
    document_from_docx(paths[0].read_bytes())
    document_from_xlsx(paths[1].read_bytes())
    assert document_from_docx(paths[2].read_bytes()).paragraphs[:3] == ("附件2", TITLE, HEADER_LINE)
    assert document_from_xlsx(paths[3].read_bytes()).tables[0].rows[2][0] == HEADER_LINE


def test_blank_progress_docx_is_the_notice():
    data = fill_progress_docx({}, {})
    doc = document_from_docx(data)
    assert doc.paragraphs[:3] == ("附件2", "“安全生产月”活动进展情况统计表", HEADER_LINE)
    (table,) = doc.tables
    assert table.rows[0] == ("活动项目", "活动项目", "内容要求", "进展情况")
    assert len(table.rows) == 8
    for row, item in zip(table.rows[1:], ITEMS):
        assert row == (CATEGORY, item.name, item.requirements, item.progress)
    # blanks printed as in the notice, whichever width
    assert "开展网络课堂培训(    )场" in table.rows[2][3]
    assert "参与总人数（   )人次" in table.rows[4][3]
    assert "社区（村）" in table.rows[3][3]
    # LibreOffice drops a body-final table when converting to .doc
    assert _body_ends_with_paragraph(data)


def _parts(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.startswith("docProps/")}


def test_the_shipped_form_is_the_default():
    form = shipped_form("附件2")
    values = {"launch.forms": "座谈会", "inspection.film_viewers": "36"}
    assert _parts(fill_progress_docx(values, {"header.contact": "陈刚"}, form=form)) == _parts(
        fill_progress_docx(values, {"header.contact": "陈刚"}))
    for layout in ("table", "rows", "cells"):
        assert _parts(fill_progress_xlsx(values, {}, form=form, layout=layout)) == _parts(
            fill_progress_xlsx(values, {}, layout=layout))


def test_blank_progress_forms_derive_to_the_campaigns_form():
    """The blank written from the template is the campaign folder's 附件2 again."""
    form = shipped_form("附件2")
    for data, name in ((fill_progress_docx({}, {}), "a.docx"), (fill_progress_xlsx({}, {}), "a.xlsx")):
        derived = derive_form(data, name)
        assert derived.sections == form.sections, name
        assert (derived.header_line, derived.column_headers, derived.title) == (
            form.header_line, form.column_headers, form.title)
        assert [(f.number, f.type) for f in derived.blanks] == [(f.number, f.type) for f in form.blanks]


def test_blank_progress_docx_merges_the_category_column_in_two_groups():
    table = docx.Document(io.BytesIO(fill_progress_docx({}, {}))).tables[0]
    column = [table.cell(r, 0)._tc for r in range(1, 8)]
    assert column[0] is column[3] and column[4] is column[6]
    assert column[3] is not column[4]
    assert table.cell(0, 0)._tc is table.cell(0, 1)._tc


def test_blank_progress_xlsx_is_the_notice_table():
    workbook = openpyxl.load_workbook(io.BytesIO(fill_progress_xlsx({}, {})))
    sheet = workbook.active
    assert sheet["A2"].value == TITLE
    assert sheet["A3"].value == HEADER_LINE
    assert [sheet.cell(4, c).value for c in (1, 3, 4)] == ["活动项目", "内容要求", "进展情况"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A4:B4", "A5:A8", "A9:A11"} <= merged
    for index, item in enumerate(ITEMS):
        assert sheet.cell(5 + index, 4).value == item.progress


def test_fill_progress_docx_writes_what_the_clerk_typed():
    data = fill_progress_docx(
        {"launch.forms": "座谈会", "launch.events": "3", "study.group_sessions": "（３）",
         "study.online_sessions": "约50", "study.group_participants": "若干"},
        {"header.unit_name": "岳西县总工会", "header.contact": "陈刚"},
        drop_parens_for={"launch.events"}, drop_close_for={"study.group_participants"},
    )
    doc = document_from_docx(data)
    assert doc.paragraphs[2] == render_header_line({"header.unit_name": "岳西县总工会", "header.contact": "陈刚"})
    assert doc.paragraphs[2].startswith("填报单位（盖章）：岳西县总工会 ")
    assert doc.tables[0].rows[1][3] == "以（座谈会）等形式启动“安全生产月”活动3场次。"
    assert "学习（（３））次，参与（若干人次；" in doc.tables[0].rows[2][3]
    assert "开展网络课堂培训(约50)场" in doc.tables[0].rows[2][3]


def test_fill_progress_xlsx_cells_layout():
    workbook = openpyxl.load_workbook(io.BytesIO(fill_progress_xlsx(
        {"launch.events": "3", "inspection.film_screenings": "若干"}, {"header.unit_name": "X"},
        layout="cells", header_in_cells=True, drop_parens_for={"inspection.film_screenings"})))
    sheet = workbook.active
    assert [sheet.cell(3, c).value for c in (1, 2)] == ["填报单位（盖章）：", "X"]
    assert [sheet.cell(4, c).value for c in range(1, 5)] == ["序号", "活动项目", "内容", "数值"]
    rows = {sheet.cell(r, 1).value: [sheet.cell(r, c).value for c in (3, 4)] for r in range(5, 5 + len(BLANKS))}
    assert rows[2] == ["启动“安全生产月”活动（ ）场次", 3]  # typed digits are a number in Excel
    assert rows[10] == ["组织观看场", "若干"]
    assert rows[1] == ["以（ ）等形式启动", None]
    assert len(rows) == 51


def test_fill_progress_xlsx_rows_layout():
    sheet = openpyxl.load_workbook(io.BytesIO(fill_progress_xlsx({"exemplary.reports": "10"}, {}, layout="rows"))).active
    assert [sheet.cell(4, c).value for c in (1, 2, 3)] == ["序号", "活动项目", "进展情况"]
    assert sheet.cell(11, 3).value == "先进典型、经验做法和成果等报道（10）篇、制作专题视频（   ）部。"


def test_unknown_layouts_are_refused():
    with pytest.raises(ValueError):
        fill_progress_xlsx({}, {}, layout="pivot")
    with pytest.raises(ValueError):
        fill_liaison_xlsx({}, layout="rows")


def test_blank_liaison_docx_is_the_notice_grid():
    data = fill_liaison_docx({})
    doc = document_from_docx(data)
    assert doc.paragraphs[0] == "附件1"
    rows = doc.tables[0].rows
    assert set(rows[0]) == {"“安全生产月”活动联络员推荐表"}
    assert rows[1] == ("姓名", "", "性别", "", "职务", "")
    assert rows[2] == ("办公电话", "", "手机", "", "传真", "")
    assert rows[3] == ("QQ号", "", "微信号", "", "电子邮箱", "")
    assert rows[4] == ("单位名称",) + ("",) * 5
    assert rows[5] == ("通信地址",) + ("",) * 5
    assert _body_ends_with_paragraph(data)


def test_filled_liaison_docx_puts_each_value_right_of_its_label():
    rows = document_from_docx(fill_liaison_docx(LIAISON)).tables[0].rows
    for r, fields in enumerate(LIAISON_GRID, start=1):
        for position, (label, key) in enumerate(fields):
            assert rows[r][2 * position] == label
            assert rows[r][2 * position + 1] == LIAISON[key]
    assert rows[4][1:] == ("潜山市总工会",) * 5  # merged value cell


def test_liaison_xlsx_grid():
    rows = document_from_xlsx(fill_liaison_xlsx(LIAISON, layout="grid")).tables[0].rows
    assert rows[1][0] == "“安全生产月”活动联络员推荐表"
    assert rows[2] == ("姓名", "高玉兰", "性别", "女", "职务", "办公室主任")
    assert rows[6][:2] == ("通信地址", "潜山市梅城镇舒州路77号")


def test_liaison_xlsx_columns():
    workbook = openpyxl.load_workbook(io.BytesIO(fill_liaison_xlsx(LIAISON, layout="columns")))
    sheet = workbook.active
    assert sheet["A1"].value == "附件1  “安全生产月”活动联络员推荐表"
    pairs = [(sheet.cell(r, 1).value, sheet.cell(r, 2).value) for r in range(2, 2 + len(LIAISON_FIELDS))]
    assert pairs[0] == ("姓名", "高玉兰")
    assert pairs[4] == ("手机", 13342782718)  # Excel keeps a typed mobile number as a number
    assert [label for label, _ in pairs] == [label for label, _ in LIAISON_FIELDS]


def test_blank_liaison_xlsx_has_empty_value_cells():
    rows = document_from_xlsx(fill_liaison_xlsx({})).tables[0].rows
    assert rows[3] == ("办公电话", "", "手机", "", "传真", "")
