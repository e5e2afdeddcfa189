"""`campaign/notice.draft`: the seed notice, made into a .docx, a .doc, a text-layer .pdf and a
.txt (tests/fixtures/notices.py), drafts a definition equivalent to the shipped 2020 one — the
loaded definitions are compared, not their text — and smaller notices written here show how
dates, times, the period, forms given beside the notice and what it cannot understand are read."""
from __future__ import annotations

import re
import tomllib

import pytest

from bot.campaign.definition import load_campaign, shipped, shipped_folder
from bot.campaign.notice import draft, write
from bot.forms.definition import BLANK_RE, KNOWN_LABELS, DefinitionError, derive_form
from tests.fixtures.notices import as_doc, as_pdf, as_txt, notice_docx, seed_notice_docx

FORMATS = ("docx", "doc", "pdf", "txt")


@pytest.fixture(scope="module")
def seed_files() -> dict[str, bytes]:
    docx = seed_notice_docx()
    return {"docx": docx, "doc": as_doc(docx), "pdf": as_pdf(docx), "txt": as_txt(docx)}


@pytest.fixture(scope="module")
def drafted(seed_files, tmp_path_factory):
    """Each format drafted and written, then loaded back as the bot would load it."""
    out = {}
    for fmt, data in seed_files.items():
        d = draft(data, f"关于做好全市2020年“安全生产月”活动的通知.{fmt}")
        folder = tmp_path_factory.mktemp(fmt) / "2020-drafted"
        write(d, folder)
        out[fmt] = (d, load_campaign(folder), folder)
    return out


def _fold(text: str) -> str:
    return re.sub(r"[\s\u3000]", "", BLANK_RE.sub("□", text))


@pytest.mark.parametrize("fmt", FORMATS)
def test_items_and_deadlines_are_the_shipped_ones(drafted, fmt):
    _, got, _ = drafted[fmt]
    want = shipped()
    assert (got.name, got.year, got.start, got.end, got.mailbox, got.keywords, got.closing_time) == \
        (want.name, want.year, want.start, want.end, want.mailbox, want.keywords, want.closing_time)
    assert [(i.item, i.label, i.kind, i.form, i.due, i.keywords) for i in got.items] == \
        [(i.item, i.label, i.kind, i.form, i.due, i.keywords) for i in want.items]
    assert got.weekly_report == want.weekly_report
    assert [i.source for i in got.items] == [i.source for i in want.items]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_liaison_form_has_the_same_eleven_fields(drafted, fmt):
    _, got, _ = drafted[fmt]
    mine, theirs = got.form("附件1"), shipped().form("附件1")
    assert (mine.shape, mine.liaison, mine.per_unit, mine.item, mine.title) == \
        (theirs.shape, theirs.liaison, theirs.per_unit, theirs.item, theirs.title) == \
        ("grid", True, "one", "liaison_form", "“安全生产月”活动联络员推荐表")
    assert len(mine.fields) == 11
    assert [(f.key, f.label, f.type, f.position, f.required) for f in mine.fields] == \
        [(f.key, f.label, f.type, f.position, f.required) for f in theirs.fields]
    # the keys come from the printed labels, as KNOWN_LABELS names them
    assert all(KNOWN_LABELS[f.label][0] == f.key for f in mine.fields)
    assert mine.grid_rows == theirs.grid_rows


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_statistics_table_has_four_header_fields_and_51_blanks_of_the_same_types(drafted, fmt):
    _, got, _ = drafted[fmt]
    mine, theirs = got.form("附件2"), shipped().form("附件2")
    assert (mine.shape, mine.per_unit, mine.item, mine.liaison) == ("prose", "one", "progress_table", False)
    assert [(f.key, f.label, f.type) for f in mine.header_fields] == \
        [(f.key, f.label, f.type) for f in theirs.header_fields]
    assert len(mine.header_fields) == 4 and len(mine.blanks) == 51
    assert [(f.type, f.number, f.section) for f in mine.blanks] == [(f.type, f.number, f.section) for f in theirs.blanks]
    assert [f.position for f in mine.fields] == list(range(1, 56))
    # the rows are the notice's own, whichever way the table reached us
    assert len(mine.sections) == len(theirs.sections) == 7
    for a, b in zip(mine.sections, theirs.sections):
        assert (_fold(a.name), _fold(a.requirements), _fold(a.progress), a.category) == \
            (_fold(b.name), _fold(b.requirements), _fold(b.progress), b.category)
    assert mine.column_headers == theirs.column_headers
    shorts = [f.short for f in mine.blanks]
    assert len(set(shorts)) == 51


