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

from bot.forms.document import Document
from bot.forms.progress.align import exact_everywhere, read_cell_by_cell
from bot.forms.progress.folding import DocumentText, fold_document, fold_plain
from bot.forms.progress.header import read_header
from bot.forms.progress_template import BLANKS, INT
from bot.forms.result import ERROR, PARSED, PROGRESS_TABLE, FormResult, Problem
from bot.forms.values import EXPECT_NUMBER, normalize_int, normalize_text, strip_blank_brackets

__all__ = ["REASON_NO_TABLE", "UNLOCATABLE", "DocumentText", "fold_document", "looks_like_progress",
           "parse_progress"]

UNLOCATABLE = "无法定位该项，请按模板填写"
REASON_NO_TABLE = "未能在文件中找到“安全生产月”活动进展情况统计表（附件2）的各项内容，请按附件2模板填写后重新发送"


def parse_progress(doc: Document, document: DocumentText | None = None) -> FormResult:
    """The 51 blanks and the header line of a filled 附件2, by forms.md key. `document` is
    `fold_document(doc)` when the caller has it already."""
    found = exact_everywhere(document or fold_document(doc))
    if found is None:
        found = read_cell_by_cell(doc)

    values: dict[str, object] = dict(read_header(doc))
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
        if result.error:
            errors.append(Problem(blank.key, blank.label, strip_blank_brackets(written), result.error))
        elif result.warning:
            warnings.append(Problem(blank.key, blank.label, strip_blank_brackets(written), EXPECT_NUMBER,
                                    result.value))
    if not found:
        return FormResult(PROGRESS_TABLE, ERROR, values=values, reason=REASON_NO_TABLE)
    return FormResult(PROGRESS_TABLE, PARSED, values=values, errors=tuple(errors), warnings=tuple(warnings))


_RECOGNITION_PHRASES = tuple(
    fold_plain(p)
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
