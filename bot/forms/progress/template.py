"""The template side of reading a prose form: a `ProseTemplate`'s prose folded once, each
item's exact pattern (wording intact, blanks as captures), the text around each blank, the
n-grams that tell an item's prose from the form's other wording, the bracketed words that are
wording (`社区（村）`) and the header line's labels. `reading(template)` builds it once per
template (the template is built once per form), so no parse pays for it."""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from bot.forms.progress.folding import HOLE, fold_plain
from bot.forms.progress_template import Blank, ProseTemplate, prose_template, title_own_part


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


_BRACKETED_RE = re.compile(r"\([^()]*\)")
_DIGITS_RE = re.compile(r"[0-9,:]+")
_HALF_OPEN_RE = re.compile(r"\([^(),]*")
_HALF_CLOSED_RE = re.compile(r"[^(),]*\)")
_WORDING_RE = re.compile(r"\(([^()]+)\)")  # folded bracket holding words: 社区(村), 填报单位(盖章)
_PHRASE_SPLIT_RE = re.compile(r"[，,；;。、“”\"\n（）()]")
# Recognition, as shares of the form's phrases: with one of its own headings, or without one
# but with many blanks. A filled copy holds nearly all of them (one row per blank: 60%), a
# report about the same activities about a tenth, a sibling form (another year's) a fifth.
_SHARE_WITH_HEADING = 0.25
_SHARE_WITHOUT_HEADING = 0.45
_MIN_HITS = 3
_MIN_BLANKISH = 8


def title_core(title: str) -> str:
    """A title's own part, folded: “安全生产月”活动进展情况统计表 -> 进展情况统计表."""
    return fold_plain(title_own_part(title))


def _phrases(template: ProseTemplate) -> tuple[str, ...]:
    """The form's recognition phrases (Form.recognition: its prose between blanks), folded,
    but those its title holds (安全生产月: the campaign's name, in any text about it)."""
    phrases = list(template.form.recognition)
    if not phrases:
        for item in template.ITEMS:
            for literal in item.parts[::2]:
                phrases.extend(p.strip(" \u3000") for p in _PHRASE_SPLIT_RE.split(literal))
        phrases = [p for p in phrases if 4 <= len(p) <= 16]
    title = fold_plain(template.TITLE)
    return tuple(dict.fromkeys(folded for folded in map(fold_plain, phrases) if folded and folded not in title))


def _headings(template: ProseTemplate) -> re.Pattern | None:
    """The form's own headings, each enough to say a text is the form and not about it: the
    title's own part (进展情况统计表), the column headers after the first in order
    (内容要求…进展情况), the first header label (填报单位)."""
    pieces = []
    core = title_core(template.TITLE) if template.TITLE else ""
    if core:
        pieces.append(re.escape(core))
    headers = [fold_plain(h) for h in template.COLUMN_HEADERS if fold_plain(h)]
    if len(headers) >= 3:
        headers = headers[1:]
    if len(headers) >= 2:
        pieces.append(".*".join(re.escape(h) for h in headers))
    if template.HEADER_FIELDS:
        first = fold_plain(_WORDING_RE.sub("", fold_plain(template.HEADER_FIELDS[0][0])))
        if len(first) >= 3:
            pieces.append(re.escape(first))
    return re.compile("|".join(pieces), re.S) if pieces else None


def gram_text(folded_text: str) -> str:
    """What classification compares: the wording without anything in brackets, commas or
    digits (a number whose brackets were deleted is a value, not wording)."""
    text = _BRACKETED_RE.sub("", folded_text)
    # a blank that lost one bracket: its value runs up to the next comma (or from the last one)
    text = _HALF_OPEN_RE.sub("", _HALF_CLOSED_RE.sub("", text))
    return _DIGITS_RE.sub("", text)


def _grams(text: str, size: int) -> frozenset[str]:
    return frozenset(text[i : i + size] for i in range(len(text) - size + 1))


