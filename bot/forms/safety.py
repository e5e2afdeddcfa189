"""Decide, from the bytes alone, what a file really is and whether it is safe to open.

Senders' declared types and file names lie (a .doc that is really a .docx, an .xls that is an
HTML page, a "docx" that is a password-protected OLE container), and neither python-docx nor
openpyxl guards against zip bombs: everything here reads headers and directories only, never
decompresses or parses content.
"""
from __future__ import annotations

import io
import os
import re
import struct
import zipfile

from bot.zipguard import MAX_RATIO, expands_too_much

REASON_ENCRYPTED = "文件设有密码，无法打开，请去掉密码后重新发送"
REASON_BAD_ZIP = "文件已损坏（压缩结构无效），无法打开，请重新保存后发送"

IMAGE_FORMATS = frozenset({"jpeg", "png", "gif", "bmp", "tiff", "heic", "webp"})
# Old binary and other formats LibreOffice turns into .docx / .xlsx for us.
WORD_VIA_LIBREOFFICE = frozenset({"doc", "wps", "rtf", "odt", "html"})
CALC_VIA_LIBREOFFICE = frozenset({"xls", "et", "ods"})

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_zip(data: bytes, *, max_members: int = 2000, max_total: int = 100 * 1024 * 1024,
              max_ratio: int = MAX_RATIO) -> str | None:
    """A Chinese reason why this zip (docx/xlsx/...) must not be opened, or None when it is safe.

    Reads the central directory only. zipfile itself never inflates a member beyond the size
    the central directory states (and fails on a CRC mismatch), so those sizes are a true bound
    on what the libraries opening the file afterwards can be made to decompress.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, IndexError,
            struct.error, UnicodeDecodeError, NotImplementedError):
        return REASON_BAD_ZIP
    return check_members(members, max_members=max_members, max_total=max_total, max_ratio=max_ratio)


def check_members(members: list[zipfile.ZipInfo], *, max_members: int = 2000, max_total: int = 100 * 1024 * 1024,
                  max_ratio: int = MAX_RATIO) -> str | None:
    """`check_zip` on the directory of an archive the caller has opened already."""
    if len(members) > max_members:
        return f"文件内含条目过多（{len(members)}个），疑为恶意文件，未打开"
    total = 0
    packed = 0
    for info in members:
        if info.flag_bits & 0x1:
            return REASON_ENCRYPTED
        total += info.file_size
        packed += info.compress_size
        if expands_too_much(info.file_size, info.compress_size, max_ratio):
            return (f"文件中的“{_short(info.filename)}”压缩比异常（{info.file_size // max(info.compress_size, 1)}倍），"
                    "疑为压缩炸弹，未打开")
    if total > max_total:
        return f"文件解压后过大（约{total / 1024 / 1024:.0f}MB），疑为压缩炸弹，未打开"
    if expands_too_much(total, packed, max_ratio):
        return f"文件压缩比异常（{total // max(packed, 1)}倍），疑为压缩炸弹，未打开"
    return None


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:37] + "..."


# ---------------------------------------------------------------------------- sniffing


def sniff(data: bytes, filename: str) -> str:
    """The real format by magic bytes (the name only refines an OLE container or plain text):
    docx / xlsx / pptx / odt / ods, doc / wps / xls / et / ppt / ole, ole-encrypted, pdf,
    jpeg / png / gif / bmp / tiff / heic / webp, video / audio, rtf, html, rar / 7z, zip, txt,
    unknown."""
    fmt, archive = sniff_archive(data, filename)
    if archive is not None:
        archive.close()
    return fmt


def sniff_archive(data: bytes, filename: str) -> tuple[str, zipfile.ZipFile | None]:
    """`sniff`, and for a docx the archive it opened to tell, so that the reader does not parse
    the central directory a second time (`readers.read_document(..., archive=)`); the caller
    closes it. None for every other format."""
    head = data[:64]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _sniff_zip(data)
    return _sniff_not_zip(data, filename, head), None


def _sniff_not_zip(data: bytes, filename: str, head: bytes) -> str:
    ext = os.path.splitext(filename or "")[1].lower().lstrip(".")
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(data, ext)
    if b"%PDF-" in data[:1024]:
        return "pdf"
    image = _sniff_image(data, ext)
    if image:
        return image
    media = _sniff_media(data)
    if media:
        return media
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"{\\rtf"):
        return "rtf"
    text = decode_text(data[:65536], partial=len(data) > 65536)
    if text is None and looks_like_text(data):
        text = data[:65536].decode("cp1252", "replace")  # an unknown charset: markup is ASCII anyway
    if text is not None:
        if _looks_like_html(text):
            return "html"
        return "txt"
    return "unknown"


def _sniff_zip(data: bytes) -> tuple[str, zipfile.ZipFile | None]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        return "zip", None
    try:
        fmt = _zip_format(archive)
    except _ZIP_ERRORS:
        fmt = "zip"
    if fmt == "docx":
        return fmt, archive
    archive.close()
    return fmt, None


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, IndexError, struct.error,
               UnicodeDecodeError, NotImplementedError, RuntimeError)


def _zip_format(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    if "mimetype" in names:
        mimetype = _read_small(archive, "mimetype")
        if b"opendocument.text" in mimetype:
            return "odt"
        if b"opendocument.spreadsheet" in mimetype:
            return "ods"
    if "[Content_Types].xml" not in names:
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    # Main parts under other names: the content type says which application wrote it.
    types = _read_small(archive, "[Content_Types].xml")
    if b"wordprocessingml" in types:
        return "docx"
    if b"spreadsheetml" in types:
        return "xlsx"
    if b"presentationml" in types:
        return "pptx"
    return "zip"


def _read_small(archive: zipfile.ZipFile, name: str, limit: int = 65536) -> bytes:
    """At most `limit` bytes of one member (never the whole of a possibly huge one)."""
    with archive.open(name) as member:
        return member.read(limit)


def _sniff_ole(data: bytes, ext: str) -> str:
    names = set(ole_stream_names(data) or ())
    if {"EncryptionInfo", "EncryptedPackage"} <= names:
        return "ole-encrypted"
    if "WordDocument" in names:
        return "wps" if ext == "wps" else "doc"
    if "Workbook" in names or "Book" in names:
        return "et" if ext == "et" else "xls"
    if "PowerPoint Document" in names:
        return "ppt"
    if ext in ("doc", "wps", "xls", "et", "ppt"):
        return ext
    return "ole"


def ole_stream_names(data: bytes, max_sectors: int = 4096) -> list[str] | None:
    """Names of the storages and streams in a Compound File Binary (MS-CFB) container, read from
    its directory sectors; None when the container is malformed. Only the FAT chain of the
    directory is followed, with a loop guard, so a hostile file costs at most `max_sectors`."""
    if len(data) < 512 or not data.startswith(_OLE_MAGIC):
        return None
    sector_shift = struct.unpack_from("<H", data, 0x1E)[0]
    if sector_shift not in (9, 12):
        return None
    size = 1 << sector_shift
    num_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    first_difat, num_difat = struct.unpack_from("<II", data, 0x44)
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
    # Further FAT sector numbers live in the DIFAT chain (large files only).
    sector, seen = first_difat, set()
    while sector < 0xFFFFFFFA and len(seen) < min(num_difat, max_sectors):
        seen.add(sector)
        block = _sector(data, sector, size)
        if block is None:
            return None
        entries = struct.unpack(f"<{size // 4}I", block)
        fat_sectors.extend(s for s in entries[:-1] if s < 0xFFFFFFFA)
        sector = entries[-1]
        if sector in seen:
            return None
    fat_sectors = fat_sectors[: max(num_fat, 0) or len(fat_sectors)]

    def next_sector(current: int) -> int | None:
        per = size // 4
        index, offset = divmod(current, per)
        if index >= len(fat_sectors):
            return None
        block = _sector(data, fat_sectors[index], size)
        if block is None:
            return None
        return struct.unpack_from("<I", block, offset * 4)[0]

    names: list[str] = []
    sector, visited = first_dir, set()
    while sector < 0xFFFFFFFA:
        if sector in visited or len(visited) >= max_sectors:
            return None
        visited.add(sector)
        block = _sector(data, sector, size)
        if block is None:
            return None
        for start in range(0, size, 128):
            entry = block[start:start + 128]
            name_len = struct.unpack_from("<H", entry, 64)[0]
            kind = entry[66]
            if kind in (1, 2) and 2 <= name_len <= 64:
                names.append(entry[: name_len - 2].decode("utf-16-le", "replace"))
        following = next_sector(sector)
        if following is None:
            return None
        sector = following
    return names


def _sector(data: bytes, number: int, size: int) -> bytes | None:
    start = (number + 1) * size
    if start + size > len(data):
        return None
    return data[start:start + size]


def _sniff_image(data: bytes, ext: str) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"):
        return "heic"
    # "BM" alone is too weak (any text may start so): the header's file size must agree.
    if data.startswith(b"BM") and len(data) >= 26:
        declared = struct.unpack_from("<I", data, 2)[0]
        if declared == len(data) or ext == "bmp":
            return "bmp"
    return None


def _sniff_media(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        return "audio" if data[8:11] in (b"M4A", b"M4B") else "video"
    if data.startswith(b"RIFF") and data[8:12] in (b"AVI ", b"WAVE"):
        return "video" if data[8:12] == b"AVI " else "audio"
    if data.startswith(b"\x1a\x45\xdf\xa3") or data.startswith(b"FLV"):
        return "video"
    if data[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "video"
    if data.startswith((b"ID3", b"#!AMR", b"OggS", b"fLaC", b"#!SILK")) or data[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return "audio"
    return None


_HTML_RE = re.compile(r"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<body|<table|<meta)", re.I | re.S)


def _looks_like_html(text: str) -> bool:
    return bool(_HTML_RE.match(text[:4096])) or "<html" in text[:2048].lower()


def decode_text(data: bytes, *, partial: bool = False) -> str | None:
    """Plain text as units' machines write it (UTF-8 with or without BOM, UTF-16/32 with BOM,
    UTF-16 without one told by its zero bytes, GB18030 from Chinese Windows), or None when
    these bytes are not readable text in one of those charsets (`looks_like_text` tells text in
    another charset from binary). `partial`: the bytes are a prefix, so a character cut at the
    end is tolerated."""
    for encoding in _candidates(data):
        chunk = data
        for trim in range(4 if partial else 1):
            try:
                text = chunk.decode(encoding)
            except UnicodeDecodeError:
                chunk = chunk[:-1]
                continue
            if encoding == "gb18030" and not _plausible_gb(chunk):
                return None
            return text if _is_readable(text) else None
    return None


def _candidates(data: bytes) -> list[str]:
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return ["utf-32"]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["utf-16"]
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM: ASCII characters leave a zero in every other byte
        head = data[:4096]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 4 * even and odd * 10 >= len(head) // 2:
            return ["utf-16-le"]
        if even > 4 * odd and even * 10 >= len(head) // 2:
            return ["utf-16-be"]
    return ["utf-8-sig", "gb18030"]


# GB18030 decodes most byte soup: Latin-1 "é" followed by a letter, Shift-JIS kana and kanji
# are valid two-byte codes. Chinese text written by Chinese Windows (GBK) keeps to GB2312 —
# both bytes 0xA1-0xFE — but for a rare name character; foreign text mostly does not.
_GB_PAIR_RE = re.compile(rb"[\x81-\xfe](?:[\x30-\x39][\x81-\xfe][\x30-\x39]|[\x40-\x7e\x80-\xfe])")


def _plausible_gb(data: bytes) -> bool:
    """True when the multibyte characters of GB18030 bytes are mostly GB2312's (≥ 2 in 3)."""
    codes = _GB_PAIR_RE.findall(data)
    if not codes:
        return True  # ASCII: UTF-8 took it already
    common = sum(1 for code in codes if len(code) == 2 and code[0] >= 0xA1 and code[1] >= 0xA1)
    return 3 * common >= 2 * len(codes)


def _is_readable(text: str) -> bool:
    if not text.strip():
        return False
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or 0xE000 <= ord(ch) <= 0xF8FF
              or ch == "\ufffd")
    return bad == 0 or bad / len(text) < 0.001


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\x1b") + b"\x7f"


def looks_like_text(data: bytes) -> bool:
    """Bytes that are text in some charset, though perhaps not one `decode_text` knows (Latin-1,
    Shift-JIS, Big5...): no zero bytes, hardly any control characters, not blank."""
    head = data[:65536]
    if not head.strip() or b"\x00" in head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls * 1000 <= len(head)
