"""The one normaliser of what units write into a blank (forms.md "How people really fill a blank").

Every form parser and every file format goes through these functions, so `（３）`, `3场`,
`三`, `1，200`, `/` and `约50` are read the same way wherever they appear: `normalize_int` and
`normalize_text` for a prose form's blanks, `normalize_typed` (one normaliser per field type:
date, mobile, phone, email, id_number, gender, qq, int, text) for a grid form's fields and a
list table's cells.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

from bot.forms.fold import fold

EXPECT_NUMBER = "数字"
EXPECT_INTEGER = "整数"


@dataclass(frozen=True)
class NormalizedValue:
    """What a blank says: `value` (None = nothing written), or `error` (the Chinese name of
    what was expected), and `warning` when the value was approximate (`约50` -> 50)."""

    value: Any = None
    error: str | None = None
    warning: bool = False


# "Nothing" in words; 0 and 零 are numbers and read as 0 by the number rules anyway.
_NONE_WORDS = frozenset({"无", "暂无", "没有", "未开展", "无此项", "空"})
# Dashes and slashes people put in a blank to say "none": - － — – ― ─ / ／ \ and runs of them.
_NONE_MARK_RE = re.compile(r"[-\u2010-\u2015\u2500\u2212/\\]+")
_OPEN = "(（[【〔"
_CLOSE = ")）]】〕"
_CLAUSE_MARKS = "。，,；;：:、"

# Units printed after the blanks (repeated inside by some units), longest first.
_UNITS = tuple(
    sorted(
        ("条微视频", "人次", "场次", "个次", "人", "场", "次", "个", "部", "篇", "条", "家", "期", "项",
         "所", "户", "名", "处", "批", "件", "天", "组", "支", "起"),
        key=len,
        reverse=True,
    )
)
_APPROX_PREFIXES = ("大约", "大概", "将近", "接近", "约", "近", "逾", "超过")
_APPROX_SUFFIXES = ("左右", "上下", "以上", "余", "多", "许")
_EXACT_PREFIXES = ("共计", "合计", "累计", "总计", "共", "计")

_CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CN_CHARS = set(_CN_DIGITS) | set(_CN_SMALL_UNITS) | set(_CN_BIG_UNITS) | set("0123456789")


def strip_blank_brackets(written: str) -> str:
    """What was written in a blank without the blank's own brackets when they came along —
    `（3）`, `(3`, `3)`, `((3))`, `【3】` — nor the clause marks beside them (`3。`, `（3），`):
    a leading bracket that nothing closes, a trailing one that nothing opened, an outer pair,
    and spaces and clause marks at either end, until none is left. The value of a count blank
    is read from it (on the folded text), and a Problem shows it (on the text as written)."""
    text = written
    while True:
        before = text
        text = text.strip().strip(_CLAUSE_MARKS)
        if text[:1] in _OPEN and not any(ch in _CLOSE for ch in text[1:]):
            text = text[1:]
        elif text[-1:] in _CLOSE and not any(ch in _OPEN for ch in text[:-1]):
            text = text[:-1]
        elif len(text) >= 2 and text[0] in _OPEN and text[-1] in _CLOSE:
            text = text[1:-1]
        if text == before:
            return text


def _is_none_marker(text: str) -> bool:
    return text in _NONE_WORDS or bool(_NONE_MARK_RE.fullmatch(text))


def is_blank_marker(written: str | None) -> bool:
    """True when a blank or cell says nothing: empty, whitespace, or a "none" mark
    (无 / 暂无 / 没有 / `/` / `—` / `-` / `－`), with or without the blank's brackets."""
    if written is None:
        return True
    text = strip_blank_brackets(fold(written))
    return text == "" or _is_none_marker(text)


