"""`intake inspect`: read one .eml or attachment file offline exactly as a poll would, and say
what was found, touching no database, mailbox, outbox or storage folder.

A mail goes through `pipeline.read_archived` itself (the MIME walk, machine-mail detection,
the readers, limits and classification of the configured campaign) with a reader whose
archive only hashes: `keep_file` computes the sha256 a poll would store the file under and
writes nothing. A bare attachment file goes through `classify.read_attachment` with the
config's limits, as `pipeline.read_message` calls it. The JSON attachment shape is the one
`intake messages --json` uses (`present.as_json.attachment_json`).

Library use (scripts/sweep.py): `inspect_path(config, path) -> dict` for one file's JSON
object, `inspect_file(config, path) -> Inspection` for the reading itself.
"""
from __future__ import annotations

import mimetypes
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import pipeline
from .config import Config
from .forms import classify
from .forms.liaison import LABELS as LIAISON_LABELS
from .forms.progress_template import BLANKS_BY_KEY, HEADER_FIELDS
from .forms.result import ERROR, EVIDENCE, KIND_LABELS, PARSED, SKIPPED, FormResult
from .mail.archive import sha256
from .mail.message import ParsedMail
from .present.as_json import attachment_json

MAIL = "mail"
ATTACHMENT = "attachment"

# Extensions a unit's attachment comes with: such a file is read as an attachment without
# looking inside. A file without an extension (or with another one) is sniffed for a header
# block; `.eml` is always a mail.
_MAIL_EXTS = frozenset({"eml"})
_ATTACHMENT_EXTS = frozenset({
    "doc", "docx", "docm", "dot", "dotx", "wps", "wpt", "xls", "xlsx", "xlsm", "et", "ett", "pdf", "rtf",
    "odt", "ods", "txt", "csv", "htm", "html", "mht", "zip", "rar", "7z", "gz", "tar", "dat", "jpg", "jpeg",
    "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "ppt", "pptx", "mp4", "mov", "avi", "wmv", "mp3",
    "amr", "wav",
})
# Header names that make a header block a mail's (RFC 5322 / MIME / what an MTA adds).
_MAIL_HEADERS = frozenset({"from", "received", "return-path", "mime-version", "message-id", "delivered-to",
                           "content-type", "x-mailer"})
_HEADER_RE = re.compile(rb"^[!-9;-~]+:")
_SNIFF_BYTES = 64 * 1024


class InspectError(Exception):
    """A file that cannot be inspected (missing, a folder, unreadable); one Chinese line."""


@dataclass
class FilePart:
    """One file found in the mail (or the bare file itself), before it is read."""

    filename: str
    content_type: str
    origin: tuple[str, ...]
    size: int
    sha256: str


@dataclass
class Inspection:
    """What one file turned out to be and hold."""

    path: str
    kind: str  # MAIL | ATTACHMENT
    mail: ParsedMail | None = None
    machine: str | None = None  # a mail a poll never answers: why (auto-reply, bounce, list)
    parts: list[FilePart] = field(default_factory=list)  # every file found, read or not
    files: list[pipeline.ReadFile] = field(default_factory=list)  # what was read, as a poll reads it
    body: FormResult | None = None  # the body read as a weekly report
    failure: str | None = None  # the mail could not be read at all (pipeline.ReadFailure.reason)


class _HashOnly:
    """The archive of a poll, without the writes: the same file digests, nothing on disk."""

    def __init__(self, raw: bytes):
        self._raw = raw

    def read_mail(self, digest: str) -> bytes:
        return self._raw

    def keep_file(self, data: bytes) -> str:
        return sha256(data)


@dataclass
class _Reader:
    """What `pipeline.read_archived` needs of an Intake: the config and an archive."""

    config: Config
    archive: _HashOnly


