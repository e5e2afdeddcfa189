"""Every format into a Document, and every hostile or broken file into a precise UnreadableFile."""
from __future__ import annotations

import pytest

from bot.forms import readers, safety
from bot.forms.readers import libreoffice, sandbox
from bot.forms.readers import REASON_XML_ENTITY, ScanOnly, UnreadableFile, read_document
from tests.fixtures.office_files import (EXTERNAL_ENTITY, LIAISON_VALUES, encrypted_ooxml, entity_docx, entity_xlsx,
                                         far_cell_xlsx, html_table, image_only_docx, jpeg_header, liaison_columns_xlsx,
                                         liaison_docx, lying_sizes_zip, merged_xlsx, nested_table_docx, png_image,
                                         report_docx, rich_docx, rtf_document, sample_attachments, scanned_pdf,
                                         text_pdf, vmerge_docx, zeros_member_zip)


def reason_of(data: bytes, filename: str) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read_document(data, filename)
    return caught.value.reason


# ---------------------------------------------------------------------------- docx


def test_sample_liaison_docx_grid():
    (name, data), = sample_attachments("001.eml")
    doc = read_document(data, name)
    assert doc.source_format == "docx"
    assert doc.paragraphs[0] == "附件1"
    rows = doc.tables[0].rows
    assert rows[1] == ("姓名", "高玉兰", "性别", "女", "职务", "办公室主任")
    assert rows[4] == ("单位名称",) + ("潜山市总工会",) * 5  # gridSpan repeated
    assert "\t".join(rows[2]) in doc.text


def test_vertical_merge_carries_text():
    doc = read_document(vmerge_docx(), "a.docx")
    assert doc.tables[0].rows == (
        ("联系方式", "手机", "13342782718"),
        ("联系方式", "跨两列", "跨两列"),
        ("联系方式", "邮箱", "a@example.test"),
    )
    assert doc.paragraphs == ("结尾",)


def test_nested_table_text_stays_in_its_cell():
    doc = read_document(nested_table_docx(), "a.docx")
    assert len(doc.tables) == 1
    outer, cell = doc.tables[0].rows[0]
    assert outer == "外层"
    assert cell.startswith("前文\n内层甲\t内层乙") and cell.endswith("后文")


def test_text_boxes_content_controls_tabs_and_breaks():
    doc = read_document(rich_docx(), "a.docx")
    assert doc.paragraphs[0] == "正文前\n文本框第一行\n文本框第二行"  # once, not twice (no VML fallback)
    assert "控件里的段落" in doc.paragraphs
    assert "左\t右\n下一行" in doc.paragraphs
    assert doc.tables[0].rows == (("单位名称", "控件值"),)
    assert doc.text.count("文本框第一行") == 1


def test_text_in_reading_order():
    doc = read_document(liaison_docx(), "a.docx")
    lines = doc.text.split("\n")
    assert lines[0] == "附件1"
    assert lines[1].startswith("“安全生产月”活动联络员推荐表")


def test_image_only_docx_is_a_scan():
    with pytest.raises(ScanOnly):
        read_document(image_only_docx(), "扫描件.docx")


def test_docx_with_entity_dtd_is_refused():
    assert reason_of(entity_docx(), "a.docx") == REASON_XML_ENTITY


def test_truncated_docx():
    assert reason_of(liaison_docx()[:-200], "a.docx") == safety.REASON_BAD_ZIP
    assert reason_of(liaison_docx()[:5000], "a.docx") == safety.REASON_BAD_ZIP


def test_damaged_docx_member():
    (name, data), = sample_attachments("009.eml")
    from tests.fixtures.office_files import replace_member

    broken = replace_member(data, "word/document.xml", b"<w:document><w:body>")
    assert reason_of(broken, name) == readers.REASON_CORRUPT


def test_zip_bomb_docx_and_xlsx():
    docx_bomb = zeros_member_zip(liaison_docx(), "word/media/image1.png", 120)
    assert "疑为压缩炸弹" in reason_of(docx_bomb, "a.docx")
    xlsx_bomb = lying_sizes_zip(liaison_columns_xlsx(), "xl/worksheets/sheet1.xml", 3_000_000_000)
    assert "疑为压缩炸弹" in reason_of(xlsx_bomb, "a.xlsx")


def test_password_protected_docx():
    assert reason_of(encrypted_ooxml(), "推荐表.docx") == "文件设有密码，无法打开，请去掉密码后重新发送"


# ---------------------------------------------------------------------------- xlsx


def test_sample_xlsx_columns_layout():
    (name, data), = sample_attachments("003.eml")
    doc = read_document(data, name)
    rows = doc.tables[0].rows
    assert rows[0][0] == rows[0][1]  # the merged title repeated
    assert ("手机", "13898552773") in rows
    assert ("传真", "") in rows
    assert doc.paragraphs == ()


def test_xlsx_merges_numbers_dates_and_sheets():
    doc = read_document(merged_xlsx(), "a.xlsx")
    first, second = doc.tables  # the empty sheet is dropped
    assert first.rows == (("单位名称", "潜山市总工会", "潜山市总工会", "潜山市总工会"),
                          ("13342782718", "0.5", "2020-06-22", "2020-06-22 09:30:00"))
    assert second.rows[-1] == ("", "第二张表")