def chinese_to_int(text: str) -> int | None:
    """A number written in Chinese numerals (三, 十二, 一百二十, 两百, 一千零五, 三万五千,
    一亿二千万, 二〇二〇 digit by digit), Arabic digits mixed with units (3万, 12万5千) included.
    None when the text is not such a number."""
    if not text or any(ch not in _CN_CHARS for ch in text):
        return None
    total = 0  # everything above the current 万/亿 section
    section = 0  # the current section below 万
    number: int | None = None  # digits read since the last unit
    previous_digit = False
    last_small = 10_000  # small units must fall within a section: 千 > 百 > 十
    last_big = 10 ** 12
    for ch in text:
        if ch in _CN_DIGITS or ch.isdigit():
            digit = _CN_DIGITS[ch] if ch in _CN_DIGITS else int(ch)
            number = (number or 0) * 10 + digit if previous_digit else digit
            previous_digit = True
            continue
        previous_digit = False
        if ch in _CN_SMALL_UNITS:
            unit = _CN_SMALL_UNITS[ch]
            if unit >= last_small:
                return None
            if number is None:
                # 十 alone means 10 (十二, 一百十); 百 / 千 need a digit before them
                if unit != 10:
                    return None
                number = 1
            if number > 9:
                return None
            section += number * unit
            number = None
            last_small = unit
        else:
            unit = _CN_BIG_UNITS[ch]
            if unit >= last_big:
                return None
            value = section + (number or 0)
            if value == 0:
                return None
            if unit == 100_000_000:
                total = (total + value) * unit
            else:
                total += value * unit
            section, number = 0, None
            last_small = 10_000
            last_big = unit
    return total + section + (number or 0)


_PLAIN_RE = re.compile(r"\d+")
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:,\d{3})+")
_DECIMAL_RE = re.compile(r"(\d+)\.(\d+)")
_DECIMAL_BIG_RE = re.compile(r"(\d+(?:\.\d+)?)([万萬亿億])")


def _read_number(text: str) -> int | None | str:
    """An int, or EXPECT_INTEGER for a fraction, or None when it is no number at all."""
    if _PLAIN_RE.fullmatch(text):
        return int(text)
    if _THOUSANDS_RE.fullmatch(text):
        return int(text.replace(",", ""))
    decimal = _DECIMAL_RE.fullmatch(text)
    if decimal:
        # 3.0 is what a spreadsheet makes of 3; 3.5 cannot be a count
        return int(decimal.group(1)) if set(decimal.group(2)) == {"0"} else EXPECT_INTEGER
    big = _DECIMAL_BIG_RE.fullmatch(text)
    if big:
        scaled = float(big.group(1)) * _CN_BIG_UNITS[big.group(2)]
        return int(scaled) if scaled == int(scaled) else EXPECT_INTEGER
    return chinese_to_int(text)


def _strip_words(text: str) -> tuple[str, bool]:
    """Remove units and approximation words around the number; True if it was approximate."""
    approximate = False
    changed = True
    while changed and text:
        changed = False
        for unit in _UNITS:
            if text.endswith(unit) and len(text) > len(unit):
                text, changed = text[: -len(unit)], True
                break
        for suffix in _APPROX_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed, approximate = text[: -len(suffix)], True, True
                break
        for prefix in _APPROX_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed, approximate = text[len(prefix) :], True, True
                break
        for prefix in _EXACT_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed = text[len(prefix) :], True
                break
    return text, approximate


def normalize_int(written: str | None) -> NormalizedValue:
    """Read a count blank. Empty -> no value (not 0); 无 / `/` / `—` / 0 / 零 -> 0;
    `（ 3 ）` `（３）` `1，200` `十二` `3场` -> the number; `约50` `50余` `50多` `近50` `50左右`
    -> 50 with a warning; anything else (`若干`, `待统计`, `3-5`, `3.5`) -> an error."""
    if written is None:
        return NormalizedValue()
    if written.isdigit() and written.isascii():
        return NormalizedValue(int(written))  # the usual blank: what the rules below make of it
    text = strip_blank_brackets(fold(written))
    if text == "":
        return NormalizedValue()
    if _is_none_marker(text):
        return NormalizedValue(0)
    number = _read_number(text)
    approximate = False
    if number is None:
        core, approximate = _strip_words(text)
        if core != text:
            number = _read_number(core)
    if number is None:
        return NormalizedValue(error=EXPECT_NUMBER)
    if isinstance(number, str):
        return NormalizedValue(error=number)
    return NormalizedValue(number, warning=approximate)


