"""Decoding of header values, MIME parameters and file names as Chinese mail really sends them.

Everything here works on the raw header strings that `email` keeps with
`policy=compat32`: ASCII text where 8-bit bytes survive as lone surrogates
(surrogateescape). We decode them ourselves because the stdlib's decoders turn GBK
sent under a `gb2312` label, raw 8-bit headers and encoded-words split mid-character
into U+FFFD, and never raise on input is a requirement here.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import io
import mimetypes
import re
import unicodedata
import zipfile

# GBK bytes under a gb2312 label are the norm (Outlook, Foxmail, Coremail); gb18030 is a
# strict superset of both, so every label of that family decodes as gb18030.
_GB_LABELS = frozenset({
    "gb2312", "gbk", "gb18030", "gb_2312-80", "gb_2312", "gb-2312", "x-gbk", "cp936", "ms936",
    "windows-936", "euc-cn", "euccn", "x-euc-cn", "csgb2312", "chinese", "iso-ir-58",
    "csiso58gb231280", "hz-gb-2312-80",
})
_ALIASES = {
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8",
    "big5": "big5hkscs", "x-x-big5": "big5hkscs", "cn-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949",
    "shift-jis": "cp932", "shift_jis": "cp932", "x-sjis": "cp932", "sjis": "cp932",
}
# Labels that mean "no idea": decode by detection instead.
_UNKNOWN_LABELS = frozenset({
    "", "unknown", "x-unknown", "unknown-8bit", "x-user-defined", "default", "charset", "none",
})
# Codecs that are registered but are no text charset a mail could be in.
_NOT_CHARSETS = frozenset({
    "undefined", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "mbcs", "oem",
})
# A single-byte label never fails to decode, so valid UTF-8 under it is checked first:
# old clients put GBK/UTF-8 text under iso-8859-1 or us-ascii.
_SINGLE_BYTE = frozenset({"latin_1", "iso8859-1", "cp1252", "ascii", "iso8859-15"})

_FALLBACKS = ("utf-8", "gb18030")
# Stateful 7-bit encodings: their bytes are all ASCII, so the "ASCII is ASCII" shortcut
# would return the escape sequences as text (and header cleaning would then strip the ESC
# bytes, leaving "$B$3$s" garbage). Text under one of these labels is decoded by it.
_SEVEN_BIT = frozenset({
    "iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext",
    "iso2022_kr", "hz", "utf-7",
})
# What shows that 7-bit text really uses its encoding (ESC for ISO-2022, "~{" for HZ, "+"
# opening a UTF-7 run); without it the text is plain ASCII and decodes as such.
_SEVEN_BIT_MARK = {"hz": b"~", "utf-7": b"+"}


def normalize_charset(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or unusable."""
    if not label:
        return None
    label = label.strip().strip("\"'").strip().lower()
    if len(label) > 40 or label in _UNKNOWN_LABELS:
        return None
    if label in _GB_LABELS:
        return "gb18030"
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text from bytes: the declared charset if it decodes strictly, else UTF-8, else
    gb18030; replacement characters only when nothing decodes cleanly. ASCII bytes are
    ASCII text, unless the declared charset is a 7-bit one (ISO-2022-JP, HZ-GB-2312, UTF-7)."""
    if data.isascii():
        return _seven_bit(data, normalize_charset(charset) if charset else None)
    codec = normalize_charset(charset)
    order: list[str] = []
    if codec in _SINGLE_BYTE:
        order = ["utf-8", codec]
    elif codec:
        order = [codec]
    order += [c for c in _FALLBACKS if c not in order]
    for name in order:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    try:
        return data.decode(codec or "utf-8", "replace")
    except (LookupError, ValueError, UnicodeError):
        return data.decode("utf-8", "replace")


def _seven_bit(data: bytes, codec: str | None) -> str:
    """ASCII bytes as text: decoded by `codec` when it is a 7-bit encoding the bytes use."""
    if codec in _SEVEN_BIT and _SEVEN_BIT_MARK.get(codec, b"\x1b") in data:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    elif codec is None and b"\x1b$" in data:
        # Raw ISO-2022-JP in a header or an unlabelled body (Japanese mail, written without
        # encoded-words): ESC $ opens a double-byte set, which no ASCII text contains.
        try:
            return data.decode("iso2022_jp_2")
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    return data.decode("ascii")


def to_bytes(text: str) -> bytes:
    """The original bytes behind a surrogateescaped header string."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Surrogates outside the escape range cannot come from bytes: drop them.
        return text.encode("utf-8", "ignore")


