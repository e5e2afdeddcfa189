"""附件1, the liaison form: one value per labelled cell, wherever the labels sit.

A value is the first cell to the right of its label that is neither a label nor the label's own
merged cell repeated; when the label ends its row or is followed by another label (labels in a
header row), the value is the cell below. Documents without tables (PDF text, converted
text) are read as one stream of cells: their lines split at tabs / runs of spaces, and
"label：value" written in one cell or line.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from bot.forms.document import Document
from bot.forms.fold import fold
from bot.forms.result import ERROR, LIAISON_FORM, PARSED, FormResult, Problem

# (key, the form's own label, accepted spellings after folding). Folding removes spaces, makes
# full-width ASCII half-width and lower-cases, so "姓  名", "ＱＱ号" and "E-mail" all match.
FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("name", "姓名", ("姓名", "联络员姓名", "联络员", "名字")),
    ("gender", "性别", ("性别",)),
    ("title", "职务", ("职务", "职位", "职务职称", "职务/职称", "职称")),
    ("office_phone", "办公电话", ("办公电话", "办公室电话", "固定电话", "座机", "座机号码", "电话", "办公电话号码")),
    ("mobile", "手机", ("手机", "手机号", "手机号码", "移动电话", "手机/电话")),
    ("fax", "传真", ("传真", "传真号", "传真号码", "传真电话")),
    ("qq", "QQ号", ("qq", "qq号", "qq号码")),
    ("wechat", "微信号", ("微信", "微信号", "微信号码")),
    ("email", "电子邮箱", ("电子邮箱", "邮箱", "电子邮件", "电子信箱", "email", "e-mail", "邮箱地址",
                         "电子邮箱地址", "邮件地址")),
    ("unit_name", "单位名称", ("单位名称", "单位", "工作单位", "所在单位", "推荐单位", "单位全称")),
    ("address", "通信地址", ("通信地址", "通讯地址", "地址", "联系地址", "邮寄地址", "单位地址")),
)
KEYS = tuple(key for key, _, _ in FIELDS)
LABELS = {key: label for key, label, _ in FIELDS}
# 联系电话 is ambiguous: a mobile number goes to 手机 when that is missing, else to 办公电话.
_CONTACT_PHONE = "contact_phone"
_SPELLINGS: dict[str, str] = {spelling: key for key, _, spellings in FIELDS for spelling in spellings}
_SPELLINGS.update({"联系电话": _CONTACT_PHONE, "联系方式": _CONTACT_PHONE})

REQUIRED = ("name", "mobile", "email", "unit_name")
EXPECT_REQUIRED = {
    "name": "联络员姓名（必填）",
    "mobile": "以1开头的11位手机号码",
    "email": "电子邮箱地址（必填），如 name@example.com",
    "unit_name": "单位全称（必填）",
}
EXPECT_GENDER = "男或女"
EXPECT_OFFICE_PHONE = "由数字、“-”或空格组成的电话号码，可带区号，如 0556-5588941"
EXPECT_MOBILE = "以1开头的11位手机号码"
EXPECT_QQ = "5至12位数字"
EXPECT_EMAIL = "电子邮箱地址，如 name@example.com"
REASON_NO_LABELS = "未能在文件中找到联络员推荐表的栏目（姓名、手机、电子邮箱、单位名称等），请使用附件1的表格填写"

TITLE = "联络员推荐表"

_LABEL_SUFFIX = "：:*＊"
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")
_OFFICE_PHONE_RE = re.compile(r"(\(\d{3,4}\)|\d{3,4}-)?[\d\- ]+(转\d+)?")


_TRAILING_NOTE_RE = re.compile(r"[（(][^）)]*[）)]$")
# Longer than any spelling with a note like （必填） and generous padding: prose, not a label.
_MAX_LABEL_CHARS = 60


def label_key(text: str) -> str | None:
    """The field a cell's text names when the cell is a label ("姓  名：", "ＱＱ号", "E-mail")."""
    if len(text) > _MAX_LABEL_CHARS and len("".join(text.split())) > _MAX_LABEL_CHARS:
        return None
    folded = fold(text, lower=True).rstrip(_LABEL_SUFFIX)
    if folded not in _SPELLINGS:
        folded = _TRAILING_NOTE_RE.sub("", folded)
    return _SPELLINGS.get(folded)


