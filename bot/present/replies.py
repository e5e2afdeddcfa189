"""Acknowledgement text: what arrived, what it was recognised as, what was read, each problem,
and what the unit still owes. The wording lives in templates/ (Jinja2); this module gathers
the facts into an `Acknowledgement` and renders it. Forms, fields, items and their labels are
the campaign's (the calendar's campaign definition): a prose form reads back every blank, a
grid form every field, a list form every record; each problem names its field by the label the
unit sees."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..campaign.calendar import LATE, MISSING, Calendar
from ..campaign.definition import Campaign
from ..campaign.standing import form_email, records_of
from ..forms.definition import GRID, LIST, PROSE, Form
from ..forms.result import ERROR, EVIDENCE, KIND_LABELS, PARSED, SKIPPED, FormResult
from ..mail.compose import header_safe, new_mail, set_alternative, set_text
from ..mail.message import ParsedMail
from ..resources import project_file
from .labels import blank_phrases, header_label, item_phrase, score_use, system_name, weekly_words

TEMPLATES = project_file("templates")

# 附件1's fields in the order an acknowledgement reads them back (the 2020 view; any grid form's
# come from its definition).
LIAISON_LABELS = (("name", "姓名"), ("gender", "性别"), ("title", "职务"), ("office_phone", "办公电话"),
                  ("mobile", "手机"), ("fax", "传真"), ("qq", "QQ号"), ("wechat", "微信号"),
                  ("email", "电子邮箱"), ("unit_name", "单位名称"), ("address", "通信地址"))


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    """One environment per process: Jinja2 compiles each template once and caches it. HTML
    templates escape everything they show (subjects, file names and unit text come from
    outside); the plain-text ones are sent as text/plain and need no escaping."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                       autoescape=select_autoescape(["html.j2"], default_for_string=False))


def template(name: str):
    """A mail body template of templates/, compiled once per process."""
    return _env().get_template(name)


def local_text(moment: datetime, cal: Calendar, with_time: bool = True) -> str:
    m = cal.local(moment)
    return f"{m.year}年{m.month}月{m.day}日 {m.hour:02d}:{m.minute:02d}" if with_time else f"{m.month}月{m.day}日"


@dataclass
class ReadValue:
    """One prose blank as read back to the unit: its number, what it counts, what was taken."""
    number: int
    label: str
    value: str  # what was recorded, or why nothing was
    state: str  # ok | empty | warning | error


@dataclass
class FileLine:
    name: str
    verdict: str  # one Chinese sentence
    errors: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # a grid form: every field as read
    values: list[ReadValue] = field(default_factory=list)  # a prose form: every blank, for the unit to check
    header: str = ""  # a prose form: its header line as read (填报单位、联系人、电话、填报日期)
    columns: list[str] = field(default_factory=list)  # a list form: its columns' labels
    records: list[list[str]] = field(default_factory=list)  # a list form: every record read, by column

    @property
    def readback(self) -> bool:
        """Whether the file's figures are read back in the acknowledgement's last section."""
        return bool(self.values or self.records)


@dataclass
class Owed:
    label: str
    due: str
    overdue: bool
    hint: str = ""  # how to send it now, e.g. name the week of an overdue weekly report


@dataclass
class Acknowledgement:
    original_subject: str
    message_id: str | None
    references: str | None
    received: str
    unit: str | None
    outcome: str
    reason: str
    files: list[FileLine]
    owed: list[Owed]
    flags: list[str]
    problems: list[str]
    nothing_found: bool
    system: str = "“安全生产月”材料接收系统"  # who signs (labels.system_name)


@dataclass(frozen=True)
class Note:
    """One problem with a field: the field by its place and what it counts, then the form's own
    words with what the unit wrote in it and what is wrong. Plain text shows
    `第10项 组织观看警示教育片场次：组织观看（若干）场 —— 应为数字` for a prose blank and
    `第3行 身份证号：填写“3408…”，应为…` for a list cell; HTML breaks after the field."""
    blank: str
    text: str

    def __str__(self) -> str:
        return f"{self.blank}：{self.text}" if self.blank else self.text


def form_of(campaign: Campaign, r: FormResult) -> Form | None:
    """The campaign's form a result was read as: by its form name (附件N), else by its item."""
    if r.form:
        try:
            return campaign.form(r.form)
        except KeyError:
            pass
    return campaign.form_of(r.kind) if r.kind else None


