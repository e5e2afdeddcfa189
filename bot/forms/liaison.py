"""Grid forms (附件1, the liaison form, and any campaign's label/value form): one value per
labelled cell, wherever the labels sit.

A value is the first cell to the right of its label that is neither a label nor the label's own
merged cell repeated; when the label ends its row or is followed by another label (labels in a
header row), the value is the cell below. Documents without tables (PDF text, converted
text) are read as one stream of cells: their lines split at tabs / runs of spaces, and
"label：value" written in one cell or line.

What a form's labels are, how units also spell them, which fields are required and how each
is checked all come from its definition (`bot.forms.definition.Form`: the field's label and
`spellings`, `required`, and `type`, checked by `bot.forms.values.normalize_typed`). `form=None`
is the shipped 2020 附件1 (its campaign.toml lists the spellings and the required fields).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.forms.definition import EMAIL, GRID, KNOWN_LABELS, MOBILE, PHONE, TEXT, Field, Form, shipped_form
from bot.forms.document import Document
from bot.forms.fold import fold
from bot.forms.progress.folding import fold_plain
from bot.forms.result import ERROR, PARSED, FormResult, Problem
from bot.forms.values import (EXPECT_EMAIL, EXPECT_GENDER, EXPECT_MOBILE, EXPECT_NUMBER, EXPECT_QQ, compact_name,
                              mobile_digits, normalize_typed)

__all__ = ["EXPECT_EMAIL", "EXPECT_GENDER", "EXPECT_MOBILE", "EXPECT_OFFICE_PHONE", "EXPECT_QQ", "FIELDS", "KEYS",
           "LABELS", "REASON_NO_LABELS", "REQUIRED", "EXPECT_REQUIRED", "TITLE", "grid_of", "label_key",
           "looks_like_liaison", "parse_liaison", "reason_no_labels", "required_wording", "title_core"]

SHIPPED = "附件1"
EXPECT_OFFICE_PHONE = "由数字、“-”或空格组成的电话号码，可带区号，如 0556-5588941"
EXPECT_REQUIRED_EMAIL = "电子邮箱地址（必填），如 name@example.com"

_LABEL_SUFFIX = "：:*＊"
_LABEL_PREFIX = "*＊"
_TRAILING_NOTE_RE = re.compile(r"[（(][^）)]*[）)]$")
# Longer than any spelling with a note like （必填） and generous padding: prose, not a label.
_MAX_LABEL_CHARS = 60
# 联系电话 is ambiguous: a mobile number goes to the mobile field when that is missing, else
# to the telephone field (a form that has both and does not print 联系电话 itself).
_CONTACT_PHONE = "\x00contact_phone"
_CONTACT_SPELLINGS = ("联系电话", "联系方式")
# A title's distinctive part: what follows the campaign's quoted name and 活动.
_TITLE_LEAD_RE = re.compile(r"^.*[”\"》」』]")
_MIN_CORE = 3


@dataclass(frozen=True)
class Grid:
    """A grid form compiled for reading: every spelling of every label, folded."""

    form: Form
    spellings: dict[str, str]  # folded spelling -> field key (or _CONTACT_PHONE)
    contact: tuple[str | None, str | None]  # the (mobile, telephone) keys 联系电话 may go to
    core: frozenset[str]  # keys whose labels make a document this form
    core_spellings: tuple[tuple[str, ...], ...]  # per core key, its spellings folded by the marks rule
    title: str  # the title's distinctive part, folded (联络员推荐表)
    title_plain: str  # the same, folded by the marks rule (`fold_plain`)
    inline_re: re.Pattern  # "label：value" in one cell, the label at most as long as the longest spelling

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.form.fields)

    def needed(self) -> int:
        return min(_MIN_CORE, len(self.core))


def _fold_label(text: str) -> str:
    return fold(text, lower=True).rstrip(_LABEL_SUFFIX).lstrip(_LABEL_PREFIX)


def _synonyms(field: Field) -> tuple[str, ...]:
    """The spellings a field gets when its definition lists none: its label and the labels
    people print for the same thing (KNOWN_LABELS entries with the same key)."""
    bare = re.sub(r"[\s\u3000]", "", field.label)
    known = KNOWN_LABELS.get(bare)
    if known is None:
        return (field.label,)
    return (field.label, *(label for label, (key, _) in KNOWN_LABELS.items() if key == known[0] and label != bare))


def title_core(title: str) -> str:
    """A title's distinctive part, folded: “安全生产月”活动联络员推荐表 -> 联络员推荐表."""
    folded = fold(title, lower=True)
    core = _TITLE_LEAD_RE.sub("", folded).removeprefix("活动")
    return core if len(core) >= 3 else folded


