"""Read a filled 附件2 (进展情况统计表) from a `Document`, whatever file it came from.

Blanks are found by aligning what the unit sent with the template's prose (progress_template),
never by counting parentheses: `社区（村）` is wording, and units delete brackets, retype
punctuation, break lines and repeat units. Two ways a blank's value is found:

* prose: cells or paragraphs that read like an activity item's 进展情况 text are gathered per
  item and aligned character by character (difflib) with the template prose; a blank's value is
  whatever lies between the template text matched just before and just after it;
* label rows: spreadsheets made with one row per blank put a label such as `组织观看（ ）场` in
  one cell and the value in the next; the label is matched to the blank whose surrounding
  template text it repeats, identical labels (`参与（ ）人次`) being taken in template order.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import accumulate

from bot.forms.document import Document
from bot.forms.progress_template import (
    ATTACHMENT_LABEL,
    BLANKS,
    CATEGORY,
    COLUMN_HEADERS,
    HEADER_KEYS,
    HEADER_LINE,
    INT,
    ITEMS,
    TITLE,
    Blank,
)
from bot.forms.result import ERROR, PARSED, PROGRESS_TABLE, FormResult, Problem
from bot.forms.values import EXPECT_NUMBER, normalize_int, normalize_text

UNLOCATABLE = "无法定位该项，请按模板填写"
REASON_NO_TABLE = "未能在文件中找到“安全生产月”活动进展情况统计表（附件2）的各项内容，请按附件2模板填写后重新发送"

_SEP = "\x00"  # between gathered segments; never in folded text
_HOLE = "\ue000"  # stands for a blank's inside in the folded template
_QUOTES = frozenset("“”‘’\"'「」『』〝〞")
_OPENING_QUOTES = "“‘「『〝"
_CLOSING_QUOTES = "”’」』〞"
# Width-folded by NFKC first; then the punctuation people swap for each other becomes one mark.
_CHAR_FOLD = {
    "[": "(", "【": "(", "〔": "(", "〖": "(",
    "]": ")", "】": ")", "〕": ")", "〗": ")",
    ";": ",", "、": ",", "。": ",", ".": ",", "．": ",", "，": ",", "；": ",",
}
# Bounds that keep a hostile or huge workbook from costing minutes: a real 附件2 has < 100
# rows and a few hundred characters per item.
_MAX_ROWS = 2_000
_MAX_STREAM = 5_000
_MAX_TEXT = 200_000
_MAX_LABEL = 40
_MAX_VALUE = 80


def _fold_code(code: int) -> str:
    ch = chr(code)
    return "".join(_CHAR_FOLD.get(f, f) for f in unicodedata.normalize("NFKC", ch)
                   if not (f.isspace() or f in _QUOTES or f == _SEP or f == _HOLE))


# Bounded: a hostile text with every code point in it does not grow a table past this; the
# characters beyond it are folded again at each sight.
_FOLD_TABLE_MAX = 65536


class _FoldTable(dict):
    """Code point -> what the character folds to, learnt by str.translate itself on first
    sight (`__missing__`), so folding a text is one C loop with no pass over it beforehand."""

    def __missing__(self, code: int) -> str:
        folded = _fold_code(code)
        if len(self) < _FOLD_TABLE_MAX:
            self[code] = folded
        return folded


class _MarkTable(dict):
    """The same, length-preserving: a dropped character becomes _SEP (which folding itself
    always drops, so no kept character ever becomes _SEP). A character that folds to several
    (㈠ -> (一)) is never stored: it is left as it is and noted in `seen.expanded`, per thread
    (str.translate calls `__missing__` in the caller's thread), so the caller knows the marked
    text is not the folded one."""

    seen = threading.local()

    def __missing__(self, code: int) -> str:
        folded = _FOLD_TABLE[code]
        if len(folded) > 1:
            _MarkTable.seen.expanded = True
            return chr(code)
        marked = folded or _SEP
        if len(self) < _FOLD_TABLE_MAX:
            self[code] = marked
        return marked


_FOLD_TABLE = _FoldTable()
_MARK_TABLE = _MarkTable()


def _fold_char(ch: str) -> str:
    return _FOLD_TABLE[ord(ch)]


@dataclass(frozen=True)
class _FoldedText:
    """Folded text that can tell where each of its characters came from in the original,
    without a list as long as the text: for each character folding dropped, how many kept
    characters precede it (a non-decreasing sequence), and bisect."""

    folded: str
    kept_before: tuple[int, ...]

    def original(self, position: int) -> int:
        # the dropped characters before the folded one at `position` are those with at most
        # `position` kept characters before them
        return position + bisect_right(self.kept_before, position)

    @property
    def dropped(self) -> tuple[int, ...]:
        """Where in the original the dropped characters are."""
        return tuple(kept + n for n, kept in enumerate(self.kept_before))


def _fold_text(text: str) -> _FoldedText | None:
    """`text` folded, or None when a character expands (rare: the caller folds one by one)."""
    _MarkTable.seen.expanded = False
    marked = text.translate(_MARK_TABLE)
    if _MarkTable.seen.expanded:
        return None
    if _SEP not in marked:
        return _FoldedText(marked, ())
    kept = marked.split(_SEP)  # the runs of kept characters between dropped ones
    kept.pop()
    return _FoldedText(marked.replace(_SEP, ""), tuple(accumulate(map(len, kept))))


def _fold(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the character of `text`
    it came from."""
    fast = _fold_text(text)
    if fast is not None:
        if not fast.dropped:  # the usual short cell
            return fast.folded, list(range(len(text)))
        dropped = set(fast.dropped)
        return fast.folded, [i for i in range(len(text)) if i not in dropped]
    out: list[str] = []
    index: list[int] = []
    for position, ch in enumerate(text):
        piece = _fold_char(ch)
        if piece:
            out.append(piece)
            index.extend([position] * len(piece))
    return "".join(out), index


def _folded(text: str) -> str:
    return text.translate(_FOLD_TABLE)


@dataclass(frozen=True)
class DocumentText:
    """A document's whole text folded once, shared by classification and parsing."""

    text: str
    folded: str
    positions: _FoldedText | list[int]
    complete: bool = True  # False when the bounds below cut the document short


    def original(self, position: int) -> int:
        """Where the folded character at `position` sits in `text`."""
        if isinstance(self.positions, list):
            return self.positions[position]
        return self.positions.original(position)


def fold_document(doc: Document) -> DocumentText:
    # what the per-cell reading reads too: the paragraphs and the tables' rows
    lines = list(doc.paragraphs[:_MAX_ROWS])
    complete = len(doc.paragraphs) <= _MAX_ROWS
    for table in doc.tables:
        complete = complete and len(table.rows) <= _MAX_ROWS
        lines.extend("\t".join(row) for row in table.rows[:_MAX_ROWS])
    text = "\n".join(lines)
    if len(text) > _MAX_TEXT:
        text, complete = text[:_MAX_TEXT], False
    fast = _fold_text(text)
    if fast is not None:
        return DocumentText(text, fast.folded, fast, complete)
    folded, index = _fold(text)
    return DocumentText(text, folded, index, complete)


# ---------------------------------------------------------------------------- template side


@dataclass(frozen=True)
class _ItemTemplate:
    text: str  # folded prose, each blank written "(" _HOLE ")"
    opens: tuple[int, ...]  # index of each blank's "(" in `text`
    blanks: tuple[Blank, ...]


def _item_template(item) -> _ItemTemplate:
    text = ""
    opens = []
    for position, part in enumerate(item.parts):
        if position % 2 == 0:
            text += _folded(part)
        else:
            opens.append(len(text))
            text += "(" + _HOLE + ")"
    return _ItemTemplate(text, tuple(opens), item.blanks)


_TEMPLATES = tuple(_item_template(item) for item in ITEMS)


def _exact_pattern(template: _ItemTemplate) -> re.Pattern:
    """The item's folded prose with each blank as a capture between its brackets: matches when
    a clerk typed into the blanks and left the wording and brackets alone (the usual case)."""
    pieces, last = [], 0
    for start in template.opens:
        pieces.append(re.escape(template.text[last:start]))
        pieces.append(r"\(([^()]*)\)")
        last = start + 3  # "(" _HOLE ")"
    pieces.append(re.escape(template.text[last:]))
    return re.compile("".join(pieces))


_EXACT = tuple(_exact_pattern(t) for t in _TEMPLATES)
# Template text that is not prose: a segment reading like these is not a 进展情况 cell.
_OTHER_TEXTS = (
    tuple(item.name for item in ITEMS)
    + tuple(item.requirements for item in ITEMS)
    + (CATEGORY, TITLE, HEADER_LINE, "".join(COLUMN_HEADERS), ATTACHMENT_LABEL + TITLE)
)
_BRACKETED_RE = re.compile(r"\([^()]*\)")
_DIGITS_RE = re.compile(r"[0-9,:]+")
_HALF_OPEN_RE = re.compile(r"\([^(),]*")
_HALF_CLOSED_RE = re.compile(r"[^(),]*\)")


def _gram_text(folded: str) -> str:
    """What classification compares: the wording without anything in brackets, commas or
    digits (a number whose brackets were deleted is a value, not wording)."""
    text = _BRACKETED_RE.sub("", folded)
    # a blank that lost one bracket: its value runs up to the next comma (or from the last one)
    text = _HALF_OPEN_RE.sub("", _HALF_CLOSED_RE.sub("", text))
    return _DIGITS_RE.sub("", text)


def _grams(text: str, size: int) -> frozenset[str]:
    return frozenset(text[i : i + size] for i in range(len(text) - size + 1))


@lru_cache(maxsize=None)
def _template_grams(size: int) -> tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]:
    prose = tuple(_grams(_gram_text(t.text), size) for t in _TEMPLATES)
    other = tuple(_grams(_gram_text(_folded(text)), size) for text in _OTHER_TEXTS)
    return prose, other