@pytest.mark.parametrize("fmt", ("docx", "doc"))
def test_a_word_notice_copies_its_tables_as_they_are(drafted, fmt):
    """From a Word notice the blank forms are the notice's own tables: the derived form is the
    shipped blank's, blank for blank (a .doc keeps all but a paragraph's trailing space)."""
    d, _, folder = drafted[fmt]
    for draft_form in d.forms:
        shipped_blank = shipped_folder() / shipped().form(draft_form.form).file
        want = derive_form(shipped_blank.read_bytes(), shipped_blank.name)
        got = derive_form((folder / draft_form.file).read_bytes(), draft_form.file)
        assert [(f.key, f.label, f.short, f.type) for f in got.fields] == \
            [(f.key, f.label, f.short, f.type) for f in want.fields]
        if fmt == "docx":
            assert got.sections == want.sections
        else:
            assert [(_fold(s.progress), s.category) for s in got.sections] == \
                [(_fold(s.progress), s.category) for s in want.sections]


def test_every_guess_names_the_sentence_it_came_from(drafted):
    d, _, folder = drafted["docx"]
    text = (folder / "campaign.toml").read_text(encoding="utf-8")
    lines = {line.split(" = ", 1)[0]: line for line in text.splitlines() if " = " in line and not line.startswith(" ")}
    assert "今年6月是全国第十九个“安全生产月”" in lines["start"]
    assert "邮箱：aqghljb@126.com" in lines["mailbox"]
    assert "关于做好全市2020年“安全生产月”活动的通知" in lines["name"]
    assert "只写日期：按当天 23:59:59" in text
    assert "下班前：按下班时间 17:30" in text
    data = tomllib.loads(text)
    assert [i["source"] for i in data["items"]][0] == "请各单位于6月10日前报送“安全生产月”活动联络员推荐表（附件1）"
    # the blanks' types say which words decided them
    assert "空格后为量词“场次”" in text and "空格后为“等形式”" in text
    # the seed has no signature date: the clerk is told, in Chinese; 重大活动可随时报送 is understood
    assert len(d.unclear) == 1 and "发文日期" in d.unclear[0]
    assert any("重大活动可随时报送" in note for note in d.notes)


def test_the_drafted_folder_is_refused_a_second_time(drafted):
    d, _, folder = drafted["docx"]
    with pytest.raises(DefinitionError, match="已存在"):
        write(d, folder)