def _read_bytes(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise InspectError(f"{path} 是文件夹，请给出 .eml 邮件或附件文件")
        return path.read_bytes()
    except FileNotFoundError:
        raise InspectError(f"文件不存在：{path}") from None
    except PermissionError:
        raise InspectError(f"没有权限读取文件：{path}") from None
    except OSError as exc:
        raise InspectError(f"无法读取文件 {path}：{exc.strerror or exc}") from None


def looks_like_mail(name: str, data: bytes) -> bool:
    """A saved mail (.eml, or a file without a known attachment extension that starts with a
    mail's header block) rather than an attachment."""
    ext = os.path.splitext(name)[1].lower().lstrip(".")
    if ext in _MAIL_EXTS:
        return True
    if ext in _ATTACHMENT_EXTS:
        return False
    head = data[:_SNIFF_BYTES]
    if head.startswith(b"From "):  # an mbox separator line before the headers
        head = head.partition(b"\n")[2]
    names: set[str] = set()
    lines = head.split(b"\n")
    for i, line in enumerate(lines):
        line = line.rstrip(b"\r")
        if not line:
            return i > 0 and bool(names & _MAIL_HEADERS)
        if line[:1] in (b" ", b"\t") and i > 0:
            continue  # a folded header's continuation
        if not _HEADER_RE.match(line):
            return False
        names.add(line.split(b":", 1)[0].decode("ascii").lower())
    return False  # no end of the header block within the sniffed bytes


def inspect_file(config: Config, path: str | os.PathLike) -> Inspection:
    """Read one file as a poll would. Raises InspectError when the file cannot be read."""
    p = Path(path)
    data = _read_bytes(p)
    if looks_like_mail(p.name, data):
        return _inspect_mail(config, str(path), data)
    return _inspect_attachment(config, str(path), p.name, data)


def _inspect_mail(config: Config, path: str, raw: bytes) -> Inspection:
    reading = pipeline.read_archived(_Reader(config, _HashOnly(raw)), sha256(raw))
    if isinstance(reading, pipeline.ReadFailure):
        return Inspection(path, MAIL, failure=reading.reason)
    mail = reading.mail
    parts = [FilePart(a.filename, a.content_type, tuple(a.origin), len(a.data), sha256(a.data))
             for a in mail.attachments]
    return Inspection(path, MAIL, mail=mail, machine=reading.machine, parts=parts, files=list(reading.files),
                      body=reading.body)


def _inspect_attachment(config: Config, path: str, name: str, data: bytes) -> Inspection:
    filename = unicodedata.normalize("NFC", name)
    content_type = mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
    limits = config.limits
    result = classify.read_attachment(filename, data, max_bytes=int(limits.max_attachment_mb * 1024 * 1024),
                                      timeout=limits.conversion_timeout)
    digest = sha256(data)
    return Inspection(path, ATTACHMENT, parts=[FilePart(filename, content_type, (), len(data), digest)],
                      files=[pipeline.ReadFile(filename, content_type, (), digest, len(data), result)])


# -- JSON -----------------------------------------------------------------------------------

def file_json(f: pipeline.ReadFile) -> dict:
    """One attachment in the shape of `intake messages --json`."""
    r = f.result
    return attachment_json(f.filename, r.kind, r.status, dict(r.values), [p.as_json() for p in r.errors],
                           [p.as_json() for p in r.warnings], r.reason)


def _result_json(r: FormResult | None) -> dict | None:
    if r is None:
        return None
    return {"kind": r.kind, "status": r.status, "reason": r.reason, "named_week": r.named_week, "text": r.text}


def inspection_json(ins: Inspection) -> dict:
    """`{"file", "kind", "subject", "from", "attachments"}` (interface.md), extended with what a
    poll also saw: the mail's other headers, machine reason, unpacking problems, every file
    found with its origin (zip/forwarded nesting) and digest, and the body's reading."""
    mail = ins.mail
    out = {
        "file": ins.path,
        "kind": ins.kind,
        "subject": mail.subject if mail else None,
        "from": mail.from_addr if mail else None,
        "attachments": [file_json(f) for f in ins.files],
    }
    if ins.kind == MAIL:
        out.update({
            "from_name": mail.from_name if mail else None,
            "message_id": mail.message_id if mail else None,
            "machine": ins.machine,
            "problems": list(mail.problems) if mail else [],
            "body": _result_json(ins.body),
        })
    out["error"] = ins.failure
    out["parts"] = [{"filename": p.filename, "content_type": p.content_type, "origin": list(p.origin),
                     "size": p.size, "sha256": p.sha256} for p in ins.parts]
    return out


def inspect_path(config: Config, path: str | os.PathLike) -> dict:
    """One file's JSON object as `intake inspect --json` lists it (the library entry point).
    Raises InspectError for a file that cannot be read; see `inspect_paths`."""
    return inspection_json(inspect_file(config, path))


def inspect_paths(config: Config, paths) -> list[tuple[Inspection | None, dict, str | None]]:
    """Each path inspected in turn: (the inspection or None, its JSON object, the one-line
    failure or None). A file that cannot be read, or a mail a poll could not read at all,
    has a failure; the others are still inspected."""
    out = []
    for path in paths:
        try:
            ins = inspect_file(config, path)
        except InspectError as exc:
            out.append((None, {"file": str(path), "kind": None, "subject": None, "from": None, "attachments": [],
                               "parts": [], "error": str(exc)}, str(exc)))
            continue
        out.append((ins, inspection_json(ins), f"{path}：{ins.failure}" if ins.failure else None))
    return out


# -- text for the admin ---------------------------------------------------------------------

STATUS_LABELS = {PARSED: "已读取", ERROR: "无法读取", EVIDENCE: "扫描件/照片，作为佐证材料留存",
                 SKIPPED: "略过（不是表格）"}


def _value_label(key: str) -> str:
    blank = BLANKS_BY_KEY.get(key)
    if blank is not None:
        return f"第{blank.number}项 {blank.label}"
    return _HEADER_LABELS.get(key) or LIAISON_LABELS.get(key) or key


_HEADER_LABELS = {key: label for label, key in HEADER_FIELDS}


def _value_text(value) -> str:
    if value is None or value == "":
        return "（未填）"
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _size_text(size: int) -> str:
    return f"{size} 字节" if size < 1024 else f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _file_lines(index: int, f: pipeline.ReadFile) -> list[str]:
    r = f.result
    where = f"（来自 {' › '.join(f.origin)}）" if f.origin else ""
    lines = [f"  {index}. {f.filename}{where}  {f.content_type}，{_size_text(f.size)}"]
    kind = KIND_LABELS.get(r.kind or "", "未识别为本次活动的表格或材料")
    lines.append(f"     类型：{kind}；状态：{STATUS_LABELS.get(r.status, r.status)}")
    if r.values:
        lines.append(f"     读取的数值（{len(r.values)} 项）：")
        lines += [f"       {_value_label(k)}（{k}）：{_value_text(v)}" for k, v in r.values.items()]
    for p in r.errors:
        lines.append(f"     错误：{p.label or _value_label(p.key)}（{p.key}）填写“{p.written}”，应为{p.expected}")
    for p in r.warnings:
        lines.append(f"     提醒：{p.label or _value_label(p.key)}（{p.key}）填写“{p.written}”，按 {p.read_as} 记录")
    if r.text and not r.values:  # a free-text report (周报, 总结): what was taken from it
        lines.append(f"     提取的文字：{len(r.text)} 字，开头：{_opening(r.text)}")
    if r.reason:
        lines.append(f"     原因：{r.reason}")
    return lines


def _opening(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "……"


def render_text(ins: Inspection) -> str:
    """A compact Chinese listing: 文件、类型、状态、读取的数值、错误、原因."""
    lines = [f"文件：{ins.path}"]
    if ins.kind == ATTACHMENT:
        lines.append("类型：附件文件（单独读取）")
        for i, f in enumerate(ins.files, 1):
            lines += _file_lines(i, f)
        return "\n".join(lines)
    lines.append("类型：邮件")
    if ins.failure:
        lines.append(f"结果：{ins.failure}")
        return "\n".join(lines)
    mail = ins.mail
    lines.append(f"主题：{mail.subject or '（无主题）'}")
    sender = f"{mail.from_name} <{mail.from_addr}>" if mail.from_name else (mail.from_addr or "（无）")
    lines.append(f"发件人：{sender}")
    if ins.machine:
        lines.append(f"机器邮件：{ins.machine}（收取时不读附件、不回复）")
    for problem in mail.problems:
        lines.append(f"拆包问题：{problem}")
    if ins.machine:
        if ins.parts:
            lines.append(f"所含文件（{len(ins.parts)} 个，未读取）：")
            for p in ins.parts:
                where = f"（来自 {' › '.join(p.origin)}）" if p.origin else ""
                lines.append(f"  {p.filename}{where}  {p.content_type}，{_size_text(p.size)}")
        return "\n".join(lines)
    lines.append(f"附件：{len(ins.files)} 个" + ("" if ins.files else "（无）"))
    for i, f in enumerate(ins.files, 1):
        lines += _file_lines(i, f)
    body = ins.body
    if body is None:
        lines.append("正文：未识别为周报")
    else:
        state = STATUS_LABELS.get(body.status, body.status)
        week = f"，写明第{body.named_week}周" if body.named_week else ""
        lines.append(f"正文：识别为{KIND_LABELS.get(body.kind or '', '周报')}（{state}{week}，{len(body.text)} 字）")
        if body.reason:
            lines.append(f"  原因：{body.reason}")
    return "\n".join(lines)
