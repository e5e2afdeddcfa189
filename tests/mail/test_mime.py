import json
import re
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mail.archives import member_name
from bot.mail.mime import html_to_text, parse_mail
from tests.fixtures.mails import (
    b_word, build_mail, docx_bytes, forwarded, mail_with_parts, many_parts,
    nested_forwards, nested_multiparts, part, raw_mail, set_encrypted_flag,
    tnef_blob, unicode_path_extra, xlsx_bytes, zip_bomb, zip_bytes, zip_raw_names,
)

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
if not SAMPLES.exists():
    SAMPLES = Path("/work/shared/samples")
EXPECTED = {Path(m["file"]).name: m
            for m in json.loads((SAMPLES / "expected.json").read_text("utf-8"))["messages"]}
SAMPLE_FILES = sorted((SAMPLES / "messages").glob("*.eml"))

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _names(mail):
    return [a.filename for a in mail.attachments]


# ---------------------------------------------------------------- the sample mails

@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_mail(path):
    expected = EXPECTED[path.name]
    mail = parse_mail(path.read_bytes())
    assert mail.subject == expected["subject"]
    assert mail.from_addr == expected["from"]
    assert mail.message_id == expected["message_id"]
    assert mail.date == datetime.fromisoformat(expected["date_header"])
    assert mail.problems == ()
    assert mail.body_text.strip()
    for attachment in mail.attachments:
        assert attachment.filename.endswith((".docx", ".xlsx"))
        assert attachment.data.startswith(b"PK\x03\x04")
    declared = len(re.findall(rb"(?im)^content-disposition:\s*attachment", path.read_bytes()))
    assert len(mail.attachments) == declared


def test_sample_encoded_word_in_quoted_filename():
    mail = parse_mail((SAMPLES / "messages" / "002.eml").read_bytes())
    assert _names(mail) == ["第一周工作情况.docx"]
    assert mail.from_name == "宜城机械工会"
    assert mail.header("subject") == "宜城机械公司工会第一周工作情况"


# ---------------------------------------------------------------- headers

def test_headers_lowercased_and_decoded():
    raw = build_mail(subject="进展情况统计表", headers=[("X-Custom", "值")])
    mail = parse_mail(raw)
    names = [k for k, _ in mail.headers]
    assert all(k == k.lower() for k in names)
    assert mail.header("x-custom") == "值"
    assert mail.header("Subject") == "进展情况统计表"
    assert mail.from_name == "单位"
    assert mail.from_addr == "unit@example.test"