def test_big_packages_are_read_in_the_sandbox_with_the_same_result(monkeypatch):
    files = (("a.xlsx", merged_xlsx()), ("b.xlsx", far_cell_xlsx()), ("c.docx", vmerge_docx()))
    here = [read_document(data, name) for name, data in files]
    started = []
    real_read = sandbox.read

    def counting(data, fmt, budget, **kwargs):
        started.append(fmt)
        return real_read(data, fmt, budget, **kwargs)

    monkeypatch.setattr(sandbox, "read", counting)
    # every package counts as big now: each is read by a child (which reads it in its own process)
    monkeypatch.setattr(sandbox, "IN_PROCESS_XLSX_XML", 0)
    monkeypatch.setattr(sandbox, "IN_PROCESS_MAIN_PART", 0)
    assert [read_document(data, name) for name, data in files] == here
    assert started == ["xlsx", "xlsx", "docx"]


def test_far_away_cell_keeps_the_grid_bounded():
    doc = read_document(far_cell_xlsx(), "a.xlsx")
    assert doc.tables[0].rows == (("开头",),)


def test_billion_laughs_xlsx():
    assert reason_of(entity_xlsx(), "a.xlsx") == REASON_XML_ENTITY


def test_external_entity_xlsx():
    assert reason_of(entity_xlsx(EXTERNAL_ENTITY), "a.xlsx") == REASON_XML_ENTITY


def test_defusedxml_is_what_openpyxl_uses():
    # Without the prolog check, openpyxl itself must refuse (defusedxml installed).
    import io

    import openpyxl

    with pytest.raises(Exception) as caught:
        openpyxl.load_workbook(io.BytesIO(entity_xlsx()))
    assert readers._is_defused(caught.value)


# ---------------------------------------------------------------------------- via LibreOffice


@pytest.fixture(scope="module")
def doc_bytes():
    return libreoffice.convert(liaison_docx(), "docx", "doc", timeout=120)


def test_doc_read_through_libreoffice(doc_bytes):
    doc = read_document(doc_bytes, "推荐表.doc")
    assert doc.source_format == "doc"
    assert ("姓名", "高玉兰", "性别", "女", "职务", "办公室主任") in doc.tables[0].rows


def test_wps_named_file_reads_with_word_filters(doc_bytes):
    doc = read_document(doc_bytes, "推荐表.wps")
    assert doc.source_format == "wps"
    assert "潜山市总工会" in doc.text


def test_xls_and_et_read_through_libreoffice():
    xls = libreoffice.convert(liaison_columns_xlsx(), "xlsx", "xls", timeout=120)
    for name, fmt in (("表.xls", "xls"), ("表.et", "et")):
        doc = read_document(xls, name)
        assert doc.source_format == fmt
        assert ("手机", LIAISON_VALUES["mobile"]) in doc.tables[0].rows


def test_rtf_and_html_spreadsheet():
    rtf = read_document(rtf_document("第一周工作情况\n本周开展活动3场"), "周报.doc")
    assert rtf.source_format == "rtf"
    assert "本周开展活动3场" in rtf.text
    html = read_document(html_table([["姓名", "张三"], ["手机", "13900000000"]]), "表.xls")
    assert ("姓名", "张三") in html.tables[0].rows


def test_garbage_ole_file_is_unreadable():
    from tests.fixtures.office_files import cfb_file

    reason = reason_of(cfb_file([("WordDocument", bytes(4096))]), "a.doc")
    assert reason == libreoffice.REASON_FAILED


# ---------------------------------------------------------------------------- pdf, images, text


def test_pdf_text_layer():
    doc = read_document(text_pdf(["Weekly report", "Week 2: 3 events"]), "a.pdf")
    assert doc.source_format == "pdf"
    assert doc.tables == ()
    assert "Week 2: 3 events" in doc.text


def test_pdf_from_libreoffice_keeps_chinese_and_rows():
    pdf = libreoffice.convert(liaison_docx(), "docx", "pdf", timeout=120)
    doc = read_document(pdf, "推荐表.pdf")
    assert "联络员推荐表" in doc.text
    assert any("姓名" in line and "高玉兰" in line for line in doc.paragraphs)  # -layout keeps the row


def test_scanned_pdf():
    with pytest.raises(ScanOnly) as caught:
        read_document(scanned_pdf(), "扫描.pdf")
    assert caught.value.reason == readers.REASON_PDF_SCAN


def test_broken_pdf():
    assert reason_of(b"%PDF-1.4\n garbage without objects", "a.pdf") == "PDF 文件已损坏，无法读取"


@pytest.mark.parametrize("data", [png_image(800, 600), jpeg_header(2000, 1500, 30000)])
def test_images_are_scans(data):
    with pytest.raises(ScanOnly):
        read_document(data, "照片.docx")


def test_text_files():
    for encoding in ("utf-8", "gb18030", "utf-16"):
        doc = read_document("第二周工作情况\r\n一是开展活动".encode(encoding), "周报.txt")
        assert doc.paragraphs == ("第二周工作情况", "一是开展活动")
        assert doc.source_format == "txt"


def test_report_docx_paragraphs():
    doc = read_document(report_docx("本周工作情况", ["一是……", "二是……"]), "a.docx")
    assert doc.paragraphs == ("本周工作情况", "一是……", "二是……")
    assert doc.text == "本周工作情况\n一是……\n二是……"


@pytest.mark.parametrize("data,name", [(b"", "a.docx"), (b"\x00" * 50, "a.bin"), (b"Rar!\x1a\x07\x00" + bytes(30), "a.rar")])
def test_unreadable_formats(data, name):
    assert reason_of(data, name)
