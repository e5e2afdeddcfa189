"""Bytes of one file -> `Document` (paragraphs, tables as grids, text), whatever the format.

docx: python-docx opens the package (relationships, main part); the text is read from the XML
itself so that vertically merged cells, nested tables, text boxes and content controls (w:sdt)
are not lost, which `cell.text` / `paragraph.text` would do.
xlsx: openpyxl in read-only mode (rows streamed from the sheet XML, never a cell object per
coordinate) with defusedxml installed (an entity DTD raises instead of expanding); merged
ranges read from the sheet's <mergeCells> by this module.
.doc/.wps/.xls/.et/.rtf/.odt/.ods/HTML: LibreOffice converts to docx/xlsx first.
PDF: the text layer via poppler's `pdftotext -layout` (a separate process: it can be killed on a
timeout, which pypdf inside this process could not, and it maps CJK fonts reliably).
Every zip-based file passes `safety.check_zip` before any library opens it.

Every read is bounded (issue 17; docs/RELIABILITY.md has the table):
- time: a `Budget` per attachment, checked between paragraphs, table rows, sheet rows and
  merged ranges (the work a hostile file can multiply), and passed on as the timeout of every
  child process (LibreOffice, pdftotext, the sandbox);
- text: an Excel cell holds at most 32,767 characters, a document at most 2,000,000 — counted
  over every grid position, so a merged cell repeated over its range counts every time, as
  everything downstream of the Document will read it;
- memory: what a library builds in one call (lxml's tree of document.xml, openpyxl's shared
  strings and styles) grows with the size of the part it reads, so an OOXML file whose parts
  are not all small is read in `sandbox`, a child process under an address-space limit;
  what this module builds is bounded by the text limit.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import io
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path


from bot.forms import safety
from bot.forms.document import Document, Table
from bot.forms.result import (MAX_CELL_CHARS, MAX_DOCUMENT_CHARS, REASON_CELL_TOO_LONG, REASON_TOO_DEEP,
                              REASON_TOO_MUCH_TABLE_TEXT, REASON_TOO_MUCH_TEXT, reason_timeout)


class UnreadableFile(Exception):
    """The file cannot be read; `reason` is one Chinese line for the sender."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ScanOnly(UnreadableFile):
    """An image, or a PDF / Word file holding only images: keep it as evidence."""


class ReadTimeout(UnreadableFile):
    """The read ran out of its wall-clock budget."""


class UnknownCharset(UnreadableFile):
    """Plain text in a charset that is neither UTF-8/UTF-16 nor GB18030: text, not a damaged
    file. `text` is its best-effort decoding (cp1252), kept for the record."""

    def __init__(self, reason: str, text: str):
        super().__init__(reason)
        self.text = text


# ---------------------------------------------------------------------------- the budget

DEFAULT_SECONDS = 60.0


class Budget:
    """What one attachment's reading may still spend: wall-clock seconds and characters.

    `charge(n)` counts `n` characters the reading has built (or is about to build) and checks
    the clock; `remaining()` is the timeout to hand to a child process. Both raise
    UnreadableFile with the precise reason once the budget is spent."""

    __slots__ = ("seconds", "deadline", "chars")

    def __init__(self, seconds: float = DEFAULT_SECONDS):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.chars = 0

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise ReadTimeout(reason_timeout(self.seconds))

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ReadTimeout(reason_timeout(self.seconds))
        return left

    def charge(self, chars: int, *, table: bool = False) -> None:
        """`table`: the characters are a table's (its grid positions), which names the reason."""
        self.chars += chars
        if self.chars > MAX_DOCUMENT_CHARS:
            raise UnreadableFile(REASON_TOO_MUCH_TABLE_TEXT if table else REASON_TOO_MUCH_TEXT)
        if time.monotonic() > self.deadline:
            raise ReadTimeout(reason_timeout(self.seconds))


# The budget of the read in progress, for the helpers deep in the XML walks; the public
# readers set one when called without.
_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("read_budget", default=None)


def _budget() -> Budget:
    # a helper called on its own (tests): an allowance of its own, for this call only
    return _BUDGET.get() or Budget()


class _Reading:
    """`with _Reading(budget) as budget:` makes `budget` (or the one already current, or a
    fresh one) the current budget for the block."""

    def __init__(self, budget: Budget | None):
        self.budget = budget

    def __enter__(self) -> Budget:
        budget = self.budget or _BUDGET.get() or Budget()
        self.token = _BUDGET.set(budget)
        return budget

    def __exit__(self, *exc) -> None:
        _BUDGET.reset(self.token)


REASON_XML_ENTITY = "文件含有不安全的XML实体，未打开"
REASON_CORRUPT = "文件已损坏或格式不受支持，无法读取，请重新保存后发送"
REASON_IMAGE = "图片（扫描件或照片）"
REASON_PDF_SCAN = "PDF 为扫描件（无文字层）"
REASON_DOCX_IMAGES = "Word 文件中只有图片（扫描件），没有文字"