_WHITESPACE_RE = re.compile(r"\s+")


def normalize_text(written: str | None) -> NormalizedValue:
    """Read a text blank (`以（座谈会、知识竞赛）等形式`): trimmed, inner runs of whitespace
    made one space; empty, 无, `/` or a dash -> no value."""
    if written is None:
        return NormalizedValue()
    text = _WHITESPACE_RE.sub(" ", written).strip()
    # the blank's own brackets, when a cell holds `（座谈会）`
    if len(text) >= 2 and text[0] in _OPEN and text[-1] in _CLOSE:
        inner = text[1:-1]
        if not any(ch in _OPEN or ch in _CLOSE for ch in inner):
            text = inner.strip()
    if is_blank_marker(text):
        return NormalizedValue()
    return NormalizedValue(text)


# ---------------------------------------------------------------------------- typed cells
# A grid form's field or a list table's column has a type (bot/forms/definition.FIELD_TYPES);
# each type's normaliser below reads what a unit wrote into such a cell. Every one returns a
# NormalizedValue: `value` None when nothing was written, or `error` naming in Chinese what
# was expected. `none_marks`: whether 无 / `/` / `—` mean "nothing written" (list tables,
# where units strike out the cells they have nothing for) or are read as written (the grid
# forms, whose 2020 checks refuse `无` in a QQ or mobile cell as today).

EXPECT_TEXT = "文字"
EXPECT_DATE = "日期，如 2020-06-03 或 2020年6月3日"
EXPECT_MOBILE = "以1开头的11位手机号码"
EXPECT_PHONE = "由数字、“-”或空格组成的电话号码，可带区号，如 0556-5588941"
EXPECT_EMAIL = "电子邮箱地址，如 name@example.com"
EXPECT_GENDER = "男或女"
EXPECT_QQ = "5至12位数字"
EXPECT_ID_NUMBER = "18位身份证号码（前17位为数字，最后一位为数字或X）"
EXPECT_ID_CHECKSUM = "18位身份证号码（按国家标准校验，最后一位校验码不符，请逐位核对）"
EXPECT_ID_BIRTH = "18位身份证号码（第7至14位应为有效的出生日期）"
EXPECT_ID_OLD = "18位身份证号码（15位的第一代身份证号码已于2013年停用，请填写18位号码）"
EXPECT_ID_EXCEL = "18位身份证号码（Excel 把号码存成了数字，末几位已丢失，请把单元格设为“文本”后重新填写）"


def _none(text: str, none_marks: bool) -> bool:
    return text == "" or (none_marks and _is_none_marker(strip_blank_brackets(text)))


def _folded_cell(written) -> str:
    return fold(str(written), keep_spaces=True).strip()


def normalize_typed(type_: str, written, *, none_marks: bool = True) -> NormalizedValue:
    """A typed cell by its field type (definition.FIELD_TYPES); an unknown type reads as text."""
    return _BY_TYPE.get(type_, normalize_text_cell)(written, none_marks=none_marks)


def normalize_text_cell(written, *, none_marks: bool = True) -> NormalizedValue:
    """One line of text: lines joined by a space, runs of whitespace made one."""
    if written is None:
        return NormalizedValue()
    text = _WHITESPACE_RE.sub(" ", str(written)).strip()
    if _none(text, none_marks):
        return NormalizedValue()
    return NormalizedValue(text)


def compact_name(text: str) -> str:
    """A person's name: "高 玉 兰" -> "高玉兰"; a name in Latin letters keeps single spaces."""
    if all("\u4e00" <= ch <= "\u9fff" or ch.isspace() or ch == "·" for ch in text):
        return "".join(text.split())
    return " ".join(text.split())


def normalize_int_cell(written, *, none_marks: bool = True) -> NormalizedValue:
    """A count cell: normalize_int (which always reads 无 / `/` as 0); a spreadsheet number
    arrives as its text already."""
    if written is None:
        return NormalizedValue()
    if isinstance(written, bool):
        return NormalizedValue(error=EXPECT_INTEGER)
    if isinstance(written, int):
        return NormalizedValue(written)
    if isinstance(written, float):
        return NormalizedValue(int(written)) if written.is_integer() else NormalizedValue(error=EXPECT_INTEGER)
    return normalize_int(str(written))


