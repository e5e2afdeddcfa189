"""The 附件2 header line: 填报单位（盖章） / 联系人 / 联系电话 / 填报日期, wherever the unit put
it (a paragraph above the table, a row of it, one cell per label or all in one)."""
from __future__ import annotations

import re

from bot.forms.document import Document
from bot.forms.progress.align import dedupe_row
from bot.forms.progress.folding import MAX_ROWS
from bot.forms.progress_template import HEADER_KEYS
from bot.forms.values import normalize_text


_HEADER_RE = re.compile(
    r"(?P<unit>填\s*报\s*单\s*位(?:\s*[（(]\s*盖\s*章\s*[）)])?)"
    r"|(?P<contact>联\s*系\s*人)"
    r"|(?P<phone>(?<!办公)(?:联\s*系\s*)?电\s*话)"  # not 附件1's 办公电话
    r"|(?P<date>填\s*报\s*(?:日\s*期|时\s*间))"
)
_HEADER_GROUP_KEYS = {"unit": "header.unit_name", "contact": "header.contact", "phone": "header.phone",
                      "date": "header.fill_date"}
_HEADER_TRIM = " \t\u3000_＿:：；;，,。"
_UNIT_LABEL_RE = re.compile(r"填\s*报\s*单\s*位")
_PIECE_SPLIT_RE = re.compile(r"[\t\n]")


def _may_hold_header(line: str) -> bool:
    # every label _HEADER_RE knows starts with 填, 联 or 电: a line without them adds nothing
    return len(line) <= 300 and ("填" in line or "联" in line or "电" in line)


def header_lines(doc: Document) -> list[str]:
    lines = [line for line in doc.paragraphs[:MAX_ROWS] if _may_hold_header(line)]
    for table in doc.tables:
        for row in table.rows[:MAX_ROWS]:
            line = "\t".join(dedupe_row(row))
            if _may_hold_header(line):
                lines.append(line)
    # the line holding 填报单位 is the header line; others only fill what it lacks
    return sorted(lines, key=lambda line: 0 if _UNIT_LABEL_RE.search(line) else 1)


def read_header(doc: Document) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for line in header_lines(doc):
        matches = list(_HEADER_RE.finditer(line))
        for m, match in enumerate(matches):
            key = _HEADER_GROUP_KEYS[match.lastgroup]
            if values.get(key) is not None:
                continue
            end = matches[m + 1].start() if m + 1 < len(matches) else len(line)
            raw = line[match.end() : end].lstrip(" \t\u3000:：")
            pieces = [p.strip(_HEADER_TRIM) for p in _PIECE_SPLIT_RE.split(raw)]
            piece = next((p for p in pieces if p), "")
            values[key] = normalize_text(piece).value
    return {key: values.get(key) for key in HEADER_KEYS}
