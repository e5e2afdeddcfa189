"""A campaign's forms as data: what a blank template (.docx / .xlsx) holds, in three shapes.

* grid (附件1): label cells, each with an empty value cell beside or below it;
* prose (附件2): a table whose cells hold prose with blanks — every `（ ）` / `( )` holding
  only spaces is a blank; bracketed text (`社区（村）`) is wording; a header line of
  `label：` pairs above the table;
* list (名单 / 花名册 / 汇总表): a header row and empty rows under it, a list of records.

`derive_form` reads the shape and the fields from the blank file itself; `build_form` lays a
campaign.toml `[[forms]]` table over it (keys, labels, short labels, types the clerk named).
Pure: bytes and dicts in, frozen dataclasses out; the one place that decides a blank's type
from the words around it.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

GRID, PROSE, LIST = "grid", "prose", "list"
SHAPES = (GRID, PROSE, LIST)
ONE, MANY = "one", "many"
INT, TEXT, DATE, MOBILE, PHONE, EMAIL, ID_NUMBER = "int", "text", "date", "mobile", "phone", "email", "id_number"
GENDER, QQ = "gender", "qq"  # the 2020 附件1's own checks (男/女, 5–12 digits)
FIELD_TYPES = (INT, TEXT, DATE, MOBILE, PHONE, EMAIL, ID_NUMBER, GENDER, QQ)
TYPE_NAMES = {INT: "整数", TEXT: "文字", DATE: "日期", MOBILE: "手机号码", PHONE: "电话号码", EMAIL: "电子邮箱",
              ID_NUMBER: "身份证号", GENDER: "性别（男/女）", QQ: "QQ号"}

# A blank is a bracket pair holding nothing but spaces, whichever width each bracket has.
BLANK_RE = re.compile(r"[（(][ \u3000\u00a0]*[）)]")
# A measure word right after a blank means the blank counts something (forms.md).
_MEASURE_RE = re.compile(r"^[ \u3000]*(条微视频|人次|场次|个次|万元|人|场|次|个|部|篇|条|家|项|名|所|户|期|份|支|处|批|件|天|组|起|元|位)")
# Words around a blank that make it text: 以（ ）等形式, 创新开展（ ）活动, （ ）等方式.
_TEXT_BEFORE_RE = re.compile(r"(以|开展|通过|采取|主题为|名称为|内容为)[ \u3000]*$")
_TEXT_AFTER_RE = re.compile(r"^[ \u3000]*(等形式|等方式|等活动|活动|为主题|等)")
_CLAUSE_END = "，,；;。！？!?\n、："


class DefinitionError(ValueError):
    """A campaign definition that cannot be used; the message is Chinese, for the clerk."""


@dataclass(frozen=True)
class Field:
    key: str  # the values' key (forms.md's for 2020), unique in its form
    label: str  # the form's own words around the field, to find it in the form
    short: str  # what it counts, for people reading totals and read-backs
    type: str  # one of FIELD_TYPES
    position: int  # 1-based in template order
    spellings: tuple[str, ...] = ()  # grid: other ways units write the label
    required: bool = False
    header: bool = False  # a prose form's header-line field (header.*)
    section: int = -1  # prose: index of the table row holding the blank
    number: int = 0  # prose: 1-based blank number (header fields: 0)
    guessed: str = ""  # why the type was chosen, when it was guessed from the words around it


@dataclass(frozen=True)
class Section:
    """One row of a prose form's table: its names and its prose, cut at its blanks."""

    name: str  # 活动项目
    requirements: str  # 内容要求
    progress: str  # 进展情况, blanks exactly as printed
    parts: tuple[str, ...]  # literal, blank text, literal, …, literal
    category: str = ""  # a merged category cell to the left, if any
    category_continued: bool = False  # that cell is the one of the section above (merged down)