def test_gbk_under_gb2312_label_everywhere():
    subject = b_word("朱镕基同志的讲话", "gb2312", "gbk")
    raw = mail_with_parts([
        part('text/plain; charset="gb2312"', "喆堃 正文".encode("gbk")),
        part(f'application/msword; name="{b_word("镕.doc", "gb2312", "gbk")}"', b"\xd0\xcf\x11\xe0",
             disposition="attachment"),
    ], headers=["From: " + b_word("陶喆", "gb2312", "gbk") + " <T@Example.TEST>",
                "Subject: " + subject, "MIME-Version: 1.0"])
    mail = parse_mail(raw)
    assert mail.subject == "朱镕基同志的讲话"
    assert mail.from_name == "陶喆"
    assert mail.from_addr == "t@example.test"
    assert mail.body_text == "喆堃 正文"
    assert _names(mail) == ["镕.doc"]
    assert mail.message_id is None


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_raw_8bit_headers(encoding):
    raw = raw_mail([
        b"From: " + '"望江县总工会"'.encode(encoding) + b" <wj@example.test>",
        b"Subject: " + "联络员推荐表（补报）".encode(encoding),
        b"Reply-To: " + "吴斌".encode(encoding) + b" <WuBin@Example.test>",
        b"Message-ID:   <raw8@example.test>  ",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="zz"',
    ], b"--zz\r\nContent-Type: application/octet-stream; name=\""
       + "推荐表.xlsx".encode(encoding) + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--zz--\r\n")
    mail = parse_mail(raw)
    assert mail.subject == "联络员推荐表（补报）"
    assert mail.from_name == "望江县总工会"
    assert mail.from_addr == "wj@example.test"
    assert mail.reply_to == "wubin@example.test"
    assert mail.message_id == "<raw8@example.test>"
    assert _names(mail) == ["推荐表.xlsx"]
    assert "\ufffd" not in mail.subject + mail.from_name


def test_rfc2231_filename_from_email_package():
    raw = build_mail(attachments=[("附件2：“安全生产月”活动进展情况统计表（岳西县总工会）.docx", docx_bytes(), DOCX_TYPE)])
    assert b"filename*0*=" in raw
    mail = parse_mail(raw)
    assert _names(mail) == ["附件2：“安全生产月”活动进展情况统计表（岳西县总工会）.docx"]
    assert mail.attachments[0].content_type == DOCX_TYPE


def test_rfc2231_continuations_in_mime():
    gbk = "附件1：联络员推荐表（潜山市总工会）.docx".encode("gbk")
    pct = "".join(f"%{b:02X}" for b in gbk)
    raw = mail_with_parts([
        part("text/plain", "see"),
        part("application/octet-stream", docx_bytes(),
             disposition=f"attachment;\r\n filename*0*=GBK''{pct[:27]};\r\n filename*1*={pct[27:]}"),
    ])
    assert _names(parse_mail(raw)) == ["附件1：联络员推荐表（潜山市总工会）.docx"]


def test_subject_split_mid_character_and_folded():
    data = "宜城化工集团工会活动总结".encode("utf-8")
    import base64
    words = [f"=?utf-8?B?{base64.b64encode(data[i:i + 7]).decode()}?=" for i in range(0, len(data), 7)]
    raw = raw_mail(["From: a@example.test", "Subject: " + "\r\n ".join(words)], "x")
    assert parse_mail(raw).subject == "宜城化工集团工会活动总结"


def test_missing_and_garbage_headers():
    mail = parse_mail(raw_mail(["From: <<<>>>", "Date: not a date", "Reply-To: ,,,;;;"], "x"))
    assert mail.from_addr == ""
    assert mail.date is None
    assert mail.reply_to is None
    assert mail.message_id is None
    assert mail.subject == ""


def test_date_minus_zero_is_aware_utc():
    mail = parse_mail(raw_mail(["Date: Thu, 04 Jun 2020 07:00:09 -0000"], "x"))
    assert mail.date == datetime(2020, 6, 4, 7, 0, 9, tzinfo=timezone.utc)
    mail = parse_mail(raw_mail(["Date: Thu, 04 Jun 2020 15:00:09 +0800"], "x"))
    assert mail.date.utcoffset() == timedelta(hours=8)


def test_from_with_unquoted_comma_and_crlf_in_encoded_name():
    mail = parse_mail(raw_mail(["From: 张三, 李四 <ZS@example.test>"], "x"))
    assert mail.from_addr == "zs@example.test"
    mail = parse_mail(raw_mail(["From: =?utf-8?Q?a=0D=0ABcc:_x?= <a@example.test>",
                                "Subject: =?utf-8?Q?s=0D=0ABcc:_evil@example.test?="], "x"))
    assert "\n" not in mail.from_name and "\r" not in mail.subject
    assert mail.from_addr == "a@example.test"


# ---------------------------------------------------------------- body text

def test_html_only_body():
    html = ("<html><head><style>p{color:red}</style><title>T</title>"
            "<script>alert('x')</script></head><body><div>第一行&nbsp;内容</div>"
            "<p>第二行 &amp; &lt;三&gt;<br>第三行</p><table><tr><td>甲</td><td>乙</td></tr></table>"
            "</body></html>")
    mail = parse_mail(build_mail(body=None, html=html))
    assert mail.body_text == "第一行 内容\n第二行 & <三>\n第三行\n甲\t乙"


def test_html_charset_from_meta():
    html = '<html><head><meta charset="gbk"></head><body>大观区总工会周报</body></html>'
    raw = raw_mail(["From: a@example.test", "Content-Type: text/html",
                    "Content-Transfer-Encoding: 8bit"], html.encode("gbk"))
    assert parse_mail(raw).body_text == "大观区总工会周报"


def test_plain_preferred_over_html_unless_empty():
    both = mail_with_parts([part("text/plain; charset=utf-8", "纯文本"),
                            part("text/html; charset=utf-8", "<b>超文本</b>")], subtype="alternative")
    assert parse_mail(both).body_text == "纯文本"
    empty_plain = mail_with_parts([part("text/plain; charset=utf-8", "  \r\n"),
                                   part("text/html; charset=utf-8", "<b>超文本</b>")], subtype="alternative")
    assert parse_mail(empty_plain).body_text == "超文本"


def test_body_mislabelled_charset_recovered():
    raw = raw_mail(["From: a@example.test", "Content-Type: text/plain; charset=utf-8",
                    "Content-Transfer-Encoding: 8bit"], "本周工作情况".encode("gbk"))
    assert parse_mail(raw).body_text == "本周工作情况"


def test_html_to_text_survives_garbage():
    assert html_to_text("<<<!--<![CDATA[ <p>x</p> &#xZZZ; &bogus; </div></div>") is not None
    assert html_to_text("<scr<script>ipt>a</script>b") is not None


# ---------------------------------------------------------------- attachments and inline files

def test_inline_image_and_unnamed_part():
    raw = mail_with_parts([
        part("text/plain", "body"),
        part("image/png", b"\x89PNG\r\n\x1a\nxx", extra=["Content-ID: <img1>"]),
        part("application/pdf", b"%PDF-1.4 x", disposition="inline; filename=scan.pdf"),
    ], subtype="related")
    mail = parse_mail(raw)
    assert [(a.filename, a.inline) for a in mail.attachments] == [("未命名附件.png", True), ("scan.pdf", True)]


def test_hostile_filenames_in_mime():
    long_name = "长" * 1000 + ".docx"
    raw = mail_with_parts([
        part("application/octet-stream", b"1", disposition='attachment; filename="../../etc/passwd"'),
        part("application/octet-stream", b"2", disposition='attachment; filename="C:\\\\temp\\\\a.xlsx"'),
        part("application/octet-stream", b"3", disposition="attachment; filename*=utf-8''a%00b%0D%0A.doc"),
        part("application/octet-stream", b"4", disposition=f'attachment; filename="{b_word(long_name)}"'),
        part("application/pdf", b"%PDF-", disposition='attachment; filename=""'),
    ])
    names = _names(parse_mail(raw))
    assert names[:3] == ["passwd", "a.xlsx", "a b.doc"]
    assert len(names[3]) == 255 and names[3].endswith("长.docx")
    assert names[4] == "未命名附件.pdf"


def test_text_attachment_with_filename_is_a_file_not_body():
    raw = mail_with_parts([part("text/plain; charset=utf-8", "正文"),
                           part("text/plain; charset=utf-8", "周报全文", disposition='attachment; filename="周报.txt"')])
    mail = parse_mail(raw)
    assert mail.body_text == "正文"
    assert _names(mail) == ["周报.txt"]


def test_docx_attached_directly_is_not_unpacked():
    mail = parse_mail(build_mail(attachments=[("总结.docx", docx_bytes(), DOCX_TYPE),
                                              ("表.xlsx", xlsx_bytes(), "application/octet-stream")]))
    assert _names(mail) == ["总结.docx", "表.xlsx"]
    assert mail.problems == ()


# ---------------------------------------------------------------- zip archives

def _zip_mail(data, name="材料.zip"):
    return build_mail(attachments=[(name, data, "application/zip")])


def test_zip_with_gbk_names_without_utf8_flag():
    archive = zip_raw_names([("附件1：联络员推荐表.docx".encode("gbk"), docx_bytes()),
                             ("工作总结.doc".encode("gbk"), b"\xd0\xcf\x11\xe0")])
    for info in zipfile.ZipFile(__import__("io").BytesIO(archive)).infolist():
        assert not info.flag_bits & 0x800
    mail = parse_mail(_zip_mail(archive))
    assert _names(mail) == ["附件1：联络员推荐表.docx", "工作总结.doc"]
    assert all(a.origin == ("材料.zip",) for a in mail.attachments)
    assert mail.attachments[0].content_type == DOCX_TYPE
    assert mail.problems == ()


def test_zip_with_utf8_flag_and_utf8_without_flag():
    flagged = zip_bytes([("进展情况统计表.docx", docx_bytes())])
    assert zipfile.ZipFile(__import__("io").BytesIO(flagged)).infolist()[0].flag_bits & 0x800
    assert _names(parse_mail(_zip_mail(flagged))) == ["进展情况统计表.docx"]
    unflagged = zip_raw_names([("进展情况统计表.docx".encode("utf-8"), b"x")])
    assert _names(parse_mail(_zip_mail(unflagged))) == ["进展情况统计表.docx"]


def test_zip_unicode_path_extra_field_wins():
    raw_name = "???.docx".encode("ascii")
    archive = zip_raw_names([(raw_name, b"x")], extra_fields=[unicode_path_extra(raw_name, "活动总结.docx")])
    assert _names(parse_mail(_zip_mail(archive))) == ["活动总结.docx"]


def test_member_name_mixed_archive():
    archive = zip_raw_names([("表一.xlsx".encode("gbk"), b"1"), ("表二.xlsx".encode("utf-8"), b"2")])
    infos = zipfile.ZipFile(__import__("io").BytesIO(archive)).infolist()
    assert [member_name(i) for i in infos] == ["表一.xlsx", "表二.xlsx"]


def test_zip_directories_paths_and_junk_skipped():
    archive = zip_bytes([("材料/", b""), ("材料/子目录/../../报告.docx", docx_bytes()),
                         ("__MACOSX/材料/._报告.docx", b"junk"), ("材料/.DS_Store", b"junk")])
    mail = parse_mail(_zip_mail(archive))
    assert _names(mail) == ["报告.docx"]


def test_docx_inside_zip_kept_as_file():
    mail = parse_mail(_zip_mail(zip_bytes([("附件2.docx", docx_bytes()), ("附件1.xlsx", xlsx_bytes())])))
    assert _names(mail) == ["附件2.docx", "附件1.xlsx"]
    assert mail.attachments[0].data.startswith(b"PK\x03\x04")


def test_zip_detected_by_content_not_name():
    mail = parse_mail(build_mail(attachments=[("材料.dat", zip_bytes([("a.pdf", b"%PDF-1")]), "application/octet-stream")]))
    assert _names(mail) == ["a.pdf"]
    assert mail.attachments[0].origin == ("材料.dat",)


def _refused(mail, name="材料.zip"):
    """The archive is kept as it came, with the reason it was not opened, and nothing else."""
    assert [(a.filename, a.error) for a in mail.attachments] == [(name, mail.problems[0])], mail.attachments
    return mail.problems[0]


def test_zip_bomb_by_ratio_is_kept_unopened_with_a_problem():
    bomb = zip_bomb(20 * 1024 * 1024)
    assert len(bomb) < 100_000
    mail = parse_mail(_zip_mail(bomb))
    assert mail.problems == ("压缩包 材料.zip 解压后过大（疑似压缩炸弹），未解开",)
    _refused(mail)
    assert mail.attachments[0].data == bomb


def test_zip_over_total_limit():
    archive = zip_bytes([("a.bin", bytes(range(256)) * 2000)])
    mail = parse_mail(_zip_mail(archive), max_zip_total=100_000)
    assert "解压后过大" in _refused(mail)


def test_zip_lying_sizes_are_capped():
    archive = bytearray(zip_bytes([("a.txt", b"A" * 200_000)]))
    # Declare 10 bytes uncompressed in both headers; the stream really holds 200,000.
    local = archive.find(b"PK\x03\x04")
    central = archive.find(b"PK\x01\x02")
    archive[local + 22:local + 26] = (10).to_bytes(4, "little")
    archive[central + 24:central + 28] = (10).to_bytes(4, "little")
    mail = parse_mail(_zip_mail(bytes(archive)))
    # zipfile stops at the declared size, and the CRC then shows the member is not what it says
    assert mail.problems == ("压缩包 材料.zip 中的 a.txt 已损坏，未能解开",)
    assert not [a for a in mail.attachments if a.origin]  # nothing of the member was kept
    _refused(mail)


def test_zip_with_too_many_members():
    archive = zip_bytes([(f"{i}.txt", b"x") for i in range(201)])
    mail = parse_mail(_zip_mail(archive))
    assert mail.problems == ("压缩包 材料.zip 内文件过多（201 个，上限 200 个），未解开",)
    _refused(mail)
    assert len(parse_mail(_zip_mail(archive), max_zip_members=300).attachments) == 201


def test_encrypted_and_bzip2_members_reported():
    encrypted = set_encrypted_flag(zip_bytes([("密.docx", b"x")]))
    mail = parse_mail(_zip_mail(encrypted))
    assert mail.problems == ("压缩包 材料.zip 中的 密.docx 设有密码（已加密），未能解开；请在邮件正文写明解压密码"
                             "（如“解压密码：1234”）或去掉密码后重新发送",)
    _refused(mail)
    bz = zip_bytes([("a.docx", b"x" * 100)], compression=zipfile.ZIP_BZIP2)
    mail = parse_mail(_zip_mail(bz))
    assert "压缩方式不受支持" in _refused(mail)


def test_nested_zip_one_level_only():
    inner = zip_bytes([("深.zip", zip_bytes([("最深.docx", b"x")])), ("表.xlsx", b"y")])
    outer = zip_bytes([("内层.zip", inner)])
    mail = parse_mail(_zip_mail(outer, "外层.zip"))
    assert [(a.filename, a.origin) for a in mail.attachments] == [
        ("深.zip", ("外层.zip", "内层.zip")), ("表.xlsx", ("外层.zip", "内层.zip"))]
    assert mail.problems == ("压缩包 内层.zip 中又套了压缩包 深.zip，未再解开",)
    assert [a.error for a in mail.attachments] == [mail.problems[0], None]


def test_corrupt_zip_and_rar():
    mail = parse_mail(build_mail(attachments=[("坏.zip", b"PK\x03\x04garbage", "application/zip"),
                                              ("材料.rar", b"Rar!\x1a\x07\x00xx", "application/x-rar")]))
    assert _names(mail) == ["坏.zip", "材料.rar"]
    assert mail.problems == ("压缩包 坏.zip 已损坏，未能解开", "RAR 压缩包 材料.rar 已损坏，未能解开")
    assert [a.error for a in mail.attachments] == list(mail.problems)


def test_empty_zip():
    mail = parse_mail(_zip_mail(zip_bytes([("空/", b"")])))
    assert mail.problems == ("压缩包 材料.zip 是空的",)
    _refused(mail)


# ---------------------------------------------------------------- forwarded mail

def test_forwarded_mail_with_attachment():
    inner = build_mail(subject="岳西县总工会进展情况统计表", body="附件是统计表",
                       attachments=[("统计表.docx", docx_bytes(), DOCX_TYPE)])
    mail = parse_mail(forwarded(inner))
    assert _names(mail) == ["统计表.docx"]
    assert mail.attachments[0].origin == ("岳西县总工会进展情况统计表",)
    assert mail.body_text.startswith("转发给您")
    assert "---------- 转发的邮件：岳西县总工会进展情况统计表 ----------\n附件是统计表" in mail.body_text


def test_forwarded_mail_named_by_filename_and_zip_inside():
    inner = build_mail(subject="x", attachments=[("材料.zip", zip_bytes([("表.xlsx", b"1")]), "application/zip")])
    mail = parse_mail(forwarded(inner, filename="原邮件.eml"))
    assert [(a.filename, a.origin) for a in mail.attachments] == [("表.xlsx", ("原邮件.eml", "材料.zip"))]


def test_base64_encoded_rfc822_part():
    inner = build_mail(subject="内层", body="内层正文")
    raw = mail_with_parts([part("text/plain", "外层"), part("message/rfc822", inner, cte="base64")])
    mail = parse_mail(raw)
    assert "内层正文" in mail.body_text


# ---------------------------------------------------------------- winmail.dat

def test_winmail_dat_files_extracted():
    document = docx_bytes()
    blob = tnef_blob([
        ("联络~1.DOC", "联络员推荐表（怀宁县总工会）.docx", document, "attdata"),
        ("统计表.xls", None, b"\xd0\xcf\x11\xe0xls", "attdata"),
        ("SHORT.TXT", "长文件名.txt", "正文".encode(), "mapi"),
    ])
    raw = mail_with_parts([part("text/plain", "see"),
                           part('application/ms-tnef; name="winmail.dat"', blob,
                                disposition='attachment; filename="winmail.dat"')])
    mail = parse_mail(raw)
    assert [(a.filename, a.origin) for a in mail.attachments] == [
        ("联络员推荐表（怀宁县总工会）.docx", ("winmail.dat",)),
        ("统计表.xls", ("winmail.dat",)),
        ("长文件名.txt", ("winmail.dat",)),
    ]
    assert mail.attachments[0].data == document
    assert mail.attachments[1].data == b"\xd0\xcf\x11\xe0xls"
    assert mail.attachments[2].data == "正文".encode()


def test_winmail_dat_by_filename_with_zip_inside():
    blob = tnef_blob([("A.ZIP", "材料.zip", zip_bytes([("表.xlsx", b"1")]), "attdata")])
    raw = mail_with_parts([part("application/octet-stream", blob, disposition="attachment; filename=WINMAIL.DAT")])
    assert [(a.filename, a.origin) for a in parse_mail(raw).attachments] == [
        ("表.xlsx", ("WINMAIL.DAT", "材料.zip"))]


def test_winmail_dat_truncated_keeps_what_was_read():
    blob = tnef_blob([("A.TXT", None, b"aaa", "attdata"), ("B.TXT", None, b"bbb", "attdata")])
    mail = parse_mail(mail_with_parts([part("application/ms-tnef", blob[:-30], disposition="attachment")]))
    assert _names(mail) == ["A.TXT", "winmail.dat"]
    reason = "winmail.dat（Outlook 格式）其中的附件 B.TXT 不完整（文件被截断或已损坏），未能取出"
    assert mail.problems == (reason,) and mail.attachments[1].error == reason


def test_winmail_without_signature_is_kept_as_file():
    mail = parse_mail(mail_with_parts([part("application/ms-tnef", b"not tnef",
                                            disposition="attachment; filename=winmail.dat")]))
    assert _names(mail) == ["winmail.dat"]


# ---------------------------------------------------------------- limits and hostile structure

def test_five_thousand_parts():
    raw = many_parts(5000)
    start = time.monotonic()
    mail = parse_mail(raw)
    assert time.monotonic() - start < 10
    assert mail.problems == ("邮件的组成部分超过 2000 个，其余部分未读取",)
    assert len(mail.attachments) == 1999  # the container and 1,999 leaves were visited


def test_fifty_deep_forwarding():
    start = time.monotonic()
    mail = parse_mail(nested_forwards(50))
    assert time.monotonic() - start < 5
    assert mail.problems == ("邮件嵌套超过 10 层，更深处的内容未读取",)
    assert mail.subject == "test"


def test_nesting_beyond_parser_recursion():
    mail = parse_mail(nested_multiparts(3000))
    assert mail.subject == "test"
    assert mail.from_addr == "unit@example.test"
    assert mail.problems == ("邮件结构嵌套过深，正文和附件未能读取",)


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"\x00" * 100, b"From:\r\n", "纯文本".encode("gbk"),
                                 b"Content-Type: multipart/mixed\r\n\r\nno boundary",
                                 b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
                                 b"Content-Type: message/rfc822\r\n\r\n",
                                 b"Content-Transfer-Encoding: base64\r\n\r\n!!!!"])