# Bounds on what one sheet or table can make us hold; forms are a few dozen rows.
MAX_ROWS = 5000
MAX_COLS = 200
MAX_SPAN = 64
PDF_MAX_PAGES = 200
MB = 1024 * 1024
# An OOXML file is read in this process only when what a library reads in one call is small:
# a .docx's main part (lxml builds its whole tree: up to ~16× the XML for one-character runs),
# an .xlsx's XML parts together (openpyxl holds every shared string and builds an object per
# cell format: ~3 s for 60,000 of them; sheets are streamed, but every row is parsed). Bigger
# files are read in `sandbox`. Sizes are unpacked sizes from the central directory, which
# zipfile enforces. Measured worst cases just under them, and the sandbox's cost:
# bench/memory.py (docs/PERFORMANCE.md).
IN_PROCESS_MAIN_PART = 4 * MB
IN_PROCESS_XLSX_XML = 2 * MB
# Address space of the sandbox and of pdftotext / LibreOffice children.
CHILD_MEMORY_MB = 1024
LIBREOFFICE_MEMORY_MB = 2048  # soffice converts a small form within 512 MB; big documents need more

_W_NS = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
         "http://purl.oclc.org/ooxml/wordprocessingml/main")
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W_ATTR_VAL = tuple(f"{{{ns}}}val" for ns in _W_NS)


def read_document(data: bytes, filename: str, *, timeout: float = DEFAULT_SECONDS, fmt: str | None = None,
                  archive: zipfile.ZipFile | None = None, budget: Budget | None = None) -> Document:
    """Read one file; raise UnreadableFile (ScanOnly for images and scans) when it cannot be.
    `fmt` is `safety.sniff(data, filename)` when the caller has it already, and `archive` the
    zip `safety.sniff_archive` opened with it (closed here). `budget` (default: `timeout`
    seconds from now) bounds the time and the text of the whole read."""
    try:
        with _Reading(budget or Budget(timeout)) as budget:
            fmt = fmt or safety.sniff(data, filename)
            ext = os.path.splitext(filename or "")[1].lower().lstrip(".")
            try:
                return _read(data, fmt, ext, budget, archive)
            except UnreadableFile:
                raise
            except MemoryError:
                raise UnreadableFile(_memory_reason()) from None
            except RecursionError:
                raise UnreadableFile(REASON_TOO_DEEP) from None
            except Exception as exc:  # noqa: BLE001 - libraries raise anything on hostile input
                if _is_defused(exc):
                    raise UnreadableFile(REASON_XML_ENTITY) from exc
                raise UnreadableFile(REASON_CORRUPT) from exc
    finally:
        if archive is not None:
            archive.close()


def _read(data: bytes, fmt: str, ext: str, budget: Budget, archive: zipfile.ZipFile | None = None) -> Document:
    if fmt == "docx":
        return read_docx(data, archive)
    if fmt == "xlsx":
        return read_xlsx(data)
    if fmt in safety.IMAGE_FORMATS:
        raise ScanOnly(REASON_IMAGE)
    if fmt == "pdf":
        return read_pdf(data, timeout=budget.remaining())
    if fmt == "txt":
        return read_text(data)
    if fmt == "ole-encrypted":
        raise UnreadableFile(safety.REASON_ENCRYPTED)
    if fmt in ("odt", "ods"):
        _guard_zip(data)
    if fmt == "html" and ext in ("xls", "et", "xlsx"):
        return _via_libreoffice(data, fmt, "xlsx", "xls", budget)
    if fmt in safety.WORD_VIA_LIBREOFFICE:
        return _via_libreoffice(data, fmt, "docx", fmt, budget)
    if fmt in safety.CALC_VIA_LIBREOFFICE:
        return _via_libreoffice(data, fmt, "xlsx", fmt, budget)
    if fmt in ("pptx", "ppt"):
        raise UnreadableFile("演示文稿（PPT）不作为表格或材料读取，请另发 Word 或 Excel 文件")
    if fmt == "zip":
        # A damaged docx/xlsx (truncated: no central directory) sniffs as a plain zip.
        reason = safety.check_zip(data)
        if reason:
            raise UnreadableFile(reason)
        if ext in ("docx", "docm", "dotx", "xlsx", "xlsm", "xltx", "pptx"):
            raise UnreadableFile(REASON_CORRUPT)
    if fmt in ("zip", "rar", "7z"):
        raise UnreadableFile("压缩包无法读取，请解压后直接发送其中的文件")
    if fmt == "ole":
        raise UnreadableFile("无法识别的旧版 Office 文件，请另存为 .docx 或 .xlsx 后重新发送")
    raise UnreadableFile("不是可读取的文档格式（支持 Word、Excel、WPS、PDF、文本文件）")


