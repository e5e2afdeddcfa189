"""The template side of the 附件2 reading: the prose of `progress_template` folded once, each
item's exact pattern (wording intact, blanks as captures), the text around each blank, and the
n-grams that tell an item's prose from the form's other wording."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.forms.progress.folding import HOLE, fold_plain
from bot.forms.progress_template import (
    ATTACHMENT_LABEL,
    CATEGORY,
    COLUMN_HEADERS,
    HEADER_LINE,
    ITEMS,
    TITLE,
    Blank,
)


@dataclass(frozen=True)
class ItemTemplate:
    text: str  # folded prose, each blank written "(" HOLE ")"
    opens: tuple[int, ...]  # index of each blank's "(" in `text`
    blanks: tuple[Blank, ...]


def _item_template(item) -> ItemTemplate:
    text = ""
    opens = []
    for position, part in enumerate(item.parts):
        if position % 2 == 0:
            text += fold_plain(part)
        else:
            opens.append(len(text))
            text += "(" + HOLE + ")"
    return ItemTemplate(text, tuple(opens), item.blanks)


TEMPLATES = tuple(_item_template(item) for item in ITEMS)


def _exact_pattern(template: ItemTemplate) -> re.Pattern:
    """The item's folded prose with each blank as a capture between its brackets: matches when
    a clerk typed into the blanks and left the wording and brackets alone (the usual case)."""
    pieces, last = [], 0
    for start in template.opens:
        pieces.append(re.escape(template.text[last:start]))
        pieces.append(r"\(([^()]*)\)")
        last = start + 3  # "(" HOLE ")"
    pieces.append(re.escape(template.text[last:]))
    return re.compile("".join(pieces))


EXACT = tuple(_exact_pattern(t) for t in TEMPLATES)
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


def gram_text(folded_text: str) -> str:
    """What classification compares: the wording without anything in brackets, commas or
    digits (a number whose brackets were deleted is a value, not wording)."""
    text = _BRACKETED_RE.sub("", folded_text)
    # a blank that lost one bracket: its value runs up to the next comma (or from the last one)
    text = _HALF_OPEN_RE.sub("", _HALF_CLOSED_RE.sub("", text))
    return _DIGITS_RE.sub("", text)


def _grams(text: str, size: int) -> frozenset[str]:
    return frozenset(text[i : i + size] for i in range(len(text) - size + 1))


@lru_cache(maxsize=None)
def _template_grams(size: int) -> tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]:
    prose = tuple(_grams(gram_text(t.text), size) for t in TEMPLATES)
    other = tuple(_grams(gram_text(fold_plain(text)), size) for text in _OTHER_TEXTS)
    return prose, other


def precisions(folded_text: str) -> tuple[list[float], float]:
    """Share of the segment's n-grams found in each item's prose, and how closely it is one of
    the non-prose template texts (names, 内容要求, headings)."""
    text = gram_text(folded_text)
    size = min(4, len(text))
    if size < 2:
        return [0.0] * len(TEMPLATES), 1.0
    grams = _grams(text, size)
    prose, other = _template_grams(size)
    shares = [len(grams & g) / len(grams) for g in prose]
    # Prose cells are often split (one line per paragraph), other wording comes whole: a line
    # repeating the start of a 内容要求 (云课堂学习…) is still prose.
    return shares, max(len(grams & g) / max(len(grams), len(g)) for g in other)


def is_template_wording(folded_text: str) -> bool:
    """Non-prose wording of the form (names, headings, 内容要求): never a label or a value."""
    if len(gram_text(folded_text)) < 4:  # too short to tell (a value like 36 is in "360全景")
        return False
    shares, other = precisions(folded_text)
    return other >= 0.8 and other >= max(shares)


@lru_cache(maxsize=None)
def blank_contexts() -> tuple[tuple[Blank, str, str], ...]:
    """For every blank: the folded template text before and after it within its item."""
    out = []
    for template in TEMPLATES:
        for blank, start in zip(template.blanks, template.opens):
            out.append((blank, template.text[:start], template.text[start + 3 :]))
    return tuple(out)