def test_degenerate_input(raw):
    mail = parse_mail(raw)
    assert isinstance(mail.body_text, str)


# ---------------------------------------------------------------- never raises (property)

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(raw):
    mail = parse_mail(raw)
    assert isinstance(mail.subject, str)


_SAMPLE_BYTES = [p.read_bytes() for p in SAMPLE_FILES]
_FRAGMENTS = [b"\r\n", b"--", b"=?", b"?=", b"?B?", b";", b'"', b"\r\n\r\n", b"boundary=", b"\x00", b"\xff\xfe",
              b"Content-Type: message/rfc822\r\n", b"Content-Type: multipart/mixed; boundary=z\r\n",
              b"filename*0*=gbk''%B2", b"PK\x03\x04", b"x\x9f>\""]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SAMPLE_BYTES),
       st.lists(st.tuples(st.floats(0, 1), st.integers(0, 64),
                          st.one_of(st.binary(max_size=12), st.sampled_from(_FRAGMENTS))), max_size=12))
def test_never_raises_on_mutated_samples(sample, edits):
    data = bytearray(sample)
    for where, cut, insert in edits:
        pos = int(where * len(data))
        data[pos:pos + cut] = insert
    mail = parse_mail(bytes(data))
    assert isinstance(mail.attachments, tuple)


