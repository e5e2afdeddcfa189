"""Zip-bomb guard and format sniffing, on real files."""
from __future__ import annotations

import subprocess
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.forms import safety
from bot.forms.readers import libreoffice
from tests.fixtures.office_files import (MAGIC_SAMPLES, bmp_image, cfb_file, encrypted_ooxml, jpeg_header,
                                         liaison_columns_xlsx, liaison_docx, lying_sizes_zip, many_members_zip,
                                         png_image, rtf_document, html_table, sample_attachments, text_pdf,
                                         with_encrypted_flag, zeros_member_zip)


def test_ordinary_files_are_safe():
    for name in ("001.eml", "003.eml", "007.eml"):
        for _, data in sample_attachments(name):
            assert safety.check_zip(data) is None


def test_real_bomb_is_refused_without_decompressing():
    bomb = zeros_member_zip(liaison_docx(), "word/media/image1.png", 120)
    assert len(bomb) < 1024 * 1024  # 120 MiB of zeros deflate to a few hundred KB
    started = time.perf_counter()
    reason = safety.check_zip(bomb)
    assert time.perf_counter() - started < 0.5
    assert reason is not None and "压缩比异常" in reason and "word/media/image1.png" in reason


def test_total_size_limit():
    data = zeros_member_zip(liaison_docx(), "word/media/big.bin", 3)
    assert safety.check_zip(data, max_total=2 * 1024 * 1024, max_ratio=10 ** 6).startswith("文件解压后过大")
    assert safety.check_zip(data, max_total=2 * 1024 * 1024 * 10, max_ratio=10 ** 6) is None


def test_central_directory_claiming_a_huge_size():
    data = lying_sizes_zip(liaison_docx(), "word/document.xml", 4_000_000_000)
    reason = safety.check_zip(data)
    assert reason is not None and "疑为压缩炸弹" in reason


def test_too_many_members():
    data = many_members_zip(30)
    assert safety.check_zip(data, max_members=20) == "文件内含条目过多（32个），疑为恶意文件，未打开"
    assert safety.check_zip(data, max_members=40) is None


def test_encrypted_members():
    assert safety.check_zip(with_encrypted_flag(liaison_docx())) == safety.REASON_ENCRYPTED


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really", liaison_docx()[:3000], b"\x00" * 100])
def test_bad_zip(data):
    assert safety.check_zip(data) == safety.REASON_BAD_ZIP


def test_sniff_ooxml_by_content_not_name():
    docx = liaison_docx()
    xlsx = liaison_columns_xlsx()
    assert safety.sniff(docx, "表.xlsx") == "docx"
    assert safety.sniff(xlsx, "表.doc") == "xlsx"
    assert safety.sniff(docx, "") == "docx"


def test_sniff_pptx_odt_and_plain_zip():
    import io
    import zipfile

    def build(members):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name, content in members:
                z.writestr(name, content)
        return out.getvalue()

    assert safety.sniff(build([("[Content_Types].xml", "<Types/>"), ("ppt/presentation.xml", "<p/>")]), "a.docx") == "pptx"
    assert safety.sniff(build([("mimetype", "application/vnd.oasis.opendocument.text")]), "a") == "odt"
    assert safety.sniff(build([("a.txt", "x")]), "a.docx") == "zip"
    # a main part under another name: the content type decides
    types = '<Types><Override PartName="/main.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    assert safety.sniff(build([("[Content_Types].xml", types), ("main.xml", "<w/>")]), "x") == "docx"


def test_sniff_encrypted_ooxml_container():
    data = encrypted_ooxml()
    assert safety.sniff(data, "推荐表.docx") == "ole-encrypted"
    assert safety.ole_stream_names(data) == ["EncryptionInfo", "EncryptedPackage"]


def test_handmade_container_is_a_real_cfb_for_libmagic():
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".docx") as handle:
        handle.write(encrypted_ooxml())
        handle.flush()
        out = subprocess.run(["file", "-b", handle.name], capture_output=True, text=True).stdout
    assert "CDFV2 Encrypted" in out


