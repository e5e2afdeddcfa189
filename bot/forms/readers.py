"""Bytes of one file -> `Document` (paragraphs, tables as grids, text), whatever the format.

docx: python-docx opens the package (relationships, main part); the text is read from the XML
itself so that vertically merged cells, nested tables, text boxes and content controls (w:sdt)
are not lost, which `cell.text` / `paragraph.text` would do.
xlsx: openpyxl with defusedxml installed (an entity DTD raises instead of expanding).
.doc/.wps/.xls/.et/.rtf/.odt/.ods/HTML: LibreOffice converts to docx/xlsx first.
PDF: the text layer via poppler's `pdftotext -layout` (a separate process: it can be killed on a
timeout, which pypdf inside this process could not, and it maps CJK fonts reliably).
Every zip-based file passes `safety.check_zip` before any library opens it.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path


from bot.forms import safety
from bot.forms.document import Document, Table


class UnreadableFile(Exception):
    """The file cannot be read; `reason` is one Chinese line for the sender."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ScanOnly(UnreadableFile):
    """An image, or a PDF / Word file holding only images: keep it as evidence."""


REASON_XML_ENTITY = "文件含有不安全的XML实体，未打开"
REASON_CORRUPT = "文件已损坏或格式不受支持，无法读取，请重新保存后发送"
REASON_IMAGE = "图片（扫描件或照片）"
REASON_PDF_SCAN = "PDF 为扫描件（无文字层）"
REASON_DOCX_IMAGES = "Word 文件中只有图片（扫描件），没有文字"

# Bounds on what one sheet or table can make us hold; forms are a few dozen rows.
MAX_ROWS = 5000
MAX_COLS = 200
MAX_SPAN = 64
# Workbooks whose worksheets' XML is at most this big are loaded in full (not read_only),
# because read_only mode does not expose merged ranges and the Document contract repeats a
# merged cell's text over the range (附件1's 单位名称 / 通信地址 values span five columns).
# Full mode costs memory in proportion to the XML, hence the bound.
FULL_LOAD_MAX_SHEET_BYTES = 8 * 1024 * 1024
PDF_MAX_PAGES = 200

_W_NS = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
         "http://purl.oclc.org/ooxml/wordprocessingml/main")
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W_ATTR_VAL = tuple(f"{{{ns}}}val" for ns in _W_NS)


def read_document(data: bytes, filename: str, *, timeout: float = 60, fmt: str | None = None,
                  archive: zipfile.ZipFile | None = None) -> Document:
    """Read one file; raise UnreadableFile (ScanOnly for images and scans) when it cannot be.
    `fmt` is `safety.sniff(data, filename)` when the caller has it already, and `archive` the
    zip `safety.sniff_archive` opened with it (closed here)."""
    try:
        fmt = fmt or safety.sniff(data, filename)
        ext = os.path.splitext(filename or "")[1].lower().lstrip(".")
        try:
            return _read(data, fmt, ext, timeout, archive)
        except UnreadableFile:
            raise
        except Exception as exc:  # noqa: BLE001 - libraries raise anything on hostile input
            if _is_defused(exc):
                raise UnreadableFile(REASON_XML_ENTITY) from exc
            raise UnreadableFile(REASON_CORRUPT) from exc
    finally:
        if archive is not None:
            archive.close()


def _read(data: bytes, fmt: str, ext: str, timeout: float, archive: zipfile.ZipFile | None = None) -> Document:
    if fmt == "docx":
        return read_docx(data, archive)
    if fmt == "xlsx":
        return read_xlsx(data)
    if fmt in safety.IMAGE_FORMATS:
        raise ScanOnly(REASON_IMAGE)
    if fmt == "pdf":
        return read_pdf(data, timeout=timeout)
    if fmt == "txt":
        return read_text(data)
    if fmt == "ole-encrypted":
        raise UnreadableFile(safety.REASON_ENCRYPTED)
    if fmt in ("odt", "ods"):
        _guard_zip(data)
    if fmt == "html" and ext in ("xls", "et", "xlsx"):
        return _via_libreoffice(data, fmt, "xlsx", "xls", timeout)
    if fmt in safety.WORD_VIA_LIBREOFFICE:
        return _via_libreoffice(data, fmt, "docx", fmt, timeout)
    if fmt in safety.CALC_VIA_LIBREOFFICE:
        return _via_libreoffice(data, fmt, "xlsx", fmt, timeout)
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


def _via_libreoffice(data: bytes, fmt: str, target: str, source_format: str, timeout: float) -> Document:
    from bot.forms import libreoffice  # imports this module: keep the cycle out of import time

    converted = libreoffice.convert(data, fmt, target, timeout=timeout)
    document = read_docx(converted) if target == "docx" else read_xlsx(converted)
    return Document(document.paragraphs, document.tables, document.text, source_format)


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
    except etree.XMLSyntaxError:
        # libxml2 itself stops an entity expansion (billion laughs) with a syntax error: name
        # the attack rather than calling the file damaged
        if _declares_dtd(archive, archive.getinfo(name)):
            raise UnreadableFile(REASON_XML_ENTITY) from None
        raise
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnreadableFile(REASON_XML_ENTITY)
    return root


