"""Raw mail bytes -> ParsedMail: headers decoded, body text, every file found; pure.

Never raises: whatever cannot be read becomes a Chinese line in `problems`, and nothing the
mail carries vanishes: a file that had to be opened and could not be (an archive that is
password-protected, corrupt or a bomb; a winmail.dat object; a multipart no boundary splits)
is kept as sent with its reason in `Attachment.error`. Files are opened after the walk, once
the mail's text is known, since the text may give an archive's password (`bot.mail.archives`,
the one place archives are opened and guarded). Big attachments sent as download links are
recognised in the text (`bot.mail.cloud_links`), never fetched.

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
import unicodedata
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from html.parser import HTMLParser

from bot.mail import archives, cloud_links, tnef
from bot.mail.headers import (
    clean_filename, decode_bytes, decode_header, decode_words, fold_whitespace, parse_params,
    recover_8bit, unfold,
)
from bot.mail.message import Attachment, ParsedMail
from bot.zipguard import MAX_RATIO

_NESTED_ZIP_LEVELS = 2  # an archive in the mail, and an archive inside that one: no deeper
# How much body text (plain and HTML) is searched for big-attachment links.
_LINK_TEXT_CHARS = 2 * 1024 * 1024
UNSPLIT_NAME = "无法拆分的邮件部分.eml"
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
               max_zip_ratio: int = MAX_RATIO, max_bytes: int = MAX_MAIL_BYTES) -> ParsedMail:
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

    def archives(self) -> archives.Limits:
        return archives.Limits(self.max_zip_members, self.max_zip_total, self.max_zip_ratio)


@dataclass(frozen=True)
class _Leaf:
    """A file found by the walk, opened (archive, winmail.dat) once the mail's text is known:
    the text may give an archive's password."""

    name: str
    ctype: str
    data: bytes
    origin: tuple[str, ...]
    inline: bool
    error: str | None = None  # kept as it is, with this reason


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
    budget: archives.Budget
    bodies: _Bodies = field(default_factory=_Bodies)
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    leaves: list[_Leaf] = field(default_factory=list)
    passwords: tuple[str, ...] = ()
    link_texts: list[str] = field(default_factory=list)
    link_chars: int = 0
    parts: int = 0
    parts_exceeded: bool = False
    depth_exceeded: bool = False

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def link_text(self, text: str) -> None:
        if self.link_chars < _LINK_TEXT_CHARS and ("http" in text or "HTTP" in text):
            text = text[:_LINK_TEXT_CHARS - self.link_chars]
            self.link_chars += len(text)
            self.link_texts.append(text)