def _shortest(spellings: tuple[str, ...]) -> tuple[str, ...]:
    """The spellings that contain no other one (a text holding 联络员姓名 holds 姓名)."""
    return tuple(s for s in spellings if not any(o != s and o in s for o in spellings))


@lru_cache(maxsize=64)
def grid_of(form: Form | None = None) -> Grid:
    """The reading view of a grid form (None: the shipped 附件1)."""
    form = form or shipped_form(SHIPPED)
    if form.shape != GRID:
        raise ValueError(f"{form.form} is a {form.shape} form, not a grid")
    spellings: dict[str, str] = {}
    own = {_fold_label(f.label) for f in form.fields}
    for f in form.fields:
        for spelling in (f.spellings or _synonyms(f)):
            folded = _fold_label(spelling)
            if folded and (folded not in own or folded == _fold_label(f.label)):
                spellings.setdefault(folded, f.key)
        spellings.setdefault(_fold_label(f.label), f.key)
    mobile = next((f.key for f in form.fields if f.type == MOBILE), None)
    phone = next((f.key for f in form.fields if f.type == PHONE), None)
    if mobile or phone:
        for spelling in _CONTACT_SPELLINGS:
            spellings.setdefault(spelling, _CONTACT_PHONE)
    required = [f for f in form.fields if f.required]
    core_fields = required if len(required) >= 2 else list(form.fields)
    core_spellings = []
    for f in core_fields:
        mine = tuple(s for s, key in spellings.items() if key == f.key)
        core_spellings.append(tuple(fold_plain(s) for s in _shortest(mine)))
    inline = max([12] + [len(s) for s in spellings])
    title = title_core(form.title)
    return Grid(form, spellings, (mobile, phone), frozenset(f.key for f in core_fields), tuple(core_spellings),
                title, fold_plain(title), re.compile(r"\s*([^：:\n]{1,%d}?)\s*[：:]\s*(.+?)\s*$" % inline, re.S))


def label_key(text: str, form: Form | None = None) -> str | None:
    """The field a cell's text names when the cell is a label ("姓  名：", "ＱＱ号", "E-mail")."""
    return _label_key(text, grid_of(form))


def _label_key(text: str, grid: Grid) -> str | None:
    if len(text) > _MAX_LABEL_CHARS and len("".join(text.split())) > _MAX_LABEL_CHARS:
        return None
    folded = _fold_label(text)
    if folded not in grid.spellings:
        folded = _TRAILING_NOTE_RE.sub("", folded)
    return grid.spellings.get(folded)


def _inline(text: str, grid: Grid) -> tuple[str, str] | None:
    """A label and its value written in one cell or line: "姓名：高玉兰"."""
    match = grid.inline_re.match(text or "")
    if not match:
        return None
    key = _label_key(match.group(1), grid)
    return (key, match.group(2)) if key else None


@dataclass
class _Found:
    values: dict[str, str]

    def put(self, key: str, value: str) -> None:
        # The first non-empty value wins; an empty one only fills a key never seen.
        if key not in self.values or (not self.values[key].strip() and value.strip()):
            self.values[key] = value