def recover_8bit(text: str) -> str:
    """Raw 8-bit header bytes (unencoded UTF-8 or GBK) turned back into text; raw 7-bit
    ISO-2022-JP (ESC sequences) decoded too."""
    if text.isascii():
        return _seven_bit(text.encode("ascii"), None) if "\x1b$" in text else text
    return decode_bytes(to_bytes(text))


def unfold(value: str) -> str:
    """Header folding removed (RFC 5322 2.2.3), stray line breaks dropped."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value)
    return value.replace("\r", "").replace("\n", "")


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([bBqQ])\?([^?]*)\?=")


def _b_decode(payload: str) -> bytes:
    # Lenient: clients emit missing padding and stray characters.
    clean = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    clean += "=" * (-len(clean) % 4)
    try:
        return base64.b64decode(clean)
    except (binascii.Error, ValueError):
        return to_bytes(payload)


def _q_decode(payload: str) -> bytes:
    raw = to_bytes(payload.replace("_", " "))
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words decoded wherever they stand (also inside quoted strings),
    raw 8-bit text recovered. Adjacent words of the same charset are joined as bytes
    before decoding, so a character split across two words survives."""
    chunks: list[list] = []  # ["raw", text] or ["ew", codec_key, charset, bytearray]
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos:match.start()]
        after_word = bool(chunks) and chunks[-1][0] == "ew"
        if between and not (after_word and between.strip(" \t") == ""):
            chunks.append(["raw", between])
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        data = _b_decode(match.group(3)) if match.group(2) in "bB" else _q_decode(match.group(3))
        key = normalize_charset(charset) or charset.lower()
        if chunks and chunks[-1][0] == "ew" and chunks[-1][1] == key:
            chunks[-1][3] += data
        else:
            chunks.append(["ew", key, charset, bytearray(data)])
        pos = match.end()
    tail = value[pos:]
    if tail:
        chunks.append(["raw", tail])
    out = []
    for chunk in chunks:
        if chunk[0] == "raw":
            out.append(recover_8bit(chunk[1]))
        else:
            out.append(decode_bytes(bytes(chunk[3]), chunk[2]))
    return "".join(out)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def decode_header(value: str) -> str:
    """A header value as readable text: unfolded, decoded, NFC, no control characters
    (a CR/LF smuggled in an encoded-word must not reach a reply's headers)."""
    text = decode_words(unfold(str(value)))
    text = _CONTROL.sub(" ", text)
    return unicodedata.normalize("NFC", text)


def fold_whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- MIME parameters

