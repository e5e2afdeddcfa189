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
