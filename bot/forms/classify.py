"""The entry point the pipeline calls for every attachment and for the mail body.

One attachment -> one FormResult, never an exception: the size cap, what the bytes really are
(safety.sniff), images and scans kept as evidence, then the document read and recognised by
its content first (附件1 / 附件2 wording), then by the file name, its title lines and the
subject, and handed to the matching parser.

`plans` (a tuple of `CampaignForms`, one per campaign; None: the shipped 2020 campaign, read by
the rules below exactly as before campaigns were data) makes the same walk over every
campaign's forms and items: content first across all their forms (`parse.fitting_form`), then
the words of a file name, title line or subject (a form's 附件N and title, a document item's
keywords), then the document items themselves. Plans are plain frozen data, so the reading
pool can send them to its worker processes with every attachment.
"""
from __future__ import annotations

import logging
import os
import re
import struct
import zipfile
from dataclasses import dataclass, replace

from bot.forms import safety
from bot.forms.definition import CampaignForms, DocumentItem, Form
from bot.forms.document import Document
from bot.forms.fold import fold
from bot.forms.liaison import looks_like_liaison, parse_liaison
from bot.forms.progress import DocumentText, fold_document, looks_like_progress, parse_progress
from bot.forms.readers import (REASON_CORRUPT, Budget, ScanOnly, UnknownCharset, UnreadableFile, read_document,
                               read_html_text)
from bot.forms.narrative import head_lines, kind_named_in, parse_report, report_kind
from bot.forms.parse import fitting_form, parse_form
from bot.forms.result import (ERROR, EVIDENCE, LIAISON_FORM, PROGRESS_TABLE, REASON_HTML_FRAGMENT,
                              REASON_HTML_NOT_FORM, REASON_UNKNOWN_CHARSET_NAMED, SKIPPED, SUMMARY, WEEKLY_REPORT,
                              FormResult)

log = logging.getLogger(__name__)

REASON_SCAN = "扫描件/照片已留存，请另发可编辑的 Word/Excel 文件"
REASON_UNRECOGNISED = "未识别为本次活动的表格或材料"
REASON_SIGNATURE = "图片较小，视为签名或图标，未作为材料留存"
REASON_EMPTY = "文件中没有文字内容"
_SKIP_REASONS = {
    "video": "视频文件，未读取",
    "audio": "音频文件，未读取",
    "pptx": "演示文稿（PPT）未读取，如需报送请另发 Word 或 Excel 文件",
    "ppt": "演示文稿（PPT）未读取，如需报送请另发 Word 或 Excel 文件",
}
_DOCUMENT_EXTS = frozenset({"doc", "docx", "docm", "dot", "dotx", "wps", "wpt", "xls", "xlsx", "xlsm", "et",
                            "ett", "pdf", "rtf", "odt", "ods", "txt"})
# Images at most this big, or this small on both sides, are logos and signatures, not scans.
_SIGNATURE_BYTES = 20 * 1024
_SIGNATURE_PIXELS = 240
_SIGNATURE_NAME_RE = re.compile(r"^(image\d{3}|~wrd\d+|outlook-|signature|logo)", re.I)

_LIAISON_RE = re.compile(r"联络员|推荐表|附件\s*1|附件一")
_PROGRESS_STRONG_RE = re.compile(r"统计表|附件\s*2|附件二")
_PROGRESS_WEAK_RE = re.compile(r"进展情况")


def keyword_kind(text: str) -> str | None:
    """The kind one short text (subject, file name) names, by forms.md's keywords."""
    folded = fold(text, keep_spaces=True)
    if _LIAISON_RE.search(folded):
        return LIAISON_FORM
    if _PROGRESS_STRONG_RE.search(folded):
        return PROGRESS_TABLE
    kind = kind_named_in(folded)
    if kind == WEEKLY_REPORT:
        return kind
    if _PROGRESS_WEAK_RE.search(folded):
        return PROGRESS_TABLE
    return kind