def _main_part(archive: zipfile.ZipFile):
    import posixpath
    from urllib.parse import unquote

    rels = _parse_part(archive, "_rels/.rels")
    for rel in rels:
        if rel.get("Type") in _OFFICE_DOCUMENT_RELS and rel.get("TargetMode") != "External":
            name = posixpath.normpath(unquote(rel.get("Target") or "")).lstrip("/")
            return _parse_part(archive, name)
    raise UnreadableFile(REASON_CORRUPT)


def read_docx(data: bytes, archive: zipfile.ZipFile | None = None) -> Document:
    """`archive`: `data` opened already (by `safety.sniff_archive`); closed here."""
    if archive is None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise UnreadableFile(safety.REASON_BAD_ZIP) from exc
    with archive:
        reason = safety.check_members(archive.infolist())
        if reason:
            raise UnreadableFile(reason)
        root = _main_part(archive)
        has_media = any("/media/" in name for name in archive.namelist())
    body = _child(root, _BODY)
    paragraphs: list[str] = []
    tables: list[Table] = []
    lines: list[str] = []
    if body is not None:
        for element in _block_items(body):
            if element.tag in _P:
                text = _paragraph_text(element)
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
        parts.append("\n".join("\t".join(_dedupe(row)) for row in _table_grid(element)))
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
        grid.append(cells[:MAX_COLS])
    width = max((len(row) for row in grid), default=0)
    return [tuple(row + [""] * (width - len(row))) for row in grid]


def _cell_text(cell) -> str:
    pieces: list[str] = []
    for item in _block_items(cell):
        if item.tag in _P:
            pieces.append(_paragraph_text(item))
        else:
            pieces.append("\n".join("\t".join(_dedupe(row)) for row in _table_grid(item)))
    return "\n".join(pieces)


# ---------------------------------------------------------------------------- xlsx


def read_xlsx(data: bytes) -> Document:
    _guard_zip(data)
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_bytes = sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    full = sheet_bytes <= FULL_LOAD_MAX_SHEET_BYTES
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=not full, data_only=True)
    try:
        tables = []
        for sheet in workbook.worksheets:
            grid = _sheet_grid(sheet, full)
            if grid:
                tables.append(Table(tuple(tuple(row) for row in grid)))
    finally:
        workbook.close()
    text = "\n".join("\t".join(row) for table in tables for row in table.rows)
    return Document((), tuple(tables), text, "xlsx")


def _sheet_grid(sheet, full: bool) -> list[list[str]]:
    if full:
        # Only the cells that exist: iter_rows over max_row x max_column would create a cell
        # object for every coordinate, and one value at XFD1048576 stretches those.
        present = {(r, c): cell.value for (r, c), cell in sheet._cells.items()
                   if r <= MAX_ROWS and c <= MAX_COLS and cell.value is not None}
        merges = [m for m in sheet.merged_cells.ranges if (m.min_row, m.min_col) in present]
        height = min(max([r for r, _ in present] + [m.max_row for m in merges], default=0), MAX_ROWS)
        width = min(max([c for _, c in present] + [m.max_col for m in merges], default=0), MAX_COLS)
        grid = [[""] * width for _ in range(height)]
        for (r, c), value in present.items():
            grid[r - 1][c - 1] = cell_text(value)
        # The Document contract: a merged cell's text repeats over its whole range.
        for merged in merges:
            top = grid[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, height)):
                for c in range(merged.min_col - 1, min(merged.max_col, width)):
                    grid[r][c] = top
    else:
        rows = sheet.iter_rows(min_row=1, max_row=MAX_ROWS, max_col=MAX_COLS, values_only=True)
        grid = [[cell_text(value) for value in row] for row in rows]
    # Trailing empty rows and columns carry nothing (formatting often stretches the dimension).
    while grid and not any(grid[-1]):
        grid.pop()
    width = max((max((i + 1 for i, v in enumerate(row) if v), default=0) for row in grid), default=0)
    return [row[:width] + [""] * (width - len(row[:width])) for row in grid]


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


def read_pdf(data: bytes, *, timeout: float) -> Document:
    binary = shutil.which("pdftotext")
    if binary is None:
        raise UnreadableFile("服务器未安装 pdftotext（poppler-utils），无法读取 PDF 文件")
    workdir = Path(tempfile.mkdtemp(prefix="intake-pdf-"))
    try:
        source = workdir / "input.pdf"
        source.write_bytes(data)
        target = workdir / "output.txt"
        process = subprocess.Popen([binary, "-q", "-layout", "-enc", "UTF-8", "-l", str(PDF_MAX_PAGES), str(source), str(target)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   cwd=workdir, start_new_session=True)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()
            raise UnreadableFile("PDF 文件读取超时，无法读取") from None
        if process.returncode != 0 or not target.is_file():
            if process.returncode == 1 and _pdf_is_encrypted(data):
                raise UnreadableFile(safety.REASON_ENCRYPTED)
            raise UnreadableFile("PDF 文件已损坏，无法读取")
        text = target.read_bytes().decode("utf-8", "replace")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = tuple(line.rstrip() for line in text.replace("\f", "\n").splitlines())
    if not "".join(lines).strip():
        raise ScanOnly(REASON_PDF_SCAN)
    return Document(lines, (), "\n".join(lines), "pdf")


def _pdf_is_encrypted(data: bytes) -> bool:
    return b"/Encrypt" in data


def read_text(data: bytes) -> Document:
    text = safety.decode_text(data)
    if text is None:
        raise UnreadableFile("文本文件的编码无法识别")
    lines = tuple(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return Document(lines, (), "\n".join(lines), "txt")