def _parse(raw: bytes, limits: _Limits) -> ParsedMail:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    state = _State(limits, budget=archives.Budget(limits.max_zip_total))
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

    subject = fold_whitespace(decode_header(_first(raw_headers, "subject") or ""))
    body_text = ""
    links: tuple = ()
    if walk:
        body_text = _walk(msg, state)
        links = cloud_links.find(*state.link_texts)
        if links:  # the mail carries no file for what the links point at: a person must act
            state.problem(cloud_links.reason(links))
        state.passwords = archives.passwords_in(subject, body_text)
        for leaf in state.leaves:
            try:
                _add_leaf(state, leaf)
            except Exception as exc:  # one broken file must not cost the others
                state.problem(f"附件 {clean_filename(leaf.name, leaf.ctype, leaf.data)} 无法读取（{type(exc).__name__}），已原样保存")
                state.attachments.append(Attachment(clean_filename(leaf.name, leaf.ctype, leaf.data),
                                                    leaf.ctype, leaf.data, leaf.origin, leaf.inline,
                                                    error=f"读取时程序出错（{type(exc).__name__}）"))
    return ParsedMail(
        message_id=_message_id(_first(raw_headers, "message-id")),
        subject=subject,
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to or None,
        date=_date(_first(raw_headers, "date")),
        headers=headers,
        body_text=body_text,
        attachments=tuple(state.attachments),
        content_type=content_type,
        problems=tuple(state.problems),
        cloud_links=links,
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
    if ctype.startswith("multipart/"):
        # A multipart the parser could not split (its boundary folded inside its quotes,
        # misquoted, missing): split it again by the boundary its body really uses, else
        # keep it whole as a file, with a problem; never as body text, never dropped.
        fixed = _resplit(part, params)
        if fixed is not None:
            stack.append((fixed, level))
        else:
            _keep_unsplit(part, ctype, origin, state)
        return
    data = _payload_bytes(part, state)
    if ctype in ("text/plain", "text/html") and not name and disposition != "attachment":
        decoded = _decoded_text(data, params.get("charset"), ctype == "text/html")
        state.link_text(decoded)
        (htmls if ctype == "text/html" else plain).append(_readable(decoded, ctype == "text/html"))
        return
    if not data and not name:
        return
    inline = disposition == "inline" or (not disposition and _raw_header(part, "content-id") is not None)
    state.leaves.append(_Leaf(name, ctype, data, origin, inline))


# A delimiter line ("--" boundary) followed by a header line: how a MIME body shows the
# boundary it really uses, whatever its Content-Type says.
_DELIMITER = re.compile(r"(?m)^--([0-9A-Za-z'()+_,./:=?-][0-9A-Za-z'()+_,./:=? -]{0,68}?)[ \t]*\r?\n"
                        r"(?=[A-Za-z][A-Za-z0-9-]{0,40}:)")
_QUOTED_BOUNDARY = re.compile(r'(?is)\bboundary\s*=\s*"([^"]{0,300})"')


def _boundary_candidates(part: Message, params: dict[str, str], payload: str) -> list[str]:
    """Boundaries to try, best first: the declared one with its folding whitespace removed
    (a client folded a long boundary inside its quotes), the declared one unfolded as RFC 5322
    says, then the delimiters the body itself uses (most frequent first)."""
    candidates: list[str] = []
    raw = _raw_header(part, "content-type") or ""
    quoted = _QUOTED_BOUNDARY.search(raw)
    if quoted:
        value = quoted.group(1)
        candidates += [re.sub(r"\r?\n[ \t]*", "", value), re.sub(r"\r?\n", "", value)]
    if params.get("boundary"):
        candidates.append(params["boundary"])
    counts: dict[str, int] = {}
    for match in _DELIMITER.finditer(payload):
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
        if len(counts) > 20:
            break
    candidates += sorted(counts, key=lambda c: -counts[c])[:3]
    out = []
    for candidate in candidates:
        candidate = candidate.rstrip(" ")
        if candidate and len(candidate) <= 200 and '"' not in candidate and "\\" not in candidate \
                and candidate not in out:
            out.append(candidate)
    return out


def _resplit(part: Message, params: dict[str, str]) -> Message | None:
    """The part parsed again under the first candidate boundary its body really uses, when
    that splits it; None when none does."""
    payload = _raw_payload(part)
    if not isinstance(payload, str) or not payload.strip():
        return None
    ctype = _content_type(part)[0]
    head = [f"{name}: {value}" for name, value in _raw_headers(part) if name.strip().lower() != "content-type"]
    for candidate in _boundary_candidates(part, params, payload):
        if not re.search(r"(?m)^--" + re.escape(candidate) + r"(?:--)?[ \t]*\r?$", payload):
            continue
        rebuilt = "\n".join(head + [f'Content-Type: {ctype}; boundary="{candidate}"', "", payload])
        try:
            fixed = BytesParser(policy=compat32).parsebytes(rebuilt.encode("utf-8", "surrogateescape"))
        except Exception:  # noqa: BLE001 - RecursionError on hostile nesting, anything else
            continue
        if fixed.is_multipart() and any(isinstance(p, Message) for p in fixed.get_payload()):
            return fixed
    return None


def _keep_unsplit(part: Message, ctype: str, origin: tuple[str, ...], state: _State) -> None:
    """A multipart no boundary splits: kept whole (its headers and body) as a file, with a
    problem naming it; an empty one holds nothing to keep."""
    payload = _raw_payload(part)
    body = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    if state.bodies.holds(payload):
        body = state.bodies.decode(payload, "8bit")
    if not body.strip():
        return
    head = "".join(f"{name}: {value}\n" for name, value in _raw_headers(part))
    data = head.encode("utf-8", "surrogateescape") + b"\n" + body
    where = f"（转发的邮件 {origin[-1]} 中）" if origin else ""
    reason = (f"邮件中有一部分{where}（{ctype}）的分隔符缺失或无法识别，未能拆分，"
              f"已原样保存为附件“{UNSPLIT_NAME}”，请人工查看")
    state.problem(reason)
    state.leaves.append(_Leaf(UNSPLIT_NAME, "message/rfc822", data, origin, False, reason))


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


def _decoded_text(data: bytes, charset: str | None, is_html: bool) -> str:
    """A text part's body as text (HTML still as markup)."""
    if is_html and not charset:
        match = _META_CHARSET.search(data[:4096])
        if match:
            charset = match.group(1).decode("ascii")
    text = decode_bytes(data, charset)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _readable(text: str, is_html: bool) -> str:
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


# ---------------------------------------------------------------- files, archives, winmail.dat

def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _is_tnef(ctype: str, filename: str, data: bytes) -> bool:
    return (ctype in _TNEF_TYPES or filename.lower() == "winmail.dat") and tnef.is_tnef(data)


def _add_leaf(state: _State, leaf: _Leaf) -> None:
    if leaf.error:
        _keep(state, clean_filename(leaf.name, leaf.ctype, leaf.data), leaf.ctype, leaf.data, leaf.origin,
              leaf.inline, leaf.error)
        return
    _add_file(state, leaf.name, leaf.ctype, leaf.data, leaf.origin, leaf.inline, 0)


def _keep(state: _State, filename: str, ctype: str, data: bytes, origin: tuple[str, ...], inline: bool,
          error: str | None = None) -> None:
    state.attachments.append(Attachment(filename, (ctype or "application/octet-stream").lower(),
                                        data, origin, inline, error))


def _add_file(state: _State, name: str, ctype: str, data: bytes, origin: tuple[str, ...],
              inline: bool, level: int) -> None:
    """One file: kept, or opened (winmail.dat, an archive) and its files added in turn. A file
    that had to be opened and could not be is kept with its reason (`Attachment.error`)."""
    filename = clean_filename(name, ctype, data)
    if _is_tnef(ctype, filename, data):
        filename = filename if name else "winmail.dat"
        _add_tnef(state, filename, ctype, data, origin, inline, level)
        return
    kind = archives.kind_of(data)
    if kind == archives.ZIP:
        opened = _open_zip(data)
        # A .docx/.xlsx is a zip, and stays a file; so does a file named like an office
        # document whose inside is wrong: the form reader says precisely what is wrong with it
        # (a bomb, a corrupt file). A damaged zip that is not named .zip is just a file.
        if opened is not None:
            document = _is_zip_document(opened) or _named_document(filename)
            opened.close()
            if document:
                kind = None
        elif not filename.lower().endswith(".zip"):
            kind = None
    if kind is None:
        _keep(state, filename, ctype, data, origin, inline)
        return
    if level >= _NESTED_ZIP_LEVELS:
        reason = f"压缩包 {origin[-1] if origin else filename} 中又套了压缩包 {filename}，未再解开"
        state.problem(reason)
        _keep(state, filename, ctype, data, origin, inline, reason)
        return
    unpacked = archives.unpack(data, filename, limits=state.limits.archives(), budget=state.budget,
                               passwords=state.passwords)
    if unpacked.error:
        state.problem(unpacked.error)
        _keep(state, filename, ctype, data, origin, inline, unpacked.error)
    for member, member_data in unpacked.files:
        _add_file(state, member, _guess_type(member), member_data, origin + (filename,), False, level + 1)


def _add_tnef(state: _State, filename: str, ctype: str, data: bytes, origin: tuple[str, ...],
              inline: bool, level: int) -> None:
    try:
        found = tnef.contents(data)
    except Exception:  # noqa: BLE001 - a hostile stream must not cost the mail
        reason = f"{filename}（Outlook 格式）无法解析，其中的附件未能取出"
        state.problem(reason)
        _keep(state, filename, ctype, data, origin, inline, reason)
        return
    # A winmail.dat without files and problems carried only Outlook formatting: nothing to keep.
    for file in found.files:
        _add_file(state, file.name, _guess_type(file.name), file.data, origin + (filename,) + file.within,
                  False, level)
    if found.problems:
        reason = f"{filename}（Outlook 格式）" + "；".join(found.problems)
        state.problem(reason)
        _keep(state, filename, ctype, data, origin, inline, reason)


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