@dataclass(frozen=True)
class Form:
    form: str  # 附件1
    title: str  # “安全生产月”活动联络员推荐表
    shape: str  # GRID | PROSE | LIST
    fields: tuple[Field, ...]  # template order (prose: header fields, then blanks; list: columns)
    file: str = ""  # the blank template, relative to the campaign folder
    item: str = ""  # the campaign item this form is submitted as
    per_unit: str = ONE  # ONE: the latest version wins; MANY: each distinct filled copy is a record
    liaison: bool = False  # its name / mobile / email become the unit's liaison for reminders
    sections: tuple[Section, ...] = ()  # prose
    column_headers: tuple[str, ...] = ()  # prose: the table's header row; list: the columns' own words
    header_line: str = ""  # prose: the header line as printed (labels and their gaps)
    list_key: str = ""  # list: the key of the records in values
    grid_rows: tuple[tuple[str, ...], ...] = ()  # grid: field keys per printed row
    recognition: tuple[str, ...] = ()  # phrases of the form's own wording that identify it
    campaign: str = ""  # the slug of the campaign whose form this is

    @property
    def header_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.header)

    @property
    def blanks(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.header)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def as_json(self) -> dict:
        out: dict[str, Any] = {"form": self.form, "title": self.title, "shape": self.shape,
                               "per_unit": self.per_unit, "item": self.item}
        if self.shape == LIST:
            out["list_key"] = self.list_key
        out["fields"] = [{"key": f.key, "label": f.label, "short": f.short, "type": f.type,
                          "position": f.position} for f in self.fields]
        return out


@dataclass(frozen=True)
class DocumentItem:
    """An item that is not a form: a free document (总结) or the weekly report."""

    item: str  # summary | weekly_report | …
    kind: str  # "document" | "weekly"
    keywords: tuple[str, ...]  # words in a file name, title or subject that name it


@dataclass(frozen=True)
class CampaignForms:
    """What reading an attachment needs to know of one campaign (picklable, for the reading
    workers): its forms, its other items and the words that name the campaign."""

    campaign: str  # slug
    keywords: tuple[str, ...]
    forms: tuple[Form, ...]
    documents: tuple[DocumentItem, ...] = ()


# ---------------------------------------------------------------------------- derivation

@dataclass(frozen=True)
class _Grid:
    rows: tuple[tuple[str, ...], ...]
    # per row, the columns whose cell continues the vertically merged cell above it
    continued: tuple[frozenset[int], ...] = ()


@dataclass(frozen=True)
class _Blank:
    paragraphs: tuple[str, ...]  # body paragraphs outside tables, in order
    tables: tuple[_Grid, ...]
    before_first_table: tuple[str, ...]  # the paragraphs above the first table


def _docx_blank(data: bytes) -> _Blank:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    paragraphs, tables, before = [], [], []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(child, document).text
            paragraphs.append(text)
            if not tables:
                before.append(text)
        elif tag == "tbl":
            table = Table(child, document)
            tables.append(_Grid(tuple(tuple(cell.text for cell in row.cells) for row in table.rows),
                                tuple(_docx_continued(row) for row in table.rows)))
    return _Blank(tuple(paragraphs), tuple(tables), tuple(before))


def _docx_continued(row) -> frozenset[int]:
    out, column = set(), getattr(row, "grid_cols_before", 0)
    for tc in row._tr.tc_lst:
        if tc.vMerge == "continue":
            out.add(column)
        column += tc.grid_span
    return frozenset(out)


def _xlsx_blank(data: bytes) -> _Blank:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheet = book.worksheets[0]
    grid = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    continued: list[set[int]] = [set() for _ in grid]
    for merged in sheet.merged_cells.ranges:
        value = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row - 1, merged.max_row):
            for c in range(merged.min_col - 1, merged.max_col):
                grid[r][c] = value
                if r > merged.min_row - 1:
                    continued[r].add(c)
    # lines above the table (a title, a header line merged across) are paragraphs
    before, body, body_continued = [], [], []
    for row, below in zip(grid, continued):
        distinct = [c for i, c in enumerate(row) if c.strip() and (i == 0 or row[i - 1] != c)]
        if not body and len(distinct) <= 1:
            before.append(distinct[0] if distinct else "")
        else:
            body.append(tuple(row))
            body_continued.append(frozenset(below))
    grids = (_Grid(tuple(body), tuple(body_continued)),) if body else ()
    return _Blank(tuple(before), grids, tuple(before))


