"""A prose-with-blanks form other than the shipped 2020 附件2, end to end with no code for it:
a blank "2021 附件2" built here with python-docx (other rows, prose, a merged category column in
two groups, blanks full-width, half-width and mixed, `社区（村）` wording, `以（ ）等形式` and
`创新开展（ ）活动` text blanks, measure words 家/项/篇/份), derived by bot.forms.definition,
filled through bot.forms.blank_forms, read back through the real readers (.docx, .xlsx in
each layout, .doc through LibreOffice) and parse_progress(form=…)."""
from __future__ import annotations

import io
import pickle
from dataclasses import replace
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.shared import Cm

from bot.forms.blank_forms import blank_files, fill_liaison_docx, fill_progress_docx, fill_progress_xlsx, write_blank_forms
from bot.forms.definition import INT, PROSE, TEXT, build_form, derive_form, forms_in, shipped_form
from bot.forms.document import Document
from bot.forms.progress import UNLOCATABLE, fold_document, looks_like_progress, parse_progress, reason_no_table
from bot.forms.progress_template import prose_template, render_progress
from bot.forms.readers import read_document
from bot.forms.readers.libreoffice import convert
from bot.forms.result import ERROR, PARSED

TITLE = "2021年“安全生产月”活动进展情况统计表"
HEADER_LINE = "填报单位（盖章）：          联系人：        联系电话:          填报日期：        "
COLUMNS = ("类别", "活动项目", "内容要求", "进展情况")
CATEGORY_A = "“安全生产月”\n主题活动"
CATEGORY_B = "“安康杯”\n竞赛活动"
# (category, 活动项目, 内容要求, 进展情况) as the 2021 notice would print them
ROWS = (
    (CATEGORY_A, "举办活动\n启动仪式", "结合实际举办启动仪式，营造浓厚活动氛围。",
     "以（      ）等形式启动“安全生产月”活动（   ）场次，参与职工（    ）人。"),
    (CATEGORY_A, "开展隐患\n排查治理", "组织企业工会开展“查隐患、保安全”活动，督促整改。",
     "组织（    ）家企业开展“查隐患、保安全”活动，排查隐患(    )项，督促整改（   )项。"),
    (CATEGORY_A, "安全宣传\n进社区", "发动城乡社区居（村）委会开展安全宣传咨询。",
     "在（   ）个社区（村）开展安全宣传咨询活动（    ）场次，发放宣传资料（    ）份。"),
    (CATEGORY_B, "加强宣传报道", "在各类媒体宣传活动开展情况和先进典型。",
     "在各类媒体刊发宣传报道（    ）篇，其中省级以上媒体（   ）篇；\n创新开展（          ）活动。"),
    (CATEGORY_B, "组织应急演练", "举办一线职工应急演练。",
     "组织应急演练（   ）场次，参与（    ）人次。"),
)
GROUPS = ((0, 3), (3, 5))  # the rows each merged category cell spans

# The campaign.toml [[forms]] table: keys and short labels, in template order.
KEYS = (
    ("header.unit_name", "填报单位（盖章）", ""), ("header.contact", "联系人", ""), ("header.phone", "联系电话", ""),
    ("header.fill_date", "填报日期", ""),
    ("launch.forms", "", "启动仪式的形式"), ("launch.events", "", "启动仪式场次"), ("launch.workers", "", "启动仪式参与职工人数"),
    ("check.enterprises", "", "开展“查隐患”活动的企业数"), ("check.hazards", "", "排查隐患项数"),
    ("check.fixed", "", "督促整改项数"),
    ("community.communities", "", "开展宣传咨询的社区数"), ("community.events", "", "社区宣传咨询场次"),
    ("community.leaflets", "", "发放宣传资料份数"),
    ("press.reports", "", "宣传报道篇数"), ("press.provincial", "", "省级以上媒体报道篇数"),
    ("press.innovation", "", "创新开展的活动名称"),
    ("drill.events", "", "应急演练场次"), ("drill.participants", "", "应急演练参与人次"),
)
EXPECTED_TYPES = {
    "launch.forms": TEXT, "launch.events": INT, "launch.workers": INT, "check.enterprises": INT, "check.hazards": INT,
    "check.fixed": INT, "community.communities": INT, "community.events": INT, "community.leaflets": INT,
    "press.reports": INT, "press.provincial": INT, "press.innovation": TEXT, "drill.events": INT,
    "drill.participants": INT,
}
HEADER = {"header.unit_name": "岳西县总工会", "header.contact": "陈刚", "header.phone": "0556-2171234",
          "header.fill_date": "2021年6月20日"}
