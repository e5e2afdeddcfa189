"""Read a filled prose form (the 2020 附件2 进展情况统计表, or any campaign's prose-with-blanks
form) from a `Document`, whatever file it came from. Every public function takes `form=` (a
definition.Form; None: the shipped 2020 附件2) and reads against that form's `ProseTemplate`.

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

from bot.forms.definition import Form, shipped_form
from bot.forms.document import Document
from bot.forms.progress.align import exact_everywhere, read_cell_by_cell
from bot.forms.progress.folding import DocumentText, fold_document
from bot.forms.progress.header import read_header
from bot.forms.progress.template import ProseReading, reading
from bot.forms.progress_template import INT, SHIPPED, TEXT, ProseTemplate, prose_template
from bot.forms.result import ERROR, PARSED, PROGRESS_TABLE, FormResult, Problem
from bot.forms.values import EXPECT_NUMBER, normalize_int, normalize_text, strip_blank_brackets

__all__ = ["REASON_NO_TABLE", "UNLOCATABLE", "DocumentText", "fold_document", "looks_like_progress",
           "parse_progress", "reason_no_table"]

UNLOCATABLE = "无法定位该项，请按模板填写"


def reason_no_table(template: ProseTemplate) -> str:
    """Why a document named as the form is not read as it (the shipped 附件2's: REASON_NO_TABLE)."""
    label = template.ATTACHMENT_LABEL
    if label:
        return f"未能在文件中找到{template.TITLE}（{label}）的各项内容，请按{label}模板填写后重新发送"
    return f"未能在文件中找到{template.TITLE}的各项内容，请按模板填写后重新发送"


def _template(form: Form | None) -> ProseTemplate:
    return prose_template(form)


def _normalize(type_: str, written: str):
    if type_ == INT:
        return normalize_int(written)
    if type_ == TEXT:
        return normalize_text(written)
    from bot.forms.values import normalize_typed  # a type the campaign named (日期, 手机号码 …)

    return normalize_typed(type_, written)


def parse_progress(doc: Document, document: DocumentText | None = None, *, form: Form | None = None) -> FormResult:
    """Every blank and the header line of a filled prose form, by key. `document` is
    `fold_document(doc)` when the caller has it already; `form`: None for the shipped 附件2."""
    form = form or shipped_form(SHIPPED)
    template = _template(form)
    read = reading(template)
    found = exact_everywhere(document or fold_document(doc), read)
    if found is None:
        found = read_cell_by_cell(doc, read)

    values: dict[str, object] = dict(read_header(doc, template))
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for blank in template.BLANKS:
        if blank.number not in found:
            values[blank.key] = None
            errors.append(Problem(blank.key, blank.label, "", UNLOCATABLE))
            continue
        written = found[blank.number]
        result = _normalize(blank.type, written)
        values[blank.key] = result.value
        if result.error:
            errors.append(Problem(blank.key, blank.label, strip_blank_brackets(written), result.error))
        elif result.warning:
            warnings.append(Problem(blank.key, blank.label, strip_blank_brackets(written), EXPECT_NUMBER,
                                    result.value))
    kind = form.item or PROGRESS_TABLE
    if not found:
        return FormResult(kind, ERROR, values=values, reason=reason_no_table(template), form=form.form,
                          campaign=form.campaign)
    return FormResult(kind, PARSED, values=values, errors=tuple(errors), warnings=tuple(warnings),
                      form=form.form, campaign=form.campaign)


_BLANKISH_RE = re.compile(r"\((?:\d[\d,]*|)\)")


def looks_like_progress(doc: Document, document: DocumentText | None = None, *, form: Form | None = None) -> bool:
    """Content-based: the form's own wording, beyond what a report about the same activities
    would repeat — one of its headings (title, column headers, first header label) with a share
    of the phrases of its prose, or a larger share with many blanks (empty or holding figures)."""
    read = reading(_template(form or shipped_form(SHIPPED)))
    return _looks_like(read, (document or fold_document(doc)).folded)


def _looks_like(read: ProseReading, text: str) -> bool:
    hits = sum(1 for phrase in read.phrases if phrase in text)
    if not hits:
        return False
    if read.headings is not None and hits >= read.hits_with_heading and read.headings.search(text):
        return True
    return hits >= read.hits_without_heading and len(_BLANKISH_RE.findall(text)) >= read.min_blankish


def __getattr__(name: str):
    if name == "REASON_NO_TABLE":  # the shipped 附件2's, built on first use
        value = globals()[name] = reason_no_table(prose_template())
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
