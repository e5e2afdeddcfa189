"""A grid form of another campaign read from its definition: a 报名表 with 身份证号, 出生日期
and 手机 fields, derived from its blank template, filled every way units fill a grid, each
field checked by its type."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.forms.definition import DATE, EMAIL, GENDER, GRID, ID_NUMBER, MOBILE, TEXT, build_form, derive_form, shipped_form
from bot.forms.document import Document
from bot.forms.liaison import looks_like_liaison, parse_liaison, reason_no_labels
from bot.forms.parse import fitting_form, parse_form
from bot.forms.readers import read_document
from bot.forms.result import ERROR, PARSED
from bot.forms.values import EXPECT_DATE, EXPECT_ID_CHECKSUM, EXPECT_MOBILE
from tests.fixtures.campaign_forms import (SIGNUP_ROWS, SIGNUP_TITLE, blank_grid_docx, blank_grid_xlsx, fill_grid,
                                           valid_id)
from tests.fixtures.office_files import LIAISON_VALUES, liaison_docx

SLUG = "2021-zhigong-shuwu"
BLANKS = {"报名表.docx": lambda: blank_grid_docx(SIGNUP_TITLE, SIGNUP_ROWS),
          "报名表.xlsx": lambda: blank_grid_xlsx(SIGNUP_TITLE, SIGNUP_ROWS)}
PERSON = {"name": "王秀英", "gender": "女", "birth_date": "1985年3月2日", "id_number": valid_id("34080219850302002"),
          "mobile": "139 5566 7788", "unit_name": "安庆石化工会", "email": "wxy@example.cn"}
READ = dict(PERSON, birth_date="1985-03-02", mobile="13955667788")


def signup_form(filename: str, tmp_path, **spec) -> object:
    """The blank built over by a campaign.toml [[forms]] table (required fields named)."""
    (tmp_path / filename).write_bytes(BLANKS[filename]())
    table = {"form": "附件1", "file": filename, **spec}
    form = build_form(table, tmp_path, "campaign.toml [[forms]]")
    return replace(form, item="signup", campaign=SLUG)


def test_derived_from_the_blank():
    for filename, blank in BLANKS.items():
        form = derive_form(blank(), filename)
        assert form.shape == GRID and form.form == "附件1" and form.title == SIGNUP_TITLE
        assert [(f.key, f.type) for f in form.fields] == [
            ("name", TEXT), ("gender", GENDER), ("birth_date", DATE), ("id_number", ID_NUMBER), ("mobile", MOBILE),
            ("unit_name", TEXT), ("email", EMAIL)]


@pytest.mark.parametrize("filename", sorted(BLANKS))
@pytest.mark.parametrize("inline", [(), ("name", "email"), tuple(PERSON)])
def test_filled_every_way(filename, inline, tmp_path):
    form = signup_form(filename, tmp_path)
    data = fill_grid(BLANKS[filename](), filename, form, PERSON, inline=inline)
    result = parse_liaison(read_document(data, filename), form=form)
    assert (result.kind, result.form, result.campaign, result.status) == ("signup", "附件1", SLUG, PARSED)
    assert result.values == READ and result.errors == ()


def test_values_below_their_labels(tmp_path):
    # a unit that re-made the table: every label in one row, the values in the row below
    form = signup_form("报名表.docx", tmp_path)
    blank = blank_grid_docx(SIGNUP_TITLE, SIGNUP_ROWS, header_row=True)
    data = fill_grid(blank, "表.docx", form, PERSON)
    result = parse_liaison(read_document(data, "表.docx"), form=form)
    assert result.values == READ


def test_spreadsheet_cells_keep_their_types(tmp_path):
    import datetime as dt

    form = signup_form("报名表.xlsx", tmp_path)
    person = dict(PERSON, birth_date=dt.datetime(1985, 3, 2), mobile=13955667788)
    data = fill_grid(BLANKS["报名表.xlsx"](), "报名表.xlsx", form, person)
    assert parse_liaison(read_document(data, "报名表.xlsx"), form=form).values == READ


def test_each_field_checked_by_its_type(tmp_path):
    form = signup_form("报名表.docx", tmp_path, fields=[
        {"key": "name", "label": "姓名", "required": True}, {"key": "gender", "label": "性别"},
        {"key": "birth_date", "label": "出生日期"}, {"key": "id_number", "label": "身份证号", "required": True},
        {"key": "mobile", "label": "手机", "required": True}, {"key": "unit_name", "label": "工作单位"},
        {"key": "email", "label": "电子邮箱"}])
    wrong = dict(PERSON, birth_date="八五年", id_number=PERSON["id_number"][:-1] + "0", mobile="5566 7788")
    wrong.pop("name")
    data = fill_grid(BLANKS["报名表.docx"](), "报名表.docx", form, wrong)
    result = parse_liaison(read_document(data, "报名表.docx"), form=form)
    assert result.status == PARSED
    assert [(p.key, p.label, p.written, p.expected) for p in result.errors] == [
        ("name", "姓名", "", "姓名（必填）"),
        ("birth_date", "出生日期", "八五年", EXPECT_DATE),
        ("id_number", "身份证号", wrong["id_number"], EXPECT_ID_CHECKSUM),
        ("mobile", "手机", "5566 7788", EXPECT_MOBILE)]
    assert result.values["name"] is None and result.values["unit_name"] == "安庆石化工会"


def test_a_document_without_its_labels(tmp_path):
    form = signup_form("报名表.docx", tmp_path)
    doc = Document(("本周工作情况",), (), "本周工作情况", "docx")
    result = parse_liaison(doc, form=form)
    assert result.status == ERROR and result.reason == reason_no_labels(form)
    assert "读书活动报名表" in result.reason and "附件1" in result.reason


def test_recognised_and_told_from_the_2020_liaison_form(tmp_path):
    form = signup_form("报名表.docx", tmp_path)
    liaison = shipped_form("附件1")
    signup = read_document(fill_grid(BLANKS["报名表.docx"](), "报名表.docx", form, PERSON), "报名表.docx")
    old = read_document(liaison_docx(LIAISON_VALUES), "附件1.docx")
    assert looks_like_liaison(signup, form=form)
    assert fitting_form(signup, (liaison, form)) == form
    assert fitting_form(old, (liaison, form)) == liaison
    assert fitting_form(old, (form, liaison)) == liaison
    assert parse_form(signup, form).values == READ
    blank_other = Document(("通知",), (), "通知：请各单位按时报送。", "docx")
    assert fitting_form(blank_other, (liaison, form)) is None
