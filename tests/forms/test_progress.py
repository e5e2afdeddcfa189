"""附件2 parsing: the sample mails, every fill variant of forms.md in every layout, header lines,
unlocatable blanks, recognition, an accuracy figure over random fillings, and robustness."""
from __future__ import annotations

import dataclasses
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.forms.blank_forms import fill_liaison_docx, fill_progress_docx, fill_progress_xlsx
from bot.forms.document import Document, Table
from bot.forms.progress import REASON_NO_TABLE, UNLOCATABLE, looks_like_progress, parse_progress
from bot.forms.progress_template import BLANKS, BLANKS_BY_KEY, BLANK_KEYS, HEADER_KEYS, INT, ITEMS, TEXT
from bot.forms.result import ERROR, PARSED, PROGRESS_TABLE
from tests.fixtures.progress_forms import (
    document_from_docx,
    document_as_lines,
    document_from_xlsx,
    random_form,
    sample_attachment,
    sample_expectation,
)

HEADER = {
    "header.unit_name": "岳西县总工会",
    "header.contact": "陈刚",
    "header.phone": "0556-4189154",
    "header.fill_date": "2020年6月20日",
}


# ---------------------------------------------------------------------------- the sample mails


@pytest.mark.parametrize("name", ["007.eml", "008.eml", "011.eml"])
def test_sample_mails(name):
    expected = sample_expectation(name)
    result = parse_progress(document_from_docx(sample_attachment(name, ".docx")))
    assert result.kind == PROGRESS_TABLE
    assert result.status == PARSED
    assert result.values == expected["values"]
    assert [p.key for p in result.errors] == expected["errors"]
    assert [p.key for p in result.warnings] == expected["warnings"]


def test_sample_warning_says_what_was_written_and_taken():
    result = parse_progress(document_from_docx(sample_attachment("008.eml", ".docx")))
    (warning,) = result.warnings
    assert warning.as_json() == {"key": "consultation.douyin_videos", "written": "30多", "expected": "数字",
                                 "read_as": 30}
    assert warning.label == "“我是安全明白人”话题（ ）条微视频"


# ---------------------------------------------------------------------------- round trips

# (written, value read, outcome) for count blanks: every way of forms.md.
INT_VARIANTS = [
    ("3", 3, "ok"), (" 3 ", 3, "ok"), ("３", 3, "ok"), ("１２", 12, "ok"), ("1,200", 1200, "ok"),
    ("1，200", 1200, "ok"), ("三", 3, "ok"), ("十二", 12, "ok"), ("一百二十", 120, "ok"), ("两百", 200, "ok"),
    ("一千零五", 1005, "ok"), ("3场", 3, "ok"), ("200人次", 200, "ok"), ("5个", 5, "ok"), ("2部", 2, "ok"),
    ("10篇", 10, "ok"), ("3条", 3, "ok"), ("4次", 4, "ok"), ("无", 0, "ok"), ("/", 0, "ok"), ("—", 0, "ok"),
    ("-", 0, "ok"), ("－", 0, "ok"), ("0", 0, "ok"), ("零", 0, "ok"), ("", None, "ok"), ("    ", None, "ok"),
    ("约50", 50, "warning"), ("50余", 50, "warning"), ("50多", 50, "warning"), ("近50", 50, "warning"),
    ("50左右", 50, "warning"), ("若干", None, "error"), ("待统计", None, "error"), ("3-5", None, "error"),
    ("3.5", None, "error"), ("(8)", 8, "ok"), ("（ 7 ）", 7, "ok"),
]
TEXT_VARIANTS = [("座谈会、知识竞赛", "座谈会、知识竞赛"), ("  视频会议  ", "视频会议"), ("无", None), ("/", None),
                 ("", None), ("“安全生产月”微视频征集", "“安全生产月”微视频征集"), ("H5安全互动游戏", "H5安全互动游戏")]