class ProseReading:
    """What reading a filled copy of one prose form compares against."""

    def __init__(self, template: ProseTemplate):
        self.template = template
        self.templates: tuple[ItemTemplate, ...] = tuple(_item_template(item) for item in template.ITEMS)
        self.exact: tuple[re.Pattern, ...] = tuple(_exact_pattern(t) for t in self.templates)
        # Template text that is not prose: a segment reading like these is not a 进展情况 cell.
        self.other_texts: tuple[str, ...] = (
            tuple(item.name for item in template.ITEMS)
            + tuple(item.requirements for item in template.ITEMS if item.requirements)
            + tuple(template.CATEGORIES)
            + (template.TITLE, template.HEADER_LINE, "".join(template.COLUMN_HEADERS),
               template.ATTACHMENT_LABEL + template.TITLE)
        )
        self.contexts: tuple[tuple[Blank, str, str], ...] = tuple(
            (blank, t.text[:start], t.text[start + 3 :])
            for t in self.templates for blank, start in zip(t.blanks, t.opens))
        # bracketed words of the form's own wording (社区（村）, 填报单位（盖章）): never a blank
        self.prose_brackets: frozenset[str] = frozenset(
            group for t in self.templates for group in _WORDING_RE.findall(t.text) if HOLE not in group)
        words = [fold_plain(text) for text in self.other_texts]
        words += [fold_plain(blank.label) for blank in template.BLANKS]
        words += [fold_plain(label) for label, _ in template.HEADER_FIELDS]
        self.literal_brackets: frozenset[str] = self.prose_brackets | frozenset(
            group for text in words for group in _WORDING_RE.findall(text))
        # recognition (looks_like_progress)
        self.phrases: tuple[str, ...] = _phrases(template)
        self.headings: re.Pattern | None = _headings(template)
        count = len(self.phrases)
        self.hits_with_heading = min(count, max(_MIN_HITS, math.ceil(_SHARE_WITH_HEADING * count)))
        self.hits_without_heading = min(count, max(_MIN_HITS, math.ceil(_SHARE_WITHOUT_HEADING * count)))
        self.min_blankish = min(_MIN_BLANKISH, len(template.BLANKS))
        self._grams: dict[int, tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]] = {}
        self._lock = threading.Lock()

    def template_grams(self, size: int) -> tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]:
        grams = self._grams.get(size)
        if grams is None:
            with self._lock:
                prose = tuple(_grams(gram_text(t.text), size) for t in self.templates)
                other = tuple(_grams(gram_text(fold_plain(text)), size) for text in self.other_texts)
                grams = self._grams[size] = (prose, other)
        return grams

    def precisions(self, folded_text: str) -> tuple[list[float], float]:
        """Share of the segment's n-grams found in each item's prose, and how closely it is one
        of the non-prose template texts (names, 内容要求, headings)."""
        text = gram_text(folded_text)
        size = min(4, len(text))
        if size < 2:
            return [0.0] * len(self.templates), 1.0
        grams = _grams(text, size)
        prose, other = self.template_grams(size)
        shares = [len(grams & g) / len(grams) for g in prose]
        # Prose cells are often split (one line per paragraph), other wording comes whole: a
        # line repeating the start of a 内容要求 (云课堂学习…) is still prose.
        return shares, max(len(grams & g) / max(len(grams), len(g), 1) for g in other)

    def is_template_wording(self, folded_text: str) -> bool:
        """Non-prose wording of the form (names, headings, 内容要求): never a label or a value."""
        if len(gram_text(folded_text)) < 4:  # too short to tell (a value like 36 is in "360全景")
            return False
        shares, other = self.precisions(folded_text)
        return other >= 0.8 and other >= max(shares, default=0.0)


_READINGS_LOCK = threading.Lock()


def reading(template: ProseTemplate | None = None) -> ProseReading:
    """The reading side of `template` (None: the shipped 附件2), built once and kept on it."""
    template = template or prose_template()
    found = template.__dict__.get("_reading")
    if found is None:
        with _READINGS_LOCK:
            found = template.__dict__.get("_reading")
            if found is None:
                found = template.__dict__["_reading"] = ProseReading(template)
    return found


# The shipped form's reading, for callers that read the 2020 附件2 only.
def precisions(folded_text: str) -> tuple[list[float], float]:
    return reading().precisions(folded_text)


def is_template_wording(folded_text: str) -> bool:
    return reading().is_template_wording(folded_text)


def blank_contexts() -> tuple[tuple[Blank, str, str], ...]:
    """For every blank: the folded template text before and after it within its item."""
    return reading().contexts
