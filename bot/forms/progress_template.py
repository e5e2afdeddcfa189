"""A prose-with-blanks form (the 2020 附件2, “安全生产月”活动进展情况统计表, or any other) as the
parser, the blank-form generator and the acknowledgements see it.

Nothing here is copied from a notice: a `ProseTemplate` is built from a `Form`
(bot/forms/definition.py) — the sections, their prose and the header line as the blank .docx
prints them (blanks exactly as printed, whichever bracket width; `社区（村）` is wording), the
keys, labels and short labels from the campaign's campaign.toml. `prose_template(form)` builds
one per form, once.

The module-level names (ITEMS, BLANKS, BLANKS_BY_KEY, HEADER_FIELDS, TITLE, …, render_header_line)
are the shipped 2020 附件2's template, built on first use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.forms.definition import BLANK_RE, INT, PROSE, TEXT, Form, shipped_form

__all__ = ["ActivityItem", "Blank", "BLANK_RE", "INT", "ProseTemplate", "SHIPPED", "TEXT", "blank_phrase",
           "numbered_label", "prose_template", "render_progress", "shipped_template", "title_own_part"]

SHIPPED = "附件2"  # the shipped campaign's prose form


@dataclass(frozen=True)
class Blank:
    key: str  # the values' key (forms.md's for 2020)
    type: str  # INT | TEXT (or another definition.FIELD_TYPES type the campaign named)
    label: str  # the text around the blank, for the unit to find it (acknowledgements)
    item: int = 0  # index into ITEMS
    number: int = 0  # 1-based position in the form
    short: str = ""  # what the blank counts, for people reading totals and read-backs
    lead: str = ""  # words before `label` that find a blank whose own words do not (blank_phrase)


@dataclass(frozen=True)
class ActivityItem:
    name: str  # 活动项目 (line breaks as in the blank)
    requirements: str  # 内容要求
    progress: str  # 进展情况 prose, blanks exactly as printed
    blanks: tuple[Blank, ...]
    # The prose cut at its blanks: literal, bracket text of blank 1, literal, ..., literal.
    parts: tuple[str, ...]
    category: str = ""  # the merged category cell to its left, if the table has one


# A title's lead that names the campaign rather than the form: 2021年“安全生产月”活动.
TITLE_LEAD_RE = re.compile(r"^\s*(?:[0-9０-９]{4}\s*年度?)?\s*(?:[“「『\"][^”」』\"]*[”」』\"])?\s*(?:活动)?")


def title_own_part(title: str) -> str:
    """What a title says of the form itself: “安全生产月”活动进展情况统计表 -> 进展情况统计表
    (the whole title when too little is left)."""
    core = TITLE_LEAD_RE.sub("", title, count=1).strip()
    return core if len(core) >= 4 else title.strip()


# The header line as printed: `label：` then the spaces where a unit types its value.
_HEADER_GAP_RE = re.compile(r"[：:]([ \u3000\u00a0\t_＿]*)")


def _header_parts(line: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """((text up to and including each colon, the gap after it), …) and what follows the last gap."""
    parts, position = [], 0
    for match in _HEADER_GAP_RE.finditer(line):
        parts.append((line[position : match.start(1)], match.group(1)))
        position = match.end()
    return tuple(parts), line[position:]


def _lead_ins(items: tuple[ActivityItem, ...], blanks: tuple[Blank, ...]) -> dict[str, str]:
    """For a blank whose own words do not find it in the form — a bare unit after it
    (`（ ）人次`) or words other blanks share (`参与（ ）人次`, four times in 2020) — the words of
    the blank before it in the same sentence (`组织观看（ ）场，（ ）人次` -> `组织观看…`)."""
    counts: dict[str, int] = {}
    for blank in blanks:
        counts[blank.label] = counts.get(blank.label, 0) + 1
    lead_ins: dict[str, str] = {}
    for item in items:
        for previous, blank in zip(item.blanks, item.blanks[1:]):
            before, _, after = blank.label.partition("（")
            vague = (not before.strip() and len(after.split("）")[-1].strip()) <= 3) or counts[blank.label] > 1
            lead = previous.label.split("（", 1)[0].split("(", 1)[0].strip()
            if vague and lead and "……" not in blank.label:
                lead_ins[blank.key] = lead + "…"
    return lead_ins


class ProseTemplate:
    """One prose form's wording and blanks, derived from its `Form`. The attribute names are
    the module's own (the 2020 template is `prose_template(shipped_form("附件2"))`)."""

    def __init__(self, form: Form):
        if form.shape != PROSE:
            raise ValueError(f"{form.form or form.title}: a {form.shape} form, not a prose form")
        self.form = form
        self.ATTACHMENT_LABEL = form.form
        self.TITLE = form.title
        self.COLUMN_HEADERS: tuple[str, ...] = tuple(form.column_headers)
        self.HEADER_FIELDS: tuple[tuple[str, str], ...] = tuple((f.label, f.key) for f in form.header_fields)
        self.HEADER_KEYS: tuple[str, ...] = tuple(key for _, key in self.HEADER_FIELDS)
        self.HEADER_LINE: str = form.header_line
        self._header_parts, self._header_tail = _header_parts(form.header_line)
        if len(self._header_parts) != len(self.HEADER_FIELDS):  # a line the colons do not cut cleanly
            self._header_parts = tuple((f"{label}：", "  ") for label, _ in self.HEADER_FIELDS)
            self._header_tail = ""
        self.HEADER_LINE_GAPS: tuple[str, ...] = tuple(gap for _, gap in self._header_parts)

        by_section: dict[int, list] = {}
        for field in form.blanks:
            by_section.setdefault(field.section, []).append(field)
        plain_items = []
        for index, section in enumerate(form.sections):
            fields = by_section.get(index, [])
            if (len(section.parts) - 1) // 2 != len(fields):
                raise ValueError(f"{form.form} section {index}: {(len(section.parts) - 1) // 2} blanks in the prose, "
                                 f"{len(fields)} fields")
            blanks = tuple(Blank(f.key, f.type, f.label, index, f.number, f.short) for f in fields)
            plain_items.append(ActivityItem(section.name, section.requirements, section.progress, blanks,
                                            section.parts, section.category))
        plain_blanks = tuple(blank for item in plain_items for blank in item.blanks)
        leads = _lead_ins(tuple(plain_items), plain_blanks)
        self.ITEMS: tuple[ActivityItem, ...] = tuple(
            ActivityItem(item.name, item.requirements, item.progress,
                         tuple(Blank(b.key, b.type, b.label, b.item, b.number, b.short, leads.get(b.key, ""))
                               for b in item.blanks),
                         item.parts, item.category)
            for item in plain_items)
        self.BLANKS: tuple[Blank, ...] = tuple(blank for item in self.ITEMS for blank in item.blanks)
        self.BLANKS_BY_KEY: dict[str, Blank] = {blank.key: blank for blank in self.BLANKS}
        self.BLANK_KEYS: tuple[str, ...] = tuple(blank.key for blank in self.BLANKS)
        self.SHORT_LABELS: dict[str, str] = {blank.key: blank.short for blank in self.BLANKS}
        self.ALL_KEYS: tuple[str, ...] = self.HEADER_KEYS + self.BLANK_KEYS

        # The merged category cells: (first item, end item) per cell, and each cell's words.
        groups: list[tuple[int, int]] = []
        for index, section in enumerate(form.sections):
            if not section.category:
                continue
            if (groups and groups[-1][1] == index and section.category_continued
                    and form.sections[index - 1].category == section.category):
                groups[-1] = (groups[-1][0], index + 1)
            else:
                groups.append((index, index + 1))
        self.CATEGORY_GROUPS: tuple[tuple[int, int], ...] = tuple(groups)
        self.CATEGORIES: tuple[str, ...] = tuple(self.ITEMS[first].category for first, _ in groups)
        self.CATEGORY: str = self.CATEGORIES[0] if self.CATEGORIES else ""

    def __repr__(self) -> str:
        return f"ProseTemplate({self.form.campaign or '-'}/{self.ATTACHMENT_LABEL}: {len(self.BLANKS)} blanks)"

    @property
    def has_category(self) -> bool:
        return bool(self.CATEGORY_GROUPS)

    @property
    def has_requirements(self) -> bool:
        return any(item.requirements for item in self.ITEMS)

    @property
    def column_spans(self) -> tuple[int, ...]:
        """How many table columns each of COLUMN_HEADERS spans: the table has a category column
        (if any), the name, the requirements (if any) and the prose; a header over both the
        category and the name (2020's 活动项目) spans two."""
        columns = int(self.has_category) + 1 + int(self.has_requirements) + 1
        headers = len(self.COLUMN_HEADERS)
        if headers == columns:
            return (1,) * headers
        if headers == columns - 1 and self.has_category:
            return (2,) + (1,) * (headers - 1)
        return ()

    @property
    def name_header(self) -> str:
        """The header over the 活动项目 column."""
        spans = self.column_spans
        if not spans:
            return self.COLUMN_HEADERS[0] if self.COLUMN_HEADERS else ""
        return self.COLUMN_HEADERS[1 if spans[0] == 1 and self.has_category else 0]

    @property
    def progress_header(self) -> str:
        """The header over the prose column."""
        return self.COLUMN_HEADERS[-1] if self.COLUMN_HEADERS else ""

    def render_header_line(self, header: dict[str, str] | None = None) -> str:
        """The header line with the given `header.*` values typed after each label's colon,
        the gaps as the blank prints them."""
        header = header or {}
        return "".join(f"{label}{header.get(key, '')}{gap}"
                       for (label, gap), key in zip(self._header_parts, self.HEADER_KEYS)) + self._header_tail