def read_blank(data: bytes, filename: str) -> _Blank:
    suffix = Path(filename).suffix.lower()
    try:
        if suffix == ".docx":
            return _docx_blank(data)
        if suffix == ".xlsx":
            return _xlsx_blank(data)
    except Exception as exc:  # a template the clerk supplied: say which and why, in one line
        raise DefinitionError(f"空白表格 {filename} 无法打开：{exc}") from None
    raise DefinitionError(f"空白表格 {filename} 应为 .docx 或 .xlsx 文件（.doc/.wps 请先另存为 .docx）")


def _title_and_label(paragraphs: Iterable[str]) -> tuple[str, str]:
    """The 附件N label and the title: the first non-empty lines above the table."""
    label, title = "", ""
    for text in paragraphs:
        line = text.strip()
        if not line:
            continue
        match = re.match(r"^附\s*件\s*([0-9０-９一二三四五六七八九十]+)[：:]?\s*(.*)$", line)
        if match and not label:
            label = "附件" + unicodedata.normalize("NFKC", match.group(1))
            if match.group(2):
                title = match.group(2).strip()
            continue
        if not title and not re.search(r"[：:]", line):
            title = line
        if label and title:
            break
    return label, title


def _distinct(row: tuple[str, ...]) -> list[tuple[int, str]]:
    """A row's cells without the repeats of a horizontally merged cell."""
    out = []
    for i, cell in enumerate(row):
        if i and row[i - 1] == cell:
            continue
        out.append((i, cell))
    return out


def blank_type(before: str, after: str) -> tuple[str, str]:
    """A blank's type from the words around it, and the words that decided it."""
    measure = _MEASURE_RE.match(after)
    if _TEXT_AFTER_RE.match(after) and (_TEXT_BEFORE_RE.search(before) or not measure):
        words = _TEXT_AFTER_RE.match(after).group(1)
        return TEXT, f"空格后为“{words}”"
    if measure:
        return INT, f"空格后为量词“{measure.group(1)}”"
    if _TEXT_BEFORE_RE.search(before):
        return TEXT, f"空格前为“{_TEXT_BEFORE_RE.search(before).group(1)}”"
    return TEXT, "未见量词，按文字处理"


def _quoted(text: str) -> list[bool]:
    """For each character: whether it lies inside “…” (a quoted name such as “查隐患、保安全”,
    whose 、 does not end the clause)."""
    inside, depth = [], 0
    for ch in text:
        if ch == "“":
            depth += 1
        inside.append(depth > 0)
        if ch == "”" and depth:
            depth -= 1
    return inside


def _clause_around(text: str, start: int, end: int) -> str:
    """The blank's label: its clause, from the previous clause mark (or blank) to the next;
    marks inside quotation marks belong to the quoted name."""
    quoted = _quoted(text)
    left = 0
    for match in BLANK_RE.finditer(text, 0, start):
        left = match.end()
    for i in range(start - 1, left - 1, -1):
        if text[i] in _CLAUSE_END and not quoted[i]:
            left = i + 1
            break
    nxt = BLANK_RE.search(text, end)
    right = nxt.start() if nxt else len(text)
    for i in range(end, right):
        if text[i] in _CLAUSE_END and not quoted[i]:
            right = i
            break
    return (text[left:start].strip(" \u3000") + "（ ）" + text[end:right].strip(" \u3000")).strip(" \u3000")


def _cut(progress: str) -> tuple[str, ...]:
    parts, last = [], 0
    for match in BLANK_RE.finditer(progress):
        parts.append(progress[last:match.start()])
        parts.append(match.group())
        last = match.end()
    parts.append(progress[last:])
    return tuple(parts)


_HEADER_PAIR_RE = re.compile(r"([^：:\s\u3000]+?(?:（[^）]*）)?)[：:]")


def _header_labels(line: str) -> list[str]:
    return [m.group(1) for m in _HEADER_PAIR_RE.finditer(line)]