def _stem(filename: str) -> str:
    return os.path.splitext(filename or "")[0]


def _named_kind(filename: str, subject: str) -> str | None:
    return keyword_kind(_stem(filename)) or keyword_kind(subject)


def read_attachment(filename: str, data: bytes, *, subject: str = "", max_bytes: int = 25 * 1024 * 1024,
                    timeout: float = 60, plans: tuple[CampaignForms, ...] | None = None) -> FormResult:
    """What one attachment is and holds. Never raises. `timeout`: the wall-clock budget of
    reading it, in this process or in the children the readers start (readers.Budget).
    `plans`: the campaigns whose forms and items it may be (None: the shipped 2020 one)."""
    try:
        return _read_attachment(filename or "", data or b"", subject or "", max_bytes, timeout, plans or None)
    except Exception as exc:  # noqa: BLE001 - the promise to the pipeline: never raise
        log.exception("识别附件 %r 时出错", filename)
        return FormResult(None, ERROR, reason=f"读取附件时程序出错（{type(exc).__name__}），原件已保存，请人工查看")


def _read_attachment(filename: str, data: bytes, subject: str, max_bytes: int, timeout: float,
                     plans: tuple[CampaignForms, ...] | None) -> FormResult:
    named = _named_target(filename, subject, plans)
    if len(data) > max_bytes:
        return named.result(ERROR, reason=f"附件超过{max_bytes / 1024 / 1024:g}MB，未读取，请压缩或拆分后重新发送")
    if not data:
        return named.result(ERROR, reason="附件是空文件（0字节）")
    # a docx comes with the archive the sniff opened: its central directory serves the reader
    fmt, archive = safety.sniff_archive(data, filename)
    try:
        return _read_sniffed(filename, data, subject, timeout, named, fmt, archive, plans)
    finally:
        if archive is not None:
            archive.close()


def _read_sniffed(filename: str, data: bytes, subject: str, timeout: float, named: Target, fmt: str,
                  archive: zipfile.ZipFile | None, plans: tuple[CampaignForms, ...] | None) -> FormResult:
    ext = os.path.splitext(filename)[1].lower().lstrip(".")
    if fmt in safety.IMAGE_FORMATS:
        if _is_signature_image(data, fmt, filename):
            return FormResult(None, SKIPPED, reason=REASON_SIGNATURE)
        return named.result(EVIDENCE, reason=REASON_SCAN)
    if fmt in _SKIP_REASONS:
        return FormResult(None, SKIPPED, reason=_SKIP_REASONS[fmt])
    if fmt == "unknown":
        if ext in _DOCUMENT_EXTS:
            return named.result(ERROR, reason=REASON_CORRUPT)
        return FormResult(None, SKIPPED, reason="未识别的文件格式，未读取")
    budget = Budget(timeout)
    try:
        if fmt == "html":
            # Cheap evidence before a converter: LibreOffice takes seconds to start, and most
            # HTML attachments are Outlook's body fragments (ATT00001.htm), not forms.
            page = read_html_text(data, budget=budget)
            if not _may_be_form(page, filename, plans):
                reason = REASON_HTML_FRAGMENT if _FRAGMENT_NAME_RE.match(os.path.basename(filename)) else REASON_HTML_NOT_FORM
                return FormResult(None, SKIPPED, text=page.text[:2000], reason=reason)
        doc = read_document(data, filename, fmt=fmt, archive=archive, budget=budget)
    except ScanOnly:
        return named.result(EVIDENCE, reason=REASON_SCAN)
    except UnknownCharset as exc:
        # text, not a damaged file: kept as it decodes best; a file named as a form cannot be
        # read as one, so that one asks for a re-save
        if named.kind:
            return named.result(ERROR, text=exc.text[:2000], reason=REASON_UNKNOWN_CHARSET_NAMED)
        return FormResult(None, SKIPPED, text=exc.text[:2000], reason=exc.reason)
    except UnreadableFile as exc:
        return named.result(ERROR, reason=exc.reason)
    return classify_document(doc, filename=filename, subject=subject, plans=plans)


