"""forms.md "How people really fill a blank", rule by rule."""
import pytest

from bot.forms.values import chinese_to_int, is_blank_marker, normalize_int, normalize_text


def _ok(written, value):
    result = normalize_int(written)
    assert (result.value, result.error, result.warning) == (value, None, False), written


@pytest.mark.parametrize("written", ["（ 3 ）", "（3）", "(3)", "( 3)", "3", " 3 ", "\u30003\u3000", "（3", "3）"])
def test_brackets_and_spaces_around_a_number(written):
    _ok(written, 3)


@pytest.mark.parametrize("written,value", [("（３）", 3), ("１２００", 1200), ("（ ２０ ）", 20)])
def test_fullwidth_digits(written, value):
    _ok(written, value)


@pytest.mark.parametrize("written,value", [("1,200", 1200), ("（1，200）", 1200), ("1，200", 1200), ("12,345,678", 12345678)])
def test_thousands_separators(written, value):
    _ok(written, value)


@pytest.mark.parametrize(
    "written,value",
    [("三", 3), ("（三）", 3), ("十", 10), ("十二", 12), ("二十", 20), ("一百二十", 120), ("两百", 200),
     ("一千零五", 1005), ("一千零五十", 1050), ("三万五千", 35000), ("十万", 100000),
     ("一亿二千万", 120_000_000), ("一亿零五万", 100_050_000), ("壹佰贰拾", 120), ("二〇二〇", 2020),
     ("3万", 30000), ("1.2万", 12000), ("两千三百四十五", 2345)],
)
def test_chinese_numerals(written, value):
    _ok(written, value)


@pytest.mark.parametrize("text", ["百", "千五", "十十", "万", "三亿万", "一二三四五六七八九十x"])
def test_chinese_converter_rejects_what_is_no_number(text):
    assert chinese_to_int(text) is None


@pytest.mark.parametrize(
    "written,value",
    [("3场", 3), ("200人次", 200), ("5个", 5), ("2部", 2), ("10篇", 10), ("3条", 3), ("4次", 4),
     ("（3场）", 3), ("3场次", 3), ("57条微视频", 57), ("共3场", 3), ("三场", 3), ("1,200人次", 1200)],
)
def test_unit_repeated_inside(written, value):
    _ok(written, value)


@pytest.mark.parametrize("written", ["无", "/", "／", "—", "——", "-", "－", "0", "零", "（ / ）", "( 无 )", "０", "暂无"])
def test_none_is_zero(written):
    _ok(written, 0)


@pytest.mark.parametrize("written", ["", " ", "   ", "\u3000\u3000", "（    ）", "( )", "\n"])
def test_empty_is_no_value_not_zero(written):
    _ok(written, None)


def test_none_input_is_no_value():
    _ok(None, None)


@pytest.mark.parametrize(
    "written,value",
    [("约50", 50), ("50余", 50), ("50多", 50), ("近50", 50), ("50左右", 50), ("大约50", 50),
     ("50余人次", 50), ("约50人", 50), ("（ 30多 ）", 30), ("三十多", 30), ("1,000余", 1000)],
)
def test_approximations_read_with_a_warning(written, value):
    result = normalize_int(written)
    assert (result.value, result.error, result.warning) == (value, None, True)


@pytest.mark.parametrize("written", ["若干", "待统计", "3-5", "3~5", "3—5", "多", "约", "不详", "三到五", "见附件", "-3"])
def test_anything_else_is_an_error_naming_a_number(written):
    result = normalize_int(written)
    assert result.value is None
    assert result.error == "数字"


@pytest.mark.parametrize("written", ["3.5", "0.5"])
def test_fractions_are_an_error_naming_an_integer(written):
    result = normalize_int(written)
    assert (result.value, result.error) == (None, "整数")


def test_spreadsheet_float_of_a_whole_number():
    _ok("3.0", 3)


@pytest.mark.parametrize(
    "written,value",
    [("座谈会、知识竞赛", "座谈会、知识竞赛"), ("  座谈会  ", "座谈会"), ("\u3000视频会议\u3000", "视频会议"),
     ("“安全生产月”微视频征集", "“安全生产月”微视频征集"), ("（座谈会）", "座谈会"), ("座谈会\n 知识竞赛", "座谈会 知识竞赛")],
)
def test_text_blank_trimmed(written, value):
    result = normalize_text(written)
    assert (result.value, result.error, result.warning) == (value, None, False)


@pytest.mark.parametrize("written", ["", "  ", "无", "/", "—", "-", None])
def test_text_blank_nothing(written):
    assert normalize_text(written).value is None


@pytest.mark.parametrize("written,expected", [("", True), ("  ", True), ("无", True), ("/", True), ("—", True),
                                              ("－", True), ("（ / ）", True), ("0", False), ("3", False),
                                              ("座谈会", False), (None, True)])
def test_is_blank_marker(written, expected):
    assert is_blank_marker(written) is expected


# ---------------------------------------------------------------------------- typed cells

import datetime as dt  # noqa: E402

from bot.forms import values as typed  # noqa: E402