# An 11-digit mobile: spaces, dashes, dots and brackets between the digits, a +86 / 86 prefix.
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-.()（）]")


def mobile_digits(written: str | None) -> str | None:
    """11 digits starting with 1, after dropping spaces, dashes, dots and a +86 / 86 prefix."""
    digits = _MOBILE_SEPARATORS_RE.sub("", fold(written or "", keep_spaces=True))
    digits = digits.removeprefix("+")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if re.fullmatch(r"1\d{10}", digits) else None


def normalize_mobile(written, *, none_marks: bool = True) -> NormalizedValue:
    """`133 4278 2718`, `133-4278-2718`, `+86 13342782718`, `８６１３３…` -> `13342782718`."""
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    digits = mobile_digits(text)
    return NormalizedValue(digits) if digits else NormalizedValue(error=EXPECT_MOBILE)


_PHONE_RE = re.compile(r"(\(\d{3,4}\)|\d{3,4}-)?[\d\- ]+(转\d+)?")


def normalize_phone(written, *, none_marks: bool = True) -> NormalizedValue:
    """A telephone number as written (full-width folded): digits, dashes and spaces, an area
    code in brackets or before a dash, 转 and an extension; at least 7 digits."""
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    if _PHONE_RE.fullmatch(text) and sum(ch.isdigit() for ch in text) >= 7:
        return NormalizedValue(text)
    return NormalizedValue(error=EXPECT_PHONE)


_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")


def normalize_email(written, *, none_marks: bool = True) -> NormalizedValue:
    """A mailto: prefix and spaces dropped; the domain lower-cased, the local part as written."""
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    email = re.sub(r"^mailto:", "", "".join(text.split()), flags=re.I)
    if not _EMAIL_RE.fullmatch(email):
        return NormalizedValue(error=EXPECT_EMAIL)
    local, _, domain = email.partition("@")
    return NormalizedValue(f"{local}@{domain.lower()}")


def normalize_gender(written, *, none_marks: bool = True) -> NormalizedValue:
    """男 / 女, also written 男性 / 女性."""
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    gender = fold(text, lower=True).removesuffix("性")
    return NormalizedValue(gender) if gender in ("男", "女") else NormalizedValue(error=EXPECT_GENDER)


def normalize_qq(written, *, none_marks: bool = True) -> NormalizedValue:
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    qq = fold(text, lower=True)
    return NormalizedValue(qq) if re.fullmatch(r"\d{5,12}", qq) else NormalizedValue(error=EXPECT_QQ)


# GB 11643-1999: the 18th character is the ISO 7064 MOD 11-2 check of the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECKS = "10X98765432"
# What a spreadsheet shows of an 18-digit number stored as a number: 3.40102199001011E+17.
_ID_AS_FLOAT_RE = re.compile(r"\d(\.\d+)?e\+?1[67]", re.I)