def _via_libreoffice(data: bytes, fmt: str, target: str, source_format: str, budget: Budget) -> Document:
    from bot.forms import libreoffice  # imports this module: keep the cycle out of import time

    converted = libreoffice.convert(data, fmt, target, timeout=budget.remaining())
    document = read_docx(converted) if target == "docx" else read_xlsx(converted)
    return Document(document.paragraphs, document.tables, document.text, source_format)


def _memory_reason() -> str:
    """Why a read that ran out of memory stopped: this process's address-space limit (a
    sandbox child has one), or the machine's memory."""
    from bot.forms.result import REASON_OUT_OF_MEMORY, reason_memory

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return reason_memory(soft // MB) if soft != resource.RLIM_INFINITY else REASON_OUT_OF_MEMORY


# ---------------------------------------------------------------------------- cost drivers


def heavy_part(fmt: str, members: list[zipfile.ZipInfo], main: str = "") -> str | None:
    """Why an OOXML package is too big to be read in this process (see IN_PROCESS_MAIN_PART),
    or None. `main`: a .docx's main part (its relationship names it)."""
    if fmt == "docx":
        size = next((info.file_size for info in members if info.filename == main), 0)
        return f"{main} {size / MB:.1f} MiB" if size > IN_PROCESS_MAIN_PART else None
    # every XML part counts: the workbook's relationships may give the shared strings any name
    size = sum(info.file_size for info in members if info.filename.lower().endswith((".xml", ".rels")))
    return f"XML {size / MB:.1f} MiB" if size > IN_PROCESS_XLSX_XML else None


# In a sandbox child: never hand a file on to another child.
IN_SANDBOX = False


def _sandboxed(data: bytes, fmt: str, members: list[zipfile.ZipInfo], main: str = "") -> Document | None:
    """The Document read in a sandbox child when the package is heavy; None when it is to be
    read here."""
    if IN_SANDBOX or heavy_part(fmt, members, main) is None:
        return None
    from bot.forms import sandbox

    return sandbox.read(data, fmt, _budget())


def _is_defused(exc: BaseException) -> bool:
    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        return False
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DefusedXmlException):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


# ---------------------------------------------------------------------------- zip guards


def _guard_zip(data: bytes) -> None:
    reason = safety.check_zip(data)
    if reason:
        raise UnreadableFile(reason)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, info):
                raise UnreadableFile(REASON_XML_ENTITY)


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = 65536) -> bool:
    """True when the member's prolog holds a DOCTYPE (where entities are declared). Office
    never writes one; a prolog longer than `limit` counts as suspicious too. Reads only as much
    as the prolog needs (a few hundred bytes, not 64 KB of every styles part)."""
    with archive.open(info) as member:
        head = b""
        size = 1024
        while True:
            head += member.read(size - len(head))
            eof = len(head) < size
            verdict = _prolog_verdict(head, more=not eof and size < limit, limit=limit)
            if verdict is not None:
                return verdict
            size = min(size * 8, limit)