def _precisions(folded: str) -> tuple[list[float], float]:
    """Share of the segment's n-grams found in each item's prose, and how closely it is one of
    the non-prose template texts (names, 内容要求, headings)."""
    text = _gram_text(folded)
    size = min(4, len(text))
    if size < 2:
        return [0.0] * len(_TEMPLATES), 1.0
    grams = _grams(text, size)
    prose, other = _template_grams(size)
    shares = [len(grams & g) / len(grams) for g in prose]
    # Prose cells are often split (one line per paragraph), other wording comes whole: a line
    # repeating the start of a 内容要求 (云课堂学习…) is still prose.
    return shares, max(len(grams & g) / max(len(grams), len(g)) for g in other)


# ---------------------------------------------------------------------------- document side


@dataclass
class _Segment:
    text: str  # the paragraph or cell as written
    folded: str
    index: list[int]


def _dedupe_row(row: tuple[str, ...]) -> list[str]:
    """A row with horizontally merged cells (repeated by the readers) counted once."""
    cells: list[str] = []
    for cell in row:
        if cells and cell == cells[-1] and cell.strip():
            continue
        cells.append(cell)
    return cells


_EMPTY_BLANK = "()"
_ELLIPSIS_RE = re.compile(r",{2,}")  # … and …… after folding
_LITERAL_BRACKETS = frozenset({"村", "盖章"})