def _inline(text: str) -> tuple[str, str] | None:
    """A label and its value written in one cell or line: "姓名：高玉兰"."""
    match = re.match(r"\s*([^：:\n]{1,12}?)\s*[：:]\s*(.+?)\s*$", text or "", re.S)
    if not match:
        return None
    key = label_key(match.group(1))
    return (key, match.group(2)) if key else None


@dataclass
class _Found:
    values: dict[str, str]

    def put(self, key: str, value: str) -> None:
        # The first non-empty value wins; an empty one only fills a key never seen.
        if key not in self.values or (not self.values[key].strip() and value.strip()):
            self.values[key] = value


def _read_grid(rows: tuple[tuple[str, ...], ...], found: _Found) -> None:
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            key = label_key(cell)
            if key is None:
                inline = _inline(cell)
                if inline:
                    found.put(*inline)
                continue
            if c > 0 and row[c - 1] == cell:
                continue  # the same merged label cell, already handled
            value = _right_of(row, c)
            if value is None:
                value = _below(rows, r, c)
            found.put(key, value or "")


def _right_of(row: tuple[str, ...], c: int) -> str | None:
    """The value to the right of the label at `c`; None when the next distinct cell is another
    label or the row ends there (then the value sits below)."""
    return _first_value(row[c], row[c + 1:])


def _below(rows, r: int, c: int) -> str | None:
    column = []
    for row in rows[r + 1:]:
        if c >= len(row):
            break
        column.append(row[c])
    return _first_value(rows[r][c], column)


def _first_value(label: str, cells) -> str | None:
    """The first cell after a label that is not the label's own merged copy; None when another
    label comes first."""
    for cell in cells:
        if cell == label:
            continue
        return None if label_key(cell) is not None else cell
    return None


def _line_cells(doc: Document) -> tuple[tuple[str, ...], ...]:
    """Paragraph lines as one row of cells (tabs and runs of 2+ spaces separate cells)."""
    cells: list[str] = []
    for paragraph in doc.paragraphs:
        for line in paragraph.split("\n"):
            for piece in re.split(r"\t|\s{2,}|\u3000{2,}", line):
                if piece.strip():
                    cells.append(piece.strip())
    return (tuple(cells),) if cells else ()


def _clean(value: str) -> str:
    """One line, trimmed; a value written over several lines is joined."""
    lines = [line.strip() for line in (value or "").replace("\r", "\n").split("\n")]
    return " ".join(line for line in lines if line)


def _values_found(doc: Document) -> dict[str, str]:
    found = _Found({})
    for table in doc.tables:
        _read_grid(table.rows, found)
    if not found.values or not doc.tables:
        line_found = _Found({})
        _read_grid(_line_cells(doc), line_found)
        for key, value in line_found.values.items():
            found.put(key, value)
    return found.values


def parse_liaison(doc: Document) -> FormResult:
    """The eleven fields of 附件1 by forms.md key, checked as forms.md says."""
    raw = {key: _clean(value) for key, value in _values_found(doc).items()}
    contact = raw.pop(_CONTACT_PHONE, "")
    if contact:
        if not raw.get("mobile") and _mobile_digits(contact):
            raw["mobile"] = contact
        elif not raw.get("office_phone"):
            raw["office_phone"] = contact
    if not raw:
        return FormResult(LIAISON_FORM, ERROR, values={key: None for key in KEYS}, reason=REASON_NO_LABELS)

    values: dict[str, str | None] = {}
    errors: list[Problem] = []
    for key in KEYS:
        written = raw.get(key, "")
        normalise, expected = _RULES[key]
        value = normalise(unicodedata.normalize("NFKC", written).strip()) if written else None
        if value is None and (written or key in REQUIRED):
            errors.append(Problem(key, LABELS[key], written, expected if written else EXPECT_REQUIRED[key]))
        values[key] = value
    return FormResult(LIAISON_FORM, PARSED, values=values, errors=tuple(errors))


def _as_written(text: str) -> str:
    return text


def _gender(text: str) -> str | None:
    gender = fold(text, lower=True).removesuffix("性")
    return gender if gender in ("男", "女") else None


def _office_phone(text: str) -> str | None:
    return text if _OFFICE_PHONE_RE.fullmatch(text) and sum(ch.isdigit() for ch in text) >= 7 else None


def _qq(text: str) -> str | None:
    qq = fold(text, lower=True)
    return qq if re.fullmatch(r"\d{5,12}", qq) else None