# Blanks whose brackets the clerk deleted (启动活动3场次) or whose closing bracket got lost.
DROP_PARENS = {"launch.events", "study.online_sessions", "inspection.film_viewers", "training.livestreams",
               "consultation.vr_viewers", "five_into.school.events", "exemplary.videos"}
DROP_CLOSE = {"study.group_sessions", "inspection.enterprise_hazards", "consultation.sms_sent",
              "five_into.rural.participants"}


def _every_variant():
    written, expected, outcome = {}, {}, {}
    ints = [b for b in BLANKS if b.type == INT]
    texts = [b for b in BLANKS if b.type == TEXT]
    for n, blank in enumerate(ints):
        w, v, o = INT_VARIANTS[n % len(INT_VARIANTS)]
        written[blank.key], expected[blank.key], outcome[blank.key] = w, v, o
    for n, blank in enumerate(texts):
        w, v = TEXT_VARIANTS[n % len(TEXT_VARIANTS)]
        written[blank.key], expected[blank.key], outcome[blank.key] = w, v, "ok"
    assert {w for w, _, _ in INT_VARIANTS} <= set(written.values()) | {"3", " 3 "}
    return written, expected, outcome


def _check(result, expected, outcome, header=HEADER):
    assert result.status == PARSED
    assert {k: result.values[k] for k in HEADER_KEYS} == header
    for key in BLANK_KEYS:
        assert result.values[key] == expected[key], (key, result.values[key], expected[key])
    assert {p.key for p in result.errors} == {k for k, o in outcome.items() if o == "error"}
    assert {p.key for p in result.warnings} == {k for k, o in outcome.items() if o == "warning"}
    for problem in result.errors:
        assert problem.expected in ("数字", "整数")
        assert problem.label == BLANKS_BY_KEY[problem.key].label
    assert len(result.values) == 55


def test_every_variant_fits_in_one_form():
    written, _, outcome = _every_variant()
    assert len(written) == 51
    assert {"ok", "warning", "error"} == set(outcome.values())


def test_round_trip_docx():
    written, expected, outcome = _every_variant()
    data = fill_progress_docx(written, HEADER, drop_parens_for=DROP_PARENS, drop_close_for=DROP_CLOSE)
    _check(parse_progress(document_from_docx(data)), expected, outcome)


@pytest.mark.parametrize("layout", ["table", "rows", "cells"])
@pytest.mark.parametrize("header_in_cells", [False, True])
def test_round_trip_xlsx(layout, header_in_cells):
    written, expected, outcome = _every_variant()
    data = fill_progress_xlsx(written, HEADER, drop_parens_for=DROP_PARENS, drop_close_for=DROP_CLOSE,
                              layout=layout, header_in_cells=header_in_cells)
    _check(parse_progress(document_from_xlsx(data)), expected, outcome)


def test_round_trip_text_lines():
    """A .doc / .wps / PDF read as text: the table is gone, every line a paragraph."""
    written, expected, outcome = _every_variant()
    data = fill_progress_docx(written, HEADER, drop_parens_for=DROP_PARENS, drop_close_for=DROP_CLOSE)
    _check(parse_progress(document_as_lines(document_from_docx(data))), expected, outcome)


def test_deleted_parentheses_are_read():
    data = fill_progress_docx({"launch.forms": "座谈会", "launch.events": "3"}, HEADER,
                              drop_parens_for={"launch.events"})
    doc = document_from_docx(data)
    assert "启动“安全生产月”活动3场次。" in doc.tables[0].rows[1][3]
    result = parse_progress(doc)
    assert result.values["launch.events"] == 3
    assert result.values["launch.forms"] == "座谈会"


def test_deleted_parentheses_with_the_unit_repeated():
    data = fill_progress_docx({"launch.events": "3场", "inspection.film_screenings": "19场"}, HEADER,
                              drop_parens_for={"launch.events", "inspection.film_screenings"})
    result = parse_progress(document_from_docx(data))
    assert result.values["launch.events"] == 3
    assert result.values["inspection.film_screenings"] == 19