@pytest.fixture(scope="module")
def old_formats():
    """A .doc and an .xls written by LibreOffice: real OLE files from another implementation."""
    doc = libreoffice.convert(liaison_docx(), "docx", "doc", timeout=120)
    xls = libreoffice.convert(liaison_columns_xlsx(), "xlsx", "xls", timeout=120)
    return doc, xls


def test_sniff_ole_by_stream_names(old_formats):
    doc, xls = old_formats
    assert "WordDocument" in safety.ole_stream_names(doc)
    assert "Workbook" in safety.ole_stream_names(xls)
    assert safety.sniff(doc, "x.xls") == "doc"
    assert safety.sniff(doc, "x.wps") == "wps"
    assert safety.sniff(xls, "x.doc") == "xls"
    assert safety.sniff(xls, "x.et") == "et"


def test_ole_without_known_streams_uses_the_extension():
    data = cfb_file([("Contents", bytes(4096))])
    assert safety.sniff(data, "a.wps") == "wps"
    assert safety.sniff(data, "a.bin") == "ole"


def test_malformed_ole_directory_does_not_hang():
    data = bytearray(encrypted_ooxml())
    # FAT entry of the directory sector points back to itself: a loop
    data[512 + 4:512 + 8] = (1).to_bytes(4, "little")
    started = time.perf_counter()
    assert safety.ole_stream_names(bytes(data)) is None
    assert time.perf_counter() - started < 1
    assert safety.ole_stream_names(bytes(data[:600])) is None
    assert safety.sniff(bytes(data[:600]), "a.doc") == "doc"


@pytest.mark.parametrize("kind", sorted(MAGIC_SAMPLES))
def test_sniff_magic(kind):
    assert safety.sniff(MAGIC_SAMPLES[kind], "附件.docx") == kind


def test_sniff_images_pdf_rtf_html_text():
    assert safety.sniff(png_image(10, 10), "a.doc") == "png"
    assert safety.sniff(jpeg_header(10, 10), "a.pdf") == "jpeg"
    assert safety.sniff(bmp_image(), "scan") == "bmp"
    assert safety.sniff(b"BM is how this text starts", "a.txt") == "txt"
    assert safety.sniff(text_pdf(["x"]), "a.docx") == "pdf"
    assert safety.sniff(rtf_document("周报"), "a.doc") == "rtf"
    assert safety.sniff(html_table([["姓名", "张三"]]), "a.xls") == "html"
    assert safety.sniff("本周工作情况\n一是……".encode("utf-8"), "a") == "txt"
    assert safety.sniff("本周工作情况\n一是……".encode("gb18030"), "a") == "txt"
    assert safety.sniff("本周工作情况".encode("utf-16"), "a") == "txt"
    assert safety.sniff(bytes(range(256)) * 4, "a.docx") == "unknown"


def test_decode_text():
    assert safety.decode_text("周报".encode("gb18030")) == "周报"
    assert safety.decode_text("\ufeff周报".encode("utf-8")) == "周报"
    assert safety.decode_text(b"\x00\x01\x02binary") is None
    cut = "周报周报".encode("utf-8")[:-1]
    assert safety.decode_text(cut, partial=True) is not None


# ---------------------------------------------------------------------------- text decoding (issue 17)

# Characters of GB2312 (what Chinese Windows writes), and readable text of any script.
_GB2312 = st.characters(codec="gb2312", min_codepoint=0x4E00, max_codepoint=0x9FA5)
_READABLE = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"), blacklist_characters="\ufeff\ufffd")
_ASCII_TEXT = st.characters(min_codepoint=32, max_codepoint=126)


@given(st.binary(max_size=4000), st.booleans())
@settings(max_examples=300, deadline=None)
def test_decode_text_never_raises(data, partial):
    text = safety.decode_text(data, partial=partial)
    assert text is None or isinstance(text, str)
    assert isinstance(safety.looks_like_text(data), bool)
    # what decodes in full is text by the looser test too (UTF-16 and DEL bytes aside)
    if text is not None and not partial and b"\x00" not in data and b"\x7f" not in data:
        assert safety.looks_like_text(data)