# Labels people print on forms, and the key and type each gets when the definition names none.
KNOWN_LABELS: dict[str, tuple[str, str]] = {
    "姓名": ("name", TEXT), "性别": ("gender", GENDER), "职务": ("title", TEXT), "职务职称": ("title", TEXT),
    "办公电话": ("office_phone", PHONE), "手机": ("mobile", MOBILE), "手机号": ("mobile", MOBILE),
    "手机号码": ("mobile", MOBILE), "传真": ("fax", TEXT), "QQ号": ("qq", QQ), "QQ": ("qq", QQ),
    "微信号": ("wechat", TEXT), "电子邮箱": ("email", EMAIL), "邮箱": ("email", EMAIL),
    "单位名称": ("unit_name", TEXT), "单位": ("unit_name", TEXT), "工作单位": ("unit_name", TEXT),
    "通信地址": ("address", TEXT), "通讯地址": ("address", TEXT), "地址": ("address", TEXT),
    "联系电话": ("phone", PHONE), "电话": ("phone", PHONE), "联系人": ("contact", TEXT),
    "身份证号": ("id_number", ID_NUMBER), "身份证号码": ("id_number", ID_NUMBER),
    "出生日期": ("birth_date", DATE), "出生年月": ("birth_date", DATE), "日期": ("date", DATE),
    "填报日期": ("fill_date", DATE), "填报单位": ("unit_name", TEXT), "填报单位（盖章）": ("unit_name", TEXT),
    "年龄": ("age", INT), "人数": ("count", INT), "民族": ("ethnicity", TEXT), "学历": ("education", TEXT),
    "政治面貌": ("political_status", TEXT), "备注": ("note", TEXT), "岗位": ("post", TEXT), "工种": ("trade", TEXT),
}
# Words in a column header that give its type.
_TYPE_WORDS = ((ID_NUMBER, ("身份证",)), (MOBILE, ("手机",)), (EMAIL, ("邮箱", "邮件")),
               (PHONE, ("电话",)), (DATE, ("日期", "时间", "年月")),
               (INT, ("人数", "数量", "年龄", "金额", "次数", "场次", "人次", "个数", "（个）", "（人）", "（元）", "（万元）")))


def _label_type(label: str) -> tuple[str, str]:
    folded = re.sub(r"[\s\u3000]", "", label)
    if folded in KNOWN_LABELS:
        return KNOWN_LABELS[folded][1], f"栏目名为“{folded}”"
    for type_, words in _TYPE_WORDS:
        for word in words:
            if word in folded:
                return type_, f"栏目名含“{word}”"
    return TEXT, "按文字处理"


def _label_key(label: str, taken: set[str], fallback: str) -> str:
    folded = re.sub(r"[\s\u3000]", "", label)
    key = KNOWN_LABELS.get(folded, (fallback, ""))[0]
    if key in taken:
        key = fallback
    while key in taken:
        key += "_"
    taken.add(key)
    return key


def _is_label_cell(text: str) -> bool:
    t = re.sub(r"[\s\u3000]", "", text).rstrip("：:*＊")
    return 0 < len(t) <= 12 and not any(ch.isdigit() for ch in t) and not BLANK_RE.search(text)


