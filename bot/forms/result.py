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
