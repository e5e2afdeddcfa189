"""What reading one attachment (or a mail body) produced."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds of submission a unit owes (forms.md) plus what an attachment can otherwise be.
LIAISON_FORM = "liaison_form"
PROGRESS_TABLE = "progress_table"
SUMMARY = "summary"
WEEKLY_REPORT = "weekly_report"
FORM_KINDS = (LIAISON_FORM, PROGRESS_TABLE, SUMMARY, WEEKLY_REPORT)

KIND_LABELS = {
    LIAISON_FORM: "“安全生产月”活动联络员推荐表（附件1）",
    PROGRESS_TABLE: "“安全生产月”活动进展情况统计表（附件2）",
    SUMMARY: "“安全生产月”活动总结",
    WEEKLY_REPORT: "本周活动开展情况（周报）",
}

# Attachment status values (interface.md, `intake messages --json`).
PARSED = "parsed"
ERROR = "error"
EVIDENCE = "evidence"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Problem:
    """A blank or field that was written wrongly (error) or approximately (warning)."""

    key: str  # forms.md key, e.g. "inspection.film_screenings"
    label: str  # the blank's own words for the unit to find it, e.g. "组织观看（ ）场"
    written: str  # what the unit wrote
    expected: str  # what is expected, in Chinese, e.g. "数字"
    read_as: Any = None  # for warnings: the value taken

    def as_json(self) -> dict:
        out = {"key": self.key, "written": self.written, "expected": self.expected}
        if self.read_as is not None:
            out["read_as"] = self.read_as
        return out


@dataclass(frozen=True)
class FormResult:
    kind: str | None  # one of FORM_KINDS, or None when not a form
    status: str  # PARSED | ERROR | EVIDENCE | SKIPPED
    values: dict[str, Any] = field(default_factory=dict)
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    text: str = ""  # extracted text (free-text reports keep it)
    reason: str = ""  # Chinese, one line: why error / evidence / skipped
    named_week: int | None = None  # a weekly report that names 第N周
    # The defined form it was read as (附件1) and its campaign's slug, when a campaign's
    # definition recognised it; `kind` is then that form's item.
    form: str = ""
    campaign: str = ""


# ---------------------------------------------------------------------------- reading limits
# What reading one file may cost (bot/forms/readers/ enforces them; docs/RELIABILITY.md
# lists the hostile inputs they answer), and the reasons given when a file goes beyond.

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_DOCUMENT_CHARS = 2_000_000  # every paragraph and every grid position of one document, summed
XML_MAX_DEPTH = 256  # libxml2's limit without XML_PARSE_HUGE

REASON_CELL_TOO_LONG = f"表格单元格文字超过 {MAX_CELL_CHARS} 字（Excel 上限），未读取"
REASON_TOO_MUCH_TEXT = f"文件文字总量超过 {MAX_DOCUMENT_CHARS // 10_000} 万字，未读取"
REASON_TOO_MUCH_TABLE_TEXT = (f"文件表格文字总量超过 {MAX_DOCUMENT_CHARS // 10_000} 万字（合并单元格的文字按所占格数计），"
                              "未读取")
REASON_TOO_DEEP = f"文件结构嵌套过深（超过 {XML_MAX_DEPTH} 层），未读取"
REASON_UNKNOWN_CHARSET = "文本文件编码无法识别（非 UTF-8/GB18030），按未知编码文本保存"
REASON_UNKNOWN_CHARSET_NAMED = "文本文件编码无法识别（非 UTF-8/GB18030），无法读取，请另存为 UTF-8 编码后重新发送"
REASON_OUT_OF_MEMORY = "文件读取所需内存超过可用内存，已停止"
REASON_HTML_FRAGMENT = "Outlook 邮件正文片段（ATT00001.htm 一类），不含表格或材料内容，未转换"
REASON_HTML_NOT_FORM = "网页文件不含本次活动的表格或材料内容，未转换"


def reason_timeout(seconds: float) -> str:
    return f"文件读取超过时间限制（{seconds:g} 秒），已停止"


def reason_memory(megabytes: int) -> str:
    return f"文件读取所需内存超过限制（{megabytes} MB），已停止"
