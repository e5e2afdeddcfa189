"""The entry point the pipeline calls for every attachment and for the mail body.

One attachment -> one FormResult, never an exception: the size cap, what the bytes really are
(safety.sniff), images and scans kept as evidence, then the document read and recognised by
its content first (附件1 / 附件2 wording), then by the file name, its title lines and the
subject, and handed to the matching parser.
"""
from __future__ import annotations

import logging
import os
import re
import struct
import unicodedata
import zipfile

from bot.forms import safety
from bot.forms.document import Document
from bot.forms.liaison import looks_like_liaison, parse_liaison
from bot.forms.progress import DocumentText, fold_document, looks_like_progress, parse_progress
from bot.forms.readers import (REASON_CORRUPT, Budget, ScanOnly, UnknownCharset, UnreadableFile, read_document,
                               read_html_text)
from bot.forms.reports import head_lines, kind_named_in, parse_report, report_kind
from bot.forms.result import (ERROR, EVIDENCE, LIAISON_FORM, PROGRESS_TABLE, REASON_HTML_FRAGMENT, REASON_HTML_NOT_FORM,
                              REASON_UNKNOWN_CHARSET_NAMED, SKIPPED, WEEKLY_REPORT, FormResult)

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
    folded = unicodedata.normalize("NFKC", text or "")
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
                    timeout: float = 60) -> FormResult:
    """What one attachment is and holds. Never raises. `timeout`: the wall-clock budget of
    reading it, in this process or in the children the readers start (readers.Budget)."""
    try:
        return _read_attachment(filename or "", data or b"", subject or "", max_bytes, timeout)
    except Exception as exc:  # noqa: BLE001 - the promise to the pipeline: never raise
        log.exception("识别附件 %r 时出错", filename)
        return FormResult(None, ERROR, reason=f"读取附件时程序出错（{type(exc).__name__}），原件已保存，请人工查看")


def _read_attachment(filename: str, data: bytes, subject: str, max_bytes: int, timeout: float) -> FormResult:
    named = _named_kind(filename, subject)
    if len(data) > max_bytes:
        return FormResult(named, ERROR, reason=f"附件超过{max_bytes / 1024 / 1024:g}MB，未读取，请压缩或拆分后重新发送")
    if not data:
        return FormResult(named, ERROR, reason="附件是空文件（0字节）")
    # a docx comes with the archive the sniff opened: its central directory serves the reader
    fmt, archive = safety.sniff_archive(data, filename)
    try:
        return _read_sniffed(filename, data, subject, timeout, named, fmt, archive)
    finally:
        if archive is not None:
            archive.close()


def _read_sniffed(filename: str, data: bytes, subject: str, timeout: float, named: str | None, fmt: str,
                  archive: zipfile.ZipFile | None) -> FormResult:
    ext = os.path.splitext(filename)[1].lower().lstrip(".")
    if fmt in safety.IMAGE_FORMATS:
        if _is_signature_image(data, fmt, filename):
            return FormResult(None, SKIPPED, reason=REASON_SIGNATURE)
        return FormResult(named, EVIDENCE, reason=REASON_SCAN)
    if fmt in _SKIP_REASONS:
        return FormResult(None, SKIPPED, reason=_SKIP_REASONS[fmt])
    if fmt == "unknown":
        if ext in _DOCUMENT_EXTS:
            return FormResult(named, ERROR, reason=REASON_CORRUPT)
        return FormResult(None, SKIPPED, reason="未识别的文件格式，未读取")
    budget = Budget(timeout)
    try:
        if fmt == "html":
            # Cheap evidence before a converter: LibreOffice takes seconds to start, and most
            # HTML attachments are Outlook's body fragments (ATT00001.htm), not forms.
            page = read_html_text(data, budget=budget)
            if not _may_be_form(page, filename):
                reason = REASON_HTML_FRAGMENT if _FRAGMENT_NAME_RE.match(os.path.basename(filename)) else REASON_HTML_NOT_FORM
                return FormResult(None, SKIPPED, text=page.text[:2000], reason=reason)
        doc = read_document(data, filename, fmt=fmt, archive=archive, budget=budget)
    except ScanOnly:
        return FormResult(named, EVIDENCE, reason=REASON_SCAN)
    except UnknownCharset as exc:
        # text, not a damaged file: kept as it decodes best; a file named as a form cannot be
        # read as one, so that one asks for a re-save
        if named:
            return FormResult(named, ERROR, text=exc.text[:2000], reason=REASON_UNKNOWN_CHARSET_NAMED)
        return FormResult(None, SKIPPED, text=exc.text[:2000], reason=exc.reason)
    except UnreadableFile as exc:
        return FormResult(named, ERROR, reason=exc.reason)
    return classify_document(doc, filename=filename, subject=subject)


# Outlook and Apple Mail name the pieces of a body split by an attachment ATT00001.htm, ...
_FRAGMENT_NAME_RE = re.compile(r"^att\d{5}\.html?$", re.I)
_FORM_WORDS_CHARS = 20_000


def _may_be_form(page: Document, filename: str) -> bool:
    """Whether an HTML page's own text or name may be a form or report (its forms.md keywords,
    the forms' wording): only then is it converted. The subject does not count — it names
    what the mail carries, and a body fragment is not that."""
    if not page.text.strip():
        return False
    return bool(keyword_kind(page.text[:_FORM_WORDS_CHARS]) or document_kind(page, filename=filename))


def document_kind(doc: Document, *, filename: str = "", subject: str = "",
                  folded: DocumentText | None = None) -> str | None:
    """Content first (the forms' own wording), then the file name, the document's title
    lines, the subject, and last the whole text."""
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


def classify_document(doc: Document, *, filename: str = "", subject: str = "") -> FormResult:
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


def read_body(subject: str, body: str) -> FormResult | None:
    """A weekly report written in the mail body itself, or None: the subject or body must name
    a weekly report and the body must hold real content beyond greetings, "请查收" cover lines
    and the signature."""
    try:
        text = strip_quoted(body or "")
        content = [line for line in text.split("\n") if not _is_boilerplate(line)]
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

