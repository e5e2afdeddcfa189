"""List tables (汇总表 / 名单): the header row found by the form's column labels, every row
under it read until the table ends, each cell typed and checked."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.forms.definition import GENDER, ID_NUMBER, INT, LIST, MOBILE, TEXT, build_form, derive_form, shipped_form
from bot.forms.document import Document, Table
from bot.forms.listform import looks_like_list, parse_list, reason_no_header, reason_no_records
from bot.forms.parse import fitting_form, parse_form
from bot.forms.readers import read_document
from bot.forms.result import ERROR, PARSED
from bot.forms.values import EXPECT_ID_CHECKSUM, EXPECT_ID_EXCEL, EXPECT_MOBILE, EXPECT_NUMBER
from tests.fixtures.campaign_forms import (ROSTER_HEADERS, ROSTER_TITLE, SIGNUP_ROWS, SIGNUP_TITLE, blank_grid_docx,
                                           blank_list_docx, blank_list_xlsx, fill_grid, fill_list, people)
from tests.fixtures.office_files import LIAISON_VALUES, liaison_docx

SLUG = "2021-zhigong-shuwu"
MAKERS = {"汇总表.docx": blank_list_docx, "汇总表.xlsx": blank_list_xlsx}


def blank(filename: str, **options) -> bytes:
    return MAKERS[filename](ROSTER_TITLE, ROSTER_HEADERS, **options)


def roster_form(filename: str, tmp_path, **spec):
    (tmp_path / filename).write_bytes(blank(filename))
    form = build_form({"form": "附件2", "file": filename, **spec}, tmp_path, "campaign.toml [[forms]]")
    return replace(form, item="roster", campaign=SLUG)


def read(data: bytes, filename: str, form):
    return parse_list(read_document(data, filename), form)


def as_read(records):
    return [dict(r, mobile=str(r["mobile"])) for r in records]


def test_derived_from_the_blank():
    for filename in MAKERS:
        form = derive_form(blank(filename), filename)
        assert (form.shape, form.form, form.title, form.list_key) == (LIST, "附件2", ROSTER_TITLE, "records")
        assert [(f.key, f.type) for f in form.fields] == [
            ("name", TEXT), ("gender", GENDER), ("id_number", ID_NUMBER), ("mobile", MOBILE), ("count", INT)]


@pytest.mark.parametrize("filename", sorted(MAKERS))
@pytest.mark.parametrize("count,skip,numbered", [(3, (), False), (5, (), True), (9, (), True), (4, (2, 3), True),
                                                 (12, (1, 6, 7), False)])
def test_every_record_read(filename, count, skip, numbered, tmp_path):
    form = roster_form(filename, tmp_path)
    records = people(count)
    data = fill_list(blank(filename, numbered=numbered), filename, form, records, skip=skip)
    result = read(data, filename, form)
    assert (result.kind, result.form, result.campaign, result.status) == ("roster", "附件2", SLUG, PARSED)
    assert result.values == {"records": as_read(records)} and result.errors == ()


@pytest.mark.parametrize("filename", sorted(MAKERS))
def test_totals_and_signature_lines_are_not_records(filename, tmp_path):
    form = roster_form(filename, tmp_path)
    records = people(7)
    total = sum(r["count"] for r in records)
    data = fill_list(blank(filename, numbered=True, footer="合计"), filename, form, records,
                     footer=("填表人：张三    联系电话：13900001111", "备注：以上人员均已确认"), totals={"count": total})
    result = read(data, filename, form)
    assert result.values["records"] == as_read(records) and result.errors == ()
    # a 合计 row the template lacks, added by the unit under the records
    data = fill_list(blank(filename), filename, form, records, totals={"count": total, "name": "共7人"})
    assert read(data, filename, form).values["records"] == as_read(records)


@pytest.mark.parametrize("filename", sorted(MAKERS))
def test_columns_reordered_renamed_and_annotated(filename, tmp_path):
    form = roster_form(filename, tmp_path)
    remade = MAKERS[filename](ROSTER_TITLE, ("序号", "身份证号码", "*姓名", "手机号码（必填）", "性 别", "人数（人）", "备注"),
                              empty_rows=3)
    records = people(6)
    result = read(fill_list(remade, filename, form, records), filename, form)
    assert result.values["records"] == as_read(records) and result.errors == ()


def test_each_cell_checked_and_named_by_row_and_column(tmp_path):
    form = roster_form("汇总表.docx", tmp_path, fields=[
        {"key": "name", "label": "姓名", "required": True}, {"key": "gender", "label": "性别"},
        {"key": "id_number", "label": "身份证号", "required": True}, {"key": "mobile", "label": "手机"},
        {"key": "count", "label": "人数"}])
    records = people(4)
    records[1] = dict(records[1], id_number=records[1]["id_number"][:-1] + "9"
                      if records[1]["id_number"][-1] != "9" else records[1]["id_number"][:-1] + "8")
    records[2] = dict(records[2], mobile="5566 7788", count="约30")
    records[3] = dict(records[3], name="")
    data = fill_list(blank("汇总表.docx"), "汇总表.docx", form, records, skip=(2,))
    result = read(data, "汇总表.docx", form)
    assert result.status == PARSED
    assert [(p.key, p.label, p.written, p.expected) for p in result.errors] == [
        ("records[1].id_number", "第3行 身份证号", records[1]["id_number"], EXPECT_ID_CHECKSUM),
        ("records[2].mobile", "第4行 手机", "5566 7788", EXPECT_MOBILE),
        ("records[3].name", "第5行 姓名", "", "姓名（必填）")]
    assert [(p.key, p.label, p.read_as, p.expected) for p in result.warnings] == [
        ("records[2].count", "第4行 人数", 30, EXPECT_NUMBER)]
    got = result.values["records"]
    assert got[1]["id_number"] is None and got[1]["name"] == records[1]["name"]
    assert got[2]["count"] == 30 and got[3]["name"] is None and len(got) == 4


def test_spreadsheet_cells_as_typed(tmp_path):
    form = roster_form("汇总表.xlsx", tmp_path)
    records = people(3)
    typed = [dict(records[0], mobile=int(records[0]["mobile"])),
             dict(records[1], id_number=int(records[1]["id_number"])),  # stored as a number: its tail lost
             dict(records[2], count=3.0, gender="男性")]
    result = read(fill_list(blank("汇总表.xlsx"), "汇总表.xlsx", form, typed), "汇总表.xlsx", form)
    got = result.values["records"]
    assert got[0]["mobile"] == records[0]["mobile"] and got[2]["count"] == 3 and got[2]["gender"] == "男"
    assert [(p.key, p.expected) for p in result.errors] == [("records[1].id_number", EXPECT_ID_EXCEL)]


def test_dates_in_a_list(tmp_path):
    headers = ("序号", "姓名", "出生日期", "参加日期")
    data = blank_list_xlsx("参赛人员名单", headers)
    (tmp_path / "名单.xlsx").write_bytes(data)
    form = build_form({"form": "附件3", "file": "名单.xlsx", "fields": [
        {"key": "name", "label": "姓名"}, {"key": "birth_date", "label": "出生日期"},
        {"key": "joined", "label": "参加日期", "type": "date"}]}, tmp_path, "t")
    rows = [{"name": "王 秀 英", "birth_date": dt.datetime(1985, 3, 2), "joined": "2021年5月6日"},
            {"name": "李强", "birth_date": "1990.1", "joined": 44322}]
    result = read(fill_list(data, "名单.xlsx", form, rows), "名单.xlsx", form)
    assert result.values["records"] == [{"name": "王秀英", "birth_date": "1985-03-02", "joined": "2021-05-06"},
                                        {"name": "李强", "birth_date": "1990-01", "joined": "2021-05-06"}]


def test_two_header_rows_and_text_lines(tmp_path):
    form = roster_form("汇总表.docx", tmp_path)
    person = people(2)
    rows = (("序号", "姓名", "性别", "身份证号", "联系方式", "联系方式"),
            ("序号", "姓名", "性别", "身份证号", "手机", "人数"),
            ("1", person[0]["name"], "男", person[0]["id_number"], person[0]["mobile"], "1"),
            ("2", person[1]["name"], "女", person[1]["id_number"], person[1]["mobile"], "2"))
    table = Table(rows)
    doc = Document((), (table,), "\n".join("\t".join(r) for r in rows), "docx")
    got = parse_list(doc, form).values["records"]
    assert [(r["name"], r["mobile"], r["count"]) for r in got] == [
        (person[0]["name"], person[0]["mobile"], 1), (person[1]["name"], person[1]["mobile"], 2)]
    # the header repeated where the table goes on over a page
    repeated = Table(rows[1:3] + rows[1:2] + rows[3:])
    got = parse_list(Document((), (repeated,), "", "docx"), form).values["records"]
    assert [r["name"] for r in got] == [person[0]["name"], person[1]["name"]]
    # the same table as a PDF's text layer gives it: lines, cells apart by runs of spaces
    lines = tuple("    ".join(r) for r in rows[1:])
    result = parse_list(Document((ROSTER_TITLE,) + lines, (), "\n".join(lines), "pdf"), form)
    assert [(r["name"], r["count"]) for r in result.values["records"]] == [(person[0]["name"], 1), (person[1]["name"], 2)]


def test_no_header_and_no_records(tmp_path):
    form = roster_form("汇总表.docx", tmp_path)
    result = parse_list(read_document(liaison_docx(LIAISON_VALUES), "a.docx"), form)
    assert (result.status, result.reason, result.values) == (ERROR, reason_no_header(form), {"records": []})
    result = read(blank("汇总表.docx", numbered=True, footer="合计"), "汇总表.docx", form)
    assert (result.status, result.reason) == (ERROR, reason_no_records(form))
    assert "参加人员汇总表" in result.reason


def test_recognition_among_forms(tmp_path):
    form = roster_form("汇总表.docx", tmp_path)
    (tmp_path / "报名表.docx").write_bytes(blank_grid_docx(SIGNUP_TITLE, SIGNUP_ROWS))
    signup = replace(build_form({"form": "附件1", "file": "报名表.docx"}, tmp_path, "t"), item="signup")
    liaison = shipped_form("附件1")
    roster_doc = read_document(fill_list(blank("汇总表.docx"), "汇总表.docx", form, people(3)), "汇总表.docx")
    signup_doc = read_document(fill_grid(blank_grid_docx(SIGNUP_TITLE, SIGNUP_ROWS), "报名表.docx", signup,
                                         {"name": "王秀英", "mobile": "13955667788"}), "报名表.docx")
    liaison_doc = read_document(liaison_docx(LIAISON_VALUES), "附件1.docx")
    assert looks_like_list(roster_doc, form)
    assert not looks_like_list(liaison_doc, form) and not looks_like_list(signup_doc, form)
    forms = (liaison, signup, form)
    assert fitting_form(roster_doc, forms) == form
    assert fitting_form(signup_doc, forms) == signup
    assert fitting_form(liaison_doc, forms) == liaison
    assert parse_form(roster_doc, form).values["records"] == as_read(people(3))