def _label_shape(folded: str) -> str | None:
    """'bracket' for a label holding exactly one empty blank and no filled one, 'plain' for a
    short text without brackets, None for anything else."""
    if not folded or len(folded) > _MAX_LABEL:
        return None
    groups = re.findall(r"\(([^()]*)\)", folded)
    empty = sum(1 for g in groups if g == "")
    if empty == 1 and all(g == "" or g in _LITERAL_BRACKETS for g in groups):
        return "bracket"
    if empty == 0 and "(" not in folded.replace("(村)", "") and ")" not in folded.replace("(村)", ""):
        return "plain"
    return None


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def _matched_chars(a: str, b: str) -> int:
    if not a or not b:
        return 0
    return sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())


@lru_cache(maxsize=None)
def _blank_contexts() -> tuple[tuple[Blank, str, str], ...]:
    """For every blank: the folded template text before and after it within its item."""
    out = []
    for template in _TEMPLATES:
        for blank, start in zip(template.blanks, template.opens):
            out.append((blank, template.text[:start], template.text[start + 3 :]))
    return tuple(out)


def _score_bracket_label(folded: str) -> list[tuple[int, int, int]]:
    """(primary, secondary, blank number) for each blank the label could stand for.

    The label must be (nearly all) template text around that one blank — what follows an
    ellipsis (`进企业活动……参与（ ）人`) on the left, everything on the right — so a short
    prose cell with one blank still empty is not taken for a label."""
    left, _, right = folded.partition(_EMPTY_BLANK)
    core_left = _ELLIPSIS_RE.split(left)[-1]
    needed = max(2, len(core_left) + len(right) - 2)
    scores = []
    for blank, before, after in _blank_contexts():
        primary = _common_suffix(left, before) + _common_prefix(right, after)
        if primary < needed:
            continue
        secondary = _matched_chars(left, before[-(len(left) + 6) :]) + _matched_chars(right, after[: len(right) + 6])
        scores.append((primary, secondary, blank.number))
    return scores