def _prolog_verdict(head: bytes, *, more: bool, limit: int) -> bool | None:
    """True: a DOCTYPE/ENTITY (or a prolog filling the whole limit); False: the root element
    starts first (or the member ends); None: `head` ends inside the prolog and `more` says
    further bytes may be read."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while position < len(head) and head[position:position + 1].isspace():
            position += 1
        rest = head[position:]
        if len(rest) < 9 and more:
            return None
        if not rest:
            return len(head) >= limit
        if rest.startswith(b"<?"):
            end = head.find(b"?>", position)
        elif rest.startswith(b"<!--"):
            end = head.find(b"-->", position)
        elif rest[:9].upper() == b"<!DOCTYPE" or rest.startswith(b"<!ENTITY"):
            return True
        else:
            return False
        if end < 0:
            return None if more else len(head) >= 65536
        position = end + 2


# ---------------------------------------------------------------------------- docx


_OFFICE_DOCUMENT_RELS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                         "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")


def _xml_parser():
    from lxml import etree
    # resolve_entities=False: an entity declared in a DTD stays an unexpanded reference (no
    # billion laughs, no external file read); the DOCTYPE itself is refused in _parse_part.
    return etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def _parse_part(archive: zipfile.ZipFile, name: str):
    """One member parsed safely; a DOCTYPE (where entities are declared — Office never writes
    one) refuses the file. Only the parts we read are parsed, so only they need checking: the
    other members (styles, themes, stylesWithEffects: ten times document.xml) are never opened."""
    from lxml import etree

    try:
        root = etree.fromstring(archive.read(name), _xml_parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 itself stops an entity expansion (billion laughs) with a syntax error: name
        # the attack rather than calling the file damaged; and its other limits likewise
        if _declares_dtd(archive, archive.getinfo(name)):
            raise UnreadableFile(REASON_XML_ENTITY) from None
        if _out_of_memory(exc):
            raise UnreadableFile(_memory_reason()) from None
        message = str(exc)
        if "Excessive depth" in message:
            raise UnreadableFile(REASON_TOO_DEEP) from None
        if "huge text node" in message or "Huge input lookup" in message:
            raise UnreadableFile(REASON_TOO_MUCH_TEXT) from None
        raise
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnreadableFile(REASON_XML_ENTITY)
    return root


def _out_of_memory(exc) -> bool:
    """libxml2 reports a failed allocation as a syntax error ("unknown error", ERR_NO_MEMORY)."""
    return exc.code == 2 or any(entry.type_name == "ERR_NO_MEMORY" for entry in exc.error_log)


def _main_part_name(archive: zipfile.ZipFile) -> str:
    import posixpath
    from urllib.parse import unquote

    rels = _parse_part(archive, "_rels/.rels")
    for rel in rels:
        if rel.get("Type") in _OFFICE_DOCUMENT_RELS and rel.get("TargetMode") != "External":
            return posixpath.normpath(unquote(rel.get("Target") or "")).lstrip("/")
    raise UnreadableFile(REASON_CORRUPT)


def _main_part(archive: zipfile.ZipFile):
    return _parse_part(archive, _main_part_name(archive))


def read_docx(data: bytes, archive: zipfile.ZipFile | None = None) -> Document:
    """`archive`: `data` opened already (by `safety.sniff_archive`); closed here."""
    if archive is None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise UnreadableFile(safety.REASON_BAD_ZIP) from exc
    with archive, _Reading(None) as budget:
        members = archive.infolist()
        reason = safety.check_members(members)
        if reason:
            raise UnreadableFile(reason)
        main = _main_part_name(archive)
        isolated = _sandboxed(data, "docx", members, main)
        if isolated is not None:
            return isolated
        root = _parse_part(archive, main)
        has_media = any("/media/" in info.filename for info in members)
        body = _child(root, _BODY)
        paragraphs: list[str] = []
        tables: list[Table] = []
        lines: list[str] = []
        if body is not None:
            for element in _block_items(body):
                if element.tag in _P:
                    text = _paragraph_text(element)
                    budget.charge(len(text))
                    paragraphs.append(text)
                    lines.append(text)
                else:
                    table = Table(tuple(_table_grid(element)))
                    tables.append(table)
                    lines.extend("\t".join(row) for row in table.rows)
    text = "\n".join(lines)
    if not text.strip() and has_media:
        raise ScanOnly(REASON_DOCX_IMAGES)
    return Document(tuple(paragraphs), tuple(tables), text, "docx")


# Tags as sets of Clark names in both WordprocessingML namespaces (transitional and strict), so
# every test is one set lookup on `element.tag` (comments and PIs have a non-string tag and
# are in no set).
def _w(*names: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{name}" for ns in _W_NS for name in names)


_P, _TBL, _BODY, _T = _w("p"), _w("tbl"), _w("body"), _w("t")
_TR, _TC, _TRPR, _TCPR = _w("tr"), _w("tc"), _w("trPr"), _w("tcPr")
_SDT, _SDT_CONTENT = _w("sdt"), _w("sdtContent")
_TAB, _BREAK, _NO_BREAK_HYPHEN = _w("tab"), _w("br", "cr"), _w("noBreakHyphen")
# The run-level marks that stand for a character in the text (every reader below uses this).
_MARK_TEXT = {**dict.fromkeys(_TAB, "\t"), **dict.fromkeys(_BREAK, "\n"), **dict.fromkeys(_NO_BREAK_HYPHEN, "-")}
_GRID_BEFORE, _GRID_AFTER, _GRID_SPAN = _w("gridBefore"), _w("gridAfter"), _w("gridSpan")
_VMERGE, _HMERGE = _w("vMerge"), _w("hMerge")
_SKIPPED = _w("delText", "instrText", "pPr", "rPr", "tblPr", "trPr", "tcPr", "sectPr")
# Wrappers whose children are ordinary block content (content controls are handled apart:
# their content sits in w:sdtContent), and those whose children are ordinary row content.
_BLOCK_WRAPPERS = _w("customXml", "ins", "moveTo")
_TRANSPARENT = _w("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag")
_MC_FALLBACK = f"{{{_MC_NS}}}Fallback"
# What a plain paragraph's text is made of, and what sends it to the general walk (text
# boxes' paragraphs, nested tables, alternate content).
_PARAGRAPH_WALK = tuple(_T | _TAB | _BREAK | _NO_BREAK_HYPHEN | _P | _TBL) + (_MC_FALLBACK,)
# For the run-by-run reading of plain paragraphs: elements that hold no text of their own
# (properties — which the general walk skips as well —, bookmarks, proofing and comment
# marks, field characters and codes, symbols), and the wrappers whose children are runs.
_R = _w("r")
_PARAGRAPH_NO_TEXT = _w("pPr", "bookmarkStart", "bookmarkEnd", "proofErr", "commentRangeStart", "commentRangeEnd",
                        "permStart", "permEnd")
_RUN_NO_TEXT = _w("rPr", "lastRenderedPageBreak", "fldChar", "instrText", "delText", "softHyphen", "sym",
                  "commentReference", "footnoteReference", "endnoteReference")
_RUN_WRAPPERS = _w("hyperlink", "ins")


def _child(element, tags: frozenset[str]):
    for child in element:
        if child.tag in tags:
            return child
    return None


def _w_val(element) -> str | None:
    for attr in _W_ATTR_VAL:
        value = element.get(attr)
        if value is not None:
            return value
    return None


def _block_items(container):
    """Paragraphs and tables of a body or cell, in order, looking through content controls."""
    for child in container:
        tag = child.tag
        if tag in _P or tag in _TBL:
            yield child
        elif tag in _SDT:
            content = _child(child, _SDT_CONTENT)
            if content is not None:
                yield from _block_items(content)
        elif tag in _BLOCK_WRAPPERS:
            yield from _block_items(child)


def _paragraph_text(paragraph) -> str:
    # Most paragraphs are runs of text (Word's own output, the forms as units fill them): read
    # them child by child, which creates far fewer element proxies than a filtered descendant
    # walk (whose tag matcher lxml rebuilds on every call). Anything else in the paragraph —
    # drawings, alternate content, content controls, w:del, w:fldSimple — takes the walks
    # below. Both read the same text; the properties (w:pPr, w:rPr) are skipped here as the
    # general walk skips them.
    parts: list[str] = []
    if _read_runs(paragraph, parts):
        return "".join(parts)
    return _walked_paragraph_text(paragraph)


def _read_runs(container, parts: list[str]) -> bool:
    """Append the text of a paragraph (or a hyperlink / tracked insertion in it) made only of
    runs of text, tabs and breaks; False at the first element that could hold anything else."""
    for child in container:
        tag = child.tag
        if tag in _R:
            for item in child:
                tag = item.tag
                if tag in _T:
                    parts.append(item.text or "")
                elif tag in _RUN_NO_TEXT:  # before the rarer ones: every run has its w:rPr
                    continue
                elif tag in _MARK_TEXT:
                    parts.append(_MARK_TEXT[tag])
                else:
                    return False
        elif tag in _RUN_WRAPPERS:
            if not _read_runs(child, parts):
                return False
        elif tag not in _PARAGRAPH_NO_TEXT:
            return False
    return True


def _walked_paragraph_text(paragraph) -> str:
    # One filtered walk (in C) over the text elements; anything nested (a text box's
    # paragraphs, alternate content) takes the general walk.
    parts: list[str] = []
    for element in paragraph.iterdescendants(*_PARAGRAPH_WALK):
        tag = element.tag
        if tag in _T:
            parts.append(element.text or "")
        elif tag in _MARK_TEXT:
            parts.append(_MARK_TEXT[tag])
        else:
            parts = []
            _collect_text(paragraph, parts, top=True)
            break
    return "".join(parts)


def _collect_text(element, parts: list[str], top: bool = False) -> None:
    """w:t text in document order; tabs and breaks as \\t / \\n; paragraphs nested in text
    boxes on lines of their own. mc:Fallback repeats the mc:Choice content (a text box drawn
    twice, DrawingML and VML): read only the first."""
    tag = element.tag
    if tag == _MC_FALLBACK or tag in _SKIPPED:
        return
    if tag in _T:
        parts.append(element.text or "")
        return
    if tag in _MARK_TEXT:
        parts.append(_MARK_TEXT[tag])
        return
    if tag in _P and not top and parts and not parts[-1].endswith("\n"):
        parts.append("\n")
    if tag in _TBL and not top:
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        nested = "\n".join("\t".join(_dedupe(row)) for row in _table_grid(element))
        _budget().charge(len(nested), table=True)
        parts.append(nested)
        parts.append("\n")
        return
    for child in element:
        _collect_text(child, parts)


def _dedupe(row) -> list[str]:
    """A row's cells without the repeats of merged cells."""
    out: list[str] = []
    for cell in row:
        if not out or cell != out[-1]:
            out.append(cell)
    return out


