import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.headers import (
    clean_filename, decode_bytes, decode_header, guess_extension, normalize_charset, parse_params,
)
from tests.fixtures.mails import b_word, docx_bytes, q_word, xlsx_bytes


def _escaped(raw: bytes) -> str:
    """What email's compat32 parser hands over for raw 8-bit header bytes."""
    return raw.decode("ascii", "surrogateescape")


# ---------------------------------------------------------------- RFC 2047

@pytest.mark.parametrize("word", [
    b_word("安全生产月活动", "utf-8"),
    q_word("安全生产月活动", "utf-8"),
    b_word("安全生产月活动", "gb18030"),
    b_word("安全生产月活动", "GB2312", "gbk"),
    b_word("安全生产月活动", "gbk"),
    "=?utf-8?b?" + base64.b64encode("安全生产月活动".encode()).decode() + "?=",
])
def test_encoded_word_variants(word):
    assert decode_header(word) == "安全生产月活动"


def test_big5_word():
    assert decode_header(b_word("安全生產月", "big5")) == "安全生產月"


def test_gbk_only_characters_under_gb2312_label():
    # 镕 and 喆 are not in GB2312; clients send them as GBK under a gb2312 label.
    assert decode_header(b_word("朱镕基 陶喆", "gb2312", "gbk")) == "朱镕基 陶喆"


def test_word_split_mid_character_is_joined_before_decoding():
    data = "安全生产月".encode("utf-8")
    first = base64.b64encode(data[:4]).decode()
    second = base64.b64encode(data[4:]).decode()
    value = f"=?UTF-8?B?{first}?=\r\n =?UTF-8?B?{second}?="
    assert decode_header(value) == "安全生产月"


def test_gbk_word_split_mid_character():
    data = "进展情况".encode("gbk")
    value = f"=?gb2312?B?{base64.b64encode(data[:3]).decode()}?= =?gbk?B?{base64.b64encode(data[3:]).decode()}?="
    assert decode_header(value) == "进展情况"


def test_whitespace_between_words_dropped_but_kept_around_text():
    value = f"{b_word('联络员', 'utf-8')} {b_word('推荐表', 'utf-8')} (补报) {b_word('岳西', 'gbk')}"
    assert decode_header(value) == "联络员推荐表 (补报) 岳西"


def test_q_underscore_and_lowercase_q():
    assert decode_header("=?utf-8?q?a_b=E5=AE=89?=") == "a b安"


def test_unknown_charset_falls_back_to_detection():
    assert decode_header(b_word("工会", "x-made-up", "utf-8")) == "工会"
    assert decode_header(b_word("工会", "unknown-8bit", "gbk")) == "工会"
    assert decode_header(b_word("工会", "base64", "utf-8")) == "工会"


def test_broken_base64_padding_is_tolerated():
    word = b_word("总工会", "utf-8").replace("=?=", "?=")
    assert decode_header(word.rstrip("=?") + "?=") == "总工会"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_raw_8bit_header_recovered(encoding):
    raw = _escaped("潜山市总工会 报送".encode(encoding))
    assert decode_header(raw) == "潜山市总工会 报送"


def test_mixed_raw_8bit_and_encoded_word():
    raw = _escaped("回复：".encode("gbk")) + b_word("进展情况", "utf-8")
    assert decode_header(raw) == "回复：进展情况"


def test_nfc_and_control_characters():
    assert decode_header(b_word("Cafe\u0301", "utf-8")) == "Café"
    assert decode_header("=?utf-8?Q?a=0D=0Ab?=") == "a  b"


def testdecode_bytes_order():
    assert decode_bytes("中文".encode("gbk"), "utf-8") == "中文"
    assert decode_bytes("中文".encode("utf-8"), "iso-8859-1") == "中文"
    assert decode_bytes("中文".encode("gbk"), None) == "中文"
    assert decode_bytes(b"caf\xe9", "iso-8859-1") == "café"
    assert "\ufffd" in decode_bytes(b"\xff\xff\xff", "utf-8")


@pytest.mark.parametrize("label,codec", [
    ("gb2312", "gb18030"), ("GBK", "gb18030"), ('"GB2312"', "gb18030"), ("cp936", "gb18030"),
    ("UTF-8", "utf-8"), ("utf8", "utf-8"), ("rot13", None), ("zlib", None), ("base64", None),
    ("x-unknown", None), ("", None), (None, None), ("a" * 100, None),
])
def test_normalize_charset(label, codec):
    assert normalize_charset(label) == codec


# ---------------------------------------------------------------- parameters

def test_rfc2231_single():
    main, params = parse_params("attachment; filename*=UTF-8''%E6%9D%90%E6%96%99.docx")
    assert main == "attachment"
    assert params["filename"] == "材料.docx"


def test_rfc2231_continuations_with_charset_and_language():
    gbk = "附件2：进展情况统计表.docx".encode("gbk")
    pct = "".join(f"%{b:02X}" for b in gbk)
    value = (f"attachment;\r\n filename*0*=gb2312'zh-cn'{pct[:12]};\r\n"
             f" filename*1*={pct[12:30]};\r\n filename*2*={pct[30:]}")
    assert parse_params(value)[1]["filename"] == "附件2：进展情况统计表.docx"


def test_rfc2231_sections_out_of_order_and_mixed_encoding():
    value = "attachment; filename*1=\"ort.docx\"; filename*0*=utf-8''%E6%8A%A5%E5%91%8A-rep"
    assert parse_params(value)[1]["filename"] == "报告-report.docx"


def test_rfc2231_plain_continuations():
    assert parse_params('inline; filename*0="week"; filename*1="ly.docx"')[1]["filename"] == "weekly.docx"