def _read_grid(rows: tuple[tuple[str, ...], ...], found: _Found, grid: Grid) -> None:
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            key = _label_key(cell, grid)
            if key is None:
                inline = _inline(cell, grid)
                if inline:
                    found.put(*inline)
                continue
            if c > 0 and row[c - 1] == cell:
                continue  # the same merged label cell, already handled
            value = _first_value(row[c], row[c + 1:], grid)  # to the right
            if value is None:
                value = _first_value(row[c], _column_below(rows, r, c), grid)
            found.put(key, value or "")


def _column_below(rows, r: int, c: int) -> list[str]:
    column = []
    for row in rows[r + 1:]:
        if c >= len(row):
            break
        column.append(row[c])
    return column


def _first_value(label: str, cells, grid: Grid) -> str | None:
    """The first cell after a label that is not the label's own merged copy; None when another
    label comes first or nothing follows (then the value sits below)."""
    for cell in cells:
        if cell == label:
            continue
        return None if _label_key(cell, grid) is not None else cell
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


def _values_found(doc: Document, grid: Grid) -> dict[str, str]:
    found = _Found({})
    for table in doc.tables:
        _read_grid(table.rows, found, grid)
    if not found.values or not doc.tables:
        line_found = _Found({})
        _read_grid(_line_cells(doc), line_found, grid)
        for key, value in line_found.values.items():
            found.put(key, value)
    return found.values


def reason_no_labels(form: Form | None = None) -> str:
    """Why a document given as this grid form could not be read, in the unit's words."""
    grid = grid_of(form)
    labels = "、".join([f.label for f in grid.form.fields if f.key in grid.core][:4])
    return f"未能在文件中找到{grid.title}的栏目（{labels}等），请使用{grid.form.form}的表格填写"


def required_wording(field: Field, form: Form | None = None) -> str:
    """What a unit is told a required field left empty should hold."""
    form = form or grid_of(None).form
    if field.type == MOBILE:
        return EXPECT_MOBILE
    if field.type == EMAIL:
        return EXPECT_REQUIRED_EMAIL
    if field.type == TEXT and "单位" in field.label:
        return "单位全称（必填）"
    if field.type == TEXT and form.liaison and field.key == "name":
        return "联络员姓名（必填）"
    return f"{field.short or field.label}（必填）"


def _is_person_name(field: Field) -> bool:
    return field.key == "name" or field.label.endswith("姓名")


def parse_liaison(doc: Document, *, form: Form | None = None) -> FormResult:
    """Every field of a grid form by its key, checked by its type (None: the eleven fields of
    the 2020 附件1 as forms.md lists them)."""
    grid = grid_of(form)
    form = grid.form
    raw = {key: _clean(value) for key, value in _values_found(doc, grid).items()}
    contact = raw.pop(_CONTACT_PHONE, "")
    mobile, phone = grid.contact
    if contact:
        if mobile and not raw.get(mobile) and mobile_digits(contact):
            raw[mobile] = contact
        elif phone and not raw.get(phone):
            raw[phone] = contact
    if not raw:
        return FormResult(form.item, ERROR, values={f.key: None for f in form.fields}, reason=reason_no_labels(form),
                          form=form.form, campaign=form.campaign)

    values: dict[str, object] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for f in form.fields:
        written = raw.get(f.key, "")
        text = unicodedata.normalize("NFKC", written).strip() if written else ""
        if f.type == TEXT:
            # text is kept as written (a person's name without the spaces between its characters)
            value, error, warning = (compact_name(text) if _is_person_name(f) else text) or None, None, False
        else:
            result = normalize_typed(f.type, text, none_marks=False)
            value, error, warning = result.value, result.error, result.warning
        if error:
            errors.append(Problem(f.key, f.label, written, error))
        elif value is None and f.required:
            errors.append(Problem(f.key, f.label, written, required_wording(f, form)))
        elif warning:
            warnings.append(Problem(f.key, f.label, written, EXPECT_NUMBER, value))
        values[f.key] = value
    return FormResult(form.item, PARSED, values=values, errors=tuple(errors), warnings=tuple(warnings),
                      form=form.form, campaign=form.campaign)