def _children(node, tags: frozenset[str]):
    """Children with one of `tags`, looking through wrappers such as content controls."""
    for child in node:
        tag = child.tag
        if tag in tags:
            yield child
        elif tag in _TRANSPARENT:
            yield from _children(child, tags)


def _int_val(element, default: int) -> int:
    try:
        return int(_w_val(element) or default)
    except ValueError:
        return default


def _table_grid(table) -> list[tuple[str, ...]]:
    """Rows of cell texts on the table's grid: a cell spanning columns (gridSpan) or rows
    (vMerge) repeats its text in every position it covers, as the Document contract says."""
    grid: list[list[str]] = []
    budget = _budget()
    for row in _children(table, _TR):
        if len(grid) >= MAX_ROWS:
            break
        cells: list[str] = []
        properties = _child(row, _TRPR)
        before = after = 0
        if properties is not None:
            for prop in properties:
                if prop.tag in _GRID_BEFORE:
                    before = min(max(_int_val(prop, 0), 0), MAX_SPAN)
                elif prop.tag in _GRID_AFTER:
                    after = min(max(_int_val(prop, 0), 0), MAX_SPAN)
        cells.extend([""] * before)
        above = grid[-1] if grid else []
        for cell in _children(row, _TC):
            span, vmerge, hmerge = 1, None, None
            cell_props = _child(cell, _TCPR)
            if cell_props is not None:
                for prop in cell_props:
                    tag = prop.tag
                    if tag in _GRID_SPAN:
                        span = min(max(_int_val(prop, 1), 1), MAX_SPAN)
                    elif tag in _VMERGE:
                        vmerge = _w_val(prop) or "continue"
                    elif tag in _HMERGE:
                        hmerge = _w_val(prop) or "continue"
            column = len(cells)
            if vmerge == "continue" and column < len(above):
                text = above[column]
            elif hmerge == "continue" and cells:
                text = cells[-1]
            else:
                text = _cell_text(cell)
            cells.extend([text] * span)
            if len(cells) >= MAX_COLS:
                break
        cells.extend([""] * after)
        cells = cells[:MAX_COLS]
        # every position counts: a merged cell's text is read again wherever it repeats
        budget.charge(sum(map(len, cells)), table=True)
        grid.append(cells)
    width = max((len(row) for row in grid), default=0)
    return [tuple(row + [""] * (width - len(row))) for row in grid]