def test_parenthesised_wording_is_not_a_blank():
    # 社区（村） is wording; the blank after it is still inspection.community_events
    written = {"inspection.communities": "47", "inspection.community_events": "33"}
    result = parse_progress(document_from_docx(fill_progress_docx(written, HEADER)))
    assert result.values["inspection.communities"] == 47
    assert result.values["inspection.community_events"] == 33


def _retype(prose: str) -> str:
    """A clerk retyping the prose: half-width punctuation, indents and quotes gone, lines joined
    or split."""
    prose = prose.replace("，", ",").replace("；", ";").replace("\u3000", "").replace("“安全生产月”活动", "安全生产月活动")
    prose = prose.replace("\n", "")
    return re.sub(r"。", "。\n\n", prose)


@pytest.mark.parametrize("fmt", ["docx", "table", "rows"])
def test_retyped_prose(fmt):
    written, expected, outcome = _every_variant()
    if fmt == "docx":
        data = fill_progress_docx(written, HEADER, drop_parens_for=DROP_PARENS, drop_close_for=DROP_CLOSE,
                                  retype=_retype)
        doc = document_from_docx(data)
    else:
        data = fill_progress_xlsx(written, HEADER, drop_parens_for=DROP_PARENS, drop_close_for=DROP_CLOSE,
                                  retype=_retype, layout=fmt)
        doc = document_from_xlsx(data)
    _check(parse_progress(doc), expected, outcome)


def test_fullwidth_brackets_turned_half_width_and_back():
    written = {b.key: "5" for b in BLANKS if b.type == INT}

    def swap(prose):
        return prose.translate(str.maketrans("（）()", "()（）"))

    result = parse_progress(document_from_docx(fill_progress_docx(written, HEADER, retype=swap)))
    assert all(result.values[k] == 5 for k in written)
    assert result.errors == ()


def test_blank_template_reads_as_all_empty():
    result = parse_progress(document_from_docx(fill_progress_docx({}, {})))
    assert result.status == PARSED
    assert result.errors == () and result.warnings == ()
    assert set(result.values) == set(HEADER_KEYS) | set(BLANK_KEYS)
    assert all(value is None for value in result.values.values())


# ---------------------------------------------------------------------------- cells layouts


def _sheet(rows):
    width = max(len(r) for r in rows)
    return Table(tuple(tuple(r) + ("",) * (width - len(r)) for r in rows))


def _label_value_doc(rows):
    table = _sheet(rows)
    return Document((), (table,), "\n".join("\t".join(r) for r in table.rows), "xlsx")


def test_two_column_label_value_sheet_with_repeated_labels():
    rows = [("“安全生产月”活动进展情况统计表",), ("填报单位（盖章）", "岳西县总工会"), ("联系人", "陈刚"),
            ("电话", "0556-4189154"), ("填报日期", "2020年6月20日"), ("项目", "数值")]
    for blank in BLANKS:
        rows.append((blank.label, str(blank.number)))
    result = parse_progress(_label_value_doc(rows))
    assert result.errors == ()
    for blank in BLANKS:
        expected = blank.number if blank.type == INT else str(blank.number)
        assert result.values[blank.key] == expected, blank.key
    assert {k: result.values[k] for k in HEADER_KEYS} == HEADER


def test_cells_labels_written_by_the_unit_itself():
    rows = [("组织观看警示教育片场次", "19"), ("警示教育片（ ）部", "2"), ("组织观看（ ）场次", "7")]
    result = parse_progress(_label_value_doc(rows))
    assert result.values["inspection.films_made"] == 2
    assert result.values["inspection.film_screenings"] == 7


# ---------------------------------------------------------------------------- header line


