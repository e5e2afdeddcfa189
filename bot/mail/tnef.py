"""Files out of Outlook's winmail.dat (TNEF, [MS-OXTNEF]); pure, bytes in, (name, bytes) out.

Only what an intake needs: each attachment's file name and bytes. A TNEF stream is a
signature, a 2-byte key and a run of attributes `level(1) id(4) length(4) data checksum(2)`.
attAttachRenddata opens an attachment; attAttachTitle (8.3 or long name, in the OEM code
page), attAttachData (the bytes) and attAttachment (a MAPI property list that may carry
PR_ATTACH_LONG_FILENAME and PR_ATTACH_DATA_BIN) fill it. Written here instead of pulling
in a package: it is ~150 lines and the PyPI parsers are lightly maintained.

Outlook stores some attachments as embedded objects (PT_OBJECT PR_ATTACH_DATA_OBJ: a 16-byte
interface id, then the object): an attached Outlook message (IID_IMessage, itself a TNEF
stream, whose files are taken out in turn) or an OLE object (IID_IStorage, a compound file:
an embedded Word or Excel document, kept as that file). Whatever cannot be taken out is
named in `Contents.problems`, never dropped silently.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

SIGNATURE = 0x223E9F78

ATT_ATTACH_RENDDATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
ATT_OEM_CODEPAGE = 0x00069007
ATT_SUBJECT = 0x00018004

PR_ATTACH_DATA_BIN = 0x3701
PR_ATTACH_FILENAME = 0x3704
PR_ATTACH_LONG_FILENAME = 0x3707
PR_DISPLAY_NAME = 0x3001
PR_ATTACH_METHOD = 0x3705
ATTACH_EMBEDDED_MSG = 5
ATTACH_OLE = 6

IID_IMESSAGE = bytes.fromhex("0703020000000000c000000000000046")  # {00020307-0000-0000-C000-000000000046}
IID_ISTORAGE = bytes.fromhex("0b00000000000000c000000000000046")  # {0000000B-0000-0000-C000-000000000046}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_EMBEDDED_DEPTH = 3

PT_STRING8 = 0x001E
PT_UNICODE = 0x001F
PT_BINARY = 0x0102
PT_OBJECT = 0x000D
MV_FLAG = 0x1000
_FIXED = {0x0001: 4, 0x0002: 4, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x000B: 4,
          0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_VARIABLE = {PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT, 0x0000}

MAX_ATTACHMENTS = 500


@dataclass(frozen=True)
class File:
    name: str
    data: bytes
    within: tuple[str, ...] = ()  # the embedded Outlook messages it was found in, outermost first


@dataclass(frozen=True)
class Contents:
    files: tuple[File, ...]
    problems: tuple[str, ...]  # Chinese: what was inside but could not be taken out


class TnefError(ValueError):
    """Not TNEF, or too broken to read."""


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == SIGNATURE


def _codepage(data: bytes) -> str:
    if len(data) >= 4:
        page = struct.unpack_from("<I", data)[0]
        if page in (936, 54936):
            return "gb18030"  # GBK under code page 936, as everywhere in Chinese mail
        if page == 65001:
            return "utf-8"
        if 0 < page < 100000:
            return f"cp{page}"
    return "cp1252"


def _text(raw: bytes, encoding: str) -> str:
    raw = raw.split(b"\x00", 1)[0]
    for enc in (encoding, "utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("latin-1")


def _mapi_props(data: bytes) -> dict[int, tuple[int, list[bytes]]]:
    """Property id -> (type, values) of a MAPI property list; stops quietly at damage."""
    props: dict[int, tuple[int, list[bytes]]] = {}
    if len(data) < 4:
        return props
    count = struct.unpack_from("<I", data)[0]
    pos = 4
    try:
        for _ in range(min(count, 10000)):
            ptype, pid = struct.unpack_from("<HH", data, pos)
            pos += 4
            if pid >= 0x8000:  # named property: GUID, kind, then an id or a UTF-16 name
                pos += 16
                kind = struct.unpack_from("<I", data, pos)[0]
                pos += 4
                if kind == 0:
                    pos += 4
                else:
                    length = struct.unpack_from("<I", data, pos)[0]
                    pos += 4 + length + (-length % 4)
            base = ptype & ~MV_FLAG
            values: list[bytes] = []
            if base in _VARIABLE:
                nvals = struct.unpack_from("<I", data, pos)[0]
                pos += 4
                for _ in range(min(nvals, 10000)):
                    length = struct.unpack_from("<I", data, pos)[0]
                    pos += 4
                    if pos + length > len(data):
                        raise TnefError("truncated MAPI value")
                    values.append(data[pos:pos + length])
                    pos += length + (-length % 4)
            elif base in _FIXED:
                nvals = 1
                if ptype & MV_FLAG:
                    nvals = struct.unpack_from("<I", data, pos)[0]
                    pos += 4
                size = _FIXED[base]
                for _ in range(min(nvals, 10000)):
                    values.append(data[pos:pos + size])
                    pos += size
            else:
                break  # unknown type: its length is unknown, nothing after it can be read
            props[pid] = (base, values)
    except (struct.error, TnefError):
        pass
    return props


def _prop_text(props, pid: int, encoding: str) -> str | None:
    if pid not in props:
        return None
    ptype, values = props[pid]
    if not values:
        return None
    if ptype == PT_UNICODE:
        return values[0].decode("utf-16-le", "replace").split("\x00", 1)[0] or None
    return _text(values[0], encoding) or None


def extract(data: bytes) -> list[tuple[str, bytes]]:
    """The attached files as (file name, bytes), in order (see `contents`)."""
    return [(f.name, f.data) for f in contents(data).files]


def contents(data: bytes, _depth: int = 0) -> Contents:
    """Every file in the stream, embedded Outlook messages' files included, and a line for
    each attachment that could not be taken out. Raises TnefError when the stream is not
    TNEF at all; damage later on ends the walk with what was found."""
    if not is_tnef(data):
        raise TnefError("no TNEF signature")
    pos = 6
    encoding = "cp1252"
    attachments: list[dict] = []
    damaged = False
    while pos + 9 <= len(data):
        level = data[pos]
        attr_id, length = struct.unpack_from("<II", data, pos + 1)
        start = pos + 9
        end = start + length
        if level not in (1, 2) or end + 2 > len(data):
            damaged = True
            break
        value = data[start:end]
        pos = end + 2  # checksum not verified: a wrong one costs nothing here
        if attr_id == ATT_OEM_CODEPAGE:
            encoding = _codepage(value)
        elif attr_id == ATT_ATTACH_RENDDATA:
            if len(attachments) >= MAX_ATTACHMENTS:
                break
            attachments.append({})
        elif level == 2 and attachments:
            current = attachments[-1]
            if attr_id == ATT_ATTACH_TITLE:
                current["title"] = _text(value, encoding)
            elif attr_id == ATT_ATTACH_DATA:
                current["data"] = value
            elif attr_id == ATT_ATTACHMENT:
                props = _mapi_props(value)
                long_name = (_prop_text(props, PR_ATTACH_LONG_FILENAME, encoding)
                             or _prop_text(props, PR_DISPLAY_NAME, encoding)
                             or _prop_text(props, PR_ATTACH_FILENAME, encoding))
                if long_name:
                    current["long"] = long_name
                if PR_ATTACH_DATA_BIN in props:
                    ptype, values = props[PR_ATTACH_DATA_BIN]
                    if ptype == PT_BINARY and values and "data" not in current:
                        current["data"] = values[0]
                    elif ptype == PT_OBJECT and values:
                        current["object"] = values[0]
                if PR_ATTACH_METHOD in props and props[PR_ATTACH_METHOD][1]:
                    current["method"] = struct.unpack("<I", props[PR_ATTACH_METHOD][1][0][:4].ljust(4, b"\0"))[0]
    damaged = damaged or pos < len(data)
    files: list[File] = []
    problems: list[str] = []
    for att in attachments:
        name = att.get("long") or att.get("title") or ""
        if "object" in att:
            _embedded(att["object"], name, att.get("method"), _depth, files, problems)
        elif "data" in att:
            files.append(File(name, att["data"]))
        elif damaged and att is attachments[-1]:
            problems.append(f"其中的附件 {name or '（无名称）'} 不完整（文件被截断或已损坏），未能取出")
        else:
            problems.append(f"其中的附件 {name or '（无名称）'} 没有内容，未能取出")
    return Contents(tuple(files), tuple(problems))


def subject_of(data: bytes) -> str:
    """The subject (attSubject) of a TNEF stream, "" when it has none."""
    pos = 6
    while pos + 9 <= len(data):
        level = data[pos]
        attr_id, length = struct.unpack_from("<II", data, pos + 1)
        end = pos + 9 + length
        if level not in (1, 2) or end + 2 > len(data):
            break
        if attr_id == ATT_SUBJECT:
            return _text(data[pos + 9:end], "gb18030").strip()
        pos = end + 2
    return ""


# The root stream that names an OLE document's kind, as UTF-16 in the compound file's directory.
_OLE_KINDS = ((b"W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t\0", ".doc"), (b"W\0o\0r\0k\0b\0o\0o\0k\0", ".xls"),
              (b"B\0o\0o\0k\0", ".xls"), (b"P\0o\0w\0e\0r\0P\0o\0i\0n\0t\0", ".ppt"))


def _ole_name(name: str, document: bytes) -> str:
    """An embedded OLE document's name with the extension its streams show (Outlook names
    embedded objects by their caption: "Microsoft Word 文档", no extension)."""
    if "." in name[-6:]:
        return name
    for marker, ext in _OLE_KINDS:
        if marker in document[:1 << 16]:
            return (name or "嵌入的文档") + ext
    return name


def _embedded(value: bytes, name: str, method: int | None, depth: int, files: list[File],
              problems: list[str]) -> None:
    """A PT_OBJECT attachment: an embedded Outlook message (its files, recursively) or an OLE
    object (a compound file, kept as a file); anything else is named as not taken out."""
    iid, body = value[:16], value[16:]
    shown = name or "（无名称）"
    if iid == IID_IMESSAGE or (method == ATTACH_EMBEDDED_MSG and is_tnef(body)):
        label = subject_of(body) or name or "嵌入的邮件"
        if depth >= MAX_EMBEDDED_DEPTH:
            problems.append(f"其中嵌入的 Outlook 邮件《{label}》嵌套过深，其中的附件未取出")
            return
        try:
            inner = contents(body, depth + 1)
        except TnefError:
            problems.append(f"其中嵌入的 Outlook 邮件《{label}》无法解析，其中的附件未能取出")
            return
        files.extend(File(f.name, f.data, (label,) + f.within) for f in inner.files)
        problems.extend(inner.problems)
        if not inner.files and not inner.problems:
            problems.append(f"其中嵌入的 Outlook 邮件《{label}》没有附件，其正文未读取，请将内容直接写在邮件正文或作为附件发送")
        return
    if iid == IID_ISTORAGE or body.startswith(_OLE_MAGIC):
        document = body if body.startswith(_OLE_MAGIC) else value
        files.append(File(_ole_name(name, document), document))
        return
    problems.append(f"其中的附件 {shown} 是 Outlook 嵌入对象（{iid.hex()}），无法取出")