def _cell_text(cell) -> str:
    pieces: list[str] = []
    for item in _block_items(cell):
        if item.tag in _P:
            pieces.append(_paragraph_text(item))
        else:
            nested = "\n".join("\t".join(_dedupe(row)) for row in _table_grid(item))
            _budget().charge(len(nested), table=True)
            pieces.append(nested)
    return "\n".join(pieces)


# ---------------------------------------------------------------------------- xlsx


def read_xlsx(data: bytes) -> Document:
    _guard_zip(data)
    import openpyxl

    with _Reading(None) as budget, zipfile.ZipFile(io.BytesIO(data)) as archive:
        isolated = _sandboxed(data, "xlsx", archive.infolist())
        if isolated is not None:
            return isolated
        # read-only: nothing is made per coordinate — full mode makes a cell object for every
        # cell of every merged range (A1:XFD1048576: 17 billion) — and the rows are parsed
        # from the sheet XML as this loop asks for them, with the budget checked between them
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            tables = []
            for sheet in workbook.worksheets:
                budget.check()
                grid = _sheet_grid(workbook, sheet, archive, budget)
                if grid:
                    tables.append(Table(tuple(tuple(row) for row in grid)))
        finally:
            workbook.close()
    text = "\n".join("\t".join(row) for table in tables for row in table.rows)
    return Document((), tuple(tables), text, "xlsx")


def _sheet_grid(workbook, sheet, archive: zipfile.ZipFile, budget: Budget) -> list[list[str]]:
    from xml.etree.ElementTree import ParseError

    from openpyxl.worksheet._reader import WorkSheetParser

    # openpyxl's own sheet parser (what ReadOnlyWorksheet.iter_rows uses), given the rows
    # only: what follows <sheetData> (merged ranges, hyperlinks, validations over whole
    # columns) is read below, merged ranges alone, or not at all
    try:
        member = archive.open(sheet._worksheet_path)
    except KeyError:
        raise UnreadableFile(REASON_CORRUPT) from None
    with member:
        source = _RowsOnly(member)
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=True, epoch=workbook.epoch,
                                 date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats)
        present: dict[tuple[int, int], str] = {}
        try:
            for r, cells in parser.parse():
                if r > MAX_ROWS:
                    break
                chars = 0
                for cell in cells:
                    value, c = cell["value"], cell["column"]
                    if value is None or c > MAX_COLS:
                        continue
                    text = cell_text(value)
                    if len(text) > MAX_CELL_CHARS:
                        raise UnreadableFile(REASON_CELL_TOO_LONG)
                    if text:
                        present[r, c] = text
                        chars += len(text)
                budget.charge(chars, table=True)
        except ParseError:
            if not source.cut:  # the XML ends where the rows end: the parser says so
                raise
        merges = [m for m in _merged_ranges(source.rest(), budget) if (m[0], m[1]) in present]
    height = min(max([r for r, _ in present] + [m[2] for m in merges], default=0), MAX_ROWS)
    width = min(max([c for _, c in present] + [m[3] for m in merges], default=0), MAX_COLS)
    grid = [[""] * width for _ in range(height)]
    for (r, c), text in present.items():
        grid[r - 1][c - 1] = text
    # The Document contract: a merged cell's text repeats over its whole range (clipped to the
    # grid), and every repetition counts against the document's text.
    for min_row, min_col, max_row, max_col in merges:
        top = grid[min_row - 1][min_col - 1]
        last_row, last_col = min(max_row, height), min(max_col, width)
        budget.charge(len(top) * ((last_row - min_row + 1) * (last_col - min_col + 1) - 1), table=True)
        for r in range(min_row - 1, last_row):
            grid[r][min_col - 1:last_col] = [top] * (last_col - min_col + 1)
    # Trailing empty rows and columns carry nothing (formatting often stretches the dimension).
    while grid and not any(grid[-1]):
        grid.pop()
    width = max((max((i + 1 for i, v in enumerate(row) if v), default=0) for row in grid), default=0)
    return [row[:width] + [""] * (width - len(row[:width])) for row in grid]