def _score_plain_label(folded: str) -> list[tuple[int, int, int]]:
    """Blanks whose surrounding template text contains the label across the blank. A label
    with an ellipsis (`进企业活动……参与人`) must match after it; before it only ranks."""
    *context_parts, core = _ELLIPSIS_RE.split(folded)
    context = "".join(context_parts)
    if len(core) < 2:
        return []
    scores = []
    for blank, before, after in _blank_contexts():
        for split in range(len(core) + 1):
            if before.endswith(core[:split]) and after.startswith(core[split:]):
                secondary = _matched_chars(context, before[-(len(context) + len(core) + 8) :])
                scores.append((len(core), secondary, blank.number))
                break
    return scores


def _pick(scores: list[tuple[int, int, int]], taken: set[int], last: int) -> int | None:
    """The best-scoring free blank; among equals, the first after the last one assigned."""
    free = [s for s in scores if s[2] not in taken]
    if not free:
        return None
    best = max((p, s) for p, s, _ in free)
    tied = sorted(n for p, s, n in free if (p, s) == best)
    after = [n for n in tied if n > last]
    return after[0] if after else tied[0]


def _is_template_wording(folded: str) -> bool:
    """Non-prose wording of the form (names, headings, 内容要求): never a label or a value."""
    if len(_gram_text(folded)) < 4:  # too short to tell (a value like 36 is in "360全景")
        return False
    shares, other = _precisions(folded)
    return other >= 0.8 and other >= max(shares)


def _label_rows(doc: Document, found: dict[int, str]) -> set[tuple[int, int, int]]:
    """Fill `found` (blank number -> written) from label | value rows; return the cells used."""
    used: set[tuple[int, int, int]] = set()
    last = 0
    for t, table in enumerate(doc.tables):
        for r, row in enumerate(table.rows[:_MAX_ROWS]):
            cells = _dedupe_row(row)
            for c in range(len(cells)):
                if len(cells[c]) > 4 * _MAX_LABEL:  # cheap: no folding needed to rule it out
                    continue
                folded = _folded(cells[c])
                shape = _label_shape(folded)
                if shape is None:
                    continue
                value = cells[c + 1] if c + 1 < len(cells) else ""
                value_folded = _folded(value)
                if _EMPTY_BLANK in value_folded or len(value_folded) > _MAX_VALUE:
                    continue
                if shape == "plain":
                    # without brackets only a label with a value beside it says it is a label
                    if not value_folded or _is_template_wording(folded) or _is_template_wording(value_folded):
                        continue
                    scores = _score_plain_label(folded)
                    if len(folded) < 3:
                        # a bare unit (人次) names a blank only as the row after the last one
                        scores = [score for score in scores if score[2] == last + 1]
                else:
                    scores = _score_bracket_label(folded)
                number = _pick(scores, set(found), last)
                if number is None:
                    continue
                found[number] = value
                last = number
                used.add((t, r, c))
                used.add((t, r, c + 1))
                break
    return used


def _segments(doc: Document, used: set[tuple[int, int, int]]) -> list[_Segment]:
    """Paragraphs and table cells in reading order; merged cells once; label rows left out."""
    texts: list[str] = list(doc.paragraphs[:_MAX_ROWS])
    for t, table in enumerate(doc.tables):
        above: list[str] = []
        for r, row in enumerate(table.rows[:_MAX_ROWS]):
            cells = _dedupe_row(row)
            for c, cell in enumerate(cells):
                if (t, r, c) in used:
                    continue
                # a vertically merged cell repeats the text above it
                if c < len(above) and above[c] == cell and len(cell.strip()) >= 8:
                    continue
                texts.append(cell)
            above = cells
    segments = []
    for text in texts:
        folded, index = _fold(text)
        if folded:
            segments.append(_Segment(text, folded, index))
    return segments