@pytest.mark.parametrize(
    "line",
    [
        "填报单位（盖章）：岳西县总工会        　　　　　联系人：陈刚    　　 电话：0556-4189154  　　   填报日期：2020年6月20日",
        "填报单位(盖章):岳西县总工会 联系人:陈刚 电话:0556-4189154 填报日期:2020年6月20日",
        "填报单位（盖章）：岳西县总工会联系人：陈刚电话：0556-4189154填报日期：2020年6月20日",
        "填报单位：岳西县总工会\t联系人：陈刚\t电话：0556-4189154\t填报日期：2020年6月20日",
        "填 报 单 位（盖 章）： 岳西县总工会 ____ 联 系 人：陈刚 电 话：0556-4189154 填报日期： 2020年6月20日 ",
    ],
)
def test_header_line_paragraph(line):
    doc = document_from_docx(fill_progress_docx({}, {}))
    doc = dataclasses.replace(doc, paragraphs=("附件2", "“安全生产月”活动进展情况统计表", line))
    values = parse_progress(doc).values
    assert {k: values[k] for k in HEADER_KEYS} == HEADER


def test_header_line_as_label_rows():
    doc = document_from_xlsx(fill_progress_xlsx({}, {}))
    rows = (("填报单位（盖章）", "岳西县总工会"), ("联系人：", "陈刚"), ("电话", "0556-4189154"),
            ("填报日期", "2020年6月20日"))
    doc = dataclasses.replace(doc, tables=(Table(rows),) + doc.tables)
    values = parse_progress(doc).values
    assert {k: values[k] for k in HEADER_KEYS} == HEADER


def test_header_left_empty_is_none():
    values = parse_progress(document_from_docx(fill_progress_docx({"launch.events": "1"}, {}))).values
    assert [values[k] for k in HEADER_KEYS] == [None, None, None, None]
    assert values["launch.events"] == 1


def test_header_partly_filled():
    header = {"header.unit_name": "安庆市建设工会", "header.fill_date": "2020-06-22"}
    values = parse_progress(document_from_docx(fill_progress_docx({}, header))).values
    assert values["header.unit_name"] == "安庆市建设工会"
    assert values["header.contact"] is None and values["header.phone"] is None
    assert values["header.fill_date"] == "2020-06-22"


# ---------------------------------------------------------------------------- what cannot be read


def test_a_blank_whose_wording_was_rewritten_is_reported_not_guessed():
    written = {b.key: "6" for b in BLANKS if b.type == INT}

    def rewrite(prose):
        # the unit rewrote the sentence around 组织观看（ ）场 beyond recognition
        return prose.replace("，组织观看（6）场，", "；另放映6场次了，")

    result = parse_progress(document_from_docx(fill_progress_docx(written, HEADER, retype=rewrite)))
    assert result.status == PARSED
    problems = {p.key: p for p in result.errors}
    assert "inspection.film_screenings" in problems
    assert problems["inspection.film_screenings"].expected in (UNLOCATABLE, "数字")
    assert result.values["inspection.film_screenings"] is None
    others = [b.key for b in BLANKS if b.type == INT and b.key not in problems]
    assert len(others) >= 30 and all(result.values[k] == 6 for k in others)


def test_a_missing_activity_row_is_reported_blank_by_blank():
    written = {b.key: "2" for b in BLANKS if b.type == INT}
    doc = document_from_docx(fill_progress_docx(written, HEADER))
    table = doc.tables[0]
    doc = dataclasses.replace(doc, tables=(Table(table.rows[:4] + table.rows[5:]),))  # no 安全培训 row
    result = parse_progress(doc)
    missing = {p.key for p in result.errors if p.expected == UNLOCATABLE}
    assert missing == {b.key for b in ITEMS[3].blanks}
    assert all(result.values[b.key] is None for b in ITEMS[3].blanks)
    assert result.values["launch.events"] == 2


