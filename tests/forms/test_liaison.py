"""附件1: values wherever the labels sit, tolerant labels, forms.md's checks."""
from __future__ import annotations

import pytest

from bot.forms.blank_forms import fill_liaison_docx, fill_liaison_xlsx
from bot.forms.document import Document, Table
from bot.forms.liaison import KEYS, REASON_NO_LABELS, looks_like_liaison, parse_liaison
from bot.forms.readers import read_document
from bot.forms.result import ERROR, LIAISON_FORM, PARSED
from tests.fixtures.office_files import (LIAISON_VALUES, expected_messages, liaison_columns_docx, liaison_columns_xlsx,
                                         liaison_docx, report_docx, sample_attachments)

EXPECTED = expected_messages()


def grid(*rows) -> Document:
    table = Table(tuple(tuple(row) for row in rows))
    return Document((), (table,), "\n".join("\t".join(r) for r in table.rows), "docx")


def lines(*paragraphs) -> Document:
    return Document(tuple(paragraphs), (), "\n".join(paragraphs), "pdf")


@pytest.mark.parametrize("name", ["001.eml", "003.eml", "009.eml"])
def test_sample_mails(name):
    (filename, data), = sample_attachments(name)
    result = parse_liaison(read_document(data, filename))
    assert result.kind == LIAISON_FORM and result.status == PARSED
    assert result.values == EXPECTED[name]["values"]
    assert result.errors == () and result.warnings == ()


@pytest.mark.parametrize("build", [
    liaison_docx, liaison_columns_docx, liaison_columns_xlsx,
    lambda v: fill_liaison_docx(v), lambda v: fill_liaison_xlsx(v, "grid"), lambda v: fill_liaison_xlsx(v, "columns"),
])
def test_round_trip_every_layout(build):
    result = parse_liaison(read_document(build(LIAISON_VALUES), "表"))
    assert result.status == PARSED and result.errors == ()
    assert result.values == LIAISON_VALUES


def test_empty_optionals_are_none_and_keys_complete():
    values = {k: v for k, v in LIAISON_VALUES.items() if k in ("name", "mobile", "email", "unit_name")}
    result = parse_liaison(read_document(liaison_docx(values), "a.docx"))
    assert set(result.values) == set(KEYS)
    assert result.values["fax"] is None and result.values["qq"] is None and result.values["address"] is None
    assert result.errors == ()


@pytest.mark.parametrize("labels", [
    {"name": "姓  名", "gender": "性 别", "qq": "ＱＱ号", "email": "E-mail", "unit_name": "单位名称："},
    {"name": "姓名：", "qq": "QQ", "email": "邮箱", "address": "通讯地址", "mobile": "手机号码"},
    {"email": "Ｅ－ｍａｉｌ", "office_phone": "办公电话（含区号）", "wechat": "微信"},
])
def test_tolerant_labels(labels):
    result = parse_liaison(read_document(liaison_docx(labels=labels), "a.docx"))
    assert result.values == LIAISON_VALUES


def test_contact_phone_label():
    doc = grid(("姓名", "张三", "联系电话", "139 0000 1111"), ("电子邮箱", "a@b.cn", "单位名称", "某工会"))
    assert parse_liaison(doc).values["mobile"] == "13900001111"
    doc = grid(("姓名", "张三", "手机", "13900001111", "联系电话", "0556-5588941"),
               ("电子邮箱", "a@b.cn", "单位名称", "某工会"))
    values = parse_liaison(doc).values
    assert values["mobile"] == "13900001111" and values["office_phone"] == "0556-5588941"


def test_values_below_labels_and_inline_values():
    doc = grid(("姓名", "手机", "电子邮箱", "单位名称"), ("张三", "13900001111", "a@b.cn", "某工会"))
    assert parse_liaison(doc).values["unit_name"] == "某工会"
    doc = grid(("姓名：张三", "手机：13900001111"), ("邮箱：a@b.cn", "单位名称：某工会"))
    result = parse_liaison(doc)
    assert (result.values["name"], result.values["email"]) == ("张三", "a@b.cn") and result.errors == ()


def test_label_row_followed_by_an_empty_value():
    doc = grid(("姓名", "", "性别", "男"), ("手机", "13900001111", "电子邮箱", "a@b.cn"), ("单位名称", "某工会", "", ""))
    result = parse_liaison(doc)
    assert result.values["name"] is None
    assert [(p.key, p.label) for p in result.errors] == [("name", "姓名")]


def test_text_lines_from_a_pdf():
    doc = lines("“安全生产月”活动联络员推荐表", "姓名   张三     性别   男", "手机   13900001111",
                "电子邮箱   a@b.cn", "单位名称   某某县总工会")
    result = parse_liaison(doc)
    assert result.values["name"] == "张三" and result.values["unit_name"] == "某某县总工会"
    assert result.status == PARSED and result.errors == ()


@pytest.mark.parametrize("key,written,expected_text", [
    ("mobile", "1334278271", "以1开头的11位手机号码"),
    ("mobile", "23342782718", "以1开头的11位手机号码"),
    ("gender", "未知", "男或女"),
    ("qq", "12ab", "5至12位数字"),
    ("qq", "1234", "5至12位数字"),
    ("email", "qsszgh.example.test", "电子邮箱地址，如 name@example.com"),
    ("office_phone", "见手机", "由数字、“-”或空格组成的电话号码，可带区号，如 0556-5588941"),
])
def test_each_check(key, written, expected_text):
    values = dict(LIAISON_VALUES, **{key: written})
    result = parse_liaison(read_document(liaison_docx(values), "a.docx"))
    assert result.status == PARSED
    problem, = result.errors
    assert (problem.key, problem.written, problem.expected) == (key, written, expected_text)
    assert problem.label == {"mobile": "手机", "gender": "性别", "qq": "QQ号", "email": "电子邮箱",
                             "office_phone": "办公电话"}[key]
    assert result.values[key] is None
    assert result.values["name"] == "高玉兰"  # the rest is still kept