def id_check_character(first17: str) -> str:
    """The check character GB 11643-1999 gives the first 17 digits."""
    return _ID_CHECKS[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def normalize_id_number(written, *, none_marks: bool = True) -> NormalizedValue:
    """A resident identity number (居民身份证号码, GB 11643-1999): 17 digits and a check
    character (a digit or X, x accepted and made upper-case), the check character verified
    (MOD 11-2) and the birth date in positions 7-14 a real date. Spaces and dashes between
    the digits are dropped.

    15-digit first-generation numbers are refused, with their own reason: the
    first-generation card stopped being valid on 2013-01-01, it has no check character to
    catch a typo, and an 18-digit number cannot be made from one without guessing the
    century; the unit is asked for the 18-digit number instead."""
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    if _ID_AS_FLOAT_RE.fullmatch(text):
        return NormalizedValue(error=EXPECT_ID_EXCEL)
    number = re.sub(r"[\s\-]", "", text).upper()
    if re.fullmatch(r"\d{15}", number):
        return NormalizedValue(error=EXPECT_ID_OLD)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return NormalizedValue(error=EXPECT_ID_NUMBER)
    try:
        birth = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return NormalizedValue(error=EXPECT_ID_BIRTH)
    if birth.year < 1900:
        return NormalizedValue(error=EXPECT_ID_BIRTH)
    if id_check_character(number[:17]) != number[17]:
        return NormalizedValue(error=EXPECT_ID_CHECKSUM)
    return NormalizedValue(number)


# Dates: 2020-06-03, 2020/6/3, 2020.6.3, 2020年6月3日（号）, 20200603, 二〇二〇年六月三日, a
# spreadsheet's date cell (ISO text from the reader, or a date object), an Excel serial day
# number left in a cell the reader did not know as a date (43985), a time after the date
# dropped. Year and month alone (出生年月: 1985年3月, 1985.03) give YYYY-MM.
_DATE_YMD_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DATE_YM_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(份)?")
_DATE_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME_TAIL_RE = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?|\s*\d{1,2}[时点](?:\d{1,2}分)?)$")
_SERIAL_RE = re.compile(r"(\d{5})(\.\d+)?")
# day 0 of Excel's 1900 date system, its phantom 1900-02-29 counted (serials from 61 on)
_EXCEL_EPOCH = _dt.date(1899, 12, 30)
_CN_DATE_DIGITS = {"〇": "0", "○": "0", "零": "0", "O": "0"}
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def _chinese_date(text: str) -> str:
    """二〇二〇年六月三日 -> 2020年6月3日: the year digit by digit, month and day as numbers."""
    match = re.fullmatch(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})[日号]", text)
    if not match:
        return text
    year = "".join(_CN_DATE_DIGITS.get(ch) or str(_CN_DIGITS[ch]) for ch in match.group(1))
    month, day = chinese_to_int(match.group(2)), chinese_to_int(match.group(3))
    return f"{year}年{month}月{day}日" if month and day else text


def _iso(year: int, month: int, day: int | None) -> str | None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        if day is None:
            _dt.date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def normalize_date(written, *, none_marks: bool = True) -> NormalizedValue:
    """A date as ISO text (2020-06-03); year and month alone as 2020-06."""
    if isinstance(written, _dt.datetime):
        return NormalizedValue(written.date().isoformat())
    if isinstance(written, _dt.date):
        return NormalizedValue(written.isoformat())
    if isinstance(written, (int, float)) and not isinstance(written, bool):
        written = str(written)
    text = _folded_cell(written) if written is not None else ""
    if _none(text, none_marks):
        return NormalizedValue()
    text = _chinese_date("".join(text.split()) if not re.search(r"\d:\d", text) else text)
    text = _TIME_TAIL_RE.sub("", text).strip()
    value = None
    if match := _DATE_YMD_RE.fullmatch(text):
        value = _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := _DATE_COMPACT_RE.fullmatch(text):
        value = _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := _DATE_YM_RE.fullmatch(text):
        value = _iso(int(match.group(1)), int(match.group(2)), None)
    elif match := _SERIAL_RE.fullmatch(text):
        day = _EXCEL_EPOCH + _dt.timedelta(days=int(match.group(1)))
        value = _iso(day.year, day.month, day.day)
    return NormalizedValue(value) if value else NormalizedValue(error=EXPECT_DATE)


_BY_TYPE = {
    "int": normalize_int_cell, "text": normalize_text_cell, "date": normalize_date, "mobile": normalize_mobile,
    "phone": normalize_phone, "email": normalize_email, "id_number": normalize_id_number,
    "gender": normalize_gender, "qq": normalize_qq,
}
# What each type expects, for a required cell left empty and for `intake campaign check`.
EXPECT_BY_TYPE = {
    "int": EXPECT_INTEGER, "text": EXPECT_TEXT, "date": EXPECT_DATE, "mobile": EXPECT_MOBILE, "phone": EXPECT_PHONE,
    "email": EXPECT_EMAIL, "id_number": EXPECT_ID_NUMBER, "gender": EXPECT_GENDER, "qq": EXPECT_QQ,
}
