"""Raw mail bytes -> ParsedMail: headers decoded, body text, every file found; pure.

Never raises: whatever cannot be read becomes a Chinese line in `problems`.

Parsed with `policy=compat32` on purpose: the default policy parses header structure on
access and has raised on malformed headers (IndexError/ValueError in its header parser),
and it replaces raw 8-bit header bytes by U+FFFD. compat32 keeps every header as the raw
string (8-bit bytes as surrogateescapes, reachable through `raw_items()`), and all
decoding is done by `bot.mail.headers`, which recovers GBK/UTF-8 from those bytes.

Memory: the stdlib parser holds a mail about five times over (the decoded text, its lines,
each payload joined, the base64 text split again to decode it), so a 40 MB mail cost 270 MB.
Long runs of base64 lines (what every large attachment is) are therefore cut out before the
stdlib sees the mail and decoded straight from the raw bytes (`_Bodies`); a mail over
`max_bytes` is not parsed beyond its headers at all.
"""
from __future__ import annotations

import binascii
import email.utils
import html
import io
import mimetypes
import re
import secrets
import struct
import unicodedata
import zipfile
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from html.parser import HTMLParser

from bot.mail import tnef
from bot.mail.headers import (
    clean_filename, decode_bytes, decode_header, decode_words, fold_whitespace, parse_params,
    recover_8bit, unfold,
)
from bot.mail.message import Attachment, ParsedMail

# Below this many bytes a high compression ratio is harmless (10 KB of spaces
# compresses 200:1); the ratio test only guards against real expansion.
_RATIO_FLOOR = 1024 * 1024
# Stored and deflate are what Windows, WinRAR, 7-Zip and WeChat write. bzip2/LZMA members
# are refused: zipfile decompresses them without an output bound, so one small read
# could expand to gigabytes before any cap applies.
_SAFE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_NESTED_ZIP_LEVELS = 2  # a zip in the mail, and a zip inside that one: no deeper
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_REPORT_TYPES = frozenset({
    "message/delivery-status", "message/disposition-notification", "text/rfc822-headers",
    "message/feedback-report", "message/global-delivery-status", "message/global-headers",
})
_EMBEDDED_TYPES = frozenset({"message/rfc822", "message/global"})
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
# Twice the default attachment cap (25 MB): one such file base64-encoded is 34 MB. Public
# mail services (126.com, QQ Mail) refuse mail above 50 MB and send bigger files as links.
MAX_MAIL_BYTES = 50 * 1024 * 1024
# How much of an over-size mail is read to find its headers.
_HEAD_BYTES = 256 * 1024


def parse_mail(raw: bytes, *, max_parts: int = 2000, max_depth: int = 10,
               max_zip_members: int = 200, max_zip_total: int = 200 * 1024 * 1024,
               max_zip_ratio: int = 200, max_bytes: int = MAX_MAIL_BYTES) -> ParsedMail:
    """Everything the pipeline reads from one mail. See the module docstring. A mail over
    `max_bytes` yields its headers and one problem, no body and no files."""
    limits = _Limits(max_parts, max_depth, max_zip_members, max_zip_total, max_zip_ratio, max_bytes)
    try:
        return _parse(raw, limits)
    except Exception as exc:  # the last guard: a bug must not stop the intake
        return ParsedMail(
            message_id=None, subject="", from_addr="", from_name="", reply_to=None, date=None,
            headers=(), body_text="", attachments=(),
            problems=(f"邮件无法解析（{type(exc).__name__}），已原样保存，请人工查看",))


@dataclass
class _Limits:
    max_parts: int
    max_depth: int
    max_zip_members: int
    max_zip_total: int
    max_zip_ratio: int
    max_bytes: int = MAX_MAIL_BYTES


# A run of base64 lines at least this long is decoded from the raw bytes, not by the stdlib.
_BIG_RUN = 256 * 1024
# Possessive: a backtracking repeat keeps state per line, twice the run's size in memory.
_BASE64_RUN = re.compile(rb"(?m)^(?:[A-Za-z0-9+/=]++\r?\n)++")