def test_a_document_without_the_table_is_an_error():
    result = parse_progress(document_from_docx(fill_liaison_docx({"name": "高玉兰"})))
    assert result.kind == PROGRESS_TABLE
    assert result.status == ERROR
    assert result.reason == REASON_NO_TABLE


@pytest.mark.parametrize("name", ["002.eml", "012.eml"])
def test_reports_are_not_progress_tables(name):
    doc = document_from_docx(sample_attachment(name, ".docx"))
    assert looks_like_progress(doc) is False
    assert parse_progress(doc).status == ERROR


# ---------------------------------------------------------------------------- recognition


@pytest.mark.parametrize("name", ["007.eml", "008.eml", "011.eml"])
def test_recognises_sample_tables(name):
    assert looks_like_progress(document_from_docx(sample_attachment(name, ".docx")))


@pytest.mark.parametrize("layout", ["table", "rows", "cells"])
def test_recognises_every_layout(layout):
    assert looks_like_progress(document_from_xlsx(fill_progress_xlsx({}, HEADER, layout=layout)))
    assert looks_like_progress(document_from_docx(fill_progress_docx({}, {})))


@pytest.mark.parametrize("name,suffix", [("001.eml", ".docx"), ("009.eml", ".docx"), ("003.eml", ".xlsx")])
def test_liaison_forms_are_not_progress_tables(name, suffix):
    data = sample_attachment(name, suffix)
    doc = document_from_docx(data) if suffix == ".docx" else document_from_xlsx(data)
    assert looks_like_progress(doc) is False


def test_a_report_about_the_same_activities_is_not_a_table():
    text = ("本周组织职工参加“安全生产大家谈”云课堂学习1200人次，开展网络视频访谈2场，组织观看警示教育片3场，"
            "参与线上“公众开放日”活动，发送公益短信5000条，开展安全宣传进企业活动。")
    doc = Document((text,), (), text, "docx")
    assert looks_like_progress(doc) is False


# ---------------------------------------------------------------------------- accuracy


def _build(form, layout):
    if layout in ("docx", "lines"):
        data = fill_progress_docx(form.written, form.header, drop_parens_for=form.drop_parens_for,
                                  drop_close_for=form.drop_close_for)
        doc = document_from_docx(data)
        return doc if layout == "docx" else document_as_lines(doc)
    if layout == "cells":
        data = fill_progress_xlsx(form.written, form.header, drop_parens_for=form.drop_parens_for, layout="cells")
    else:
        data = fill_progress_xlsx(form.written, form.header, drop_parens_for=form.drop_parens_for,
                                  drop_close_for=form.drop_close_for, layout=layout.split("+")[0],
                                  header_in_cells=layout.endswith("+header_cells"))
    return document_from_xlsx(data)


def test_accuracy_over_random_fillings(capsys):
    """200 seeded random forms, every blank filled with a random forms.md variant, in the .docx
    layout, each .xlsx layout and as plain text lines (a converted .doc/.wps); every one of the
    55 values, errors and warnings compared."""
    rng = random.Random(20200628)
    layouts = ["docx", "table", "rows", "cells", "table+header_cells", "lines"]
    compared = correct = 0
    wrong = []
    for n in range(200):
        form = random_form(rng)
        layout = layouts[n % len(layouts)]
        result = parse_progress(_build(form, layout))
        errors = {p.key for p in result.errors}
        warnings = {p.key for p in result.warnings}
        for key in HEADER_KEYS + BLANK_KEYS:
            outcome = form.outcome.get(key, "ok")
            compared += 1
            if (result.values[key] == form.expected[key] and (key in errors) == (outcome == "error")
                    and (key in warnings) == (outcome == "warning")):
                correct += 1
            else:
                wrong.append((layout, key, form.written.get(key), result.values[key], form.expected[key]))
    accuracy = correct / compared
    with capsys.disabled():
        print(f"\n附件2 accuracy over 200 random forms: {correct}/{compared} = {accuracy:.4%}")
    assert compared == 200 * 55
    assert accuracy >= 0.999, wrong[:10]