@pytest.mark.parametrize("written", [
    "2020-06-03", "2020-6-3", "2020/6/3", "2020/06/03", "2020.6.3", "2020年6月3日", "2020年6月3号", "2020 年 6 月 3 日",
    "２０２０年６月３日", "20200603", "二〇二〇年六月三日", "2020-06-03 00:00:00", "2020-06-03 14:30", "43985", "43985.604",
    dt.date(2020, 6, 3), dt.datetime(2020, 6, 3, 9, 15),
])
def test_dates_every_way(written):
    assert typed.normalize_date(written) == typed.NormalizedValue("2020-06-03")


@pytest.mark.parametrize("written,value", [("1985年3月", "1985-03"), ("1985.03", "1985-03"), ("1985-3", "1985-03")])
def test_year_and_month(written, value):
    assert typed.normalize_date(written).value == value


@pytest.mark.parametrize("written", ["2020-02-30", "2020-13-01", "6月3日", "去年", "20201340", "1850-01-01", "2020"])
def test_not_a_date(written):
    result = typed.normalize_date(written)
    assert result.value is None and result.error == typed.EXPECT_DATE


@pytest.mark.parametrize("written,value", [("133 4278 2718", "13342782718"), ("133-4278-2718", "13342782718"),
                                           ("+86 13342782718", "13342782718"), ("８６１３３４２７８２７１８", "13342782718")])
def test_mobile(written, value):
    assert typed.normalize_mobile(written).value == value


@pytest.mark.parametrize("written", ["1334278271", "23342782718", "0556-5588941", "133427827181"])
def test_not_a_mobile(written):
    assert typed.normalize_mobile(written).error == "以1开头的11位手机号码"


def test_phone_email_gender_qq():
    assert typed.normalize_phone("（0556）8937711").value == "(0556)8937711"
    assert typed.normalize_phone("0556-5588941转8012").value == "0556-5588941转8012"
    assert typed.normalize_phone("见手机").error == typed.EXPECT_PHONE
    assert typed.normalize_phone("12345").error == typed.EXPECT_PHONE
    assert typed.normalize_email("mailto: Ａ@Example.TEST").value == "A@example.test"
    assert typed.normalize_email("a.example.test").error == "电子邮箱地址，如 name@example.com"
    assert typed.normalize_gender("女性").value == "女" and typed.normalize_gender("未知").error == "男或女"
    assert typed.normalize_qq("７３０３２３２２３").value == "730323223" and typed.normalize_qq("1234").error == "5至12位数字"


# GB 11643-1999's own example number, and numbers made with its check character
_EXAMPLE_ID = "11010519491231002X"


def test_identity_numbers_with_their_check_character():
    assert typed.id_check_character("11010519491231002") == "X"
    assert typed.normalize_id_number(_EXAMPLE_ID).value == _EXAMPLE_ID
    assert typed.normalize_id_number("11010519491231002x").value == _EXAMPLE_ID
    assert typed.normalize_id_number(" 110105 19491231 002X ").value == _EXAMPLE_ID
    for first17 in ("34080219850302001", "34010219900101123", "44030420001231567"):
        number = first17 + typed.id_check_character(first17)
        assert typed.normalize_id_number(number).value == number


def test_every_single_digit_typo_is_caught():
    for position in range(17):
        for digit in "0123456789":
            if digit == _EXAMPLE_ID[position]:
                continue
            wrong = _EXAMPLE_ID[:position] + digit + _EXAMPLE_ID[position + 1:]
            assert typed.normalize_id_number(wrong).value is None, wrong


@pytest.mark.parametrize("written,expected", [
    ("110105194912310021", typed.EXPECT_ID_CHECKSUM),
    ("110105194913310028", typed.EXPECT_ID_BIRTH),  # month 13
    ("110105491231002", typed.EXPECT_ID_OLD),  # 15 digits: the first-generation card, stopped in 2013
    ("3.40802198503021E+17", typed.EXPECT_ID_EXCEL),
    ("1101051949123100", typed.EXPECT_ID_NUMBER),
    ("11010519491231002Y", typed.EXPECT_ID_NUMBER),
])
def test_identity_numbers_refused_with_the_reason(written, expected):
    result = typed.normalize_id_number(written)
    assert (result.value, result.error) == (None, expected)


def test_none_marks_mean_nothing_in_list_cells_but_not_in_grids():
    for kind in ("date", "mobile", "phone", "email", "id_number", "gender", "qq", "text"):
        assert typed.normalize_typed(kind, "/") == typed.NormalizedValue(), kind
        assert typed.normalize_typed(kind, "无") == typed.NormalizedValue(), kind
        assert typed.normalize_typed(kind, "") == typed.NormalizedValue(), kind
    assert typed.normalize_typed("qq", "无", none_marks=False).error == "5至12位数字"
    assert typed.normalize_typed("int", "无").value == 0  # a count of nothing is 0, as in 附件2


def test_typed_dispatch_and_expectations():
    assert typed.normalize_typed("int", "约50") == typed.NormalizedValue(50, warning=True)
    assert typed.normalize_typed("int", 7) == typed.NormalizedValue(7)
    assert typed.normalize_typed("int", 7.0) == typed.NormalizedValue(7)
    assert typed.normalize_typed("int", 7.5).error == typed.EXPECT_INTEGER
    assert typed.normalize_typed("text", "  座谈会\n 知识竞赛 ").value == "座谈会 知识竞赛"
    assert typed.normalize_typed("unknown", "x").value == "x"
    from bot.forms.definition import FIELD_TYPES

    assert set(typed.EXPECT_BY_TYPE) == set(FIELD_TYPES)