def _prose(blank: _Blank, table: _Grid) -> tuple[tuple[Section, ...], tuple[str, ...], str, list[Field]]:
    header_line = ""
    for text in blank.before_first_table:
        if len(_header_labels(text)) >= 2:
            header_line = text
    fields: list[Field] = []
    taken: set[str] = set()
    for label in _header_labels(header_line):
        bare = re.sub(r"（[^）]*）$", "", label)
        key = "header." + _label_key(bare if bare in KNOWN_LABELS else label, taken, f"field{len(fields) + 1}")
        type_, why = _label_type(bare)
        fields.append(Field(key, label, bare, type_ if type_ in (TEXT, DATE, PHONE, MOBILE) else TEXT,
                            len(fields) + 1, header=True, guessed=why))
    column_headers: tuple[str, ...] = ()
    sections: list[Section] = []
    number = 0
    spots: list[tuple[int, str, int, int]] = []  # each blank: its field, its prose, where it is
    for r, row in enumerate(table.rows):
        cells = _distinct(row)
        with_blanks = [i for i, (_, text) in enumerate(cells) if BLANK_RE.search(text)]
        if not with_blanks:
            if not sections and not column_headers:
                column_headers = tuple(text for _, text in cells)
            continue
        k = with_blanks[-1]
        progress = cells[k][1]
        left = [text for _, text in cells[:k]]
        requirements = left[-1] if len(left) >= 2 else ""
        name = left[-2] if len(left) >= 2 else (left[0] if left else "")
        category = left[0] if len(left) >= 3 else ""
        continued = bool(category) and r < len(table.continued) and cells[0][0] in table.continued[r]
        index = len(sections)
        sections.append(Section(name, requirements, progress, _cut(progress), category, continued))
        for match in BLANK_RE.finditer(progress):
            number += 1
            type_, why = blank_type(progress[:match.start()], progress[match.end():])
            label = _clause_around(progress, match.start(), match.end())
            spots.append((len(fields), progress, match.start(), match.end()))
            fields.append(Field(f"b{number:02d}", label, label.replace("（ ）", "…"), type_, len(fields) + 1,
                                section=index, number=number, guessed=why))
    _widen_shorts(fields, spots)
    return tuple(sections), column_headers, header_line, fields


def _wider(text: str, start: int, end: int, level: int) -> str:
    """The blank's clause with `level` clauses before it (blanks do not cut here), blanks as …"""
    left = max(text.rfind(mark, 0, start) for mark in _CLAUSE_END) + 1
    for _ in range(level):
        if left <= 0:
            break
        left = max(text.rfind(mark, 0, left - 1) for mark in _CLAUSE_END) + 1
    nxt = BLANK_RE.search(text, end)
    right = nxt.start() if nxt else len(text)
    for mark in _CLAUSE_END:
        found = text.find(mark, end, right)
        if found != -1:
            right = found
    words = re.sub(r"\n[ \u3000]*", "", text[left:right]).strip(" \u3000")
    return BLANK_RE.sub("…", words)


def _widen_shorts(fields: list[Field], spots: list[tuple[int, str, int, int]]) -> None:
    """Blanks whose clause reads the same (参与（ ）人次 in several rows) get the clauses before
    theirs, until each short label says on its own what it counts; a last tie is numbered."""
    for level in (1, 2, 3):
        shorts = [f.short for f in fields if not f.header]
        dup = {s for s in shorts if shorts.count(s) > 1}
        if not dup:
            return
        for i, text, start, end in spots:
            if fields[i].short in dup:
                fields[i] = replace(fields[i], short=_wider(text, start, end, level))
    _number_shorts(fields)


def _number_shorts(fields: list[Field]) -> None:
    """Short labels still alike (a grid printing 电话 twice) are told apart by their order."""
    shorts = [f.short for f in fields if not f.header]
    seen: dict[str, int] = {}
    for i, f in enumerate(fields):
        if not f.header and shorts.count(f.short) > 1:
            seen[f.short] = seen.get(f.short, 0) + 1
            fields[i] = replace(f, short=f"{f.short}（第{seen[f.short]}处）")


def _find_list(table: _Grid) -> int | None:
    """The header row of a list table: a row of short labels with at least two empty (or
    numbered-only) rows under it."""
    for r, row in enumerate(table.rows[:-2]):
        cells = [c for _, c in _distinct(row) if c.strip()]
        if len(cells) < 2 or not all(_is_label_cell(c) for c in cells):
            continue
        under = table.rows[r + 1:]
        empty = 0
        for below in under:
            rest = [c for c in below[1:] if c.strip()]
            if not rest and (not below[0].strip() or below[0].strip().isdigit()):
                empty += 1
            else:
                break
        if empty >= 2:
            return r
    return None