# Outlook and Apple Mail name the pieces of a body split by an attachment ATT00001.htm, ...
_FRAGMENT_NAME_RE = re.compile(r"^att\d{5}\.html?$", re.I)
_FORM_WORDS_CHARS = 20_000


def _may_be_form(page: Document, filename: str, plans: tuple[CampaignForms, ...] | None = None) -> bool:
    """Whether an HTML page's own text or name may be a form or report (its forms.md keywords,
    the forms' wording): only then is it converted. The subject does not count — it names
    what the mail carries, and a body fragment is not that."""
    if not page.text.strip():
        return False
    if plans:
        return bool(named_in(page.text[:_FORM_WORDS_CHARS], plans).kind
                    or document_target(page, filename=filename, plans=plans).kind)
    return bool(keyword_kind(page.text[:_FORM_WORDS_CHARS]) or document_kind(page, filename=filename))


def document_kind(doc: Document, *, filename: str = "", subject: str = "",
                  folded: DocumentText | None = None, plans: tuple[CampaignForms, ...] | None = None) -> str | None:
    """Content first (the forms' own wording), then the file name, the document's title
    lines, the subject, and last the whole text. With `plans`: the item of the campaign's
    form or document it is (`document_target` also says which form and campaign)."""
    if plans:
        return document_target(doc, filename=filename, subject=subject, folded=folded, plans=plans).kind
    folded = folded or fold_document(doc)
    whole = folded.folded if folded.complete else None  # a text cut short cannot rule 附件1 out
    liaison, progress = looks_like_liaison(doc, whole), looks_like_progress(doc, folded)
    if liaison and progress:
        named = _named_kind(filename, subject)
        return named if named in (LIAISON_FORM, PROGRESS_TABLE) else PROGRESS_TABLE
    if liaison:
        return LIAISON_FORM
    if progress:
        return PROGRESS_TABLE
    return (keyword_kind(_stem(filename)) or kind_named_in(head_lines(doc.text)) or keyword_kind(subject)
            or report_kind("", "", doc.text))


def classify_document(doc: Document, *, filename: str = "", subject: str = "",
                      plans: tuple[CampaignForms, ...] | None = None) -> FormResult:
    if plans:
        return _classify_planned(doc, filename, subject, plans)
    if not doc.text.strip():
        named = _named_kind(filename, subject)
        if named:
            return FormResult(named, ERROR, reason=REASON_EMPTY)
        return FormResult(None, SKIPPED, reason=REASON_EMPTY)
    folded = fold_document(doc)  # once, for classification and the 附件2 parser
    kind = document_kind(doc, filename=filename, subject=subject, folded=folded)
    if kind is None:
        return FormResult(None, SKIPPED, text=doc.text[:2000], reason=REASON_UNRECOGNISED)
    try:
        if kind == LIAISON_FORM:
            return parse_liaison(doc)
        if kind == PROGRESS_TABLE:
            return parse_progress(doc, folded)
        return parse_report(doc.text, kind, subject=subject, filename=filename)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the mail
        log.exception("读取附件 %r（%s）的内容时出错", filename, kind)
        return FormResult(kind, ERROR, reason=f"读取表格内容时程序出错（{type(exc).__name__}），原件已保存，请人工查看")


# ---------------------------------------------------------------------------- images


def _is_signature_image(data: bytes, fmt: str, filename: str) -> bool:
    if len(data) <= _SIGNATURE_BYTES or _SIGNATURE_NAME_RE.match(os.path.basename(filename)):
        return True
    size = image_size(data, fmt)
    return size is not None and size[0] <= _SIGNATURE_PIXELS and size[1] <= _SIGNATURE_PIXELS