def _txt(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_dates_times_period_and_issue_date():
    notice = _txt([
        "关于开展2021年度全市职工书屋", "读书征文活动的通知",
        "各县（市、区）工会：",
        "活动时间为2021年4月23日至2021年5月31日。",
        "请各单位于5月10日下午5时前报送活动方案，5月20日下班前报送征文作品汇总表（附件1）；"
        "5月底前报送工作总结及活动照片。",
        "联系人：王芳；电话：5588900；电子邮箱：aqshuwu@126.com。",
        "附件：1.征文作品汇总表",
        "安庆市总工会",
        "2021年4月15日",
        "附件1",
        "征文作品汇总表",
        "序号\t作者姓名\t作品题目\t字数\t手机",
        "1", "2", "3",
    ])
    d = draft(notice, "通知.txt", closing_time="18:00")
    assert (d.name, d.year) == ("2021年全市职工书屋读书征文活动", 2021)
    assert (str(d.start), str(d.end), str(d.submissions_open)) == ("2021-04-23", "2021-05-31", "2021-04-15")
    assert d.mailbox == "aqshuwu@126.com" and d.closing_time.strftime("%H:%M") == "18:00"
    got = [(i.item, i.kind, i.form, i.due.isoformat() if i.due else None) for i in d.items]
    assert got == [
        ("document_1", "document", "", "2021-05-10T17:00:00"),
        ("form_1", "form", "附件1", "2021-05-20T18:00:00"),
        ("summary", "document", "", "2021-05-31T23:59:59"),
        ("document_3", "document", "", "2021-05-31T23:59:59"),
    ]
    assert [i.label for i in d.items] == ["活动方案", "征文作品汇总表（附件1）", "工作总结", "活动照片"]
    assert d.unclear == ()
    form = d.forms[0]
    assert form.derived.shape == "list"
    assert [(f.key, f.label, f.type) for f in form.derived.fields] == [
        ("col1", "作者姓名", "text"), ("col2", "作品题目", "text"), ("col3", "字数", "text"), ("mobile", "手机", "mobile")]


def test_what_it_cannot_understand_is_listed_in_chinese(tmp_path):
    notice = _txt([
        "关于做好劳动竞赛工作的通知",
        "请各单位每月5日前报送竞赛进展情况。",
        "请各单位按要求及时报送先进典型材料。",
        "附件：1.劳动竞赛报名表",
        "2.劳动竞赛情况统计表",
    ])
    d = draft(notice, "通知.txt")
    text = "\n".join(d.unclear)
    assert "每月报送暂不能自动设置" in text
    assert "未能理解的报送要求：“请各单位按要求及时报送先进典型材料”" in text
    assert "未找到收件邮箱" in text
    assert "年份" in text
    assert "附件1（劳动竞赛报名表）：既没有截止时间也没有空白表格" in text
    assert "未找到任何报送事项" in text


def test_forms_given_beside_the_notice_take_their_number_from_the_file_name(tmp_path):
    """A notice whose 附件 came as separate files: `forms` names them; a sentence naming a 附件
    whose blank is missing becomes a document the clerk is told about."""
    notice = notice_docx([
        "关于做好全市2020年“安全生产月”活动的通知",
        "今年6月是全国第十九个“安全生产月”。",
        "请各单位于6月10日前报送联络员推荐表（附件1），6月28日前报送进展情况统计表（附件2）和"
        "情况说明（附件3）。",
        "邮箱：aqghljb@126.com",
        "附件：1.“安全生产月”活动联络员推荐表",
        "2.“安全生产月”活动进展情况统计表",
        "3.情况说明",
    ])
    folder = shipped_folder()
    given = [folder / "附件2（进展情况统计表）.xlsx", folder / "附件1（联络员推荐表）.docx"]
    d = draft(notice, "通知.docx", forms=given)
    assert [(f.form, f.file, f.derived.shape) for f in d.forms] == [
        ("附件1", "附件1（联络员推荐表）.docx", "grid"), ("附件2", "附件2（进展情况统计表）.xlsx", "prose")]
    assert [(i.item, i.kind, i.form) for i in d.items] == [
        ("liaison_form", "form", "附件1"), ("progress_table", "form", "附件2"), ("document_1", "document", "")]
    assert any("附件3 的空白表格未找到" in u for u in d.unclear)
    campaign = write(d, tmp_path / "c")
    assert len(campaign.form("附件2").blanks) == 51
    assert (tmp_path / "c" / "附件2（进展情况统计表）.xlsx").read_bytes() == given[0].read_bytes()


def test_a_notice_that_is_no_document_is_refused_in_one_line():
    with pytest.raises(DefinitionError, match="应为 Word"):
        draft(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "通知.png")


def test_a_blank_derived_alone_loads(tmp_path):
    """A definition that names no fields: the blanks' short labels, generated, are distinct
    (参与（ ）人次 in several rows says which 参与 it is), so the folder loads as it is."""
    blank = shipped_folder() / "附件2（进展情况统计表）.docx"
    (tmp_path / blank.name).write_bytes(blank.read_bytes())
    (tmp_path / "campaign.toml").write_text(
        '[campaign]\nname = "x"\nstart = 2020-06-01\nend = 2020-06-30\n'
        '[[items]]\nitem = "progress_table"\nform = "附件2"\ndue = 2020-06-28\n'
        f'[[forms]]\nform = "附件2"\nfile = "{blank.name}"\n', encoding="utf-8")
    form = load_campaign(tmp_path).form("附件2")
    shorts = {f.key: f.short for f in form.blanks}
    assert shorts["b04"] == "安排理论学习中心组专题学习…次，参与…人次"
    assert shorts["b06"] == "开展网络课堂培训…场，参与…人次"
    assert shorts["b11"] == "…人次"  # alone in its form: left as it was
    assert len(set(shorts.values())) == 51