@lru_cache(maxsize=64)
def _template_of(form: Form) -> ProseTemplate:
    return ProseTemplate(form)


_BY_ID: dict[int, tuple[Form, ProseTemplate]] = {}


def prose_template(form: Form | None = None) -> ProseTemplate:
    """The template of a prose `form` (None: the shipped 2020 附件2), built once per form: the
    same object again for the same form, or for an equal one (a form unpickled in a worker)."""
    if form is None:
        return shipped_template()
    held = _BY_ID.get(id(form))
    if held is not None and held[0] is form:
        return held[1]
    template = _template_of(form)
    if len(_BY_ID) >= 256:
        _BY_ID.clear()
    _BY_ID[id(form)] = (form, template)
    return template


@lru_cache(maxsize=1)
def shipped_template() -> ProseTemplate:
    return _template_of(shipped_form(SHIPPED))


def blank_phrase(blank: Blank) -> str:
    """The blank's words as a reader finds it in the form: `组织观看…（ ）人次`."""
    return blank.lead + blank.label


def numbered_label(blank: Blank) -> str:
    """How a blank is named on its own, everywhere: its number in the form and what it counts
    (`12. 开展“啄木鸟”等活动的企业数`)."""
    return f"{blank.number}. {blank.short}"


def render_progress(
    item: ActivityItem,
    written: dict[str, str] | None = None,
    *,
    drop_parens_for: frozenset[str] | set[str] = frozenset(),
    drop_close_for: frozenset[str] | set[str] = frozenset(),
) -> str:
    """The item's prose with what a clerk typed put into its blanks.

    A key absent from `written` leaves the blank as printed; a key in `drop_parens_for` loses
    both brackets (`活动3场次`), one in `drop_close_for` loses its closing bracket.
    """
    written = written or {}
    out: list[str] = []
    for position, part in enumerate(item.parts):
        if position % 2 == 0:
            out.append(part)
            continue
        blank = item.blanks[position // 2]
        if blank.key not in written:
            out.append(part)
            continue
        value = written[blank.key]
        if blank.key in drop_parens_for:
            out.append(value)
        elif blank.key in drop_close_for:
            out.append(part[0] + value)
        else:
            out.append(part[0] + value + part[-1])
    return "".join(out)


# the helpers that need no template, for code that holds one
ProseTemplate.render_progress = staticmethod(render_progress)
ProseTemplate.blank_phrase = staticmethod(blank_phrase)
ProseTemplate.numbered_label = staticmethod(numbered_label)


def render_header_line(header: dict[str, str] | None = None) -> str:
    """The shipped 附件2's header line with the given `header.*` values typed in."""
    return shipped_template().render_header_line(header)


# The shipped 附件2's names, built from its definition on first use.
_SHIPPED_NAMES = frozenset({
    "ATTACHMENT_LABEL", "TITLE", "CATEGORY", "CATEGORIES", "COLUMN_HEADERS", "HEADER_FIELDS", "HEADER_KEYS",
    "HEADER_LINE", "HEADER_LINE_GAPS", "ITEMS", "BLANKS", "BLANKS_BY_KEY", "BLANK_KEYS", "SHORT_LABELS",
    "CATEGORY_GROUPS", "ALL_KEYS",
})


def __getattr__(name: str):
    if name in _SHIPPED_NAMES:
        value = getattr(shipped_template(), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