def _assign(segments: list[_Segment]) -> dict[int, list[_Segment]]:
    """Which item's prose each segment is part of, in template order when several fit."""
    by_item: dict[int, list[_Segment]] = {}
    current = 0
    for segment in segments:
        shares, other = _precisions(segment.folded)
        best = max(shares)
        if best < 0.5 or best <= other:
            continue
        candidates = [k for k, share in enumerate(shares) if share >= best - 0.05 and share >= 0.5]
        later = [k for k in candidates if k >= current]
        item = later[0] if later else max(candidates, key=lambda k: shares[k])
        by_item.setdefault(item, []).append(segment)
        current = item
    return by_item


def _written(segments: list[_Segment], stream_index: list[tuple[int, int]], begin: int, finish: int) -> str:
    """The original text between the matched characters around a blank, including what folding
    dropped (quotes, spaces), so a text blank keeps `“安全生产月”微视频征集` whole."""
    left = stream_index[begin - 1] if begin > 0 else (-1, -1)
    right = stream_index[finish] if finish < len(stream_index) else (-1, -1)
    involved = {s for s, _ in stream_index[begin:finish] if s >= 0}
    involved |= {s for s, _ in (left, right) if s >= 0}
    pieces = []
    for seg_no in sorted(involved):
        text = segments[seg_no].text
        start = left[1] + 1 if seg_no == left[0] else 0
        end = right[1] if seg_no == right[0] else len(text)
        pieces.append(text[start:end])
    return _trim_quotes("".join(pieces))


def _trim_quotes(written: str) -> str:
    """A quote that folding skipped belongs to the template when it is unbalanced in the value
    (`“公众开放日”102人次` with the brackets deleted)."""
    written = written.strip()
    while written and written[0] in _CLOSING_QUOTES:
        written = written[1:].strip()
    while written and written[-1] in _OPENING_QUOTES:
        written = written[:-1].strip()
    return written


def _exact_everywhere(document: DocumentText) -> dict[int, str] | None:
    """Every item's wording intact somewhere in the document (a clerk typed into the blanks and
    changed nothing else: most tables): the blanks are the regex captures, and the per-cell
    reading below — label rows, segments, sequence alignment — is not needed. None when any
    item's wording was changed."""
    found: dict[int, str] = {}
    folded, text, positions = document.folded, document.text, document.positions
    if isinstance(positions, _FoldedText):
        kept_before = positions.kept_before

        def original(position: int) -> int:  # _FoldedText.original, without two calls' overhead
            return position + bisect_right(kept_before, position)
    else:
        original = positions.__getitem__
    for template, pattern in zip(_TEMPLATES, _EXACT):
        match = pattern.search(folded)
        if match is None:
            return None
        for j, blank in enumerate(template.blanks, start=1):
            # from after the blank's "(" to its ")", in the original text
            begin, finish = match.span(j)
            found[blank.number] = _trim_quotes(text[original(begin - 1) + 1 : original(finish)])
    return found


def _align_item(item: int, segments: list[_Segment], found: dict[int, str]) -> None:
    template = _TEMPLATES[item]
    stream: list[str] = []
    stream_index: list[tuple[int, int]] = []
    for seg_no, segment in enumerate(segments):
        if stream:
            stream.append(_SEP)
            stream_index.append((-1, -1))
        stream.append(segment.folded)
        stream_index.extend((seg_no, position) for position in segment.index)
    filled = "".join(stream)[:_MAX_STREAM]
    exact = _EXACT[item].search(filled)
    if exact is not None:
        # Fast path: the wording is intact, so the blanks are the captures; the sequence
        # alignment below (most of the parse time) is for wording people changed.
        for j, blank in enumerate(template.blanks):
            if blank.number not in found:
                found[blank.number] = _written(segments, stream_index, exact.start(j + 1), exact.end(j + 1))
        return
    matcher = SequenceMatcher(None, template.text, filled, autojunk=False)
    to_filled = [-1] * len(template.text)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            to_filled[a + k] = b + k
    opens = template.opens
    for j, (blank, start) in enumerate(zip(template.blanks, opens)):
        if blank.number in found:
            continue
        lower = opens[j - 1] + 2 if j else -1
        upper = opens[j + 1] if j + 1 < len(opens) else len(template.text)
        begin = next((to_filled[t] + 1 for t in range(start, lower, -1) if to_filled[t] >= 0), None)
        finish = next((to_filled[t] for t in range(start + 2, upper) if to_filled[t] >= 0), None)
        if begin is None or finish is None or begin > finish:
            continue
        found[blank.number] = _written(segments, stream_index, begin, finish)