@given(st.text(alphabet=_READABLE, min_size=1, max_size=300).filter(str.strip))
@settings(max_examples=200, deadline=None)
def test_utf8_and_utf16_with_bom_round_trip(text):
    assert safety.decode_text(text.encode("utf-8")) == text
    assert safety.decode_text(text.encode("utf-16")) == text
    assert safety.decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == text


@given(st.text(alphabet=st.one_of(_GB2312, _ASCII_TEXT, st.sampled_from("，。：；\n")), min_size=1, max_size=300)
       .filter(str.strip))
@settings(max_examples=200, deadline=None)
def test_gb18030_round_trips_unless_the_bytes_are_utf8(text):
    data = text.encode("gb18030")
    try:
        as_utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    # the first of UTF-8 and GB18030 that takes the bytes: Chinese text of some length is
    # hardly ever valid UTF-8, ASCII is both
    assert safety.decode_text(data) == (as_utf8 if as_utf8 is not None else text)


@given(st.text(alphabet=st.one_of(_GB2312, _ASCII_TEXT), min_size=1, max_size=200).filter(str.strip))
@settings(max_examples=100, deadline=None)
def test_utf16le_without_bom_when_ascii_leaves_zeros(text):
    data = text.encode("utf-16-le")
    zeros_odd = data[1::2].count(0)
    decoded = safety.decode_text(data)
    if zeros_odd * 10 >= len(data) // 2 and data[0::2].count(0) * 4 < zeros_odd:
        assert decoded == text


# Latin-1 words (French, German): every accented letter followed by a plain one or the end.
_ACCENTED = "àâçéèêëîïôûùüÿäöß"
_WORD = st.builds(lambda a, b, c: a + b + c, st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6),
                  st.sampled_from(_ACCENTED), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=6))


@given(st.lists(_WORD, min_size=1, max_size=40), st.sampled_from([" ", "\n", ", "]))
@settings(max_examples=200, deadline=None)
def test_latin1_text_is_an_unknown_charset_never_gb18030_mojibake(words, sep):
    data = sep.join(words).encode("latin-1")
    assert safety.decode_text(data) is None
    assert safety.looks_like_text(data)
    assert safety.sniff(data, "notes.txt") == "txt"


@given(st.text(alphabet=st.characters(codec="shift_jis", min_codepoint=0x3041, max_codepoint=0x30FF), min_size=4,
               max_size=100))
@settings(max_examples=100, deadline=None)
def test_shift_jis_kana_is_an_unknown_charset(text):
    assert safety.decode_text(text.encode("shift_jis")) is None


@given(st.text(alphabet=_READABLE, min_size=2, max_size=200).filter(str.strip), st.data())
@settings(max_examples=150, deadline=None)
def test_a_prefix_decodes_to_a_prefix(text, data):
    encoded = text.encode("utf-8")
    cut = data.draw(st.integers(min_value=1, max_value=len(encoded)))
    decoded = safety.decode_text(encoded[:cut], partial=True)
    if decoded is not None:
        assert text.startswith(decoded)


def test_unknown_charsets_are_text_binary_is_not():
    assert safety.sniff("Réunion à Genève\n".encode("latin-1"), "a.txt") == "txt"
    assert safety.sniff("<html><body>Zoë</body></html>".encode("cp1252"), "ATT00001.htm") == "html"
    assert safety.sniff(bytes(range(256)) * 4, "a.txt") == "unknown"
    assert not safety.looks_like_text(b"\x00\x01\x02binary")
    assert not safety.looks_like_text(b"   \n")
    assert safety.decode_text("本周工作".encode("utf-32")) == "本周工作"
    weekly = "第二周周报\n本周开展隐患排查3次，参加职工120人。\n"
    assert safety.decode_text(weekly.encode("utf-16-be")) == weekly
    assert safety.decode_text(weekly.encode("utf-16-le")) == weekly
    # a rare name character in GBK text does not make it foreign
    assert safety.decode_text("联系人：王喆，电话13342782718".encode("gb18030")) == "联系人：王喆，电话13342782718"
