"""The shortcuts of the 附件2 path agree with the general code they skip: run-by-run paragraph
text, the archive shared by sniff and reader, folding learnt by str.translate, the whole-text
test before the 附件1 label scan, the plain-number blank and the header line filter."""
from __future__ import annotations

import io
import random
import unicodedata
import zipfile

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from bot.forms import classify, liaison, progress, readers, safety, values
from bot.forms.readers import docx as docx_reader
from bot.forms.progress import folding
from bot.forms.progress import header as progress_header
from bot.forms.blank_forms import fill_liaison_docx, fill_progress_docx
from bot.forms.document import Document, Table
from bot.forms.progress_template import BLANKS, INT
from bot.forms.result import LIAISON_FORM, PARSED, PROGRESS_TABLE
from tests.fixtures.office_files import (liaison_columns_docx, liaison_docx, nested_table_docx, rich_docx,
                                         sample_attachments, to_bytes)

W_P = qn("w:p")


def _run(text: str | None = None, *extra: str):
    run = OxmlElement("w:r")
    run.append(OxmlElement("w:rPr"))
    if text is not None:
        t = OxmlElement("w:t")
        t.text = text
        run.append(t)
    for name in extra:
        run.append(OxmlElement(name))
    return run


def _wrapped(name: str, text: str):
    wrapper = OxmlElement(name)
    wrapper.append(_run(text))
    return wrapper


def _word_markup_docx() -> bytes:
    """Paragraphs with the markup Word writes around text: hyperlinks, tracked insertions and
    deletions, fields, bookmarks, proofing marks, tabs, breaks, symbols; and a smart tag,
    which the run-by-run reading leaves to the general walk."""
    document = docx.Document()
    shapes = []
    paragraph = document.add_paragraph("前文")
    paragraph._p.append(_wrapped("w:hyperlink", "链接文字"))
    paragraph._p.append(_run("后文"))
    shapes.append("前文链接文字后文")

    paragraph = document.add_paragraph()
    paragraph._p.append(OxmlElement("w:bookmarkStart"))
    paragraph._p.append(_run("组织观看"))
    paragraph._p.append(OxmlElement("w:proofErr"))
    paragraph._p.append(_wrapped("w:ins", "12"))
    deleted = OxmlElement("w:del")
    gone = OxmlElement("w:r")
    gone_text = OxmlElement("w:delText")
    gone_text.text = "删掉的"
    gone.append(gone_text)
    deleted.append(gone)
    paragraph._p.append(deleted)
    paragraph._p.append(_run("场"))
    paragraph._p.append(OxmlElement("w:bookmarkEnd"))
    shapes.append("组织观看12场")

    paragraph = document.add_paragraph()
    begin = _run(None, "w:fldChar")
    begin[-1].set(qn("w:fldCharType"), "begin")
    code = OxmlElement("w:instrText")
    code.text = " PAGE "
    begin.append(code)
    paragraph._p.append(begin)
    paragraph._p.append(_run("左", "w:tab"))
    paragraph._p.append(_run("右", "w:br", "w:noBreakHyphen", "w:lastRenderedPageBreak", "w:softHyphen"))
    paragraph._p.append(_run("末", "w:cr", "w:sym"))
    shapes.append("左\t右\n-末\n")

    paragraph = document.add_paragraph("智能")
    paragraph._p.append(_wrapped("w:smartTag", "标记"))
    shapes.append("智能标记")

    table = document.add_table(rows=1, cols=2)
    cell = table.rows[0].cells[0]
    cell.paragraphs[0].text = "单元格"
    cell.paragraphs[0]._p.append(_wrapped("w:hyperlink", "链接"))
    table.rows[0].cells[1].paragraphs[0]._p.append(_run("甲", "w:tab"))
    return to_bytes(document), shapes