def image_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, GIF or JPEG; None when not found."""
    try:
        if fmt == "png" and len(data) >= 24:
            return struct.unpack(">II", data[16:24])
        if fmt == "gif" and len(data) >= 10:
            return struct.unpack("<HH", data[6:10])
        if fmt == "jpeg":
            position = 2
            while position + 9 < len(data):
                if data[position] != 0xFF:
                    return None
                marker = data[position + 1]
                length = struct.unpack(">H", data[position + 2:position + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    height, width = struct.unpack(">HH", data[position + 5:position + 9])
                    return width, height
                position += 2 + length
    except struct.error:
        return None
    return None


# ---------------------------------------------------------------------------- mail body

_QUOTE_START_RE = re.compile(
    r"^\s*(-{2,}\s*(原始邮件|Original Message|转发邮件|Forwarded message).*|在.{1,80}写道[:：]\s*|On .{1,120}wrote:\s*"
    r"|发件人[:：].*|From:.*)$", re.I)
_COVER_WORDS = ("附件", "查收", "审阅", "查阅", "收阅", "批阅", "烦请", "请收", "见附")
_SENT_FROM_RE = re.compile(r"^(发自我的|来自我的|Sent from|发自\s*\S+\s*邮箱)", re.I)
_MIN_BODY_CHARS = 40
_MIN_NAMED_BODY_CHARS = 12


def strip_quoted(body: str) -> str:
    lines: list[str] = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _QUOTE_START_RE.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        lines.append(line)
    return "\n".join(lines)


def _is_boilerplate(line: str) -> bool:
    """Greetings, "附件请查收" cover lines, signatures (unit, name, phone, date)."""
    text = line.strip()
    if not text or _SENT_FROM_RE.match(text):
        return True
    if len(text) <= 20 and (text.endswith(("：", ":", "！", "!", "，", ",")) or "您好" in text or "老师" in text):
        return True
    if len(text) <= 80 and any(word in text for word in _COVER_WORDS):
        return True
    return len(text) <= 30 and not re.search(r"[，。；;,]", text)


def read_body(subject: str, body: str, *, plans: tuple[CampaignForms, ...] | None = None) -> FormResult | None:
    """A weekly report written in the mail body itself, or None: the subject or body must name
    a weekly report and the body must hold real content beyond greetings, "请查收" cover lines
    and the signature. With `plans`: any campaign's weekly report, and a document item the
    subject names by its keywords (not the 2020 总结, which comes as a file) when the body
    holds a document's worth of text."""
    try:
        text = strip_quoted(body or "")
        content = [line for line in text.split("\n") if not _is_boilerplate(line)]
        if plans:
            return _planned_body(subject or "", text, content, plans)
        # A subject that names the weekly report is a strong signal: a clerk's two-line report
        # ("本周开展隐患排查3次……") counts; without it, ask for more text before calling it one.
        named = kind_named_in(subject or "") == WEEKLY_REPORT
        if sum(len(line.strip()) for line in content) < (_MIN_NAMED_BODY_CHARS if named else _MIN_BODY_CHARS):
            return None
        if report_kind(subject or "", "", text) != WEEKLY_REPORT:
            return None
        return parse_report(text, WEEKLY_REPORT, subject=subject or "")
    except Exception:  # noqa: BLE001 - never raise into the pipeline
        log.exception("读取邮件正文时出错")
        return None



# ---------------------------------------------------------------------------- campaigns as data
# The same walk over the forms and items of every campaign given (`plans`). Each word found
# names a Target: an item, with the form it is submitted as (forms) and its campaign.


@dataclass(frozen=True)
class Target:
    """What a document is taken for: an item (None: nothing), its form, its campaign."""

    kind: str | None = None
    form: Form | None = None
    campaign: str = ""
    weekly: bool = False  # a weekly report item (its week is read as 2020's is)

    def result(self, status: str, **fields) -> FormResult:
        return FormResult(self.kind, status, form=self.form.form if self.form else "", campaign=self.campaign,
                          **fields)