# ---------------------------------------------------------------- MIME as the world writes it

from tests.fixtures import hostile_mime as HM  # noqa: E402


def test_boundary_folded_inside_its_quotes_is_unfolded():
    pngs = [(f"照片{i}.png", HM.png(i)) for i in range(3)]
    raw = HM.folded_boundary_mail("<f@x>", "a@example.test", "照片", pngs)
    assert b'boundary="----=_NextPart_000_0017_01D63E2A.\r\n\t5B8C1F20"' in raw
    mail = parse_mail(raw)
    assert [(a.filename, a.data) for a in mail.attachments] == pngs
    assert mail.body_text == "现场照片三张，请查收。" and mail.problems == ()


def test_boundary_the_header_misstates_is_taken_from_the_body():
    body = (b"--real-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xe6\xad\xa3\xe6\x96\x87\r\n"
            b"--real-boundary\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
            b"\r\n%PDF-1.4 x\r\n--real-boundary--\r\n")
    for header in ('Content-Type: multipart/mixed; boundary="other"', "Content-Type: multipart/mixed"):
        mail = parse_mail(raw_mail(["From: a@example.test", header], body))
        assert mail.body_text == "正文" and _names(mail) == ["a.pdf"] and mail.problems == (), header


def test_multipart_nothing_splits_is_kept_with_a_problem_not_made_body_text():
    mail = parse_mail(HM.boundaryless_mail("<n@x>", "a@example.test", "材料"))
    assert mail.body_text == ""
    (kept,) = mail.attachments
    assert kept.filename == "无法拆分的邮件部分.eml" and b"UEsDBBQAAAAIAA==" in kept.data
    assert mail.problems == (kept.error,) and "未能拆分" in kept.error