@pytest.mark.parametrize("key,label", [("name", "姓名"), ("mobile", "手机"), ("email", "电子邮箱"), ("unit_name", "单位名称")])
def test_required_fields(key, label):
    values = dict(LIAISON_VALUES, **{key: ""})
    problem, = parse_liaison(read_document(liaison_docx(values), "a.docx")).errors
    assert (problem.key, problem.label, problem.written) == (key, label, "")


@pytest.mark.parametrize("written,read", [
    ("+86 133-4278-2718", "13342782718"), ("133 4278 2718", "13342782718"), ("８６１３３４２７８２７１８", "13342782718"),
])
def test_mobile_normalised(written, read):
    values = dict(LIAISON_VALUES, mobile=written)
    assert parse_liaison(read_document(liaison_docx(values), "a.docx")).values["mobile"] == read


@pytest.mark.parametrize("field,written,read", [
    ("office_phone", "（0556）8937711", "(0556)8937711"), ("office_phone", "5588941", "5588941"),
    ("gender", "女性", "女"), ("email", "Ａ@Example.TEST", "A@example.test"), ("name", "吴  斌", "吴斌"),
    ("qq", "７３０３２３２２３", "730323223"),
])
def test_values_normalised(field, written, read):
    values = dict(LIAISON_VALUES, **{field: written})
    result = parse_liaison(read_document(liaison_docx(values), "a.docx"))
    assert result.errors == ()
    assert result.values[field] == read


def test_no_labels_is_an_error():
    result = parse_liaison(read_document(report_docx("本周工作情况", ["一是……"]), "a.docx"))
    assert result.status == ERROR and result.reason == REASON_NO_LABELS


def test_recognition():
    for name in ("001.eml", "003.eml", "009.eml"):
        (filename, data), = sample_attachments(name)
        assert looks_like_liaison(read_document(data, filename))
    for name in ("002.eml", "006.eml", "007.eml", "012.eml"):
        (filename, data), = sample_attachments(name)
        assert not looks_like_liaison(read_document(data, filename))
    assert looks_like_liaison(grid(("姓名", ""), ("手机", ""), ("电子邮箱", "")))
    assert not looks_like_liaison(grid(("姓名", "张三"), ("手机", "")))
    assert not looks_like_liaison(lines("按照通知要求，报送“安全生产月”活动联络员推荐表，请审阅。本周还开展了很多活动，详见附件内容说明。"))


# ---------------------------------------------------------------------------- from the definition

from dataclasses import replace  # noqa: E402

from bot.forms import liaison as liaison_module  # noqa: E402
from bot.forms.definition import derive_form, shipped_form  # noqa: E402
from bot.forms.progress import fold_document  # noqa: E402
from tests.fixtures.campaign_forms import SIGNUP_ROWS, SIGNUP_TITLE, blank_grid_docx  # noqa: E402


def test_the_shipped_form_is_the_default():
    form = shipped_form("附件1")
    for data in (liaison_docx(LIAISON_VALUES), liaison_columns_xlsx(LIAISON_VALUES)):
        doc = read_document(data, "附件1")
        default, explicit = parse_liaison(doc), parse_liaison(doc, form=form)
        assert default == explicit
        assert (default.kind, default.form, default.campaign) == (LIAISON_FORM, "附件1", "2020-anqing-safety-month")
        whole = fold_document(doc).folded
        assert looks_like_liaison(doc, whole) and looks_like_liaison(doc, whole, form=form)


def test_the_2020_names_come_from_the_definition():
    form = shipped_form("附件1")
    assert KEYS == tuple(f.key for f in form.fields)
    assert liaison_module.FIELDS == tuple((f.key, f.label, f.spellings) for f in form.fields)
    assert liaison_module.LABELS["qq"] == "QQ号" and liaison_module.REQUIRED == ("name", "mobile", "email", "unit_name")
    assert liaison_module.EXPECT_REQUIRED["name"] == "联络员姓名（必填）"
    assert liaison_module.TITLE == "联络员推荐表"


def test_spellings_the_definition_does_not_list():
    """A form whose definition names no spellings takes the labels people print for the same
    thing (手机号码 for 手机, 身份证号码 for 身份证号), never another field's own label."""
    form = replace(derive_form(blank_grid_docx(SIGNUP_TITLE, SIGNUP_ROWS), "报名表.docx"), item="signup")
    doc = grid(("姓  名", "张三", "性别", "男", "出生年月", "1990.5"),
               ("身份证号码", "11010519491231002X", "手机号码：", "13900001111"),
               ("单位", "某工会"), ("邮箱", "a@b.cn"))
    result = parse_liaison(doc, form=form)
    assert result.values == {"name": "张三", "gender": "男", "birth_date": "1990-05", "id_number": "11010519491231002X",
                             "mobile": "13900001111", "unit_name": "某工会", "email": "a@b.cn"}
    assert result.errors == () and result.kind == "signup"
    assert liaison_module.label_key("手机号码", form) == "mobile" and liaison_module.label_key("职务", form) is None


def test_a_grid_form_only():
    with pytest.raises(ValueError):
        parse_liaison(grid(("a", "b")), form=shipped_form("附件2"))