# ---------------------------------------------------------------------------- robustness

_TEMPLATE_WORDS = [b.label for b in BLANKS] + [i.progress for i in ITEMS] + [i.name for i in ITEMS] + [
    "填报单位（盖章）：", "联系人", "电话：", "（", "）", "(", ")", "……", "\u3000", "\n", "若干", "3", "约50"]
_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_TEMPLATE_WORDS) | st.text(max_size=8), max_size=8).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paragraphs=st.lists(_text, max_size=5),
    tables=st.lists(st.lists(st.lists(_text, min_size=1, max_size=5), max_size=6), max_size=3),
)
def test_never_raises_on_random_documents(paragraphs, tables):
    doc = Document(tuple(paragraphs), tuple(Table(tuple(tuple(r) for r in t)) for t in tables),
                   "\n".join(paragraphs), "docx")
    result = parse_progress(doc)
    assert result.kind == PROGRESS_TABLE
    assert result.status in (PARSED, ERROR)
    assert set(result.values) == set(HEADER_KEYS) | set(BLANK_KEYS)
    looks_like_progress(doc)


def test_the_whole_document_fast_path_reads_what_the_cell_by_cell_reading_reads():
    """Intact wording takes a shortcut (one regex per item over the folded document); on every
    form where it applies it must find exactly what the general reading finds."""
    from bot.forms.progress import fold_document
    from bot.forms.progress.align import exact_everywhere, read_cell_by_cell

    rng = random.Random(7)
    fast = 0
    for n in range(120):
        form = random_form(rng, mangle_brackets=n % 2 == 0)  # odd: every value in its brackets
        layout = ["docx", "table", "lines"][n % 3]
        doc = _build(form, layout)
        exact = exact_everywhere(fold_document(doc))
        if exact is None:
            continue
        fast += 1
        assert exact == read_cell_by_cell(doc), (layout, form.written)
    assert fast >= 30  # the shortcut is really taken, not only the general path tested


# ---------------------------------------------------------------------------- from the definition


def _shipped():
    from bot.forms.definition import shipped_form

    return shipped_form("附件2")


def test_the_template_is_the_definitions():
    """The module's names are the template built from the campaign folder's 附件2: its blank
    .docx gives the prose, campaign.toml the keys and short labels."""
    from bot.forms import progress_template as tpl

    form = _shipped()
    template = tpl.prose_template(form)
    assert template is tpl.prose_template() is tpl.shipped_template()
    assert tpl.ITEMS is template.ITEMS and tpl.BLANKS is template.BLANKS and tpl.HEADER_LINE == form.header_line
    assert [item.progress for item in ITEMS] == [section.progress for section in form.sections]
    assert [(b.key, b.label, b.short, b.type, b.number) for b in BLANKS] == [
        (f.key, f.label, f.short, f.type, f.number) for f in form.blanks]
    assert tpl.HEADER_FIELDS == tuple((f.label, f.key) for f in form.header_fields)
    assert tpl.CATEGORY_GROUPS == ((0, 4), (4, 7))  # the blank's two merged category cells
    assert tpl.TITLE == form.title and tpl.COLUMN_HEADERS == form.column_headers


