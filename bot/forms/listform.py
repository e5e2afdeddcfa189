"""List tables (名单 / 花名册 / 汇总表 / 报名表 with one row per person): a header row of the
form's column labels and any number of records under it.

The header row is found by its labels, folded by the one rule (`fold`, lower-cased), with the
notes units add (`手机号码（必填）`, `*姓名`, `身份证号：`) and each column's other spellings
(the definition's `spellings`, else the labels people print for the same thing); columns may
come in any order, and a two-row header (`联系方式` over `手机 | 邮箱`) is read as one. Every
row below it is read until the table ends: rows the unit added beyond the template's empty
rows are records too, blank rows (or a row holding only its 序号) are skipped, and a 合计 /
填表人 / 备注 / 说明 line ends the records. Each cell is typed and checked by its column's
type (`values.normalize_typed`; 无, `/` and `—` mean nothing written).

The result: `values = {form.list_key: [ {column key: value, …}, … ]}`; a problem's key is
`<list_key>[<i>].<column key>` with `i` the record's index in that list (0-based), its label
names the table row as the unit sees it (`第3行 身份证号`: the 3rd row under the header, blank
rows counted).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from bot.forms.definition import KNOWN_LABELS, LIST, TEXT, Field, Form
from bot.forms.document import Document
from bot.forms.fold import fold
from bot.forms.result import ERROR, PARSED, FormResult, Problem
from bot.forms.values import EXPECT_NUMBER, compact_name, is_blank_marker, normalize_typed

__all__ = ["ListView", "list_fit", "list_view", "looks_like_list", "parse_list", "reason_no_header",
           "reason_no_records"]

SERIAL = "\x00serial"
_SERIAL_WORDS = ("序号", "编号", "序", "no", "no.", "#")
_LABEL_SUFFIX = "：:*＊"
_LABEL_PREFIX = "*＊"
_NOTE_RE = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]$")
_MAX_LABEL_CHARS = 40
# A line under the records that is not one: totals, who filled it in, notes.
_FOOTER_RE = re.compile(r"^(合计|总计|小计|共计|累计|填表人|填报人|制表人|审核人|负责人|经办人|联系人|联系电话|备注|说明"
                        r"|填表说明|填报说明|填报日期|填表日期|单位盖章|盖章|注[:：0-9一二三、])")
_HEADER_ROWS_SEARCHED = 40  # a header row sits near the top of its table
_SPLIT_RE = re.compile(r"\t|\s{2,}|\u3000+")


@dataclass(frozen=True)
class ListView:
    """A list form compiled for reading: every spelling of every column, folded."""

    form: Form
    spellings: dict[str, str]  # folded spelling -> column key (or SERIAL)
    needed: int  # columns a row must name to be the header row

    @property
    def columns(self) -> tuple[Field, ...]:
        return self.form.fields


def _fold_label(text: str) -> str:
    return fold(text, lower=True).rstrip(_LABEL_SUFFIX).lstrip(_LABEL_PREFIX)


def _bare(folded: str) -> str:
    """Without the notes in brackets at its end: 手机号码(必填) -> 手机号码."""
    while True:
        stripped = _NOTE_RE.sub("", folded).rstrip(_LABEL_SUFFIX)
        if stripped == folded or not stripped:
            return stripped or folded
        folded = stripped


def _synonyms(field: Field) -> tuple[str, ...]:
    bare = re.sub(r"[\s\u3000]", "", field.label)
    known = KNOWN_LABELS.get(bare) or KNOWN_LABELS.get(_bare(bare))
    if known is None:
        return ()
    return tuple(label for label, (key, _) in KNOWN_LABELS.items() if key == known[0])


@lru_cache(maxsize=64)
def list_view(form: Form) -> ListView:
    if form.shape != LIST:
        raise ValueError(f"{form.form} is a {form.shape} form, not a list")
    spellings: dict[str, str] = {}
    own = {_fold_label(f.label) for f in form.fields} | {_bare(_fold_label(f.label)) for f in form.fields}
    for f in form.fields:  # its own words first: a synonym never takes another column's label
        for text in (f.label, *(form.column_headers[f.position - 1:f.position] if form.column_headers else ())):
            spellings.setdefault(_fold_label(text), f.key)
            spellings.setdefault(_bare(_fold_label(text)), f.key)
    for f in form.fields:
        for text in (*f.spellings, *(() if f.spellings else _synonyms(f))):
            folded = _fold_label(text)
            for spelling in (folded, _bare(folded)):
                if spelling and spelling not in own:
                    spellings.setdefault(spelling, f.key)
    for word in _SERIAL_WORDS:
        spellings.setdefault(word, SERIAL)
    n = len(form.fields)
    return ListView(form, spellings, max(min(2, n), math.ceil(n / 2)))


def _column_of(cell: str, view: ListView) -> str | None:
    if not cell or len(cell) > _MAX_LABEL_CHARS * 3:
        return None
    folded = _fold_label(cell)
    if len(folded) > _MAX_LABEL_CHARS:
        return None
    key = view.spellings.get(folded)
    if key is None:
        key = view.spellings.get(_bare(folded))
    return key


def _row_columns(row: tuple[str, ...], view: ListView) -> dict[int, str]:
    """Column index -> key for the cells of `row` that are column labels (a merged label
    cell once: its first column)."""
    out: dict[int, str] = {}
    seen: set[str] = set()
    for c, cell in enumerate(row):
        if c and row[c - 1] == cell:
            continue
        key = _column_of(cell, view)
        if key and key not in seen:
            out[c] = key
            seen.add(key)
    return out


def _named(columns: dict[int, str]) -> int:
    return sum(1 for key in columns.values() if key != SERIAL)


@dataclass(frozen=True)
class _Header:
    table: int
    start: int  # the first row under the header
    columns: dict[int, str]  # column index -> key (SERIAL for 序号)

    @property
    def named(self) -> int:
        return _named(self.columns)


def _header_in(rows: tuple[tuple[str, ...], ...], view: ListView, table: int) -> _Header | None:
    best: _Header | None = None
    for r, row in enumerate(rows[:_HEADER_ROWS_SEARCHED]):
        columns = _row_columns(row, view)
        if _named(columns) < 1:
            continue
        start = r + 1
        if r + 1 < len(rows):  # a second header row: labels under a group label
            below = _row_columns(rows[r + 1], view)
            extra = {c: key for c, key in below.items() if key not in columns.values()
                     and (c not in columns or rows[r][c] != rows[r + 1][c])}
            if extra and _named(extra) >= 1:
                columns = {c: k for c, k in columns.items() if c not in extra} | extra
                columns = dict(sorted(columns.items()))
                start = r + 2
        header = _Header(table, start, columns)
        if header.named >= view.needed and (best is None or header.named > best.named):
            best = header
    return best


def _line_rows(doc: Document) -> tuple[tuple[str, ...], ...]:
    """Paragraph lines as rows of cells (tabs and runs of spaces separate cells): the shape a
    PDF's text layer or a converted text gives a table."""
    rows = []
    for paragraph in doc.paragraphs:
        for line in paragraph.split("\n"):
            cells = tuple(piece.strip() for piece in _SPLIT_RE.split(line.strip()) if piece.strip())
            if cells:
                rows.append(cells)
    return tuple(rows)