class _Bodies:
    """Long base64 runs cut out of a raw mail, each replaced by one marker line.

    A run of lines made only of base64 characters never holds a header (no colon), a
    boundary (those start with "--") or a blank line, so it lies inside one body and the
    parser's view of the structure is unchanged; the marker (a per-parse random nonce and
    the run's index) is only ever seen inside that body's payload, and `decode` puts the
    run back: straight from the raw bytes for well-formed base64, through the stdlib for
    anything else so that its lenient decoding stays the same.
    """

    def __init__(self) -> None:
        self.nonce = "bigbody" + secrets.token_hex(8)
        self.marker = re.compile(re.escape(self.nonce) + r"(\d+)")
        self.runs: list[tuple[bytes, int, int]] = []

    def cut(self, raw: bytes) -> bytes:
        if len(raw) < _BIG_RUN:
            return raw
        view = memoryview(raw)
        pieces: list = []
        pos = 0
        for match in _BASE64_RUN.finditer(raw):
            start, end = match.span()
            if end - start < _BIG_RUN:
                continue
            # The run's last line break stays: the parser strips it or keeps it as before.
            end -= 2 if raw[end - 2:end] == b"\r\n" else 1
            pieces.append(view[pos:start])
            pieces.append(f"{self.nonce}{len(self.runs)}".encode("ascii"))
            self.runs.append((raw, start, end))
            pos = end
        if not pieces:
            return raw
        pieces.append(view[pos:])
        return b"".join(pieces)

    def holds(self, payload) -> bool:
        return bool(self.runs) and isinstance(payload, str) and self.nonce in payload

    def decode(self, payload: str, cte: str) -> bytes:
        """The decoded bytes of a payload that holds markers; `cte` is the part's
        Content-Transfer-Encoding as written (the stdlib compares it unstripped)."""
        pieces = self.marker.split(payload)
        texts, indexes = pieces[0::2], [int(i) for i in pieces[1::2]]
        if cte.lower() == "base64" and len(indexes) == 1 and not "".join(texts).strip():
            raw, start, end = self.runs[indexes[0]]
            if _plain_base64(raw, start, end):
                return binascii.a2b_base64(memoryview(raw)[start:end])
        rebuilt = bytearray(texts[0].encode("ascii", "surrogateescape"))
        for index, text in zip(indexes, texts[1:]):
            raw, start, end = self.runs[index]
            rebuilt += memoryview(raw)[start:end]
            rebuilt += text.encode("ascii", "surrogateescape")
        holder = Message()
        if cte:
            holder["Content-Transfer-Encoding"] = cte
        holder.set_payload(rebuilt.decode("ascii", "surrogateescape"))
        data = holder.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""


def _plain_base64(raw: bytes, start: int, end: int) -> bool:
    """True when raw[start:end] is base64 that binascii and the stdlib decode alike: whole
    quads, padding only at the very end."""
    breaks = raw.count(b"\n", start, end) + raw.count(b"\r", start, end)
    if (end - start - breaks) % 4:
        return False
    pad = raw.find(b"=", start, end)
    return pad < 0 or (end - pad <= 8 and not raw[pad:end].strip(b"=\r\n")
                       and raw[pad:end].count(b"=") <= 2)


@dataclass
class _State:
    limits: _Limits
    zip_budget: int
    bodies: _Bodies = field(default_factory=_Bodies)
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    parts: int = 0
    parts_exceeded: bool = False
    depth_exceeded: bool = False

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