def _email(text: str) -> str | None:
    """A mailto: prefix and spaces dropped; the domain lower-cased, the local part as written."""
    email = re.sub(r"^mailto:", "", "".join(text.split()), flags=re.I)
    if not _EMAIL_RE.fullmatch(email):
        return None
    local, _, domain = email.partition("@")
    return f"{local}@{domain.lower()}"


def _mobile_digits(text: str) -> str | None:
    """11 digits starting with 1, after dropping spaces, dashes, dots and a +86 / 86 prefix."""
    digits = re.sub(r"[\s\-.()（）]", "", unicodedata.normalize("NFKC", text or ""))
    digits = digits.removeprefix("+")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if re.fullmatch(r"1\d{10}", digits) else None


def _compact_cjk(text: str) -> str:
    """"高 玉 兰" -> "高玉兰"; a name in Latin letters keeps its spaces."""
    if all("\u4e00" <= ch <= "\u9fff" or ch.isspace() or ch == "·" for ch in text):
        return "".join(text.split())
    return " ".join(text.split())


# What each field's value becomes (NFKC-folded and trimmed first), and what a unit is told it
# should be when the normaliser refuses it (None: never refused). One entry per key of FIELDS.
_RULES: dict[str, tuple[Callable[[str], str | None], str | None]] = {
    "name": (_compact_cjk, None),
    "gender": (_gender, EXPECT_GENDER),
    "title": (_as_written, None),
    "office_phone": (_office_phone, EXPECT_OFFICE_PHONE),
    "mobile": (_mobile_digits, EXPECT_MOBILE),
    "fax": (_as_written, None),
    "qq": (_qq, EXPECT_QQ),
    "wechat": (_as_written, None),
    "email": (_email, EXPECT_EMAIL),
    "unit_name": (_as_written, None),
    "address": (_as_written, None),
}


def _title_present(doc: Document) -> bool:
    lines = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows[:3]:
            lines.extend(row)
    return any(TITLE in folded and len(folded) <= 40 for folded in (fold(line, lower=True) for line in lines))


_CORE_KEYS = frozenset({"name", "mobile", "email", "unit_name"})


def _shortest(spellings: tuple[str, ...]) -> tuple[str, ...]:
    """The spellings that contain no other one (a text holding 联络员姓名 holds 姓名)."""
    return tuple(s for s in spellings if not any(o != s and o in s for o in spellings))


# Each core label's spellings, for the whole-text test below.
_CORE_SPELLINGS = tuple(_shortest(spellings) for key, _, spellings in FIELDS if key in _CORE_KEYS)


def _may_be_liaison(folded: str) -> bool:
    """Whether the title or spellings of three core labels occur anywhere in `folded`, the
    whole document folded as `progress.fold_document` folds it (the folding rule with `marks`,
    character by character). A cell that `label_key` (the rule with `lower`) makes into a
    label or the title leaves that label in `folded` too: the spellings hold none of the
    characters the marks drop or unify, and no character in them comes from composing
    several; only case differs, hence the ASCII spellings are tested on the lower-cased text.
    False: the checks of `looks_like_liaison` cannot succeed."""
    if TITLE in folded:
        return True
    lowered = None
    found = 0
    for tested, spellings in enumerate(_CORE_SPELLINGS):
        if found + len(_CORE_SPELLINGS) - tested < 3:
            return False  # too few even if every key still to test were found
        for spelling in spellings:
            if spelling.isascii():
                if lowered is None:
                    lowered = folded.lower()
                hit = spelling in lowered
            else:
                hit = spelling in folded
            if hit:
                found += 1
                break
    return found >= 3


def looks_like_liaison(doc: Document, folded: str | None = None) -> bool:
    """By content: the form's title line, or at least three of its core labels
    (姓名 / 手机 / 电子邮箱 / 单位名称) as cells of a table. `folded`: the whole document's
    text as `progress.fold_document` folds it, when the caller has it (it rules most documents
    out at once)."""
    if folded is not None and not _may_be_liaison(folded):
        return False
    if _title_present(doc):
        return True
    labelled: set[str] = set()
    for table in doc.tables:
        for row in table.rows:
            for cell in row:
                key = label_key(cell)
                if key is None:
                    inline = _inline(cell)
                    key = inline[0] if inline else None
                if key:
                    labelled.add(key)
    return len(labelled & _CORE_KEYS) >= 3