def test_rfc2231_wins_over_plain_parameter():
    value = "attachment; filename=\"fallback.docx\"; filename*=utf-8''%E6%80%BB%E7%BB%93.docx"
    assert parse_params(value)[1]["filename"] == "总结.docx"


def test_encoded_word_inside_quoted_parameter():
    value = f'application/octet-stream;\r\n\tname="{b_word("第一周工作情况.docx", "gb2312", "gbk")}"'
    main, params = parse_params(value)
    assert main == "application/octet-stream"
    assert params["name"] == "第一周工作情况.docx"


def test_raw_8bit_parameter():
    value = _escaped('attachment; filename="'.encode() + "联络员推荐表.xlsx".encode("gbk") + b'"')
    assert parse_params(value)[1]["filename"] == "联络员推荐表.xlsx"


def test_quoted_semicolon_and_escapes():
    main, params = parse_params('attachment; filename="a;b \\"c\\".txt"; size=3')
    assert params == {"filename": 'a;b "c".txt', "size": "3"}


def test_windows_path_backslashes_survive_unquoting():
    params = parse_params('attachment; filename="C:\\Users\\wang\\表.docx"')[1]
    assert clean_filename(params["filename"]) == "表.docx"


@pytest.mark.parametrize("value", ["", ";;;", "attachment; =x; filename", 'x; a="unterminated', "a*b*c=1"])
def test_garbage_parameters_do_not_raise(value):
    parse_params(value)


# ---------------------------------------------------------------- file names

@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("C:\\Documents and Settings\\表.docx", "表.docx"),
    ("C:表.docx", "表.docx"),
    ("/abs/path/报告.pdf", "报告.pdf"),
    ("a\x00b.docx", "a b.docx"),
    ("line\r\nbreak.xlsx", "line break.xlsx"),
    ("evil\u202excod.exe", "evilxcod.exe"),
    ("  总结.docx  ", "总结.docx"),
    ("Cafe\u0301.docx", "Café.docx"),
])
def test_clean_filename(name, expected):
    assert clean_filename(name) == expected


def test_clean_filename_caps_length_keeping_extension():
    name = clean_filename("统" * 1000 + ".docx")
    assert len(name) == 255
    assert name.endswith("统.docx")


def test_clean_filename_caps_without_extension():
    assert len(clean_filename("x" * 1000)) == 255


@pytest.mark.parametrize("name", ["", None, "..", ".", "../", "\x00\x01", "   "])
def test_clean_filename_never_empty(name):
    assert clean_filename(name, "application/pdf") == "未命名附件.pdf"


def test_unnamed_file_extension_guessed_from_bytes():
    assert clean_filename("", "application/octet-stream", docx_bytes()) == "未命名附件.docx"
    assert clean_filename("", "application/octet-stream", xlsx_bytes()) == "未命名附件.xlsx"
    assert clean_filename("", "application/octet-stream", b"%PDF-1.4") == "未命名附件.pdf"
    assert clean_filename("", "application/octet-stream", b"\x00\x01") == "未命名附件"


def test_guess_extension_prefers_bytes_over_declared_type():
    assert guess_extension("image/png", b"%PDF-1.7") == ".pdf"
    assert guess_extension("application/msword") == ".doc"


# ---------------------------------------------------------------- 7-bit charsets

_SEVEN_BIT = [("ISO-2022-JP", "iso2022_jp"), ("ISO-2022-JP-2", "iso2022_jp_2"), ("HZ-GB-2312", "hz"),
              ("UTF-7", "utf-7"), ("ISO-2022-KR", "iso2022_kr")]


@pytest.mark.parametrize("label,codec", _SEVEN_BIT)
def test_seven_bit_text_decoded_by_its_label(label, codec):
    text = {"iso2022_jp": "安全の月", "iso2022_kr": "안전 월간"}.get(codec, "安全生产月活动周报")
    data = text.encode(codec)
    assert data.isascii()
    assert decode_bytes(data, label) == text
    word = f"=?{label}?B?{base64.b64encode(data).decode()}?="
    assert decode_header(word) == text  # and no ESC stripped into "$B$3" garbage


def test_ascii_under_a_seven_bit_label_stays_ascii():
    assert decode_bytes(b"1+1=2 ~ ok", "UTF-7") == "1+1=2 ~ ok"
    assert decode_bytes(b"plain ~ text", "HZ-GB-2312") == "plain ~ text"
    assert decode_bytes(b"plain", "ISO-2022-JP") == "plain"


def test_raw_iso_2022_jp_header_without_encoded_words():
    raw = "件名".encode("iso2022_jp").decode("ascii")
    assert decode_header("Re: " + raw) == "Re: 件名"


def test_eight_bit_bytes_under_a_seven_bit_label_fall_back():
    assert decode_bytes("周报".encode("gbk"), "ISO-2022-JP") == "周报"


_CJK = st.text(alphabet=st.sampled_from(list("安庆市总工会安全生产月活动进展情况统计表联络员推荐第一二三周报本开展隐患排查次参加职工人")
                                           + list("0123456789abcXYZ ，。：；、（）")), max_size=60)


@settings(max_examples=200, deadline=None)
@given(_CJK, st.sampled_from([("ISO-2022-JP-2", "iso2022_jp_2"), ("HZ-GB-2312", "hz"), ("UTF-7", "utf-7")]))
def test_seven_bit_round_trip(text, label_codec):
    label, codec = label_codec
    assert decode_bytes(text.encode(codec), label) == text
    word = f"=?{label}?B?{base64.b64encode(text.encode(codec)).decode()}?="
    assert decode_header(word) == decode_header(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([label for label, _ in _SEVEN_BIT]))
def test_seven_bit_labels_never_raise(data, label):
    assert isinstance(decode_bytes(data, label), str)