def test_no_wording_of_the_form_is_in_the_code():
    """What the 附件2 says lives in campaigns/2020-anqing-safety-month, not in the modules
    that read and write it: none of its wording in their string literals (docstrings and
    comments quote it as examples)."""
    import ast
    from pathlib import Path

    import bot.forms.blank_forms
    import bot.forms.progress
    import bot.forms.progress_template

    sources = [Path(bot.forms.progress_template.__file__), Path(bot.forms.blank_forms.__file__)]
    sources += sorted(Path(bot.forms.progress.__file__).parent.glob("*.py"))
    literals = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                      and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        literals += [node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    assert any("未能在文件中找到" in text for text in literals)  # the literals are really looked at
    code = "\n".join(literals)
    pieces = set()
    for item in ITEMS:
        pieces.update(line for line in item.name.split("\n") if len(line) >= 4)
        pieces.update(p for p in re.split(r"[，；。、“”\n]", item.requirements + item.progress) if len(p) >= 6)
    pieces.update(b.short for b in BLANKS)
    pieces.update(b.label for b in BLANKS if len(b.label) >= 8)
    found = sorted(p for p in pieces if p in code)
    assert not found, found


def test_results_name_the_form_and_its_campaign():
    result = parse_progress(document_from_docx(fill_progress_docx({"launch.events": "3"}, HEADER)))
    assert (result.kind, result.status, result.form, result.campaign) == (
        PROGRESS_TABLE, PARSED, "附件2", "2020-anqing-safety-month")
    assert parse_progress(document_from_docx(fill_progress_docx({}, {})), form=_shipped()) == parse_progress(
        document_from_docx(fill_progress_docx({}, {})))


def test_the_template_is_built_once_per_form(monkeypatch):
    """A form equal to one already read (unpickled in a reading worker) reuses its template:
    no parse or recognition builds one."""
    import pickle

    from bot.forms.progress.template import ProseReading
    from bot.forms.progress_template import ProseTemplate

    doc = document_from_docx(fill_progress_docx({"launch.events": "3", "exemplary.videos": "2"}, HEADER))
    expected = parse_progress(doc)

    def never(*args, **kwargs):
        raise AssertionError("template built again")

    monkeypatch.setattr(ProseTemplate, "__init__", never)
    monkeypatch.setattr(ProseReading, "__init__", never)
    copy = pickle.loads(pickle.dumps(_shipped()))
    assert copy is not _shipped()
    assert parse_progress(doc, form=copy) == expected
    assert looks_like_progress(doc, form=copy)


def test_header_labels_are_the_forms_own():
    """Another header line (报送单位 / 经办人 / 手机 / 报送时间) is read by its own labels, and the
    gaps written out are the line's own."""
    from bot.forms.definition import Field

    shipped = _shipped()
    line = "报送单位（公章）：\u3000\u3000\u3000经办人：\u3000\u3000手机：\u3000\u3000\u3000报送时间：\u3000\u3000"
    labels = ("报送单位（公章）", "经办人", "手机", "报送时间")
    keys = ("header.unit", "header.person", "header.mobile", "header.when")
    header_fields = tuple(Field(key, label, label, "text", n, header=True) for n, (key, label) in
                          enumerate(zip(keys, labels), start=1))
    form = dataclasses.replace(shipped, fields=header_fields + shipped.blanks, header_line=line, form="附件3",
                               campaign="another")
    header = {"header.unit": "怀宁县总工会", "header.person": "王芳", "header.mobile": "13905560000",
              "header.when": "6月21日"}
    for data, read in ((fill_progress_docx({"launch.events": "2"}, header, form=form), document_from_docx),
                       (fill_progress_xlsx({"launch.events": "2"}, header, form=form, header_in_cells=True),
                        document_from_xlsx)):
        doc = read(data)
        result = parse_progress(doc, form=form)
        assert {key: result.values[key] for key in keys} == header
        assert result.values["launch.events"] == 2 and (result.form, result.campaign) == ("附件3", "another")
    doc = document_from_docx(fill_progress_docx({}, {}, form=form))
    assert doc.paragraphs[0] == "附件3" and doc.paragraphs[2] == line
    assert parse_progress(doc, form=form).values["header.person"] is None
    # 报送时间 is read as 时间 or 日期, the shipped 填报日期 as 填报时间 too
    doc = Document(("报送单位：宿松县总工会  报送日期：6月22日", "填报时间：6月23日"), (), "", "docx")
    assert parse_progress(doc, form=form).values["header.when"] == "6月22日"
    assert parse_progress(doc).values["header.fill_date"] == "6月23日"
