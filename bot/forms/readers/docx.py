"""docx: the text read from the XML itself — python-docx's `cell.text` / `paragraph.text` would
lose vertically merged cells, nested tables, text boxes and content controls (w:sdt). Only
the parts read are parsed (the package relationships, the main part), each by
`ooxml.parse_part`; a package whose main part is big is read in the sandbox."""
from __future__ import annotations

import io
import zipfile

from bot.forms import safety
from bot.forms.document import Document, Table
from bot.forms.readers.bounds import MAX_COLS, MAX_ROWS, MAX_SPAN, Reading, current
from bot.forms.readers.errors import REASON_CORRUPT, REASON_DOCX_IMAGES, ScanOnly, UnreadableFile
from bot.forms.readers.ooxml import parse_part
from bot.forms.readers.sandbox import isolated

_W_NS = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
         "http://purl.oclc.org/ooxml/wordprocessingml/main")
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W_ATTR_VAL = tuple(f"{{{ns}}}val" for ns in _W_NS)

_OFFICE_DOCUMENT_RELS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                         "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")


def _main_part_name(archive: zipfile.ZipFile) -> str:
    import posixpath
    from urllib.parse import unquote

    rels = parse_part(archive, "_rels/.rels")
    for rel in rels:
        if rel.get("Type") in _OFFICE_DOCUMENT_RELS and rel.get("TargetMode") != "External":
            return posixpath.normpath(unquote(rel.get("Target") or "")).lstrip("/")
    raise UnreadableFile(REASON_CORRUPT)


def _main_part(archive: zipfile.ZipFile):
    return parse_part(archive, _main_part_name(archive))


def read_docx(data: bytes, archive: zipfile.ZipFile | None = None) -> Document:
    """`archive`: `data` opened already (by `safety.sniff_archive`); closed here."""
    if archive is None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise UnreadableFile(safety.REASON_BAD_ZIP) from exc
    with archive, Reading(None) as budget:
        members = archive.infolist()
        reason = safety.check_members(members)
        if reason:
            raise UnreadableFile(reason)
        main = _main_part_name(archive)
        document = isolated(data, "docx", members, main)
        if document is not None:
            return document
        root = parse_part(archive, main)
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
        current().charge(len(nested), table=True)
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
    budget = current()
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
            current().charge(len(nested), table=True)
            pieces.append(nested)
    return "\n".join(pieces)