def _parse(raw: bytes, limits: _Limits) -> ParsedMail:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    state = _State(limits, zip_budget=limits.max_zip_total)
    walk = True
    if len(raw) > limits.max_bytes:
        msg = _parse_head(raw)
        walk = False
        state.problem(f"邮件过大（约{len(raw) / 1024 / 1024:.0f}MB，超过{limits.max_bytes / 1024 / 1024:g}MB的处理上限），"
                      "正文和附件未读取，请压缩附件或分几封邮件发送")
    else:
        try:
            msg = BytesParser(policy=compat32).parsebytes(state.bodies.cut(raw))
        except RecursionError:
            # The feed parser recurses once per nesting level; ~1000 levels exhaust the stack.
            msg = _parse_head(raw)
            walk = False
            state.problem("邮件结构嵌套过深，正文和附件未能读取")
        except Exception:
            msg = _parse_head(raw)
            walk = False
            state.problem("邮件结构无法解析，正文和附件未能读取")

    raw_headers = _raw_headers(msg)
    headers = tuple((recover_8bit(name).strip().lower(), decode_header(value))
                    for name, value in raw_headers)
    from_name, from_addr = parse_address(_first(raw_headers, "from"))
    _, reply_to = parse_address(_first(raw_headers, "reply-to"))
    content_type = _content_type(msg)[0] if walk else "text/plain"

    body_text = ""
    if walk:
        body_text = _walk(msg, state)
    return ParsedMail(
        message_id=_message_id(_first(raw_headers, "message-id")),
        subject=fold_whitespace(decode_header(_first(raw_headers, "subject") or "")),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to or None,
        date=_date(_first(raw_headers, "date")),
        headers=headers,
        body_text=body_text,
        attachments=tuple(state.attachments),
        content_type=content_type,
        problems=tuple(state.problems),
    )


def _parse_head(raw: bytes) -> Message:
    """The header block alone, read from at most the first `_HEAD_BYTES` of the mail."""
    head = raw[:_HEAD_BYTES]
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end >= 0:
            head = head[:end + len(separator)]
            break
    return BytesParser(policy=compat32).parsebytes(head, headersonly=True)


# ---------------------------------------------------------------- headers

def _raw_headers(msg: Message) -> list[tuple[str, str]]:
    return [(str(name), str(value)) for name, value in msg.raw_items()]


