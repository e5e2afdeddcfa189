"""Free-text reports (forms.md): weekly reports (周报) and the campaign summary (活动总结).

They are prose: what is kept is the text, what kind it is, and for a weekly report the week it
names (第N周), which decides which Thursday deadline it answers.
"""
from __future__ import annotations

import re

from bot.forms.fold import fold
from bot.forms.result import PARSED, SUMMARY, WEEKLY_REPORT, FormResult
from bot.forms.values import chinese_to_int

MAX_TEXT = 20_000
MAX_WEEK = 53
_HEAD_LINES = 3

_WEEK_RE = re.compile(r"第\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*周(?!年)")
# 周报 / 本周 / 每周 / 第N周; "周年" (anniversary) is not a week.
_WEEKLY_RE = re.compile(r"周报|本周|每周|第\s*(?:[0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*周(?!年)")
_SUMMARY_RE = re.compile(r"总结")


def named_week(*texts: str) -> int | None:
    """The week number the first of `texts` naming one says (第一周, 第1周, 第 2 周, 第十周)."""
    for text in texts:
        match = _WEEK_RE.search(fold(text, keep_spaces=True))
        if not match:
            continue
        written = match.group(1)
        number = int(written) if written.isdigit() else chinese_to_int(written)
        if number is not None and 1 <= number <= MAX_WEEK:
            return number
    return None


def kind_named_in(text: str) -> str | None:
    """One short text (a subject, a file name, a title): a weekly keyword wins over 总结, so
    "第一周工作总结" is a weekly report and "活动总结" the summary."""
    folded = fold(text, keep_spaces=True)
    if _WEEKLY_RE.search(folded):
        return WEEKLY_REPORT
    if _SUMMARY_RE.search(folded):
        return SUMMARY
    return None


def head_lines(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return "\n".join(lines[:_HEAD_LINES])


def report_kind(subject: str, filename: str, text: str) -> str | None:
    """weekly_report / summary / None, from the subject and file name first, then the
    document's title lines ("活动总结" there is the summary), then its whole text."""
    for source in (subject, _stem(filename)):
        kind = kind_named_in(source)
        if kind:
            return kind
    head = fold(head_lines(text), keep_spaces=True)
    if "活动总结" in head or ("总结" in head and not _WEEKLY_RE.search(head)):
        return SUMMARY
    if _WEEKLY_RE.search(head):
        return WEEKLY_REPORT
    body = fold(text[:MAX_TEXT], keep_spaces=True)
    if _WEEKLY_RE.search(body):
        return WEEKLY_REPORT
    if re.search(r"活动总结|总结如下|工作总结", body):
        return SUMMARY
    return None


def _stem(filename: str) -> str:
    name = (filename or "").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def clean_text(text: str) -> str:
    """Trimmed lines, runs of blank lines collapsed, capped at MAX_TEXT characters."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()[:MAX_TEXT]


def parse_report(doc_text: str, kind: str, *, subject: str = "", filename: str = "") -> FormResult:
    """A free-text report as kept: its text, and for a weekly report the week it names (the
    subject, then the file name, then the title lines, then the text)."""
    text = clean_text(doc_text)
    week = None
    if kind == WEEKLY_REPORT:
        week = named_week(subject, _stem(filename), head_lines(text))  # not the whole text: a week-3 report may mention 第一周
    return FormResult(kind, PARSED, text=text, named_week=week)