@pytest.mark.parametrize("charset,codec", [("ISO-2022-JP", "iso2022_jp"), ("ISO-2022-JP-2", "iso2022_jp_2"),
                                           ("HZ-GB-2312", "hz"), ("UTF-7", "utf-7")])
def test_seven_bit_charsets_in_subject_and_body(charset, codec):
    text = "日本語の件名" if codec == "iso2022_jp" else "桐城市总工会第二周周报"
    mail = parse_mail(HM.seven_bit_mail("<s@x>", "a@example.test", text, text + "：正文", charset, codec))
    assert mail.subject == text and mail.body_text == text + "：正文"


def test_winmail_embedded_message_ole_object_and_unknown_object():
    inner = HM.tnef_stream([("表.docx", "data", b"PK-inner")], subject="转发：联络员推荐表")
    blob = HM.tnef_stream([("原邮件", "message", inner), ("Microsoft Word 文档", "ole", HM.ole_document()),
                           ("Package", "object", b"\x02\x00pkg")])
    mail = parse_mail(HM.winmail_mail("<w@x>", "a@example.test", "t", blob))
    assert [(a.filename, a.origin) for a in mail.attachments] == [
        ("表.docx", ("winmail.dat", "转发：联络员推荐表")), ("Microsoft Word 文档.doc", ("winmail.dat",)),
        ("winmail.dat", ())]
    assert mail.attachments[1].data.startswith(b"\xd0\xcf\x11\xe0")
    assert mail.problems == ("winmail.dat（Outlook 格式）其中的附件 Package 是 Outlook 嵌入对象"
                             "（000102030405060708090a0b0c0d0e0f），无法取出",)
    assert mail.attachments[2].error == mail.problems[0]


