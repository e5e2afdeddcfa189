"""A prose form's header line (2020: 填报单位（盖章） / 联系人 / 电话 / 填报日期), wherever the unit
put it (a paragraph above the table, a row of it, one cell per label or all in one).

The labels are the form's own header fields, each matched with spaces allowed between its
characters and its bracketed part optional (`填报单位` for `填报单位（盖章）`); a label ending in
日期 may be written …时间, one ending in 电话 may be written 联系电话 (but 办公电话 is a
different field's).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from bot.forms.document import Document
from bot.forms.progress.align import dedupe_row
from bot.forms.progress.folding import MAX_ROWS
from bot.forms.progress_template import ProseTemplate, prose_template
from bot.forms.values import normalize_text

_HEADER_TRIM = " \t\u3000_＿:：；;，,。"
_PIECE_SPLIT_RE = re.compile(r"[\t\n]")
_LABEL_RE = re.compile(r"^(?P<bare>.*?)[ \u3000]*(?:[（(](?P<aside>[^）)]*)[）)])?$")
_MAX_LINE = 300


def _spaced(words: str) -> str:
    """`words` with any spacing between its characters."""
    return r"\s*".join(re.escape(ch) for ch in words if not ch.isspace())


def _split(label: str) -> tuple[str, str]:
    """A label's words and its bracketed part: 填报单位（盖章） -> 填报单位, 盖章."""
    match = _LABEL_RE.match(label.strip())
    bare, aside = match.group("bare").strip(), (match.group("aside") or "").strip()
    if not bare:  # a label that is all bracket
        return label.strip() or label, ""
    return bare, aside


def _bare(label: str) -> str:
    return _split(label)[0]


def label_pattern(label: str) -> str:
    """The regex one header label is found by."""
    bare, aside = _split(label)
    if bare.endswith(("日期", "时间")) and len(bare) > 2:
        core = _spaced(bare[:-2]) + r"\s*(?:日\s*期|时\s*间)"
    elif bare.endswith("电话"):
        core = r"(?<!办公)" + (r"(?:联\s*系\s*)?" if bare == "电话" else "") + _spaced(bare)
    else:
        core = _spaced(bare)
    if aside:
        core += r"(?:\s*[（(]\s*" + _spaced(aside) + r"\s*[）)])?"
    return core


@dataclass(frozen=True)
class HeaderReader:
    pattern: re.Pattern  # every label, one named group each (h0, h1, … in HEADER_KEYS order)
    keys: tuple[str, ...]
    first: re.Pattern | None  # the first label: the line holding it is the header line
    initials: frozenset[str]  # the characters any label can start with

    def may_hold_header(self, line: str) -> bool:
        # a line without any label's first character adds nothing
        return len(line) <= _MAX_LINE and any(ch in line for ch in self.initials)


def _build(template: ProseTemplate) -> HeaderReader:
    keys = template.HEADER_KEYS
    patterns = [(len(label), f"(?P<h{n}>{label_pattern(label)})")
                for n, (label, _) in enumerate(template.HEADER_FIELDS) if _bare(label)]
    # longest first: a label that begins a longer one (电话 / 电话号码) is tried after it
    ordered = [p for _, p in sorted(patterns, key=lambda lp: -lp[0])]
    initials: set[str] = set()
    for label, _ in template.HEADER_FIELDS:
        bare = _bare(label)
        if not bare:
            continue
        initials.add(bare[0])
        if bare == "电话":  # 联系电话
            initials.add("联")
    first_label = _bare(template.HEADER_FIELDS[0][0]) if keys else ""
    first = re.compile(label_pattern(first_label)) if first_label else None
    pattern = re.compile("|".join(ordered)) if ordered else re.compile(r"(?!x)x")
    return HeaderReader(pattern, keys, first, frozenset(initials))


_LOCK = threading.Lock()


def header_reader(template: ProseTemplate | None = None) -> HeaderReader:
    """The header reading of `template` (None: the shipped 附件2), built once and kept on it."""
    template = template or prose_template()
    found = template.__dict__.get("_header_reader")
    if found is None:
        with _LOCK:
            found = template.__dict__.get("_header_reader")
            if found is None:
                found = template.__dict__["_header_reader"] = _build(template)
    return found


def header_lines(doc: Document, template: ProseTemplate | None = None) -> list[str]:
    reader = header_reader(template)
    lines = [line for line in doc.paragraphs[:MAX_ROWS] if reader.may_hold_header(line)]
    for table in doc.tables:
        for row in table.rows[:MAX_ROWS]:
            line = "\t".join(dedupe_row(row))
            if reader.may_hold_header(line):
                lines.append(line)
    # the line holding the first label (填报单位) is the header line; others only fill what it lacks
    first = reader.first
    if first is None:
        return lines
    return sorted(lines, key=lambda line: 0 if first.search(line) else 1)


def read_header(doc: Document, template: ProseTemplate | None = None) -> dict[str, str | None]:
    reader = header_reader(template)
    values: dict[str, str | None] = {}
    for line in header_lines(doc, template):
        matches = list(reader.pattern.finditer(line))
        for m, match in enumerate(matches):
            key = reader.keys[int(match.lastgroup[1:])]
            if values.get(key) is not None:
                continue
            end = matches[m + 1].start() if m + 1 < len(matches) else len(line)
            raw = line[match.end() : end].lstrip(" \t\u3000:：")
            pieces = [p.strip(_HEADER_TRIM) for p in _PIECE_SPLIT_RE.split(raw)]
            piece = next((p for p in pieces if p), "")
            values[key] = normalize_text(piece).value
    return {key: values.get(key) for key in reader.keys}
