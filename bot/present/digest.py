"""The organizers' weekly digest: an HTML part (escaped tables that 126.com's and QQ Mail's web
clients render), a plain-text part, and the workbook attached with its filename both as RFC 2231
(`filename*=`) and as RFC 2047 (`name="=?utf-8?b?...?="`), since QQ Mail and Outlook show
RFC 2231-only names as `tcmime.*.bin` / "Untitled"."""
from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.mime.base import MIMEBase
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..campaign.calendar import LATE, MISSING, ON_TIME, Calendar
from ..campaign.definition import WEEKLY
from ..campaign.standing import FormReport, ranked
from ..forms.definition import LIST, MANY
from ..mail.compose import new_mail
from .labels import field_label, form_label, score_use, system_name, workbook_stem
from .replies import TEMPLATES
from .workbook import WorkbookData, build_workbook, sheet_names


@dataclass
class DigestRow:
    unit: str
    cells: list[tuple[str, str]]  # (state, text) per item
    score: float


@dataclass
class FormSummary:
    """One reported form in the digest: who sent it and its integer fields summed."""

    heading: str  # 进展情况统计表（附件2）
    reported: int  # units that sent it
    unreported: list[str]
    totals: list[tuple[str, int]]  # (field label, total)
    records: int | None = None  # a list or many-per-unit form: how many records in all


def form_summary(campaign, report: FormReport) -> FormSummary:
    form = report.form
    fields = {f.key: f for f in form.fields}
    totals = [(field_label(form, fields[k]) if k in fields else k, v) for k, v in report.totals.items()]
    records = report.records if form.shape == LIST or form.per_unit == MANY else None
    return FormSummary(form_label(campaign, form), len(report.units), list(report.missing_units), totals, records)


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, autoescape=select_autoescape(["html", "html.j2"]))


def digest_context(data: WorkbookData) -> dict:
    cal: Calendar = data.calendar
    items = [dl.item for dl in cal.items_due_by_end()]
    headers = [cal.item_label(i) for i in items]
    rows, late, missing = [], [], []
    marks = {"on_time": "✓ 按时", "late": "逾期", "missing": "✗ 缺报", "open": "未到期"}
    for s in data.standings:
        cells = []
        for item in items:
            st = s.items[item]
            text = marks[st.state]
            if st.received_at:
                local = cal.local(st.received_at)
                text += f" {local.month}/{local.day}"
            cells.append((st.state, text))
            if st.state == MISSING:
                missing.append((s.unit, cal.item_label(item)))
            elif st.state == LATE:
                late.append((s.unit, cal.item_label(item)))
        rows.append(DigestRow(s.unit, cells, s.timeliness.score))
    n = len(data.standings)

    def count(item: str) -> int:
        return sum(1 for s in data.standings if s.items[item].state in (ON_TIME, LATE))

    campaign = cal.campaign
    undated = {i.item for i in campaign.items if i.kind != WEEKLY}  # listed before they are due
    overview = [(cal.item_label(i), count(i), n) for i in items if cal.deadline(i).due <= data.now or i in undated]
    # each reported form: prose blanks numbered, with what each counts (the form's own words
    # repeat "参与（ ）人次"); grid fields and list columns by their short labels
    forms = [form_summary(campaign, r) for r in data.reports if r.form is not None]
    now = cal.local(data.now)
    return dict(waiting=waiting_for_a_person(data),
                title=data.title, now=f"{now.year}年{now.month}月{now.day}日 {now:%H:%M}", headers=headers, rows=rows,
                late=late, missing=missing, overview=overview, forms=forms,
                ranking=[(rank, s.unit, s.timeliness.score, s.timeliness.on_time, s.timeliness.late,
                          s.timeliness.missing) for rank, s in ranked(data.standings)],
                score_use=score_use(campaign), system=system_name(campaign), sheets="、".join(sheet_names(data)))


@dataclass
class WaitingMail:
    """A mail kept for a person (needs_review), and what it waits for."""

    id: int
    received: str
    sender: str
    subject: str
    reason: str


def waiting_for_a_person(data: WorkbookData) -> list[WaitingMail]:
    """Every needs_review mail up to the digest's moment, oldest first."""
    out = []
    for m in data.messages:
        if m["outcome"] != "needs_review":
            continue
        when = data.calendar.local(datetime.fromisoformat(m["received_at"])) if m["received_at"] else None
        out.append(WaitingMail(m["id"], f"{when.month}月{when.day}日 {when:%H:%M}" if when else "",
                               m["from"] or "（无发件人）", m["subject"] or "（无主题）", m["reason"] or "需人工查看"))
    return sorted(out, key=lambda w: w.id)


def workbook_filename(data: WorkbookData) -> str:
    now = data.calendar.local(data.now)
    return f"{workbook_stem(data.calendar.campaign)}_{now:%Y%m%d}.xlsx"


def compose_digest(data: WorkbookData, *, sender: str, to: list[str], wall: datetime,
                   workbook: bytes | None = None) -> EmailMessage:
    ctx = digest_context(data)
    now = data.calendar.local(data.now)
    subject = f"【周汇总】{data.title}报送情况（截至{now.month}月{now.day}日）"
    msg = new_mail(sender=sender, to=to, subject=subject, auto_submitted="auto-generated", now=wall)
    env = _env()
    msg.set_content(env.get_template("digest.txt.j2").render(**ctx), charset="utf-8")
    msg.add_alternative(env.get_template("digest.html.j2").render(**ctx), subtype="html", charset="utf-8")
    attach_file(msg, workbook if workbook is not None else build_workbook(data), workbook_filename(data),
                "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return msg


def attach_file(msg: EmailMessage, data: bytes, filename: str, maintype: str, subtype: str) -> None:
    """Attach with the name in both encodings Chinese mail clients read: RFC 2231 `filename*=` in
    Content-Disposition and one RFC 2047 word in Content-Type's `name=`, as QQ Mail and Outlook
    write it themselves. The part's headers are written verbatim (a compat32 part): the email
    package's default policy would decode the encoded word and re-encode it as RFC 2231, and
    it garbles long media types such as the .xlsx one when folding them."""
    part = MIMEBase(maintype, subtype)
    del part["Content-Type"]
    del part["MIME-Version"]
    encoded = "=?utf-8?b?" + base64.b64encode(filename.encode("utf-8")).decode("ascii") + "?="
    part["Content-Type"] = f'{maintype}/{subtype}; name="{encoded}"'
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-Disposition"] = "attachment; filename*=utf-8''" + quote(filename, safe="")
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    if msg.get_content_maintype() != "multipart" or msg.get_content_subtype() != "mixed":
        msg.make_mixed()
    msg.attach(part)
    # Lines may exceed 78 characters (RFC 5322 allows 998); refolding is what breaks them.
    msg.policy = msg.policy.clone(max_line_length=998)