def test_winmail_embedded_message_without_files_is_named():
    blob = HM.tnef_stream([("原邮件", "message", HM.tnef_stream([], subject="第二周周报"))])
    mail = parse_mail(HM.winmail_mail("<w@x>", "a@example.test", "t", blob))
    assert "嵌入的 Outlook 邮件《第二周周报》没有附件" in mail.problems[0]
    assert _names(mail) == ["winmail.dat"]


def test_password_in_the_body_opens_the_archive_found_before_the_body():
    # the archive part comes first: the body with the password is read after it
    locked = HM.zip_crypto([("表.docx", b"form")], "6688")
    raw = mail_with_parts([part("application/zip", locked, disposition='attachment; filename="a.zip"'),
                           part("text/plain; charset=utf-8", "解压密码：6688")])
    mail = parse_mail(raw)
    assert [(a.filename, a.data, a.origin) for a in mail.attachments] == [("表.docx", b"form", ("a.zip",))]
    assert mail.problems == ()
    subject_only = build_mail(subject="统计表（密码6688）", attachments=[("a.zip", locked, "application/zip")])
    assert _names(parse_mail(subject_only)) == ["表.docx"]


@pytest.mark.parametrize("build", [lambda f: HM.seven_zip(f), lambda f: HM.rar5(f), lambda f: HM.rar4(f)])
def test_7z_and_rar_members_unpacked_with_origin(build):
    mail = parse_mail(build_mail(attachments=[("材料.bin", build([("附件2.docx", docx_bytes())]),
                                               "application/octet-stream")]))
    assert [(a.filename, a.origin, a.content_type) for a in mail.attachments] == [
        ("附件2.docx", ("材料.bin",), DOCX_TYPE)]