# what a clerk types into each blank -> what it must be read as
WRITTEN = {
    "launch.forms": ("视频会议、现场宣誓", "视频会议、现场宣誓"), "launch.events": ("3", 3), "launch.workers": ("1,200", 1200),
    "check.enterprises": ("４５", 45), "check.hazards": ("二十", 20), "check.fixed": ("18", 18),
    "community.communities": ("12", 12), "community.events": ("15", 15), "community.leaflets": ("3000", 3000),
    "press.reports": ("26", 26), "press.provincial": ("0", 0), "press.innovation": ("“安全生产月”微视频征集", "“安全生产月”微视频征集"),
    "drill.events": ("7", 7), "drill.participants": ("860", 860),
}
VALUES = {key: written for key, (written, _) in WRITTEN.items()}


def blank_2021_docx() -> bytes:
    """The blank form as the union would send it: label, title, header line, then the table
    with its category column merged down in two cells."""
    document = docx.Document()
    document.add_paragraph("附件2")
    document.add_paragraph(TITLE)
    document.add_paragraph(HEADER_LINE)
    table = document.add_table(rows=len(ROWS) + 1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, COLUMNS):
        cell.text = text
    for r, (_, name, requirements, progress) in enumerate(ROWS, start=1):
        cells = table.rows[r].cells
        cells[1].text, cells[2].text = name, requirements
        lines = progress.split("\n")
        cells[3].text = lines[0]
        for line in lines[1:]:
            cells[3].add_paragraph(line)
    for first, last in GROUPS:
        merged = table.cell(first + 1, 0).merge(table.cell(last, 0))
        merged.text = ROWS[first][0]
    for row in table.rows:
        for cell, width in zip(row.cells, (Cm(2), Cm(3), Cm(7), Cm(12))):
            cell.width = width
    document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def blank_2021_xlsx() -> bytes:
    """The same blank as a workbook (the .xlsx twin of a campaign folder)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["A2"], sheet["A3"] = "附件2", TITLE, HEADER_LINE
    for c, text in enumerate(COLUMNS, start=1):
        sheet.cell(4, c, text)
    for r, row in enumerate(ROWS, start=5):
        for c, text in enumerate(row, start=1):
            sheet.cell(r, c, text)
    for first, last in GROUPS:
        for r in range(first + 6, last + 5):
            sheet.cell(r, 1).value = None
        sheet.merge_cells(start_row=first + 5, start_column=1, end_row=last + 4, end_column=1)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _spec() -> dict:
    fields = []
    for key, label, short in KEYS:
        entry = {"key": key}
        if label:
            entry["label"] = label
        if short:
            entry["short"] = short
        fields.append(entry)
    return {"form": "附件2", "title": TITLE, "file": "附件2（2021进展情况统计表）.docx", "item": "progress_2021",
            "fields": fields}


CAMPAIGN_TOML = """\
[campaign]
slug = "2021-anqing-safety-month"
name = "2021年全市“安全生产月”活动"

[[items]]
item = "progress_2021"
label = "进展情况统计表（附件2）"
kind = "form"
form = "附件2"