_SHEET_DATA_END_RE = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>|<(?:[A-Za-z_][\w.-]*:)?sheetData\s*/>")


class _RowsOnly:
    """A sheet member as a file that ends right after </sheetData>; `rest()` gives the bytes
    after that (and any the parser did not take) for the merged ranges."""

    _HOLD = 64  # bytes kept back: an end tag may straddle two chunks

    def __init__(self, member):
        self.member = member
        self.pending = b""
        self.after = b""
        self.cut = False
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        want = (1 << 16) if size is None or size < 0 else size
        while not self.cut and not self.eof and len(self.pending) < want + self._HOLD:
            chunk = self.member.read(1 << 16)
            if not chunk:
                self.eof = True
                break
            self.pending += chunk
            found = _SHEET_DATA_END_RE.search(self.pending)
            if found:
                self.pending, self.after = self.pending[:found.end()], self.pending[found.end():]
                self.cut = True
        if self.cut or self.eof:
            count = want
        else:
            count = min(want, len(self.pending) - self._HOLD)
        out, self.pending = self.pending[:count], self.pending[count:]
        return out

    def rest(self):
        yield self.pending + self.after
        self.pending = self.after = b""
        while chunk := self.member.read(1 << 20):
            yield chunk


_MERGE_CELLS_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?mergeCells[\s/>]")


def _merged_ranges(chunks, budget: Budget) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of a sheet's merged ranges, from its <mergeCells>
    element alone: the rest of the sheet (`chunks`) is searched for it and only it is parsed."""
    from lxml import etree
    from openpyxl.utils.cell import range_boundaries

    region = None
    prefix = b""
    tail = b""
    for chunk in chunks:
        budget.check()
        if region is None:
            window = tail + chunk
            found = _MERGE_CELLS_RE.search(window)
            if found:
                prefix = found.group(1) or b""
                region = bytearray(window[found.start():])
            else:
                tail = window[-64:]
        else:
            region += chunk
    if region is None:
        return []
    close = b"</" + (prefix + b":" if prefix else b"") + b"mergeCells>"
    end = region.find(close)
    if end < 0:
        return []
    xml = bytes(region[:end + len(close)])
    if prefix:  # the prefix was declared on the root element, which is not in the region
        xml = b'<r xmlns:' + prefix + b'="urn:sheet">' + xml + b"</r>"
    try:
        root = etree.fromstring(xml, _xml_parser())
    except etree.XMLSyntaxError as exc:
        if _out_of_memory(exc):
            raise UnreadableFile(_memory_reason()) from None
        return []
    ranges = []
    for n, element in enumerate(root.iter("{*}mergeCell")):
        if n % 1000 == 999:
            budget.check()
        try:
            min_col, min_row, max_col, max_row = range_boundaries(element.get("ref") or "")
        except (ValueError, TypeError):
            continue
        if (None in (min_col, min_row, max_col, max_row) or min_row > MAX_ROWS or min_col > MAX_COLS
                or max_row < min_row or max_col < min_col):
            continue
        ranges.append((min_row, min_col, max_row, max_col))
    return ranges


def cell_text(value) -> str:
    """A spreadsheet value as the text a person sees: 13898552773 not 13898552773.0, dates
    without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip("\x00")


# ---------------------------------------------------------------------------- pdf, text


def limit_child(process: subprocess.Popen, megabytes: int) -> None:
    """Put an address-space limit on a child just started (prlimit: unlike a preexec_fn it is
    safe in a process with threads). The child has only exec'd its program by now."""
    try:
        resource.prlimit(process.pid, resource.RLIMIT_AS, (megabytes * MB, megabytes * MB))
    except (ProcessLookupError, PermissionError, ValueError, OSError):
        pass  # the child is gone already, or the platform has no prlimit: its timeout still holds


