"""The 附件2 side of the one folding rule (`bot.forms.fold`, with `marks`): applied one
character at a time, so that every folded character points back to the one written — a
blank's value is cut from the original text, quotes and spaces included.

Folding a text is one `str.translate` over a table learnt on first sight of each character;
`DocumentText` is a whole document folded once, shared by classification and parsing.
"""
from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from bot.forms.document import Document
from bot.forms.fold import fold

SEP = "\x00"  # between gathered segments; never in folded text
HOLE = "\ue000"  # stands for a blank's inside in the folded template
# Bounds that keep a hostile or huge workbook from costing minutes: a real 附件2 has < 100
# rows and a few hundred characters per item.
MAX_ROWS = 2_000
MAX_TEXT = 200_000


def fold_code(code: int) -> str:
    """What one character folds to (the folding rule with `marks`; SEP and HOLE dropped)."""
    ch = chr(code)
    return "" if ch in (SEP, HOLE) else fold(ch, marks=True)


# Bounded: a hostile text with every code point in it does not grow a table past this; the
# characters beyond it are folded again at each sight.
_FOLD_TABLE_MAX = 65536


class _FoldTable(dict):
    """Code point -> what the character folds to, learnt by str.translate itself on first
    sight (`__missing__`), so folding a text is one C loop with no pass over it beforehand."""

    def __missing__(self, code: int) -> str:
        folded = fold_code(code)
        if len(self) < _FOLD_TABLE_MAX:
            self[code] = folded
        return folded


class _MarkTable(dict):
    """The same, length-preserving: a dropped character becomes SEP (which folding itself
    always drops, so no kept character ever becomes SEP). A character that folds to several
    (㈠ -> (一)) is never stored: it is left as it is and noted in `seen.expanded`, per thread
    (str.translate calls `__missing__` in the caller's thread), so the caller knows the marked
    text is not the folded one."""

    seen = threading.local()

    def __missing__(self, code: int) -> str:
        folded = _FOLD_TABLE[code]
        if len(folded) > 1:
            _MarkTable.seen.expanded = True
            return chr(code)
        marked = folded or SEP
        if len(self) < _FOLD_TABLE_MAX:
            self[code] = marked
        return marked


_FOLD_TABLE = _FoldTable()
_MARK_TABLE = _MarkTable()


@dataclass(frozen=True)
class FoldedText:
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


def fold_text(text: str) -> FoldedText | None:
    """`text` folded, or None when a character expands (rare: the caller folds one by one)."""
    _MarkTable.seen.expanded = False
    marked = text.translate(_MARK_TABLE)
    if _MarkTable.seen.expanded:
        return None
    if SEP not in marked:
        return FoldedText(marked, ())
    kept = marked.split(SEP)  # the runs of kept characters between dropped ones
    kept.pop()
    return FoldedText(marked.replace(SEP, ""), tuple(accumulate(map(len, kept))))


def fold_indexed(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the character of `text`
    it came from."""
    fast = fold_text(text)
    if fast is not None:
        if not fast.dropped:  # the usual short cell
            return fast.folded, list(range(len(text)))
        dropped = set(fast.dropped)
        return fast.folded, [i for i in range(len(text)) if i not in dropped]
    out: list[str] = []
    index: list[int] = []
    for position, ch in enumerate(text):
        piece = _FOLD_TABLE[ord(ch)]
        if piece:
            out.append(piece)
            index.extend([position] * len(piece))
    return "".join(out), index


def fold_plain(text: str) -> str:
    """`text` folded, without the way back."""
    return text.translate(_FOLD_TABLE)


@dataclass(frozen=True)
class DocumentText:
    """A document's whole text folded once, shared by classification and parsing."""

    text: str
    folded: str
    positions: FoldedText | list[int]
    complete: bool = True  # False when the bounds below cut the document short

    def original(self, position: int) -> int:
        """Where the folded character at `position` sits in `text`."""
        if isinstance(self.positions, list):
            return self.positions[position]
        return self.positions.original(position)


def fold_document(doc: Document) -> DocumentText:
    # what the per-cell reading reads too: the paragraphs and the tables' rows
    lines = list(doc.paragraphs[:MAX_ROWS])
    complete = len(doc.paragraphs) <= MAX_ROWS
    for table in doc.tables:
        complete = complete and len(table.rows) <= MAX_ROWS
        lines.extend("\t".join(row) for row in table.rows[:MAX_ROWS])
    text = "\n".join(lines)
    if len(text) > MAX_TEXT:
        text, complete = text[:MAX_TEXT], False
    fast = fold_text(text)
    if fast is not None:
        return DocumentText(text, fast.folded, fast, complete)
    folded_text, index = fold_indexed(text)
    return DocumentText(text, folded_text, index, complete)