[[forms]]
form = "附件2"
title = "2021年“安全生产月”活动进展情况统计表"
file = "附件2（2021进展情况统计表）.docx"
fields = [
{fields}
]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A 2021 campaign folder: campaign.toml, the blank .docx and its .xlsx twin."""
    path = tmp_path_factory.mktemp("campaign2021")
    (path / "附件2（2021进展情况统计表）.docx").write_bytes(blank_2021_docx())
    (path / "附件2（2021进展情况统计表）.xlsx").write_bytes(blank_2021_xlsx())
    lines = []
    for key, label, short in KEYS:
        parts = [f'key = "{key}"'] + ([f'label = "{label}"'] if label else []) + ([f'short = "{short}"'] if short else [])
        lines.append("  { " + ", ".join(parts) + " },")
    (path / "campaign.toml").write_text(CAMPAIGN_TOML.replace("{fields}", "\n".join(lines)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def form(folder):
    (built,) = forms_in(folder)
    return built


def _expected_values() -> dict:
    return {**HEADER, **{key: value for key, (_, value) in WRITTEN.items()}}


def _read(data: bytes, filename: str, form) -> tuple[Document, object]:
    doc = read_document(data, filename)
    return doc, parse_progress(doc, form=form)


# ---------------------------------------------------------------------------- the definition


def test_derived_shape_fields_and_types():
    derived = derive_form(blank_2021_docx(), "附件2.docx")
    assert (derived.shape, derived.form, derived.title) == (PROSE, "附件2", TITLE)
    assert derived.header_line == HEADER_LINE
    assert derived.column_headers == COLUMNS
    assert [f.label for f in derived.header_fields] == ["填报单位（盖章）", "联系人", "联系电话", "填报日期"]
    assert len(derived.blanks) == 14 and [f.number for f in derived.blanks] == list(range(1, 15))
    assert [(s.name, s.requirements, s.progress, s.category) for s in derived.sections] == [
        (name, requirements, progress, category) for category, name, requirements, progress in ROWS]
    assert [s.category_continued for s in derived.sections] == [False, True, True, False, True]
    types = [f.type for f in derived.blanks]
    assert types == [EXPECTED_TYPES[key] for key, _, _ in KEYS[4:]]
    # the text blanks are text by their words, the counts by their measure words
    guessed = {f.number: f.guessed for f in derived.blanks}
    assert "等形式" in guessed[1] and "活动" in guessed[12]
    assert "家" in guessed[4] and "项" in guessed[5] and "份" in guessed[9] and "篇" in guessed[10]
    # 社区（村） is wording: the blank after 在 is the only one before it
    assert derived.sections[2].progress.count("（村）") == 1 and len(derived.sections[2].parts) == 7


def test_template_of_the_built_form(form):
    template = prose_template(form)
    assert template is prose_template(form)
    assert template is prose_template(pickle.loads(pickle.dumps(form)))  # an equal form from a worker
    assert (template.ATTACHMENT_LABEL, template.TITLE, template.COLUMN_HEADERS) == ("附件2", TITLE, COLUMNS)
    assert template.CATEGORY_GROUPS == GROUPS
    assert template.CATEGORIES == (CATEGORY_A, CATEGORY_B) and template.CATEGORY == CATEGORY_A
    assert template.column_spans == (1, 1, 1, 1) and template.name_header == "活动项目"
    assert template.HEADER_KEYS == ("header.unit_name", "header.contact", "header.phone", "header.fill_date")
    assert template.HEADER_LINE == HEADER_LINE and template.render_header_line() == HEADER_LINE
    assert template.HEADER_LINE_GAPS == ("          ", "        ", "          ", "        ")
    assert template.render_header_line({"header.contact": "陈刚"}).startswith("填报单位（盖章）：          联系人：陈刚  ")
    assert template.BLANK_KEYS == tuple(key for key, _, _ in KEYS[4:])
    assert {b.key: b.type for b in template.BLANKS} == EXPECTED_TYPES
    assert template.SHORT_LABELS["press.innovation"] == "创新开展的活动名称"
    assert [b.item for b in template.BLANKS] == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 2
    # labels: the blank's clause, the blank written one way whatever its printed width
    assert template.BLANKS_BY_KEY["check.hazards"].label == "排查隐患（ ）项"
    assert template.ITEMS[1].parts[3] == "(    )" and template.ITEMS[1].parts[5] == "（   )"
    assert template.numbered_label(template.BLANKS_BY_KEY["drill.participants"]) == "14. 应急演练参与人次"
    # 参与（ ）人次 is this form's only one: found by its own words (2020's five are not)
    assert template.blank_phrase(template.BLANKS_BY_KEY["drill.participants"]) == "参与（ ）人次"
    assert prose_template().blank_phrase(prose_template().BLANKS_BY_KEY["study.group_participants"]) == (
        "理论学习中心组专题学习…参与（ ）人次")
    assert reason_no_table(template) == f"未能在文件中找到{TITLE}（附件2）的各项内容，请按附件2模板填写后重新发送"


def test_generated_blank_derives_to_the_same_form(form):
    """The blank fill_progress_docx writes for the form is the form again (the generator and
    the definition agree on every section, blank, type and merged cell)."""
    for data, name in ((fill_progress_docx({}, {}, form=form), "a.docx"), (fill_progress_xlsx({}, {}, form=form), "a.xlsx")):
        again = derive_form(data, name)
        original = derive_form(blank_2021_docx(), "b.docx")
        assert again.sections == original.sections, name
        assert again.header_line == original.header_line and again.column_headers == original.column_headers
        assert [(f.label, f.type, f.number) for f in again.fields] == [(f.label, f.type, f.number) for f in original.fields]


def test_campaign_folder_blank_files(folder, tmp_path):
    names = [p.name for p in blank_files(folder)]
    assert names == ["附件2（2021进展情况统计表）.docx", "附件2（2021进展情况统计表）.xlsx"]
    paths = write_blank_forms(tmp_path / "out", folder)
    assert [p.name for p in paths] == names
    assert [p.read_bytes() for p in paths] == [(folder / n).read_bytes() for n in names]
    # the .xlsx twin is the same form too
    twin = derive_form(paths[1].read_bytes(), paths[1].name)
    assert [s.progress for s in twin.sections] == [row[3] for row in ROWS]
    assert [s.category_continued for s in twin.sections] == [False, True, True, False, True]


# ---------------------------------------------------------------------------- filled and read back


def test_docx_every_value(form):
    data = fill_progress_docx(VALUES, HEADER, form=form)
    doc, result = _read(data, "附件2（岳西县总工会）.docx", form)
    assert (result.kind, result.status, result.form, result.campaign) == (
        "progress_2021", PARSED, "附件2", "2021-anqing-safety-month")
    assert result.values == _expected_values()
    assert result.errors == () and result.warnings == ()
    table = doc.tables[0]
    assert table.rows[0] == COLUMNS
    assert [row[0] for row in table.rows[1:]] == [CATEGORY_A] * 3 + [CATEGORY_B] * 2
    assert "社区（村）开展安全宣传咨询活动（15）场次" in table.rows[3][3]


def test_docx_with_brackets_deleted_and_prose_retyped(form):
    """Not the wording intact: the brackets of some blanks deleted or half kept, punctuation
    retyped — the cell-by-cell alignment, not the exact match, finds every value."""
    retype = lambda text: text.replace("，", ",").replace("；", ";").replace("。", ".").replace("\n", "")
    values = dict(VALUES, **{"check.hazards": "约30", "drill.events": "若干"})
    data = fill_progress_docx(values, HEADER, form=form, drop_parens_for={"launch.events", "community.leaflets"},
                              drop_close_for={"press.reports"}, retype=retype)
    _, result = _read(data, "附件2.docx", form)
    expected = _expected_values() | {"check.hazards": 30, "drill.events": None}
    assert result.status == PARSED and result.values == expected
    assert [(p.key, p.read_as) for p in result.warnings] == [("check.hazards", 30)]
    assert [(p.key, p.written) for p in result.errors] == [("drill.events", "若干")]


@pytest.mark.parametrize("layout,header_in_cells", [("table", False), ("table", True), ("rows", False),
                                                     ("cells", False), ("cells", True)])
def test_xlsx_every_layout(form, layout, header_in_cells):
    data = fill_progress_xlsx(VALUES, HEADER, form=form, layout=layout, header_in_cells=header_in_cells)
    doc, result = _read(data, "附件2.xlsx", form)
    assert result.status == PARSED
    assert result.values == _expected_values(), layout
    assert result.errors == ()
    assert looks_like_progress(doc, form=form)
    if layout == "table":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert sheet.title == "进展情况统计表"
        merged = {str(r) for r in sheet.merged_cells.ranges}
        assert {"A5:A7", "A8:A9"} <= merged  # the two category cells, under the header row (4)


def test_doc_through_libreoffice(form):
    doc_bytes = convert(fill_progress_docx(VALUES, HEADER, form=form), "docx", "doc", timeout=120)
    assert doc_bytes[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    doc, result = _read(doc_bytes, "附件2.doc", form)
    assert result.status == PARSED
    assert result.values == _expected_values()
    assert looks_like_progress(doc, form=form)


def test_unfilled_and_partly_missing(form):
    _, result = _read(fill_progress_docx({}, {}, form=form), "附件2.docx", form)
    assert result.status == PARSED
    assert all(result.values[key] is None for key, _, _ in KEYS)
    doc = read_document(fill_progress_docx(VALUES, HEADER, form=form), "附件2.docx")
    table = doc.tables[0]
    cut = replace(doc, tables=(replace(table, rows=table.rows[:4] + table.rows[5:]),))  # no 宣传报道 row
    result = parse_progress(cut, form=form)
    assert {p.key for p in result.errors if p.expected == UNLOCATABLE} == {"press.reports", "press.provincial",
                                                                            "press.innovation"}
    assert result.values["drill.participants"] == 860


def test_a_derived_form_without_a_definition_reads_with_generated_keys():
    derived = derive_form(blank_2021_docx(), "附件2.docx")
    values = {f"b{n:02d}": written for n, (written, _) in enumerate(WRITTEN.values(), start=1)}
    header = {"header.unit_name": "岳西县总工会", "header.contact": "陈刚", "header.phone": "0556-2171234",
              "header.date": "2021年6月20日"}
    assert [f.key for f in derived.header_fields] == ["header.unit_name", "header.contact", "header.phone",
                                                      "header.fill_date"]
    _, result = _read(fill_progress_docx(values, header, form=derived), "a.docx", derived)
    assert result.status == PARSED
    assert [result.values[f"b{n:02d}"] for n in range(1, 15)] == [value for _, value in WRITTEN.values()]
    assert result.values["header.unit_name"] == "岳西县总工会"


# ---------------------------------------------------------------------------- recognition


def test_each_form_recognises_its_own_filled_copies_only(form):
    shipped = shipped_form("附件2")
    ours = read_document(fill_progress_docx(VALUES, HEADER, form=form), "a.docx")
    theirs = read_document(fill_progress_docx({}, {}), "b.docx")
    assert looks_like_progress(ours, form=form) and not looks_like_progress(ours, form=shipped)
    assert not looks_like_progress(ours)  # the default is the shipped 2020 form
    assert looks_like_progress(theirs) and not looks_like_progress(theirs, form=form)
    other = parse_progress(read_document(fill_liaison_docx({}), "c.docx"), form=form)
    assert (other.kind, other.status, other.form) == ("progress_2021", ERROR, "附件2")
    assert other.reason == reason_no_table(prose_template(form))


def test_a_report_about_the_same_activities_is_not_the_form(form):
    text = ("本月我会以视频会议形式启动“安全生产月”活动，组织45家企业开展“查隐患、保安全”活动，排查隐患20项，"
            "在12个社区开展安全宣传咨询活动，在各类媒体刊发宣传报道26篇，组织应急演练7场次。")
    doc = Document(("岳西县总工会“安全生产月”活动总结", text), (), text, "docx")
    assert not looks_like_progress(doc, form=form)
    assert not looks_like_progress(doc, document=fold_document(doc), form=form)


def test_render_progress_is_the_forms_prose(form):
    template = prose_template(form)
    item = template.ITEMS[1]
    assert render_progress(item, {"check.enterprises": "45", "check.hazards": "20"}) == (
        "组织（45）家企业开展“查隐患、保安全”活动，排查隐患(20)项，督促整改（   )项。")
    assert render_progress(item, {"check.fixed": "18"}, drop_close_for={"check.fixed"}).endswith("督促整改（18项。")


def test_build_form_over_the_blank_matches_the_folder(folder, form):
    built = build_form(_spec(), folder, "test")
    assert replace(built, campaign=form.campaign, item=form.item) == form
