"""The document side of reading a prose form (附件2): where each blank's value is in what the
unit sent. Every function takes the form's `ProseReading` (default: the shipped 附件2).

The whole text first (`exact_everywhere`: every item's wording intact, the blanks are the
regex captures); else cell by cell (`read_cell_by_cell`): label rows (`组织观看（ ）场` | value),
then the prose cells gathered per item and aligned character by character with the template.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.forms.document import Document
from bot.forms.progress.folding import MAX_ROWS, SEP, DocumentText, FoldedText, fold_indexed, fold_plain
from bot.forms.progress.template import ProseReading, reading as reading_of

# the quotes folding drops, by side
_OPENING_QUOTES = "“‘「『〝"
_CLOSING_QUOTES = "”’」』〞"
_MAX_STREAM = 5_000
_MAX_LABEL = 40
_MAX_VALUE = 80


@dataclass
class _Segment:
    text: str  # the paragraph or cell as written
    folded: str
    index: list[int]


def dedupe_row(row: tuple[str, ...]) -> list[str]:
    """A row with horizontally merged cells (repeated by the readers) counted once."""
    cells: list[str] = []
    for cell in row:
        if cells and cell == cells[-1] and cell.strip():
            continue
        cells.append(cell)
    return cells


_EMPTY_BLANK = "()"
_ELLIPSIS_RE = re.compile(r",{2,}")  # … and …… after folding
_GROUP_RE = re.compile(r"\(([^()]*)\)")


def _label_shape(folded: str, literal: frozenset[str], in_prose: frozenset[str]) -> str | None:
    """'bracket' for a label holding exactly one empty blank and no filled one, 'plain' for a
    short text without brackets (but the prose's own bracketed words, 社区（村）), None for
    anything else. `literal`: the bracketed words of the form's wording (村, 盖章)."""
    if not folded or len(folded) > _MAX_LABEL:
        return None
    groups = _GROUP_RE.findall(folded)
    empty = sum(1 for g in groups if g == "")
    if empty == 1 and all(g == "" or g in literal for g in groups):
        return "bracket"
    if empty == 0:
        bare = _GROUP_RE.sub(lambda m: "" if m.group(1) in in_prose else m.group(0), folded)
        if "(" not in bare and ")" not in bare:
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


def _score_bracket_label(folded: str, reading: ProseReading) -> list[tuple[int, int, int]]:
    """(primary, secondary, blank number) for each blank the label could stand for.

    The label must be (nearly all) template text around that one blank — what follows an
    ellipsis (`进企业活动……参与（ ）人`) on the left, everything on the right — so a short
    prose cell with one blank still empty is not taken for a label."""
    left, _, right = folded.partition(_EMPTY_BLANK)
    core_left = _ELLIPSIS_RE.split(left)[-1]
    needed = max(2, len(core_left) + len(right) - 2)
    scores = []
    for blank, before, after in reading.contexts:
        primary = _common_suffix(left, before) + _common_prefix(right, after)
        if primary < needed:
            continue
        secondary = _matched_chars(left, before[-(len(left) + 6) :]) + _matched_chars(right, after[: len(right) + 6])
        scores.append((primary, secondary, blank.number))
    return scores


def _score_plain_label(folded: str, reading: ProseReading) -> list[tuple[int, int, int]]:
    """Blanks whose surrounding template text contains the label across the blank. A label
    with an ellipsis (`进企业活动……参与人`) must match after it; before it only ranks."""
    *context_parts, core = _ELLIPSIS_RE.split(folded)
    context = "".join(context_parts)
    if len(core) < 2:
        return []
    scores = []
    for blank, before, after in reading.contexts:
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


def _label_rows(doc: Document, found: dict[int, str], reading: ProseReading) -> set[tuple[int, int, int]]:
    """Fill `found` (blank number -> written) from label | value rows; return the cells used."""
    literal, in_prose = reading.literal_brackets, reading.prose_brackets
    is_template_wording = reading.is_template_wording
    used: set[tuple[int, int, int]] = set()
    last = 0
    for t, table in enumerate(doc.tables):
        for r, row in enumerate(table.rows[:MAX_ROWS]):
            cells = dedupe_row(row)
            for c in range(len(cells)):
                if len(cells[c]) > 4 * _MAX_LABEL:  # cheap: no folding needed to rule it out
                    continue
                folded = fold_plain(cells[c])
                shape = _label_shape(folded, literal, in_prose)
                if shape is None:
                    continue
                value = cells[c + 1] if c + 1 < len(cells) else ""
                value_folded = fold_plain(value)
                if _EMPTY_BLANK in value_folded or len(value_folded) > _MAX_VALUE:
                    continue
                if shape == "plain":
                    # without brackets only a label with a value beside it says it is a label
                    if not value_folded or is_template_wording(folded) or is_template_wording(value_folded):
                        continue
                    scores = _score_plain_label(folded, reading)
                    if len(folded) < 3:
                        # a bare unit (人次) names a blank only as the row after the last one
                        scores = [score for score in scores if score[2] == last + 1]
                else:
                    scores = _score_bracket_label(folded, reading)
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
    texts: list[str] = list(doc.paragraphs[:MAX_ROWS])
    for t, table in enumerate(doc.tables):
        above: list[str] = []
        for r, row in enumerate(table.rows[:MAX_ROWS]):
            cells = dedupe_row(row)
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
        folded, index = fold_indexed(text)
        if folded:
            segments.append(_Segment(text, folded, index))
    return segments


def _assign(segments: list[_Segment], reading: ProseReading) -> dict[int, list[_Segment]]:
    """Which item's prose each segment is part of, in template order when several fit."""
    by_item: dict[int, list[_Segment]] = {}
    current = 0
    for segment in segments:
        shares, other = reading.precisions(segment.folded)
        best = max(shares, default=0.0)
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


def exact_everywhere(document: DocumentText, reading: ProseReading | None = None) -> dict[int, str] | None:
    """Every item's wording intact somewhere in the document (a clerk typed into the blanks and
    changed nothing else: most tables): the blanks are the regex captures, and the per-cell
    reading below — label rows, segments, sequence alignment — is not needed. None when any
    item's wording was changed."""
    reading = reading or reading_of()
    found: dict[int, str] = {}
    folded, text, positions = document.folded, document.text, document.positions
    if isinstance(positions, FoldedText):
        kept_before = positions.kept_before

        def original(position: int) -> int:  # FoldedText.original, without two calls' overhead
            return position + bisect_right(kept_before, position)
    else:
        original = positions.__getitem__
    for template, pattern in zip(reading.templates, reading.exact):
        match = pattern.search(folded)
        if match is None:
            return None
        for j, blank in enumerate(template.blanks, start=1):
            # from after the blank's "(" to its ")", in the original text
            begin, finish = match.span(j)
            found[blank.number] = _trim_quotes(text[original(begin - 1) + 1 : original(finish)])
    return found


def _align_item(item: int, segments: list[_Segment], found: dict[int, str], reading: ProseReading) -> None:
    template = reading.templates[item]
    stream: list[str] = []
    stream_index: list[tuple[int, int]] = []
    for seg_no, segment in enumerate(segments):
        if stream:
            stream.append(SEP)
            stream_index.append((-1, -1))
        stream.append(segment.folded)
        stream_index.extend((seg_no, position) for position in segment.index)
    filled = "".join(stream)[:_MAX_STREAM]
    exact = reading.exact[item].search(filled)
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


def read_cell_by_cell(doc: Document, reading: ProseReading | None = None) -> dict[int, str]:
    """Blank number -> what was written, for forms whose wording people changed: label rows
    first, then each item's prose gathered from the cells and aligned with the template."""
    reading = reading or reading_of()
    found: dict[int, str] = {}
    used = _label_rows(doc, found, reading)
    segments = _segments(doc, used)
    for item, item_segments in sorted(_assign(segments, reading).items()):
        _align_item(item, item_segments, found, reading)
    return found
