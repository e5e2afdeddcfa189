"""The one normaliser of what units write into a blank (forms.md "How people really fill a blank").

Every form parser and every file format goes through these two functions, so `（３）`, `3场`,
`三`, `1，200`, `/` and `约50` are read the same way wherever they appear.
"""
from __future__ import annotations

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