# ---------------------------------------------------------------------------- header line

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


def _header_lines(doc: Document) -> list[str]:
    lines = [line for line in doc.paragraphs[:_MAX_ROWS] if _may_hold_header(line)]
    for table in doc.tables:
        for row in table.rows[:_MAX_ROWS]:
            line = "\t".join(_dedupe_row(row))
            if _may_hold_header(line):
                lines.append(line)
    # the line holding 填报单位 is the header line; others only fill what it lacks
    return sorted(lines, key=lambda line: 0 if _UNIT_LABEL_RE.search(line) else 1)


def _read_header(doc: Document) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for line in _header_lines(doc):
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


# ---------------------------------------------------------------------------- entry points


def parse_progress(doc: Document, document: DocumentText | None = None) -> FormResult:
    """The 51 blanks and the header line of a filled 附件2, by forms.md key. `document` is
    `fold_document(doc)` when the caller has it already."""
    found = _exact_everywhere(document or fold_document(doc))
    if found is None:
        found = _read_cell_by_cell(doc)

    values: dict[str, object] = dict(_read_header(doc))
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for blank in BLANKS:
        if blank.number not in found:
            values[blank.key] = None
            errors.append(Problem(blank.key, blank.label, "", UNLOCATABLE))
            continue
        written = found[blank.number]
        if blank.type == INT:
            result = normalize_int(written)
        else:
            result = normalize_text(written)
        values[blank.key] = result.value
        shown = _strip_blank_brackets(written)
        if result.error:
            errors.append(Problem(blank.key, blank.label, shown, result.error))
        elif result.warning:
            warnings.append(Problem(blank.key, blank.label, shown, EXPECT_NUMBER, result.value))
    if not found:
        return FormResult(PROGRESS_TABLE, ERROR, values=values, reason=REASON_NO_TABLE)
    return FormResult(PROGRESS_TABLE, PARSED, values=values, errors=tuple(errors), warnings=tuple(warnings))


def _read_cell_by_cell(doc: Document) -> dict[int, str]:
    """Blank number -> what was written, for forms whose wording people changed: label rows
    first, then each item's prose gathered from the cells and aligned with the template."""
    found: dict[int, str] = {}
    used = _label_rows(doc, found)
    segments = _segments(doc, used)
    for item, item_segments in sorted(_assign(segments).items()):
        _align_item(item, item_segments, found)
    return found


def _strip_blank_brackets(written: str) -> str:
    """What the unit wrote, without the blank's own brackets when those came along."""
    text = written.strip()
    while text and text[0] in "(（" and not any(ch in ")）" for ch in text[1:]):
        text = text[1:].strip()
    while text and text[-1] in ")）" and not any(ch in "(（" for ch in text[:-1]):
        text = text[:-1].strip()
    if len(text) >= 2 and text[0] in "(（" and text[-1] in ")）":
        text = text[1:-1].strip()
    return text


_RECOGNITION_PHRASES = tuple(
    _folded(p)
    for p in (
        "启动仪式", "理论学习中心组", "网络课堂培训", "警示教育片", "安全生产啄木鸟", "身边隐患我来找",
        "安全生产大家谈", "云课堂学习", "网络视频访谈", "远程在线辅导", "公众开放日", "360全景示范展示",
        "安全打榜直播", "我是安全明白人", "身边的安全谣言", "公益短信", "安全宣传“五进”",
        "安全宣传进企业", "安全宣传进农村", "安全宣传进家庭", "先进典型", "专题视频",
    )
)
_STRONG_RE = re.compile(r"进展情况统计表|内容要求.*进展情况|填报单位", re.S)
_BLANKISH_RE = re.compile(r"\((?:\d[\d,]*|)\)")


def looks_like_progress(doc: Document, document: DocumentText | None = None) -> bool:
    """Content-based: the 附件2's own wording, beyond what a report about the same activities
    would repeat (its title/columns/header labels, or many of its phrases with blanks)."""
    text = (document or fold_document(doc)).folded
    hits = sum(1 for phrase in _RECOGNITION_PHRASES if phrase in text)
    strong = bool(_STRONG_RE.search(text))
    blankish = len(_BLANKISH_RE.findall(text))
    return (strong and hits >= 4) or (hits >= 8 and blankish >= 8)