def _first(raw_headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in raw_headers:
        if key.strip().lower() == name:
            return value
    return None


def _raw_header(part: Message, name: str) -> str | None:
    return _first(_raw_headers(part), name)


_ADDR = re.compile(r"[^\s<>\"'@,;:()\[\]]+@[^\s<>\"'@,;:()\[\]]+")


def parse_address(raw: str | None) -> tuple[str, str]:
    """(display name, lower-cased bare address) of the first mailbox in an address
    header; ("", "") when there is none. Encoded words in the display name (quoted or
    not) and raw 8-bit names are decoded."""
    if not raw:
        return "", ""
    text = recover_8bit(unfold(raw))
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:  # getaddresses has raised on hostile input in some versions
        pairs = []
    name, addr = "", ""
    for pair_name, pair_addr in pairs:
        candidate = pair_addr.strip().strip("<>").strip().lower()
        if _ADDR.fullmatch(candidate):
            name, addr = pair_name, candidate
            break
    if not addr:
        match = _ADDR.search(text)
        if not match:
            return "", ""
        addr = match.group(0).lower()
        name = text[:match.start()].strip().rstrip("<").strip()
    name = fold_whitespace(decode_header(decode_words(name))).strip("\"' ")
    return name, addr


def _message_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = recover_8bit(unfold(raw)).strip()
    match = re.search(r"<[^<>\s]*>", text)
    if match:
        return match.group(0)
    return text or None


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = email.utils.parsedate_to_datetime(recover_8bit(unfold(raw)).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value is None:
        return None
    if value.tzinfo is None:  # "-0000": zone unknown, the instant is UTC
        value = value.replace(tzinfo=timezone.utc)
    return value


def _content_type(part: Message) -> tuple[str, dict[str, str]]:
    main, params = parse_params(_raw_header(part, "content-type"))
    main = main.replace(" ", "")
    if not re.fullmatch(r"[a-z0-9!#$%&'*+.^_`|~-]+/[a-z0-9!#$%&'*+.^_`|~-]+", main):
        main = "text/plain"  # RFC 2045 5.2: an unreadable type is text/plain
    return main, params


# ---------------------------------------------------------------- the walk

def _walk(top: Message, state: _State) -> str:
    """Collect files into `state`, return the body text (top message first, each
    forwarded message after a separator). Iterative: no recursion on hostile nesting."""
    limits = state.limits
    bodies: list[tuple[str | None, str]] = []
    messages: deque[tuple[Message, int, tuple[str, ...], str | None]] = deque([(top, 0, (), None)])
    while messages and not state.parts_exceeded:
        message, depth, origin, label = messages.popleft()
        plain: list[str] = []
        htmls: list[str] = []
        stack: list[tuple[Message, int]] = [(message, depth)]
        while stack:
            part, level = stack.pop()
            state.parts += 1
            if state.parts > limits.max_parts:
                state.parts_exceeded = True
                state.problem(f"邮件的组成部分超过 {limits.max_parts} 个，其余部分未读取")
                break
            if level > limits.max_depth:
                if not state.depth_exceeded:
                    state.depth_exceeded = True
                    state.problem(f"邮件嵌套超过 {limits.max_depth} 层，更深处的内容未读取")
                continue
            try:
                _visit(part, level, origin, state, stack, messages, plain, htmls)
            except Exception as exc:  # one broken part must not cost the others
                state.problem(f"邮件中有一部分无法读取（{type(exc).__name__}），已跳过")
        text = _choose_body(plain, htmls)
        if text or label is not None:
            bodies.append((label, text))
    out = []
    for label, text in bodies:
        if label is None:
            out.append(text)
        else:
            out.append(f"\n\n---------- 转发的邮件：{label} ----------\n{text}")
    return unicodedata.normalize("NFC", "".join(out).strip())


def _visit(part: Message, level: int, origin: tuple[str, ...], state: _State,
           stack: list, messages: deque, plain: list[str], htmls: list[str]) -> None:
    ctype, params = _content_type(part)
    disposition, dparams = parse_params(_raw_header(part, "content-disposition"))
    name = dparams.get("filename") or params.get("name") or ""
    if part.is_multipart():
        children = [p for p in part.get_payload() if isinstance(p, Message)]
        if ctype in _EMBEDDED_TYPES or (ctype.startswith("message/") and ctype not in _REPORT_TYPES):
            for embedded in children[:1]:
                embedded = _reparse_encoded(part, embedded, state)
                label = name or fold_whitespace(decode_header(_raw_header(embedded, "subject") or ""))
                label = clean_filename(label or "转发的邮件")
                messages.append((embedded, level + 1, origin + (label,), label))
            return
        if ctype in _REPORT_TYPES:
            return
        stack.extend((child, level + 1) for child in reversed(children))
        return
    if ctype in _REPORT_TYPES and not name:
        return
    data = _payload_bytes(part, state)
    if ctype in ("text/plain", "text/html") and not name and disposition != "attachment":
        text = _text_of(data, params.get("charset"), ctype == "text/html")
        (htmls if ctype == "text/html" else plain).append(text)
        return
    if not data and not name:
        return
    if ctype.startswith("multipart/"):
        # A multipart whose boundary is missing: its raw body is all there is.
        plain.append(_text_of(data, None, False))
        return
    inline = disposition == "inline" or (not disposition and _raw_header(part, "content-id") is not None)
    _add_file(state, name, ctype, data, origin, inline, 0)


def _raw_payload(part: Message):
    """The payload as the parser stored it: for a leaf, ASCII with 8-bit bytes as surrogate
    escapes. get_payload() would replace those (by U+FFFD) and lose the original bytes."""
    return part._payload  # noqa: SLF001 - compat32 has no public accessor for it


def _payload_bytes(part: Message, state: _State) -> bytes:
    """A leaf part's decoded body (a run cut out by `_Bodies` put back)."""
    payload = _raw_payload(part)
    if state.bodies.holds(payload):
        return state.bodies.decode(payload, str(part.get("content-transfer-encoding", "")))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _reparse_encoded(part: Message, embedded: Message, state: _State) -> Message:
    """message/rfc822 sent base64- or QP-encoded (not allowed, but some clients do):
    the feed parser then saw the encoded text as a headerless message; decode and parse."""
    cte = (_raw_header(part, "content-transfer-encoding") or "").strip().lower()
    if cte not in ("base64", "quoted-printable") or _raw_headers(embedded):
        return embedded
    payload = _raw_payload(embedded)
    if not isinstance(payload, str):
        return embedded
    if state.bodies.holds(payload):
        data = state.bodies.decode(payload, cte)
    else:
        holder = Message()
        holder["Content-Transfer-Encoding"] = cte
        holder.set_payload(payload)
        data = holder.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return embedded
    return BytesParser(policy=compat32).parsebytes(state.bodies.cut(data))


def _choose_body(plain: list[str], htmls: list[str]) -> str:
    text = "\n".join(t for t in plain if t.strip())
    if text.strip():
        return text.strip()
    # Some webmails send an empty text/plain beside the real HTML body.
    return "\n".join(t for t in htmls if t.strip()).strip()


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{1,40})""", re.I)


def _text_of(data: bytes, charset: str | None, is_html: bool) -> str:
    if is_html and not charset:
        match = _META_CHARSET.search(data[:4096])
        if match:
            charset = match.group(1).decode("ascii")
    text = decode_bytes(data, charset)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if is_html:
        text = html_to_text(text)
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- HTML

_BLOCK = frozenset({
    "p", "div", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr", "section",
    "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "dl",
    "address", "center", "form", "fieldset", "tbody", "thead",
})
_SKIP = frozenset({"script", "style", "title", "noscript", "template", "xml"})


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def _block(self) -> None:
        # Adjacent block boundaries (</div><p>) make one line break, not a blank line;
        # only explicit <br>s add blank lines.
        while self.out and self.out[-1] != "\n" and not self.out[-1].strip():
            self.out.pop()
        if self.out and self.out[-1] != "\n":
            self.out.append("\n")

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self._block()
        elif tag in ("td", "th"):
            self.out.append("\t")

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self._block()

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self._block()

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: scripts/styles dropped, entities unescaped, a line
    break at every <br> and block element, blank runs folded."""
    try:
        parser = _HtmlText()
        parser.feed(markup)
        parser.close()
        text = "".join(parser.out)
    except Exception:  # HTMLParser has asserted on some malformed markup: strip crudely
        text = html.unescape(re.sub(r"(?is)<(script|style).*?</\1>|<[^>]*>", " ", markup))
    lines = [re.sub(r"[ \t\xa0\u3000]+", lambda m: "\t" if "\t" in m.group(0) else " ", line).strip()
             for line in text.replace("\xa0", " ").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# ---------------------------------------------------------------- files, zip, winmail.dat

def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _is_tnef(ctype: str, filename: str, data: bytes) -> bool:
    return (ctype in _TNEF_TYPES or filename.lower() == "winmail.dat") and tnef.is_tnef(data)


def _add_file(state: _State, name: str, ctype: str, data: bytes, origin: tuple[str, ...],
              inline: bool, zip_level: int) -> None:
    filename = clean_filename(name, ctype, data)
    if _is_tnef(ctype, filename, data):
        try:
            files = tnef.extract(data)
        except Exception:
            state.problem(f"{filename}（Outlook 格式）无法解析，其中的附件未能取出")
            state.attachments.append(Attachment(filename, ctype, data, origin, inline))
            return
        # A winmail.dat without files carried only Outlook formatting: nothing to keep.
        for inner_name, inner_data in files:
            _add_file(state, inner_name, _guess_type(inner_name), inner_data,
                      origin + (filename,), False, zip_level)
        return
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        archive = _open_zip(data)
        # A file named like an office document stays a file even when its inside is wrong:
        # the form reader then says precisely what is wrong with it (a bomb, a corrupt file).
        if archive is not None and not _is_zip_document(archive) and not _named_document(filename):
            if zip_level >= _NESTED_ZIP_LEVELS:
                state.problem(f"压缩包 {origin[-1] if origin else filename} 中又套了压缩包 "
                              f"{filename}，未再解开")
            else:
                _unpack_zip(state, archive, filename, origin, zip_level)
                return
        elif archive is None and filename.lower().endswith(".zip"):
            state.problem(f"压缩包 {filename} 已损坏，未能解开")
    elif data.startswith(b"Rar!\x1a\x07"):
        state.problem(f"附件 {filename} 是 RAR 压缩包，无法解开，请改用 zip 或直接附上文件")
    elif data.startswith(b"7z\xbc\xaf\x27\x1c"):
        state.problem(f"附件 {filename} 是 7z 压缩包，无法解开，请改用 zip 或直接附上文件")
    state.attachments.append(Attachment(filename, (ctype or "application/octet-stream").lower(),
                                        data, origin, inline))


_DOCUMENT_EXTENSIONS = (".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".pptx", ".odt", ".ods", ".wps", ".et")


def _named_document(filename: str) -> bool:
    return filename.lower().endswith(_DOCUMENT_EXTENSIONS)


def _open_zip(data: bytes) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, and struct/value errors from crafted directories
        return None


def _is_zip_document(archive: zipfile.ZipFile) -> bool:
    """A .docx/.xlsx/.pptx (OOXML) or an ODF/EPUB file is a zip too, and stays a file."""
    names = set(archive.namelist())
    return "[Content_Types].xml" in names or "mimetype" in names or "META-INF/manifest.xml" in names


def member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as its author saw it.

    With the UTF-8 flag (0x800) zipfile has already decoded it. Without, Python 3.11
    decodes with `metadata_encoding` or cp437. We do not pass metadata_encoding="gbk":
    it is applied to every unflagged name at open time, so one name that is not valid
    GBK makes the whole archive raise, and UTF-8 names written without the flag (macOS,
    Linux zip) come out garbled. Instead: the cp437 text is turned back into the exact
    bytes, then the Info-ZIP Unicode Path field, UTF-8, GBK (gb18030) are tried in turn.
    """
    if info.flag_bits & 0x800:
        return info.orig_filename
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return info.orig_filename
    unicode_path = _unicode_path_field(info.extra, raw)
    if unicode_path:
        return unicode_path
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.orig_filename


def _unicode_path_field(extra: bytes, raw_name: bytes) -> str | None:
    """Info-ZIP Unicode Path extra field (0x7075), written by 7-Zip and WinRAR beside
    a legacy-encoded name; valid only while its CRC matches that name."""
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
        if header_id == 0x7075 and len(body) >= 5 and body[0] == 1:
            if struct.unpack_from("<I", body, 1)[0] == zlib.crc32(raw_name):
                try:
                    return body[5:].decode("utf-8") or None
                except UnicodeDecodeError:
                    return None
    return None


def _is_junk(name: str) -> bool:
    """macOS and Windows litter: AppleDouble '._x.docx' files would pose as forms."""
    parts = name.replace("\\", "/").split("/")
    base = parts[-1]
    return parts[0] == "__MACOSX" or base.startswith("._") or base.lower() in _JUNK_NAMES


class _TooLarge(Exception):
    pass


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    # The directory's sizes can lie: read at most cap+1 bytes whatever it declares.
    with archive.open(info) as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise _TooLarge
    return data


def _unpack_zip(state: _State, archive: zipfile.ZipFile, zipname: str,
                origin: tuple[str, ...], zip_level: int) -> None:
    limits = state.limits
    infos = archive.infolist()
    if len(infos) > limits.max_zip_members:
        state.problem(f"压缩包 {zipname} 内文件过多（{len(infos)} 个，上限 "
                      f"{limits.max_zip_members} 个），未解开")
        return
    members = [i for i in infos if not i.is_dir() and not _is_junk(i.orig_filename)]
    if not members:
        state.problem(f"压缩包 {zipname} 是空的")
        return
    total = sum(i.file_size for i in members)
    packed = sum(i.compress_size for i in members)
    bomb = f"压缩包 {zipname} 解压后过大（疑似压缩炸弹），未解开"
    if total > state.zip_budget or (total > _RATIO_FLOOR and total > limits.max_zip_ratio * max(packed, 1)):
        state.problem(bomb)
        return
    extracted: list[tuple[str, bytes]] = []
    for info in members:
        shown = clean_filename(member_name(info))
        if info.flag_bits & 0x1:
            state.problem(f"压缩包 {zipname} 中的 {shown} 有密码，未能解开")
            continue
        if info.compress_type not in _SAFE_METHODS:
            state.problem(f"压缩包 {zipname} 中的 {shown} 压缩方式不受支持，未能解开，请改用普通 zip")
            continue
        try:
            data = _read_member(archive, info, min(info.file_size, state.zip_budget))
        except _TooLarge:
            state.problem(bomb)
            return
        except Exception:  # CRC mismatch, truncated stream, bad header
            state.problem(f"压缩包 {zipname} 中的 {shown} 已损坏，未能解开")
            continue
        state.zip_budget -= len(data)
        extracted.append((member_name(info), data))
    for name, data in extracted:
        _add_file(state, name, _guess_type(name), data, origin + (zipname,), False, zip_level + 1)