# A list cell's problem key (forms/listform): records[2].id_number — the record's 0-based index
# and the column's key; its label names the row as the unit sees it: [第2张表 ]第3行 身份证号.
_CELL_KEY_RE = re.compile(r"^([a-z_][a-z0-9_]*)\[(\d+)\]\.([a-z][a-z0-9_.]*)$")
_ROW_RE = re.compile(r"^((?:第\d+张表\s*)?第\d+行)")


def _cell(form: Form, p):
    """(the row as the unit finds it, the column's field) of a list form's problem, or None."""
    match = _CELL_KEY_RE.match(p.key)
    if not match or match.group(1) != form.list_key:
        return None
    try:
        column = form.field(match.group(3))
    except KeyError:
        return None
    row = _ROW_RE.match(p.label or "")
    return (row.group(1) if row else f"第{int(match.group(2)) + 1}条"), column


def _field(form: Form, key: str):
    try:
        return form.field(key)
    except KeyError:
        return None


def _where(form: Form, p) -> str:
    """The blank in the unit's own words with what they wrote in it: 组织观看（若干）场."""
    return re.sub(r"[（(]\s*[）)]", lambda m: m.group(0)[0] + p.written + m.group(0)[-1],
                  blank_phrases(form)[p.key], count=1)


def _note(form: Form | None, p, tail: str, *, warning: bool = False) -> Note:
    """A problem by its field, then `tail` (what is expected, or what was taken): a prose blank
    by number and short label with the form's words around it; a list cell by its row and
    column; any other field by its short label (the reader's label when the form has no such
    field)."""
    written = f"填写“{p.written}”" if warning or p.written.strip() else "未填写"
    if form is not None:
        cell = _cell(form, p) if form.shape == LIST else None
        if cell is not None:
            row, f = cell
            return Note(f"{row} {f.short}", f"{written}，{tail}")
        f = _field(form, p.key)
        if f is not None and form.shape == PROSE and not f.header:
            return Note(f"第{f.number}项 {f.short}", f"{_where(form, p)} —— {tail}")
        if f is not None and form.shape != PROSE:
            return Note("", f"{f.short}：{written}，{tail}")
    return Note("", f"{p.label}：{written}，{tail}")


def _problem_text(form: Form | None, p) -> Note:
    return _note(form, p, f"应为{p.expected}")


def _warning_text(form: Form | None, p) -> Note:
    return _note(form, p, f"按 {p.read_as} 记录，如不准确请更正", warning=True)


def _read_values(form: Form, r: FormResult) -> list[ReadValue]:
    """Every blank of a prose form with what was recorded for it, so a misread figure shows."""
    errors = {p.key: p for p in r.errors}
    warnings = {p.key: p for p in r.warnings}
    out = []
    for blank in form.blanks:
        value = r.values.get(blank.key)
        if blank.key in errors:
            written = errors[blank.key].written
            out.append(ReadValue(blank.number, blank.short, f"未记录（填写“{written}”，需更正）" if written
                                 else "未记录（需更正）", "error"))
        elif value is None or value == "":
            out.append(ReadValue(blank.number, blank.short, "未填", "empty"))
        elif blank.key in warnings:
            out.append(ReadValue(blank.number, blank.short, f"{value}（估计数，填写“{warnings[blank.key].written}”）",
                                 "warning"))
        else:
            out.append(ReadValue(blank.number, blank.short, str(value), "ok"))
    return out


def _read_records(form: Form, r: FormResult) -> list[list[str]]:
    """Every record of a list form by column, a cell in error or estimated said so."""
    marks: dict[tuple[int, str], str] = {}
    for problems, mark in ((r.warnings, "（估计数）"), (r.errors, "error")):
        for p in problems:
            match = _CELL_KEY_RE.match(p.key)
            if match and match.group(1) == form.list_key:
                marks[(int(match.group(2)), match.group(3))] = mark
    rows = (r.values or {}).get(form.list_key) or []
    out = []
    for i, rec in enumerate(rows):
        if not records_of(form, {form.list_key: [rec]}):
            continue  # a blank row is no record
        cells = []
        for f in form.fields:
            mark, value = marks.get((i, f.key), ""), _shown(rec.get(f.key))
            cells.append("未记录（需更正）" if mark == "error" else (value + mark if value else value))
        out.append(cells)
    return out