def _tables(doc: Document) -> list[tuple[tuple[str, ...], ...]]:
    return [t.rows for t in doc.tables]


def _headers(doc: Document, view: ListView) -> tuple[list[tuple[tuple[str, ...], ...]], list[_Header]]:
    tables = _tables(doc)
    headers = [h for i, rows in enumerate(tables) if (h := _header_in(rows, view, i))]
    if not headers:
        lines = _line_rows(doc)
        tables = [lines]
        header = _header_in(lines, view, 0) if lines else None
        headers = [header] if header else []
    return tables, headers


def list_fit(doc: Document, form: Form) -> float:
    """How well the best header row of `doc` fits the form's columns: the share of its columns
    it names (0 when no row names enough of them)."""
    view = list_view(form)
    _, headers = _headers(doc, view)
    if not headers or not view.columns:
        return 0.0
    return max(h.named for h in headers) / len(view.columns)


def looks_like_list(doc: Document, form: Form) -> bool:
    """By content: a row of the document names at least half the form's columns (two at
    least) as a header row."""
    return list_fit(doc, form) > 0


def reason_no_header(form: Form) -> str:
    labels = "、".join(f.label for f in form.fields[:4])
    return f"未能在文件中找到{form.title or form.form}的表头（{labels}等栏目），请使用{form.form}的表格填写"


def reason_no_records(form: Form) -> str:
    return f"{form.title or form.form}的表头下没有填写任何记录，请填写后重新发送"


def _is_person_name(field: Field) -> bool:
    return field.key == "name" or field.label.endswith("姓名")


def _cell(row: tuple[str, ...], c: int) -> str:
    return row[c] if c < len(row) else ""


def _clean(value: str) -> str:
    lines = [line.strip() for line in (value or "").replace("\r", "\n").split("\n")]
    return " ".join(line for line in lines if line)


def _is_footer(row: tuple[str, ...]) -> bool:
    first = next((cell for cell in row if cell.strip()), "")
    return bool(_FOOTER_RE.match(fold(first)))


def _required_wording(field: Field) -> str:
    return f"{field.short or field.label}（必填）"


def parse_list(doc: Document, form: Form) -> FormResult:
    """Every record of a filled list form, each cell typed and checked."""
    view = list_view(form)
    tables, headers = _headers(doc, view)
    key = form.list_key or "records"
    if not headers:
        return FormResult(form.item, ERROR, values={key: []}, reason=reason_no_header(form), form=form.form,
                          campaign=form.campaign)
    records: list[dict] = []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    several = len(headers) > 1
    for n, header in enumerate(headers, 1):
        rows = tables[header.table]
        where_table = f"第{n}张表 " if several else ""
        columns = {c: k for c, k in header.columns.items() if k != SERIAL}
        for position, row in enumerate(rows[header.start:], 1):
            if _is_footer(row):
                break
            cells = {k: _clean(_cell(row, c)) for c, k in columns.items()}
            if all(is_blank_marker(text) for text in cells.values()):
                continue  # a blank row, or one holding only its 序号
            if all(is_blank_marker(text) or _column_of(text, view) for text in cells.values()):
                continue  # header cells again: a merged header's second row, a header repeated on a page
            i = len(records)
            record: dict[str, object] = {}
            for f in form.fields:
                written = cells.get(f.key, "")
                result = normalize_typed(f.type, written)
                value = result.value
                if f.type == TEXT and value is not None and _is_person_name(f):
                    value = compact_name(value)
                record[f.key] = value
                label = f"{where_table}第{position}行 {f.label}"
                problem_key = f"{key}[{i}].{f.key}"
                if result.error:
                    errors.append(Problem(problem_key, label, written, result.error))
                elif value is None and f.required:
                    errors.append(Problem(problem_key, label, written, _required_wording(f)))
                elif result.warning:
                    warnings.append(Problem(problem_key, label, written, EXPECT_NUMBER, value))
            records.append(record)
    if not records:
        return FormResult(form.item, ERROR, values={key: []}, reason=reason_no_records(form), form=form.form,
                          campaign=form.campaign)
    return FormResult(form.item, PARSED, values={key: records}, errors=tuple(errors), warnings=tuple(warnings),
                      form=form.form, campaign=form.campaign)
