"""Any defined form, whatever its shape: `parse_form` reads a document as one form (grid →
`liaison`, list → `listform`, prose → `progress`), `fitting_form` says by content which of
several forms (of one or many campaigns) a document is.

A form fits a document when the document passes that form's own recognition (its labels,
header row or prose wording); among several that fit, the one a caller prefers (named by the
file name or subject) wins, then the best fit: the share of the form's own labels, columns or
phrases found, plus its title (its distinctive part, and more when written in full, year and
campaign name included), then prose over list over grid (a prose form repeats labels a grid
also has), then the order given.
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from functools import lru_cache
from typing import Iterable

from bot.forms import progress
from bot.forms.definition import GRID, LIST, PROSE, Form, shipped_form
from bot.forms.document import Document
from bot.forms.fold import fold
from bot.forms.liaison import grid_of, labelled_keys, looks_like_liaison, parse_liaison, title_core
from bot.forms.listform import list_fit, parse_list
from bot.forms.progress import DocumentText, fold_document
from bot.forms.progress.folding import fold_plain
from bot.forms.result import ERROR, FormResult

__all__ = ["fitting_form", "form_fit", "parse_form", "title_fit"]

_SHAPE_RANK = {PROSE: 2, LIST: 1, GRID: 0}
_TITLE_LINE_CHARS = 40
_REASON_PROSE_UNSUPPORTED = "该表格（带空格的文字表）暂不能按其活动定义读取，原件已保存，请人工查看"


@lru_cache(maxsize=None)
def _takes_form(name: str) -> bool:
    """Whether progress.<name> takes `form=` (the prose reader reads any prose form)."""
    return "form" in inspect.signature(getattr(progress, name)).parameters


def _is_shipped_prose(form: Form) -> bool:
    try:
        return form == shipped_form(form.form) and form.shape == PROSE
    except StopIteration:
        return False


def _prose_call(name: str, form: Form, *args):
    """progress.<name>(*args, form=form); before the prose reader takes a form, only the
    shipped 附件2 can be read (None for any other)."""
    fn = getattr(progress, name)
    if _takes_form(name):
        return fn(*args, form=form)
    if _is_shipped_prose(form):
        return fn(*args)
    return None


def parse_form(doc: Document, form: Form, document: DocumentText | None = None) -> FormResult:
    """`doc` read as `form`. `document`: `fold_document(doc)`, when the caller has it."""
    if form.shape == GRID:
        return parse_liaison(doc, form=form)
    if form.shape == LIST:
        return parse_list(doc, form)
    result = _prose_call("parse_progress", form, doc, document or fold_document(doc))
    if result is None:
        return FormResult(form.item, ERROR, reason=_REASON_PROSE_UNSUPPORTED, form=form.form, campaign=form.campaign)
    return replace(result, kind=form.item or result.kind, form=form.form, campaign=form.campaign)


def _title_lines(doc: Document) -> Iterable[str]:
    yield from doc.paragraphs
    for table in doc.tables:
        for row in table.rows[:3]:
            yield from row


def title_fit(doc: Document, form: Form) -> float:
    """1 when a short line of the document holds the title's distinctive part (联络员推荐表),
    1.5 when it holds the whole title (“安全生产月”活动联络员推荐表); else 0."""
    if not form.title:
        return 0.0
    core = title_core(form.title)
    whole = fold(form.title, lower=True)
    best = 0.0
    for line in _title_lines(doc):
        folded = fold(line, lower=True)
        if len(folded) > _TITLE_LINE_CHARS + len(whole) - len(core) or core not in folded:
            continue
        best = max(best, 1.5 if whole in folded else 1.0)
        if best == 1.5:
            break
    return best


def _prose_share(form: Form, document: DocumentText) -> float:
    phrases = [fold_plain(p) for p in form.recognition]
    if not phrases:
        return 0.0
    return sum(1 for p in phrases if p in document.folded) / len(phrases)


def form_fit(doc: Document, form: Form, document: DocumentText | None = None) -> float:
    """How well `doc` fits `form` by content; 0 when it does not pass the form's recognition."""
    document = document or fold_document(doc)
    if form.shape == GRID:
        whole = document.folded if document.complete else None  # a text cut short cannot rule a form out
        if not looks_like_liaison(doc, whole, form=form):
            return 0.0
        share = len(labelled_keys(doc, grid_of(form))) / max(1, len(form.fields))
    elif form.shape == LIST:
        share = list_fit(doc, form)
        if not share:
            return 0.0
    else:
        if not _prose_call("looks_like_progress", form, doc, document):
            return 0.0
        share = _prose_share(form, document)
    # a positive fit for every form that passed its recognition, however little it shares
    return max(share, 0.01) + title_fit(doc, form)


def fitting_form(doc: Document, forms: Iterable[Form], document: DocumentText | None = None, *,
                 prefer: Iterable[Form] = ()) -> Form | None:
    """The form among `forms` that `doc` is, by content (see the module's docstring); None
    when it fits none."""
    document = document or fold_document(doc)
    preferred = list(prefer)
    best, best_rank = None, None
    for i, form in enumerate(forms):
        fit = form_fit(doc, form, document)
        if fit <= 0:
            continue
        rank = (form in preferred, fit, _SHAPE_RANK.get(form.shape, 0), -i)
        if best_rank is None or rank > best_rank:
            best, best_rank = form, rank
    return best