def _body_paragraphs(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = docx_reader._main_part(archive)
    return list(root.iter(*docx_reader._P))


def test_run_by_run_text_is_what_the_walk_reads():
    data, shapes = _word_markup_docx()
    doc = readers.read_docx(data)
    assert list(doc.paragraphs) == shapes
    assert doc.tables[0].rows == (("单元格链接", "甲\t"),)
    taken = 0
    for paragraph in _body_paragraphs(data):
        parts: list[str] = []
        if docx_reader._read_runs(paragraph, parts):
            taken += 1
            assert "".join(parts) == docx_reader._walked_paragraph_text(paragraph)
        assert docx_reader._paragraph_text(paragraph) == docx_reader._walked_paragraph_text(paragraph)
    assert taken == 4  # all but the paragraphs with a w:del and a w:smartTag: the shortcut is really taken


@pytest.mark.parametrize("build", [rich_docx, nested_table_docx, liaison_docx, liaison_columns_docx,
                                   lambda: fill_progress_docx({b.key: "3" for b in BLANKS}, {})])
def test_fixtures_read_the_same_either_way(build):
    for paragraph in _body_paragraphs(build()):
        assert docx_reader._paragraph_text(paragraph) == docx_reader._walked_paragraph_text(paragraph)


def test_text_boxes_go_to_the_general_walk():
    for paragraph in _body_paragraphs(rich_docx()):
        if any(True for _ in paragraph.iterdescendants(W_P)):
            assert not docx_reader._read_runs(paragraph, [])


# ---------------------------------------------------------------------------- sniff + reader


def test_sniff_archive_hands_over_only_a_docx():
    data = liaison_docx()
    fmt, archive = safety.sniff_archive(data, "a.docx")
    assert fmt == "docx" and isinstance(archive, zipfile.ZipFile)
    doc = readers.read_document(data, "a.docx", fmt=fmt, archive=archive)
    assert doc == readers.read_docx(data)
    assert archive.fp is None  # closed by the reader
    for payload, name in ((b"plain text, long enough to be text", "a.txt"),
                          (b"%PDF-1.4 nothing", "a.pdf")):
        assert safety.sniff_archive(payload, name)[1] is None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as plain:
        plain.writestr("a.txt", "x")
    assert safety.sniff_archive(buffer.getvalue(), "a.docx") == ("zip", None)


def test_shared_archive_closed_when_reading_fails():
    data = liaison_docx()
    fmt, archive = safety.sniff_archive(data, "a.docx")
    with pytest.raises(readers.UnreadableFile):
        readers.read_document(data, "a.docx", fmt="rar", archive=archive)
    assert archive.fp is None


def test_read_attachment_same_with_and_without_the_shared_archive():
    for mail in ("001.eml", "007.eml", "008.eml", "011.eml"):
        for name, data in sample_attachments(mail):
            doc = readers.read_docx(data)
            assert classify.read_attachment(name, data) == classify.classify_document(doc, filename=name)


# ---------------------------------------------------------------------------- folding


def _slow_fold(text: str) -> tuple[str, list[int]]:
    out, index = [], []
    for position, ch in enumerate(text):
        piece = folding.fold_code(ord(ch))
        out.append(piece)
        index.extend([position] * len(piece))
    return "".join(out), index


def test_folding_learnt_by_translate_matches_char_by_char():
    rng = random.Random(7)
    alphabet = "安全 生产月（）()“”\t\n，。、3１２ａＢ\u3000‘’;；【】…" + "".join(map(chr, range(0x3200, 0x3210)))
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        folded, index = _slow_fold(text)
        assert folding.fold_plain(text) == folded
        assert folding.fold_indexed(text) == (folded, index)
        fast = folding.fold_text(text)
        if any(len(folding.fold_code(ord(ch))) > 1 for ch in text):
            assert fast is None  # ㈠ -> (一): the caller takes the slow path
            continue
        assert fast.folded == folded
        assert [fast.original(i) for i in range(len(folded))] == index
        assert fast.dropped == tuple(i for i in range(len(text)) if i not in set(index))


def test_expanding_character_seen_again_is_still_noticed():
    assert folding.fold_text("活动㈠") is None
    assert folding.fold_text("活动㈠") is None  # never stored in the length-preserving table
    assert folding.fold_plain("活动㈠") == "活动(一)"


def test_document_text_says_when_the_bounds_cut_it():
    small = Document(("甲",), (Table((("乙", "丙"),)),), "甲\n乙\t丙", "docx")
    assert progress.fold_document(small).complete
    many_rows = Document((), (Table(tuple(("行",) for _ in range(folding.MAX_ROWS + 1))),), "", "xlsx")
    assert not progress.fold_document(many_rows).complete
    long_text = Document(("字" * (folding.MAX_TEXT + 1),), (), "", "docx")
    assert not progress.fold_document(long_text).complete


# ---------------------------------------------------------------------------- 附件1 test


def _grid(*rows) -> Document:
    table = Table(tuple(tuple(row) for row in rows))
    return Document((), (table,), "\n".join("\t".join(row) for row in table.rows), "docx")


LABEL_VARIANTS = [
    _grid(("姓  名", "张三"), ("手机号码", "13900000000"), ("E-MAIL", "a@b.cn")),
    _grid(("联络员", "张三"), ("移动电话", "1"), ("单位全称", "某单位")),
    _grid(("名字：张三", ""), ("ＥＭａｉｌ：a@b.cn", ""), ("所在单位", "某单位")),
    _grid(("姓名（必填）", ""), ("电子信箱*", ""), ("单位名称：", "")),
    _grid(("\u2f3f机", "1"), ("姓名", ""), ("邮件地址", "")),  # ⼿ (a Kangxi radical) folds to 手
    Document(("“安全生产月”活动联络员推荐表",), (), "", "docx"),
    Document(("联络员推荐表",), (Table((("姓名", "手机"),)),), "", "docx"),
]


@pytest.mark.parametrize("doc", LABEL_VARIANTS)
def test_whole_text_test_never_rules_out_a_liaison_form(doc):
    assert liaison.looks_like_liaison(doc)
    assert liaison.looks_like_liaison(doc, progress.fold_document(doc).folded)


@pytest.mark.parametrize("name", ["001.eml", "003.eml", "009.eml", "002.eml", "006.eml", "007.eml", "008.eml", "012.eml"])
def test_whole_text_test_agrees_on_the_samples(name):
    for filename, data in sample_attachments(name):
        doc = readers.read_document(data, filename)
        folded = progress.fold_document(doc).folded
        assert liaison.looks_like_liaison(doc, folded) == liaison.looks_like_liaison(doc)


def test_progress_table_is_ruled_out_by_the_whole_text():
    doc = readers.read_docx(fill_progress_docx({b.key: "3" for b in BLANKS}, {}))
    assert not liaison._may_be_liaison(progress.fold_document(doc).folded)
    assert liaison._may_be_liaison(progress.fold_document(readers.read_docx(fill_liaison_docx({}))).folded)


def test_kinds_of_filled_forms():
    filled = fill_progress_docx({b.key: str(n) if b.type == INT else "座谈会" for n, b in enumerate(BLANKS)},
                                {"header.unit_name": "宿松县总工会", "header.contact": "李明"})
    result = classify.read_attachment("附件2.docx", filled)
    assert (result.kind, result.status) == (PROGRESS_TABLE, PARSED)
    assert result.values["header.unit_name"] == "宿松县总工会" and result.values["header.contact"] == "李明"
    result = classify.read_attachment("附件1.docx", fill_liaison_docx({"name": "张三"}))
    assert result.kind == LIAISON_FORM


# ---------------------------------------------------------------------------- values, header


@pytest.mark.parametrize("written", ["0", "7", "007", "2638", "1234567890123"])
def test_plain_number_same_as_the_general_rules(written):
    fast = values.normalize_int(written)
    assert fast.value == int(written) and fast.error is None and not fast.warning
    assert values.normalize_int(unicodedata.normalize("NFKC", written) + " ") == fast  # general path
    assert values.normalize_int(written.translate(str.maketrans("0123456789", "０１２３４５６７８９"))) == fast


def test_header_lines_without_label_characters_are_skipped():
    doc = Document(("填报单位：宿松县总工会  联系人：李明", "活动开展情况", "联系电话：13955600000"), (), "", "docx")
    lines = progress_header.header_lines(doc)
    assert lines == ["填报单位：宿松县总工会  联系人：李明", "联系电话：13955600000"]
    header = progress_header.read_header(doc)
    assert header["header.unit_name"] == "宿松县总工会"
    assert header["header.phone"] == "13955600000"