def _shown(value) -> str:
    return "" if value is None else str(value)


def _due_text(cal: Calendar, item: str) -> str:
    """An item's deadline as every mail words it: 2020年6月10日 23:59."""
    return local_text(cal.deadline(item).due, cal)


def _describe(name: str, r: FormResult, cal: Calendar, item: str | None, *, received: dict[str, datetime],
              received_at: datetime, sender: str) -> FileLine:
    """One file: what it was recognised as, what was read, and, when it was recorded for `item`,
    whether it came late (judged as `status` judges it: on the item's first arrival)."""
    campaign = cal.campaign
    form = form_of(campaign, r)
    label = item_phrase(campaign, form.item if form is not None else (r.kind or "")) or KIND_LABELS.get(r.kind or "", "")
    if r.status == PARSED:
        if form is not None and form.shape == PROSE:
            read = sum(1 for k, v in r.values.items() if not k.startswith("header.") and v is not None)
            verdict = f"识别为《{label}》，读取 {read} 项"
        elif form is not None and form.shape == LIST:
            verdict = f"识别为《{label}》，读取 {len(records_of(form, r.values))} 条记录"
        elif form is not None:
            verdict = f"识别为《{label}》"
        else:
            verdict = f"识别为{label}"
            if item and cal.is_weekly(item):
                verdict += f"，计入{cal.week_label(item)}"
        first = min(received.get(item, received_at), received_at) if item else received_at
        if item and cal.state(item, first, received_at) == LATE:
            verdict += f"，逾期报送（截止时间：{_due_text(cal, item)}）"
        line = FileLine(name, verdict, [_problem_text(form, p) for p in r.errors],
                        [_warning_text(form, p) for p in r.warnings])
        if form is not None and form.shape == GRID:
            line.details = [f"{f.short}：{_shown(r.values.get(f.key)) or '（未填）'}" for f in form.fields]
            if form.liaison and item and not form_email(r.values) and sender and "@" in sender:
                line.details.append(f"表中未填写可用的电子邮箱，今后的提醒将发送至本邮件的发件地址 {sender}；"
                                    f"如需改用其他邮箱，请在表中填写后重新发送")
        elif form is not None and form.shape == PROSE:
            line.header = "　".join(f"{header_label(f)}：{_shown(r.values.get(f.key)) or '（未填）'}"
                                    for f in form.header_fields)
            line.values = _read_values(form, r)
        elif form is not None and form.shape == LIST:
            line.columns = [f.short for f in form.fields]
            line.records = _read_records(form, r)
        return line
    if r.status == EVIDENCE:
        return FileLine(name, (f"识别为《{label}》的" if label else "") + (r.reason or "扫描件/照片已留存，请另发可编辑的 Word/Excel 文件"))
    if r.status == ERROR:
        return FileLine(name, f"无法读取：{r.reason}")
    if r.status == SKIPPED:
        return FileLine(name, r.reason or "不是本次活动的表格，未处理")
    return FileLine(name, r.reason or r.status)


def build_acknowledgement(*, calendar: Calendar, mail: ParsedMail, files, body: FormResult | None,
                          unit: str | None, outcome: str, reason: str, flags: list[str], items,
                          received: dict[str, datetime], received_at: datetime, liaison: dict | None,
                          problems: list[str]) -> Acknowledgement:
    item_by_name = {name: item for item, name, _ in items}
    seen = dict(received=received, received_at=received_at, sender=mail.from_addr)
    lines = [_describe(f.filename, f.result, calendar, item_by_name.get(f.filename), **seen) for f in files]
    if body is not None:
        lines.append(_describe("邮件正文", body, calendar, item_by_name.get("邮件正文"), **seen))
    for item, name, state in items:
        if state == "duplicate":
            for line in lines:
                if line.name == name:
                    line.verdict += "（与此前收到的内容相同，未重复记录）"
    owed = []
    if unit:
        # Everything not received (what `status` shows as ✗ or …), however long overdue. What
        # arrived, even after this mail (a re-read), is not asked for again.
        for dl in calendar.items_due_by_end():
            if dl.item in received:
                continue
            state = calendar.state(dl.item, None, received_at)
            hint = ""
            if state == MISSING and calendar.is_weekly(dl.item):
                week = calendar.week_label(dl.item).split("（")[0]
                hint = f"补报时请在邮件主题中注明“{week}”"
            owed.append(Owed(calendar.item_label(dl.item), _due_text(calendar, dl.item), state == MISSING, hint))
    return Acknowledgement(
        original_subject=mail.subject, message_id=mail.message_id, references=mail.header("references"),
        received=local_text(received_at, calendar), unit=unit, outcome=outcome, reason=reason,
        files=lines, owed=owed, flags=flags, problems=problems,
        nothing_found=not any(f.result.status in (PARSED, EVIDENCE) for f in files) and body is None,
        system=system_name(calendar.campaign))