def read_pdf(data: bytes, *, timeout: float) -> Document:
    binary = shutil.which("pdftotext")
    if binary is None:
        raise UnreadableFile("服务器未安装 pdftotext（poppler-utils），无法读取 PDF 文件")
    budget = _budget()
    workdir = Path(tempfile.mkdtemp(prefix="intake-pdf-"))
    try:
        source = workdir / "input.pdf"
        source.write_bytes(data)
        target = workdir / "output.txt"
        process = subprocess.Popen([binary, "-q", "-layout", "-enc", "UTF-8", "-l", str(PDF_MAX_PAGES), str(source), str(target)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   cwd=workdir, start_new_session=True)
        limit_child(process, CHILD_MEMORY_MB)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()
            raise ReadTimeout(reason_timeout(budget.seconds)) from None
        if process.returncode != 0 or not target.is_file():
            if process.returncode == 1 and _pdf_is_encrypted(data):
                raise UnreadableFile(safety.REASON_ENCRYPTED)
            raise UnreadableFile("PDF 文件已损坏，无法读取")
        # -layout pads with spaces: allow four bytes a character before reading it at all
        if target.stat().st_size > 4 * MAX_DOCUMENT_CHARS:
            raise UnreadableFile(REASON_TOO_MUCH_TEXT)
        text = target.read_bytes().decode("utf-8", "replace")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = tuple(line.rstrip() for line in text.replace("\f", "\n").splitlines())
    budget.charge(sum(map(len, lines)))
    if not "".join(lines).strip():
        raise ScanOnly(REASON_PDF_SCAN)
    return Document(lines, (), "\n".join(lines), "pdf")


def _pdf_is_encrypted(data: bytes) -> bool:
    return b"/Encrypt" in data


def read_text(data: bytes) -> Document:
    """Plain text in UTF-8, UTF-16/32 (BOM, or UTF-16 told by its zero bytes) or GB18030;
    anything else that is still text raises UnknownCharset."""
    from bot.forms.result import REASON_UNKNOWN_CHARSET

    if len(data) > 4 * MAX_DOCUMENT_CHARS:  # no encoding takes more than four bytes a character
        raise UnreadableFile(REASON_TOO_MUCH_TEXT)
    text = safety.decode_text(data)
    if text is None:
        if safety.looks_like_text(data):
            raise UnknownCharset(REASON_UNKNOWN_CHARSET, data.decode("cp1252", "replace"))
        raise UnreadableFile("文本文件的编码无法识别")
    lines = tuple(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    _budget().charge(sum(map(len, lines)))
    return Document(lines, (), "\n".join(lines), "txt")


# ---------------------------------------------------------------------------- HTML, cheaply


def read_html_text(data: bytes, *, budget: Budget | None = None) -> Document:
    """The visible text of an HTML page (paragraphs only, no tables), without LibreOffice:
    the cheap look that decides whether a page may be a form at all (classify). Bounded like
    every reader: fed in 64 KB pieces with the budget checked between them."""
    with _Reading(budget) as budget:
        return _html_text(data, budget)


def _html_text(data: bytes, budget: Budget) -> Document:
    from html.parser import HTMLParser

    if len(data) > 4 * MAX_DOCUMENT_CHARS:
        raise UnreadableFile(REASON_TOO_MUCH_TEXT)
    markup = _decode_html(data)

    class _Text(HTMLParser):
        _BREAKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
                             "article", "blockquote", "pre", "hr", "title"})
        _HIDDEN = frozenset({"script", "style", "template", "noscript", "xml"})

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0
            self.tables = 0

        def handle_starttag(self, tag, attrs):
            if tag in self._HIDDEN:
                self.hidden += 1
            if tag == "table":
                self.tables += 1
            if tag in ("td", "th"):
                self.parts.append("\t")
            elif tag in self._BREAKS:
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag in self._HIDDEN and self.hidden:
                self.hidden -= 1
            if tag in self._BREAKS:
                self.parts.append("\n")

        def handle_data(self, text):
            if not self.hidden:
                self.parts.append(text)
                budget.charge(len(text))

    parser = _Text()
    for start in range(0, len(markup), 65536):
        parser.feed(markup[start:start + 65536])
        budget.check()
    parser.close()
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in "".join(parser.parts).split("\n")]
    paragraphs = tuple(line for line in lines if line)
    return Document(paragraphs, (), "\n".join(paragraphs), "html")


_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _decode_html(data: bytes) -> str:
    """An HTML page's characters: its BOM, the charset its <meta> declares (Outlook writes
    one), then UTF-8, GB18030 as for plain text, else cp1252."""
    import codecs

    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        text = safety.decode_text(data)
        if text is not None:
            return text
    declared = _META_CHARSET_RE.search(data[:4096])
    if declared:
        try:
            name = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            name = None
        if name in ("gb2312", "gbk", "hz"):
            name = "gb18030"  # what Windows' "gb2312" really is
        if name and not name.startswith(("utf-16", "utf-32")):  # a page in ASCII cannot be UTF-16
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return data.decode("utf-8")  # valid UTF-8 is UTF-8, whatever characters it holds
    except UnicodeDecodeError:
        pass
    return safety.decode_text(data) or data.decode("cp1252", "replace")