def test_archive_in_an_archive_in_an_archive_stops_for_every_format():
    inner = HM.seven_zip([("最深.docx", b"x")])
    middle = HM.rar5([("深.7z", inner)])
    mail = parse_mail(_zip_mail(zip_bytes([("中.rar", middle)]), "外.zip"))
    assert [(a.filename, a.origin, a.error) for a in mail.attachments] == [
        ("深.7z", ("外.zip", "中.rar"), "压缩包 中.rar 中又套了压缩包 深.7z，未再解开")]


_BOUNDARY_CHARS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?",
                          min_size=8, max_size=60)


@settings(max_examples=100, deadline=None)
@given(_BOUNDARY_CHARS, st.integers(1, 59), st.sampled_from(["\r\n\t", "\r\n ", "\r\n  "]))
def test_any_boundary_folded_anywhere_inside_its_quotes_splits(boundary, cut, fold):
    cut = max(1, min(cut, len(boundary) - 1))
    head = ["From: a@example.test", "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed;\r\n\tboundary="{boundary[:cut]}{fold}{boundary[cut:]}"']
    body = (f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n正文\r\n"
            f"--{boundary}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n"
            f"%PDF-1.4\r\n--{boundary}--\r\n").encode()
    mail = parse_mail(raw_mail(head, body))
    assert mail.body_text == "正文" and _names(mail) == ["a.pdf"] and mail.problems == ()