def derive_form(data: bytes, filename: str) -> Form:
    """Shape, title and fields of a blank template, with keys and labels generated."""
    blank = read_blank(data, filename)
    label, title = _title_and_label(blank.paragraphs)
    if not blank.tables:
        raise DefinitionError(f"空白表格 {filename} 中没有表格")
    prose_tables = [t for t in blank.tables if any(BLANK_RE.search(c) for row in t.rows for c in row)]
    if prose_tables:
        sections, headers, header_line, fields = _prose(blank, prose_tables[0])
        form = Form(label, title, PROSE, tuple(fields), file=filename, sections=sections,
                    column_headers=headers, header_line=header_line)
        return replace(form, recognition=recognition_phrases(form))
    table = blank.tables[0]
    head = _find_list(table)
    if head is not None:
        taken: set[str] = set()
        fields = []
        headers = []
        for _, text in _distinct(table.rows[head]):
            words = re.sub(r"[\s\u3000]", "", text)
            if not words or words in ("序号", "编号", "序"):
                continue
            type_, why = _label_type(words)
            fields.append(Field(_label_key(words, taken, f"col{len(fields) + 1}"), words, words, type_,
                                len(fields) + 1, guessed=why))
            headers.append(words)
        _number_shorts(fields)
        form = Form(label, title, LIST, tuple(fields), file=filename, column_headers=tuple(headers),
                    list_key="records")
        return replace(form, recognition=tuple(headers))
    taken = set()
    fields, grid_rows = [], []
    for r, row in enumerate(table.rows):
        keys = []
        cells = _distinct(row)
        for i, (c, text) in enumerate(cells):
            if not _is_label_cell(text):
                continue
            right = cells[i + 1][1] if i + 1 < len(cells) else None
            below = table.rows[r + 1][c] if r + 1 < len(table.rows) else None
            if (right is not None and not right.strip()) or (right is None and below is not None and not below.strip()):
                words = re.sub(r"[\s\u3000]", "", text).rstrip("：:*＊")
                type_, why = _label_type(words)
                key = _label_key(words, taken, f"field{len(fields) + 1}")
                fields.append(Field(key, words, words, type_, len(fields) + 1, guessed=why))
                keys.append(key)
        if keys:
            grid_rows.append(tuple(keys))
    if not fields:
        raise DefinitionError(f"空白表格 {filename}：未能认出栏目（栏目名旁或下方应留有空白格），也不是带（ ）空格的表格或名单表")
    _number_shorts(fields)
    form = Form(label, title, GRID, tuple(fields), file=filename, grid_rows=tuple(grid_rows))
    return replace(form, recognition=tuple(f.label for f in fields))


def recognition_phrases(form: Form) -> tuple[str, ...]:
    """Phrases that tell this prose form's text from a report about the same activities:
    pieces of its prose between blanks, long enough to be its own wording."""
    out: list[str] = []
    for section in form.sections:
        for literal in section.parts[::2]:
            for piece in re.split(r"[，,；;。、“”\"\n（）()]", literal):
                piece = piece.strip(" \u3000")
                if 4 <= len(piece) <= 16 and piece not in out:
                    out.append(piece)
    return tuple(out)


# ---------------------------------------------------------------------------- campaign.toml

_FIELD_KEYS = {"key", "label", "short", "type", "spellings", "required"}
_FORM_KEYS = {"form", "title", "file", "shape", "item", "per_unit", "liaison", "fields", "list_key"}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