def _split_params(value: str) -> list[str]:
    """Split on ';' outside quoted strings."""
    parts, buf, quoted, i = [], [], False, 0
    while i < len(value):
        ch = value[i]
        if quoted and ch == "\\" and i + 1 < len(value):
            buf.append(value[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if not value.startswith('"'):
        return value
    out, i = [], 1
    while i < len(value):
        ch = value[i]
        # Only \" and \\ are escapes: clients leave Windows paths' backslashes unescaped.
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in '"\\':
            out.append(value[i + 1])
            i += 2
            continue
        if ch == '"':
            break
        out.append(ch)
        i += 1
    return "".join(out)


def _percent_decode(text: str) -> bytes:
    raw = to_bytes(text)
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


_SECTION = re.compile(r"^(?P<base>[^*]+)\*(?:(?P<num>\d{1,4})(?P<enc>\*)?)?$")


def parse_params(value: str | None) -> tuple[str, dict[str, str]]:
    """Main value (lower case) and decoded parameters of a Content-Type or
    Content-Disposition header. RFC 2231 (`name*=`, `name*0*=` continuations,
    charset'lang'value) wins over the plain form; RFC 2047 words inside quoted values
    and raw 8-bit values are decoded too."""
    if not value:
        return "", {}
    pieces = _split_params(unfold(str(value)))
    main = recover_8bit(pieces[0]).strip().lower()
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for piece in pieces[1:]:
        name, sep, raw_value = piece.partition("=")
        if not sep:
            continue
        name = name.strip().lower()
        if not name:
            continue
        val = _unquote(raw_value)
        match = _SECTION.match(name)
        if match:
            base = match.group("base").strip()
            if match.group("num") is None:  # name*=charset'lang'value
                sections.setdefault(base, {})[0] = (val, True)
            else:
                sections.setdefault(base, {}).setdefault(
                    int(match.group("num")), (val, bool(match.group("enc"))))
        elif name not in plain:
            plain[name] = val
    result = {name: decode_header(val) for name, val in plain.items()}
    for base, parts in sections.items():
        charset = None
        data = bytearray()
        for index, (val, encoded) in enumerate(parts[k] for k in sorted(parts)):
            if encoded:
                if index == 0 and val.count("'") >= 2:
                    charset, _lang, val = val.split("'", 2)
                data += _percent_decode(val)
            else:
                data += to_bytes(val)
        text = decode_bytes(bytes(data), charset)
        result[base] = decode_header(text)
    return main, result


# ---------------------------------------------------------------- file names

UNNAMED = "未命名附件"
MAX_NAME = 255

_MAGIC = (
    (b"%PDF", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF8", ".gif"),
    (b"Rar!\x1a\x07", ".rar"),
    (b"7z\xbc\xaf\x27\x1c", ".7z"),
    (b"{\\rtf", ".rtf"),
)
_OOXML_DIRS = (("word/", ".docx"), ("xl/", ".xlsx"), ("ppt/", ".pptx"))
_EXTRA_TYPES = {
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/kswps": ".wps",
    "application/vnd.ms-works": ".wps",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
    "image/jpeg": ".jpg",
}


def guess_extension(content_type: str, data: bytes = b"") -> str:
    """Extension for a nameless file: by its bytes first (they are trusted over the
    declared type), then by the declared type; "" when nothing is known."""
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except Exception:  # corrupt archive: the name is all we would lose
            names = []
        if "[Content_Types].xml" in names:
            for prefix, ext in _OOXML_DIRS:
                if any(n.startswith(prefix) for n in names):
                    return ext
        return ".zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _EXTRA_TYPES.get(content_type, ".doc")
    content_type = (content_type or "").lower()
    if content_type in _EXTRA_TYPES:
        return _EXTRA_TYPES[content_type]
    if content_type and content_type != "application/octet-stream":
        return mimetypes.guess_extension(content_type, strict=False) or ""
    return ""


def _split_ext(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > 16 or " " in name[dot:]:
        return name, ""
    return name[:dot], name[dot:]


def clean_filename(name: str | None, content_type: str = "", data: bytes = b"") -> str:
    """A display name safe to show and to store: NFC, directory parts, drive letters,
    NUL and control/format characters removed, at most 255 characters with the
    extension kept, never empty."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = re.sub(r"^[A-Za-z]:", "", text)
    # Cc: NUL, CR/LF, tabs; Cf: bidi overrides that disguise "exe.docx"; Cs: lone surrogates.
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in text if unicodedata.category(ch) not in ("Cf", "Cs"))
    text = fold_whitespace(text).strip(" .")
    if not text or set(text) <= {"."}:
        text = UNNAMED + guess_extension(content_type, data)
    if len(text) > MAX_NAME:
        stem, ext = _split_ext(text)
        text = stem[:MAX_NAME - len(ext)].rstrip() + ext
    return text


def header_block(raw: bytes, limit: int = 65536) -> bytes:
    """The header lines of a raw mail only: the parser reads every line it is given,
    headers-only or not, so for a mail of 60 KB handing it the body costs more than all the
    rest of keeping it."""
    head = raw[:limit]
    crlf = head.find(b"\r\n\r\n")
    lf = head.find(b"\n\n", 0, crlf + 4 if crlf >= 0 else len(head))  # a bare-LF mail's end, if earlier
    if lf >= 0:
        return head[:lf + 1]
    return head[:crlf + 2] if crlf >= 0 else head


def message_id_of(raw: bytes) -> str:
    """The Message-ID header of a raw mail as written (whitespace folded), read from its header
    block alone; "" when it has none or none can be read."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(header_block(raw))
        value = str(headers.get("Message-ID", "") or "")
    except Exception:  # noqa: BLE001 - a mail without a readable Message-ID is still kept
        return ""
    return " ".join(value.split())[:998]