def render_acknowledgement(ack: Acknowledgement) -> str:
    return _env().get_template("ack.txt.j2").render(ack=ack)


def render_acknowledgement_html(ack: Acknowledgement) -> str:
    """The same acknowledgement with its files and what is owed as tables (the HTML part)."""
    return _env().get_template("ack.html.j2").render(ack=ack)


def compose_acknowledgement(ack: Acknowledgement, *, sender: str, to: str, now: datetime) -> EmailMessage:
    subject = "回复：" + (header_safe(ack.original_subject) or "（无主题）")
    refs = " ".join(x for x in ((ack.references or "").split()[-10:] + [ack.message_id or ""]) if x) or None
    msg = new_mail(sender=sender, to=[to], subject=subject, auto_submitted="auto-replied", now=now,
                   in_reply_to=ack.message_id, references=refs)
    set_alternative(msg, render_acknowledgement(ack), render_acknowledgement_html(ack))
    return msg


def _reminder_when(calendar: Calendar, reminder) -> tuple[str, bool]:
    """The deadline as the reminder's subject and body word it, with the very time its
    截止时间 line shows (6月10日23:59, or 今天23:59 on the day), and whether it is today."""
    due = calendar.local(reminder.due)
    today = calendar.local(reminder.slot).date() == due.date()
    clock = f"{due.hour:02d}:{due.minute:02d}"
    return (f"今天{clock}" if today else f"{due.month}月{due.day}日{clock}"), today


def reminder_subject(calendar: Calendar, reminder) -> str:
    due = calendar.local(reminder.due)
    when = f"{due.month}月{due.day}日{due.hour:02d}:{due.minute:02d}"
    today = "（今天截止）" if _reminder_when(calendar, reminder)[1] else ""
    return f"【提醒】{reminder.unit}：请于{when}前报送{calendar.item_label(reminder.item)}{today}"


def render_reminder(calendar: Calendar, reminder, campaign_name: str, liaison_name: str | None) -> str:
    due = calendar.local(reminder.due)
    when = _reminder_when(calendar, reminder)[0] + "前"
    return _env().get_template("reminder.txt.j2").render(
        unit=reminder.unit, liaison=liaison_name, item=calendar.item_label(reminder.item),
        weekly=calendar.is_weekly(reminder.item), weekly_words=weekly_words(calendar.campaign), when=when,
        campaign=campaign_name, due=f"{due.year}年{due.month}月{due.day}日 {due.hour:02d}:{due.minute:02d}",
        score_use=score_use(calendar.campaign), system=system_name(calendar.campaign))


def compose_reminder(calendar: Calendar, reminder, *, sender: str, campaign_name: str,
                     liaison_name: str | None, now: datetime) -> EmailMessage:
    msg = new_mail(sender=sender, to=list(reminder.to), subject=reminder_subject(calendar, reminder),
                   auto_submitted="auto-generated", now=now)
    set_text(msg, render_reminder(calendar, reminder, campaign_name, liaison_name))
    return msg


def compose_sender_notice(*, calendar: Calendar, unit: str, liaison_name: str | None, to: list[str], sender_addr: str,
                          subject: str, items: list[str], received_at: datetime, sender: str,
                          now: datetime) -> EmailMessage:
    """Tell a unit's liaison on record that its figures arrived from an address not on record."""
    msg = new_mail(sender=sender, to=to, subject=f"【核实】{unit}：收到以贵单位名义报送的材料",
                   auto_submitted="auto-generated", now=now)
    body = _env().get_template("notice.txt.j2").render(
        unit=unit, liaison=liaison_name, received=local_text(received_at, calendar), sender=header_safe(sender_addr),
        subject=header_safe(subject) or "（无主题）", items=[calendar.item_label(i) for i in items],
        system=system_name(calendar.campaign))
    set_text(msg, body)
    return msg
