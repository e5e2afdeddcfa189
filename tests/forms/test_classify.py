"""The pipeline's entry point: every sample attachment and body to its kind, every hostile or
odd file to a precise status and reason, and never an exception."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.forms import classify
from bot.forms.readers import libreoffice
from bot.forms.classify import REASON_SCAN, REASON_UNRECOGNISED, read_attachment, read_body
from bot.forms.readers import REASON_XML_ENTITY
from bot.forms.result import (ERROR, EVIDENCE, LIAISON_FORM, PARSED, PROGRESS_TABLE, SKIPPED, SUMMARY,
                              WEEKLY_REPORT)
from tests.fixtures.office_files import (EXTERNAL_ENTITY, LIAISON_VALUES, MAGIC_SAMPLES, encrypted_ooxml, entity_xlsx,
                                         expected_messages, image_only_docx, jpeg_header, liaison_columns_xlsx,
                                         liaison_docx, lying_sizes_zip, mutate, png_image, report_docx,
                                         sample_attachments, sample_body, sample_mail, scanned_pdf, text_pdf,
                                         zeros_member_zip)

EXPECTED = expected_messages()
NAMES = sorted(EXPECTED)


def mail_kinds(name: str) -> list[str]:
    subject = str(sample_mail(name)["subject"])
    kinds = []
    for filename, data in sample_attachments(name):
        result = read_attachment(filename, data, subject=subject)
        if result.status == PARSED:
            kinds.append(result.kind)
    body = read_body(subject, sample_body(name))
    if body is not None:
        kinds.append(body.kind)
    return sorted(set(kinds))


@pytest.mark.parametrize("name", [n for n in NAMES if EXPECTED[n]["outcome"] != "auto_reply"])
def test_sample_mails_kinds(name):
    assert mail_kinds(name) == sorted(EXPECTED[name]["kinds"])


@pytest.mark.parametrize("name", ["001.eml", "003.eml", "009.eml", "007.eml", "008.eml", "011.eml"])
def test_sample_form_values(name):
    (filename, data), = sample_attachments(name)
    result = read_attachment(filename, data, subject=str(sample_mail(name)["subject"]))
    assert result.values == EXPECTED[name]["values"]
    assert [p.key for p in result.warnings] == EXPECTED[name]["warnings"]


def test_sample_weekly_reports_and_weeks():
    (filename, data), = sample_attachments("002.eml")
    result = read_attachment(filename, data, subject="宜城机械公司工会第一周工作情况")
    assert (result.kind, result.named_week) == (WEEKLY_REPORT, 1)
    assert "安全生产啄木鸟" in result.text
    (filename, data), = sample_attachments("006.eml")
    result = read_attachment(filename, data, subject="材料")
    assert (result.kind, result.status, result.named_week) == (WEEKLY_REPORT, PARSED, None)
    body = read_body("大观区总工会第四周周报", sample_body("010.eml"))
    assert (body.kind, body.status, body.named_week) == (WEEKLY_REPORT, PARSED, 4)
    assert "云课堂学习" in body.text and body.text.startswith("按照市总工会")


@pytest.mark.parametrize("name", ["001.eml", "002.eml", "003.eml", "005.eml", "006.eml", "007.eml", "012.eml"])
def test_cover_notes_are_not_reports(name):
    assert read_body(str(sample_mail(name)["subject"]), sample_body(name)) is None


def test_body_report_needs_a_weekly_keyword_and_content():
    text = "一是组织观看警示教育片3场，受教育职工1136人次；二是组织干部职工参加云课堂学习，参学1092人次。"
    assert read_body("本周工作情况", "卫老师：\n" + text + "\n\n某某工会\n2020年6月11日").kind == WEEKLY_REPORT
    assert read_body("工作情况", "本周" + text).named_week is None
    assert read_body("工作情况", text) is None  # no keyword anywhere
    assert read_body("第二周工作情况", "卫老师：附件为我会第二周工作情况，请查收。\n\n某某工会") is None
    quoted = "见附件\n\n------------------ 原始邮件 ------------------\n发件人：x\n" + "本周" + text
    assert read_body("回复：本周工作情况", quoted) is None
    assert read_body("", "") is None


def test_liaison_doc_via_libreoffice_reads_the_same_values():
    doc = libreoffice.convert(liaison_docx(), "docx", "doc", timeout=120)
    result = read_attachment("推荐表.doc", doc)
    assert (result.kind, result.status) == (LIAISON_FORM, PARSED)
    assert result.values == LIAISON_VALUES


def test_content_first_then_keywords():
    # a liaison form named like a weekly report is still a liaison form
    assert read_attachment("第一周工作情况.docx", liaison_docx(), subject="第一周").kind == LIAISON_FORM
    report = report_docx("工作情况", ["一是开展活动3场。"])
    assert read_attachment("第二周.docx", report).kind == WEEKLY_REPORT
    assert read_attachment("材料.docx", report, subject="活动总结").kind == SUMMARY
    result = read_attachment("材料.docx", report, subject="你好")
    assert (result.kind, result.status, result.reason) == (None, SKIPPED, REASON_UNRECOGNISED)
    titled = report_docx("本周工作情况", ["一是开展活动3场。"])
    assert read_attachment("附件.docx", titled, subject="联络员推荐表和本周工作情况").kind == WEEKLY_REPORT


def test_named_form_without_its_table_is_an_error():
    result = read_attachment("联络员推荐表.docx", report_docx("说明", ["表格稍后补报。"]))
    assert (result.kind, result.status) == (LIAISON_FORM, ERROR)
    assert result.reason


def test_scans_and_photos_are_evidence_with_a_kind_from_names():
    photo = jpeg_header(3000, 4000, padding=200_000)
    result = read_attachment("IMG_2020.jpg", photo, subject="岳西县总工会进展情况统计表（盖章）")
    assert (result.status, result.kind, result.reason) == (EVIDENCE, PROGRESS_TABLE, REASON_SCAN)
    result = read_attachment("附件2扫描件.pdf", scanned_pdf())
    assert (result.status, result.kind) == (EVIDENCE, PROGRESS_TABLE)
    result = read_attachment("scan.docx", image_only_docx(), subject="联络员推荐表")
    assert (result.status, result.kind) == (EVIDENCE, LIAISON_FORM)
    result = read_attachment("照片.png", png_image(1200, 900) + bytes(30_000))
    assert (result.status, result.kind) == (EVIDENCE, None)


def test_signature_images_video_audio_are_skipped():
    assert read_attachment("image001.png", png_image(1200, 900) + bytes(30_000)).status == SKIPPED
    assert read_attachment("logo.jpg", jpeg_header(100, 40)).status == SKIPPED
    assert read_attachment("a.jpg", jpeg_header(120, 120, padding=50_000)).status == SKIPPED
    for kind in ("video", "audio"):
        result = read_attachment("会议.mp4", MAGIC_SAMPLES[kind])
        assert result.status == SKIPPED and result.kind is None and result.reason
    assert read_attachment("data.bin", bytes(range(256)) * 8).status == SKIPPED


def test_size_cap_first():
    result = read_attachment("附件2.docx", b"x" * 2000, max_bytes=1000)
    assert (result.status, result.kind) == (ERROR, PROGRESS_TABLE)
    assert result.reason.startswith("附件超过")
    assert "MB" in read_attachment("a.docx", b"x" * (2 * 1024 * 1024), max_bytes=1024 * 1024).reason


@pytest.mark.parametrize("build,filename,reason_part", [
    (lambda: zeros_member_zip(liaison_docx(), "word/media/image1.png", 120), "推荐表.docx", "疑为压缩炸弹"),
    (lambda: zeros_member_zip(liaison_columns_xlsx(), "xl/media/image1.png", 120), "推荐表.xlsx", "疑为压缩炸弹"),
    (lambda: lying_sizes_zip(liaison_columns_xlsx(), "xl/worksheets/sheet1.xml", 3_000_000_000), "a.xlsx", "疑为压缩炸弹"),
    (entity_xlsx, "推荐表.xlsx", REASON_XML_ENTITY),
    (lambda: entity_xlsx(EXTERNAL_ENTITY), "推荐表.xlsx", REASON_XML_ENTITY),
    (lambda: liaison_docx()[:-300], "推荐表.docx", "文件已损坏"),
    (lambda: mutate(liaison_docx(), 7, 400), "推荐表.docx", ""),
    (encrypted_ooxml, "推荐表.docx", "文件设有密码，无法打开，请去掉密码后重新发送"),
    (lambda: b"%PDF-1.4 broken", "a.pdf", "PDF 文件已损坏"),
    (lambda: b"\x01\x02\x03" * 10, "附件2.docx", "文件已损坏"),
    (lambda: MAGIC_SAMPLES["rar"], "材料.rar", "压缩包"),
])
def test_hostile_and_broken_files_are_errors(build, filename, reason_part):
    result = read_attachment(filename, build())
    assert result.status == ERROR
    assert reason_part in result.reason and result.reason
    if filename.startswith("推荐表"):
        assert result.kind == LIAISON_FORM


def test_text_pdf_is_read():
    result = read_attachment("week2.pdf", text_pdf(["Weekly report (zhou bao)", "Three events held."]),
                             subject="第二周周报")
    assert (result.kind, result.status, result.named_week) == (WEEKLY_REPORT, PARSED, 2)


def test_parser_failure_becomes_an_error(monkeypatch):
    def broken(doc):
        raise KeyError("boom")

    monkeypatch.setattr(classify, "parse_liaison", broken)
    result = read_attachment("推荐表.docx", liaison_docx())
    assert (result.kind, result.status) == (LIAISON_FORM, ERROR)
    assert "KeyError" in result.reason


def test_empty_file():
    assert read_attachment("附件1.docx", b"").status == ERROR


_PREFIXES = [b"", b"PK\x03\x04", b"%PDF-1.4\n", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
             "本周工作".encode("utf-8"), b"<html><table>"]
_NAMES = ["附件1.docx", "周报.doc", "统计表.xlsx", "a.wps", "x.et", "scan.pdf", "图.jpg", "", "无扩展名", "../../etc/passwd"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_PREFIXES), tail=st.binary(max_size=2048), filename=st.sampled_from(_NAMES) | st.text(max_size=30),
       subject=st.text(max_size=40))
def test_never_raises_on_random_bytes(prefix, tail, filename, subject):
    data = prefix + tail
    # OLE magic with random bytes would go to LibreOffice for every example: keep the
    # property fast by giving those a non-office name (the OLE parser itself still runs).
    if prefix.startswith(b"\xd0\xcf"):
        filename = "random.bin"
    result = read_attachment(filename, data, subject=subject, timeout=20)
    assert result.status in (PARSED, ERROR, EVIDENCE, SKIPPED)
    assert result.status == PARSED or result.reason


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(min_value=1, max_value=2 ** 30), count=st.integers(min_value=1, max_value=60))
def test_never_raises_on_damaged_forms(seed, count):
    for data, name in ((_LIAISON_DOCX, "推荐表.docx"), (_LIAISON_XLSX, "推荐表.xlsx")):
        result = read_attachment(name, mutate(data, seed, count))
        assert result.status in (PARSED, ERROR, EVIDENCE, SKIPPED)


_LIAISON_DOCX = liaison_docx()
_LIAISON_XLSX = liaison_columns_xlsx()


def test_short_body_counts_when_the_subject_names_the_weekly_report():
    from bot.forms.classify import read_body

    short = "本周开展隐患排查3次，参加职工120人。"
    assert read_body("桐城市总工会第二周周报", short).kind == "weekly_report"
    assert read_body("材料", short) is None  # no subject signal: too little to call it a report
    assert read_body("第二周周报", "附件请查收，谢谢！") is None


# ---------------------------------------------------------------------------- campaigns as data

import pickle  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import replace  # noqa: E402

from bot.campaign.definition import shipped  # noqa: E402
from bot.forms.definition import CampaignForms, DocumentItem, derive_form  # noqa: E402
from tests.fixtures.campaign_forms import (ROSTER_HEADERS, ROSTER_TITLE, SIGNUP_ROWS, SIGNUP_TITLE,  # noqa: E402
                                           blank_grid_docx, blank_list_xlsx, fill_grid, fill_list, people)

PLAN_2020 = shipped().reading()
SHUWU = "2021-zhigong-shuwu"
SIGNUP_BLANK = blank_grid_docx(SIGNUP_TITLE, SIGNUP_ROWS)
ROSTER_BLANK = blank_list_xlsx(ROSTER_TITLE, ROSTER_HEADERS, numbered=True)
SIGNUP = replace(derive_form(SIGNUP_BLANK, "报名表.docx"), item="signup", campaign=SHUWU)
ROSTER = replace(derive_form(ROSTER_BLANK, "汇总表.xlsx"), item="roster", campaign=SHUWU)
PLAN_2021 = CampaignForms(SHUWU, ("职工书屋",), (SIGNUP, ROSTER),
                          (DocumentItem("reading_summary", "document", ("读书活动总结",)),
                           DocumentItem("weekly", "weekly", ("周报", "本周"))))
BOTH = (PLAN_2020, PLAN_2021)
SIGNUP_VALUES = {"name": "王秀英", "gender": "女", "birth_date": "1985-03-02", "id_number": "11010519491231002X",
                 "mobile": "13955667788", "unit_name": "安庆石化工会", "email": "wxy@example.cn"}
LONG_REPORT = ["一是组织职工开展读书分享会3场，参与职工216人次；", "二是新建职工书屋2个，新增图书1200册；",
               "三是开展“书香三八”读书征文活动，收到征文58篇，评出优秀作品12篇。" * 3,
               "四是组织“好书大家读”推荐活动，各基层工会推荐书目46种，编印推荐书目手册500册，发放到一线班组。"]


def _same(a, b):
    assert (a.kind, a.status, a.values, a.errors, a.warnings, a.reason, a.named_week, a.text) == \
        (b.kind, b.status, b.values, b.errors, b.warnings, b.reason, b.named_week, b.text)


@pytest.mark.parametrize("name", NAMES)
def test_the_2020_plan_reads_every_sample_as_before(name):
    subject = str(sample_mail(name)["subject"])
    for filename, data in sample_attachments(name):
        before = read_attachment(filename, data, subject=subject)
        after = read_attachment(filename, data, subject=subject, plans=(PLAN_2020,))
        _same(before, after)
        if after.kind in (LIAISON_FORM, PROGRESS_TABLE):
            assert (after.form, after.campaign) == ({"liaison_form": "附件1", "progress_table": "附件2"}[after.kind],
                                                   "2020-anqing-safety-month")
        if before.status == PARSED:
            _same(before, read_attachment(filename, data, subject=subject, plans=BOTH))
    before, after = read_body(subject, sample_body(name)), read_body(subject, sample_body(name), plans=BOTH)
    assert (before is None) == (after is None)
    if before is not None:
        _same(before, after)


@pytest.mark.parametrize("filename,data,subject", [
    ("第一周工作情况.docx", liaison_docx(), "第一周"),
    ("第二周.docx", report_docx("工作情况", ["一是开展活动3场。"]), ""),
    ("材料.docx", report_docx("工作情况", ["一是开展活动3场。"]), "活动总结"),
    ("材料.docx", report_docx("工作情况", ["一是开展活动3场。"]), "你好"),
    ("附件.docx", report_docx("本周工作情况", ["一是开展活动3场。"]), "联络员推荐表和本周工作情况"),
    ("联络员推荐表.docx", report_docx("说明", ["表格稍后补报。"]), ""),
    ("附件2.docx", b"x" * 2000, ""),
    ("scan.docx", image_only_docx(), "联络员推荐表"),
    ("附件2扫描件.pdf", scanned_pdf(), ""),
    ("推荐表.xlsx", liaison_columns_xlsx(), ""),
])
def test_the_2020_plan_keeps_the_2020_rules(filename, data, subject):
    _same(read_attachment(filename, data, subject=subject, max_bytes=1000 if data.startswith(b"xx") else 25 << 20),
          read_attachment(filename, data, subject=subject, plans=(PLAN_2020,),
                          max_bytes=1000 if data.startswith(b"xx") else 25 << 20))


@pytest.mark.parametrize("plans", [BOTH, BOTH[::-1]])
def test_content_first_across_campaigns(plans):
    signup = fill_grid(SIGNUP_BLANK, "报名表.docx", SIGNUP, SIGNUP_VALUES)
    # 附件1 is a form of both campaigns: the one whose wording fits wins
    result = read_attachment("附件1.docx", signup, subject="报名", plans=plans)
    assert (result.kind, result.form, result.campaign, result.status) == ("signup", "附件1", SHUWU, PARSED)
    assert result.values == SIGNUP_VALUES
    result = read_attachment("附件1.docx", liaison_docx(), plans=plans)
    assert (result.kind, result.form, result.campaign) == (LIAISON_FORM, "附件1", "2020-anqing-safety-month")
    assert result.values == LIAISON_VALUES
    roster = fill_list(ROSTER_BLANK, "汇总表.xlsx", ROSTER, people(4))
    result = read_attachment("材料.xlsx", roster, plans=plans)
    assert (result.kind, result.form, result.campaign, result.status) == ("roster", "附件2", SHUWU, PARSED)
    assert [r["name"] for r in result.values["records"]] == [p["name"] for p in people(4)]


def test_names_then_document_items_across_campaigns():
    report = report_docx("情况汇报", LONG_REPORT)
    result = read_attachment("读书活动总结.docx", report, plans=BOTH)
    assert (result.kind, result.campaign, result.status, result.form) == ("reading_summary", SHUWU, PARSED, "")
    assert result.text.startswith("情况汇报")
    result = read_attachment("活动总结.docx", report, plans=BOTH)
    assert (result.kind, result.campaign) == (SUMMARY, "2020-anqing-safety-month")
    # the same words in two campaigns: the campaign the subject names
    result = read_attachment("第二周周报.docx", report, subject="职工书屋第二周周报", plans=BOTH)
    assert (result.kind, result.campaign, result.named_week) == ("weekly", SHUWU, 2)
    result = read_attachment("第二周周报.docx", report, subject="“安全生产月”第二周周报", plans=BOTH)
    assert (result.kind, result.campaign, result.named_week) == (WEEKLY_REPORT, "2020-anqing-safety-month", 2)
    # a file named as a form but unreadable carries the form and its campaign
    result = read_attachment("职工书屋汇总表.xlsx", b"", plans=BOTH)
    assert (result.kind, result.form, result.campaign, result.status) == ("roster", "附件2", SHUWU, ERROR)
    result = read_attachment("材料.docx", report_docx("通知", ["请各单位按时报送。"]), subject="你好", plans=BOTH)
    assert (result.kind, result.status, result.reason) == (None, SKIPPED, REASON_UNRECOGNISED)
    doc = classify.read_document(report, "x.docx")
    assert classify.document_kind(doc, filename="读书活动总结.docx", plans=BOTH) == "reading_summary"
    assert classify.document_target(doc, filename="读书活动总结.docx", plans=BOTH).campaign == SHUWU


def test_bodies_across_campaigns():
    body = "各位老师：\n" + "\n".join(LONG_REPORT) + "\n\n某某工会"
    result = read_body("职工书屋第三周周报", body, plans=BOTH)
    assert (result.kind, result.campaign, result.named_week, result.status) == ("weekly", SHUWU, 3, PARSED)
    # no campaign named in the subject: the body's own words name it, else the first campaign
    result = read_body("第三周周报", body, plans=BOTH)
    assert (result.kind, result.campaign) == ("weekly", SHUWU)
    safety = "各位老师：\n一是组织观看警示教育片3场，受教育职工1136人次；二是组织干部职工参加云课堂学习，参学1092人次。"
    for plans in (BOTH, BOTH[::-1]):
        result = read_body("第三周周报", safety.replace("一是", "“安全生产月”期间一是"), plans=plans)
        assert (result.kind, result.campaign) == (WEEKLY_REPORT, "2020-anqing-safety-month")
    result = read_body("第三周周报", safety, plans=BOTH[::-1])
    assert (result.kind, result.campaign) == ("weekly", SHUWU)
    result = read_body("职工书屋读书活动总结", body, plans=BOTH)
    assert (result.kind, result.campaign) == ("reading_summary", SHUWU)
    assert read_body("职工书屋读书活动总结", "各位老师：\n总结见附件，请查收。", plans=BOTH) is None
    assert read_body("安全生产月活动总结", body, plans=BOTH) is None  # 2020: only a weekly report comes in a body
    assert read_body("", "", plans=BOTH) is None


def test_plans_travel_to_reading_workers():
    assert pickle.loads(pickle.dumps(BOTH)) == BOTH
    signup = fill_grid(SIGNUP_BLANK, "报名表.docx", SIGNUP, SIGNUP_VALUES)
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(read_attachment, "报名表.docx", signup, plans=BOTH).result(timeout=120)
    assert (result.kind, result.campaign, result.values) == ("signup", SHUWU, SIGNUP_VALUES)