def build_form(spec: dict, folder: Path, where: str) -> Form:
    """A `[[forms]]` table over the form derived from its blank file."""
    unknown = set(spec) - _FORM_KEYS
    if unknown:
        raise DefinitionError(f"{where}：不认识的设置 {', '.join(sorted(unknown))}")
    file = spec.get("file")
    if not isinstance(file, str) or not file:
        raise DefinitionError(f"{where}：缺少 file（空白表格文件名）")
    path = folder / file
    if not path.is_file():
        raise DefinitionError(f"{where}：找不到空白表格 {path}")
    derived = derive_form(path.read_bytes(), file)
    shape = spec.get("shape", derived.shape)
    if shape not in SHAPES:
        raise DefinitionError(f"{where}：shape 应为 grid、prose 或 list，实际为 {shape!r}")
    if shape != derived.shape:
        raise DefinitionError(f"{where}：shape 写的是 {shape}，但空白表格 {file} 看起来是 {derived.shape}")
    per_unit = spec.get("per_unit", ONE)
    if per_unit not in (ONE, MANY):
        raise DefinitionError(f"{where}：per_unit 应为 one 或 many")
    fields = list(derived.fields)
    named = spec.get("fields")
    if named is not None:
        if not isinstance(named, list) or len(named) != len(fields):
            raise DefinitionError(f"{where}：fields 列出 {len(named) if isinstance(named, list) else 0} 项，"
                                  f"空白表格 {file} 中有 {len(fields)} 项（须逐项对应，按表格顺序）")
        for i, (have, want) in enumerate(zip(fields, named)):
            fw = f"{where} 第{i + 1}项"
            if not isinstance(want, dict) or set(want) - _FIELD_KEYS:
                raise DefinitionError(f"{fw}：只能写 {', '.join(sorted(_FIELD_KEYS))}")
            type_ = want.get("type", have.type)
            if type_ not in FIELD_TYPES:
                raise DefinitionError(f"{fw}：type 应为 {'、'.join(FIELD_TYPES)} 之一，实际为 {type_!r}")
            key = want.get("key", have.key)
            if have.header and not key.startswith("header."):
                raise DefinitionError(f"{fw}：表头栏目的 key 须以 header. 开头")
            fields[i] = replace(have, key=key, label=want.get("label", have.label),
                                short=want.get("short", want.get("label", have.short)), type=type_,
                                spellings=tuple(want.get("spellings", ())), required=bool(want.get("required", False)),
                                guessed="" if "type" in want else have.guessed)
    keys = [f.key for f in fields]
    for key in keys:
        if not _KEY_RE.match(key):
            raise DefinitionError(f"{where}：key {key!r} 只能用小写字母、数字、下划线和点")
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise DefinitionError(f"{where}：key 重复：{', '.join(dup)}")
    shorts = [f.short for f in fields if not f.header]
    if len(set(shorts)) != len(shorts):
        dup = sorted({s for s in shorts if shorts.count(s) > 1})
        raise DefinitionError(f"{where}：简称（short）重复，读者无法区分：{'、'.join(dup)}")
    form = replace(derived, form=spec.get("form", derived.form), title=spec.get("title", derived.title),
                   fields=tuple(fields), file=file, item=spec.get("item", ""), per_unit=per_unit,
                   liaison=bool(spec.get("liaison", False)), list_key=spec.get("list_key", derived.list_key),
                   grid_rows=tuple(tuple(keys[[f.key for f in derived.fields].index(k)] for k in row)
                                   for row in derived.grid_rows))
    if not form.form:
        raise DefinitionError(f"{where}：缺少 form（如 附件1），空白表格中也未找到“附件N”字样")
    return form


def forms_in(folder: str | Path) -> tuple[Form, ...]:
    """The `[[forms]]` of a campaign folder's campaign.toml, each built over its blank file and
    given the item that names it. (campaign/definition loads the whole campaign; the forms
    layer needs only this.)"""
    import tomllib

    folder = Path(folder)
    path = folder / "campaign.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"{path}：无法读取：{exc}") from None
    items = {spec.get("form"): spec.get("item", "") for spec in data.get("items", []) if spec.get("form")}
    slug = data.get("campaign", {}).get("slug", folder.name)
    return tuple(replace(build_form(spec, folder, f"{path} 第{n}个 [[forms]]"), item=items.get(spec.get("form"), ""),
                         campaign=slug)
                 for n, spec in enumerate(data.get("forms", []), 1))


@lru_cache(maxsize=1)
def shipped_forms() -> tuple[Form, ...]:
    """The 2020 campaign's forms (附件1, 附件2), from the folder shipped in the repository."""
    from bot.resources import project_file

    return forms_in(project_file("campaigns", "2020-anqing-safety-month"))


def shipped_form(name: str) -> Form:
    return next(f for f in shipped_forms() if f.form == name)
