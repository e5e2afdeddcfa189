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