def _title_present(doc: Document, grid: Grid) -> bool:
    lines = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows[:3]:
            lines.extend(row)
    return any(grid.title in folded and len(folded) <= 40 for folded in (fold(line, lower=True) for line in lines))


def _may_be(folded: str, grid: Grid) -> bool:
    """Whether the title or spellings of enough core labels occur anywhere in `folded`, the
    whole document folded as `progress.fold_document` folds it (the folding rule with `marks`,
    character by character). A cell that `label_key` (the rule with `lower`) makes into a
    label or the title leaves that label in `folded` too: the spellings are folded by the same
    character rule (`fold_plain`), and spellings with Latin letters are looked for in the
    lower-cased text. False: the checks of `looks_like_liaison` cannot succeed."""
    if grid.title_plain in folded:
        return True
    lowered = None
    found = 0
    needed = grid.needed()
    for tested, spellings in enumerate(grid.core_spellings):
        if found + len(grid.core_spellings) - tested < needed:
            return False  # too few even if every key still to test were found
        for spelling in spellings:
            if any(ch.isascii() and ch.isalpha() for ch in spelling):
                if lowered is None:
                    lowered = folded.lower()
                hit = spelling in lowered
            else:
                hit = spelling in folded
            if hit:
                found += 1
                break
    return found >= needed


def _may_be_liaison(folded: str, form: Form | None = None) -> bool:
    return _may_be(folded, grid_of(form))


def looks_like_liaison(doc: Document, whole: str | None = None, *, form: Form | None = None) -> bool:
    """By content: the form's title line, or at least three of its core labels (the required
    fields: for 附件1 姓名 / 手机 / 电子邮箱 / 单位名称) as cells of a table. `whole`: the whole
    document's text as `progress.fold_document` folds it, when the caller has it (it rules
    most documents out at once)."""
    grid = grid_of(form)
    if whole is not None and not _may_be(whole, grid):
        return False
    if _title_present(doc, grid):
        return True
    return len(labelled_keys(doc, grid) & grid.core) >= grid.needed()


def labelled_keys(doc: Document, grid: Grid) -> set[str]:
    """The fields whose labels are cells of the document's tables."""
    labelled: set[str] = set()
    for table in doc.tables:
        for row in table.rows:
            for cell in row:
                key = _label_key(cell, grid)
                if key is None:
                    inline = _inline(cell, grid)
                    key = inline[0] if inline else None
                if key:
                    labelled.add(key)
    return labelled


# ---------------------------------------------------------------------------- the 2020 view
# FIELDS / KEYS / LABELS / REQUIRED / EXPECT_REQUIRED / TITLE / REASON_NO_LABELS: the shipped
# 附件1 as the modules and tests written for 2020 name it, derived from its definition on
# first use (no campaign folder is read when the module is imported).

def _shipped_view(name: str):
    grid = grid_of(None)
    form = grid.form
    if name == "FIELDS":
        return tuple((f.key, f.label, f.spellings) for f in form.fields)
    if name == "KEYS":
        return grid.keys
    if name == "LABELS":
        return {f.key: f.label for f in form.fields}
    if name == "REQUIRED":
        return tuple(f.key for f in form.fields if f.required)
    if name == "EXPECT_REQUIRED":
        return {f.key: required_wording(f, form) for f in form.fields if f.required}
    if name == "TITLE":
        return grid.title
    if name == "REASON_NO_LABELS":
        return reason_no_labels(form)
    raise AttributeError(name)


_SHIPPED_NAMES = frozenset({"FIELDS", "KEYS", "LABELS", "REQUIRED", "EXPECT_REQUIRED", "TITLE", "REASON_NO_LABELS"})


def __getattr__(name: str):
    if name in _SHIPPED_NAMES:
        value = _shipped_view(name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