_NOTHING = Target()
_CN_NUMBERS = "零一二三四五六七八九十"
# A title's form word (推荐表, 统计表, 报名表, 名单, 花名册) and what is left before it (联络员,
# 进展情况); a word before it that ends in 情况 / 活动 / 工作 describes what reports and other
# documents also describe (weak: 进展情况, 读书活动).
_FORM_WORD_RE = re.compile(r"(花名册|名单|名册|[\u4e00-\u9fff]{2}表)$")
_WEAK_RE = re.compile(r"(情况|活动|工作)$")
# 2020's narrative rules for its weekly report and summary, the weekly rule for every campaign
_WEEKLY_WORDS_RE = re.compile(r"周报|本周|每周|第\s*(?:[0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*周(?!年)")


def _attachment_re(label: str) -> re.Pattern | None:
    """附件3 also written 附件 3 / 附件三 / 附件３ (folded), never matching 附件31."""
    match = re.fullmatch(r"附件\s*(\d+)", label or "")
    if not match:
        return None
    n = int(match.group(1))
    words = [rf"{n}(?!\d)"]
    if 0 < n <= 10:
        words.append(_CN_NUMBERS[n])
    return re.compile(r"附\s*件\s*(?:" + "|".join(words) + ")")


def _form_words(form: Form) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(strong, weak) words naming a form in a short text, folded."""
    from bot.forms.liaison import title_core

    strong, weak = [], []
    if form.title:
        strong.append(fold(form.title, keep_spaces=True))
        core = title_core(form.title)
        strong.append(core)
        word = _FORM_WORD_RE.search(core)
        if word:
            strong.append(word.group(1))
            before = core[:word.start()]
            if len(before) >= 2:
                (weak if _WEAK_RE.search(before) else strong).append(before)
    return tuple(dict.fromkeys(w for w in strong if w)), tuple(weak)


def _document_re(item: DocumentItem) -> re.Pattern | None:
    words = [re.escape(fold(k, keep_spaces=True)) for k in item.keywords if k.strip()]
    if item.kind == "weekly":
        words.append(_WEEKLY_WORDS_RE.pattern)
    return re.compile("|".join(words)) if words else None


def _mentions(text: str, plan: CampaignForms) -> bool:
    return any(fold(k, keep_spaces=True) in text for k in plan.keywords if k.strip())


def _pick(hits: list[tuple[int, Target]], text: str, plans: tuple[CampaignForms, ...]) -> Target | None:
    """Among (length of the word that matched, target) hits: those of a campaign the text
    names by its keywords, then the longest word (读书活动总结 over 总结), then the first."""
    if not hits:
        return None
    named = {plan.campaign for plan in plans if _mentions(text, plan)}
    best = max(enumerate(hits), key=lambda h: (h[1][1].campaign in named, h[1][0], -h[0]))
    return best[1][1]


def _form_target(form: Form, plan: CampaignForms) -> Target:
    return Target(form.item or None, form, form.campaign or plan.campaign)


def _document_hits(folded: str, plans: tuple[CampaignForms, ...], weekly: bool) -> list[tuple[int, Target]]:
    hits = []
    for plan in plans:
        for item in plan.documents:
            if (item.kind == "weekly") != weekly:
                continue
            pattern = _document_re(item)
            if pattern is None:
                continue
            longest = max((len(m.group()) for m in pattern.finditer(folded)), default=0)
            if longest:
                hits.append((longest, Target(item.item, None, plan.campaign, weekly)))
    return hits


def named_document(text: str, plans: tuple[CampaignForms, ...], context: str = "") -> Target:
    """The document item one short text names: a weekly report's words win over a document's
    (第一周工作总结 is a weekly report), as narrative.kind_named_in does for 2020. `context`:
    more text (file name, subject) whose campaign keywords choose among campaigns."""
    folded = fold(text, keep_spaces=True)
    context = folded + "\n" + fold(context, keep_spaces=True)
    return (_pick(_document_hits(folded, plans, True), context, plans)
            or _pick(_document_hits(folded, plans, False), context, plans) or _NOTHING)


def _form_hits(folded: str, plans: tuple[CampaignForms, ...]) -> tuple[list, list]:
    """(strong, weak) hits of the forms a short text names: its 附件N or title words."""
    strong, weak = [], []
    for plan in plans:
        for form in plan.forms:
            words_strong, words_weak = _form_words(form)
            pattern = _attachment_re(form.form)
            found = pattern.search(folded) if pattern is not None else None
            longest = max([len(found.group()) if found else 0] + [len(w) for w in words_strong if w in folded])
            if longest:
                strong.append((longest, _form_target(form, plan)))
                continue
            longest = max([0] + [len(w) for w in words_weak if w in folded])
            if longest:
                weak.append((longest, _form_target(form, plan)))
    return strong, weak


def named_in(text: str, plans: tuple[CampaignForms, ...], context: str = "") -> Target:
    """What one short text (a file name, a subject) names: a form by its 附件N or title words,
    then a weekly report, then a form by a weak title word (进展情况), then a document item
    (as `keyword_kind` does for 2020). `context`: more text (file name, subject) whose
    campaign keywords choose among campaigns that have the words found."""
    folded = fold(text, keep_spaces=True)
    if not folded.strip():
        return _NOTHING
    context = folded + "\n" + fold(context, keep_spaces=True)
    strong, weak = _form_hits(folded, plans)
    documents = _document_hits(folded, plans, False)
    if weak and documents and max(n for n, _ in documents) > max(n for n, _ in weak):
        weak = []  # 读书活动总结 names the 总结 more than a form titled 读书活动报名表
    return (_pick(strong, context, plans) or _pick(_document_hits(folded, plans, True), context, plans)
            or _pick(weak, context, plans) or _pick(documents, context, plans) or _NOTHING)


def _named_forms(filename: str, subject: str, plans: tuple[CampaignForms, ...]) -> tuple[Form, ...]:
    """Every form the file name names by its 附件N or title words (else the subject): the
    ones preferred among those the content fits (附件1 may be a form of several campaigns)."""
    for text in (_stem(filename), subject):
        strong, _ = _form_hits(fold(text, keep_spaces=True), plans)
        if strong:
            return tuple(target.form for _, target in strong)
    return ()


def _named_target(filename: str, subject: str, plans: tuple[CampaignForms, ...] | None) -> Target:
    if not plans:
        kind = _named_kind(filename, subject)
        return Target(kind) if kind else _NOTHING
    context = _stem(filename) + "\n" + subject
    named = named_in(_stem(filename), plans, context)
    return named if named.kind else named_in(subject, plans, context)


def _report_target(text: str, plans: tuple[CampaignForms, ...], context: str = "") -> Target:
    """A free text's item by its title lines, then its whole text (narrative.report_kind's
    rules, with each campaign's document keywords): a document named as 活动<word> in the
    title lines, or named there without a weekly word; a weekly word in the title lines; a
    weekly word anywhere; 活动<word> / <word>如下 / 工作<word> anywhere."""
    head = fold(head_lines(text), keep_spaces=True)
    context = head + "\n" + fold(context, keep_spaces=True)
    weekly_head = _pick(_document_hits(head, plans, True), context, plans)
    for plan in plans:
        for item in plan.documents:
            if item.kind == "weekly":
                continue
            for word in (fold(k, keep_spaces=True) for k in item.keywords if k.strip()):
                if "活动" + word in head or (word in head and not weekly_head):
                    return Target(item.item, None, plan.campaign)
    if weekly_head:
        return weekly_head
    body = fold(text[:20_000], keep_spaces=True)
    weekly = _pick(_document_hits(body, plans, True), context + "\n" + body, plans)
    if weekly:
        return weekly
    for plan in plans:
        for item in plan.documents:
            if item.kind == "weekly":
                continue
            for word in (re.escape(fold(k, keep_spaces=True)) for k in item.keywords if k.strip()):
                if re.search(rf"活动{word}|{word}如下|工作{word}", body):
                    return Target(item.item, None, plan.campaign)
    return _NOTHING


def document_target(doc: Document, *, filename: str = "", subject: str = "", folded: DocumentText | None = None,
                    plans: tuple[CampaignForms, ...]) -> Target:
    """Content first across every campaign's forms (the best fit; a form the file name or
    subject names wins among those that fit), then the file name, the document's title lines,
    the subject, and last the whole text."""
    folded = folded or fold_document(doc)
    forms = [f for plan in plans for f in plan.forms]
    form = fitting_form(doc, forms, folded, prefer=_named_forms(filename, subject, plans))
    if form is not None:
        plan = next(p for p in plans if form in p.forms)
        return _form_target(form, plan)
    context = "\n".join((_stem(filename), subject, head_lines(doc.text)))
    for target in (named_in(_stem(filename), plans, context), named_document(head_lines(doc.text), plans, context),
                   named_in(subject, plans, context)):
        if target.kind:
            return target
    return _report_target(doc.text, plans, context)


def _as_report(text: str, target: Target, subject: str, filename: str) -> FormResult:
    # a weekly report's week is read for every campaign's weekly item, as 2020's is
    result = parse_report(text, WEEKLY_REPORT if target.weekly else SUMMARY, subject=subject, filename=filename)
    return replace(result, kind=target.kind, campaign=target.campaign)


def _classify_planned(doc: Document, filename: str, subject: str, plans: tuple[CampaignForms, ...]) -> FormResult:
    if not doc.text.strip():
        named = _named_target(filename, subject, plans)
        if named.kind:
            return named.result(ERROR, reason=REASON_EMPTY)
        return FormResult(None, SKIPPED, reason=REASON_EMPTY)
    folded = fold_document(doc)  # once, for classification and the prose parser
    target = document_target(doc, filename=filename, subject=subject, folded=folded, plans=plans)
    if target.kind is None and target.form is None:
        return FormResult(None, SKIPPED, text=doc.text[:2000], reason=REASON_UNRECOGNISED)
    try:
        if target.form is not None:
            return parse_form(doc, target.form, folded)
        return _as_report(doc.text, target, subject, filename)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the mail
        log.exception("读取附件 %r（%s）的内容时出错", filename, target.kind)
        return target.result(ERROR, reason=f"读取表格内容时程序出错（{type(exc).__name__}），原件已保存，请人工查看")


_MIN_BODY_DOCUMENT_CHARS = 200


def _planned_body(subject: str, text: str, content: list[str], plans: tuple[CampaignForms, ...]) -> FormResult | None:
    """read_body over campaigns: a weekly report by 2020's rules (a subject naming one asks for
    less text); a document item the subject names, given a document's worth of text — except
    2020's summary, which by its rules never comes in a body."""
    chars = sum(len(line.strip()) for line in content)
    named = named_document(subject, plans, head_lines(text))
    if named.weekly or (not named.kind and chars >= _MIN_BODY_CHARS):
        if chars < (_MIN_NAMED_BODY_CHARS if named.weekly else _MIN_BODY_CHARS):
            return None
        # report_kind's order: the subject, then the title lines and the text
        target = named if named.weekly else _report_target(text, plans, subject)
        if not target.weekly:
            return None
        return _as_report(text, target, subject, "")
    if named.kind and named.kind != SUMMARY and chars >= _MIN_BODY_DOCUMENT_CHARS:
        return _as_report(text, named, subject, "")
    return None
