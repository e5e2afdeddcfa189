"""xlsx: openpyxl in read-only mode (rows streamed from the sheet XML, never a cell object per
coordinate) with defusedxml installed (an entity DTD raises instead of expanding), each sheet
parsed only up to </sheetData>; merged ranges read from the sheet's <mergeCells> by this
module. A workbook whose XML parts are big together is read in the sandbox."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from bot.forms.document import Document, Table
from bot.forms.readers.bounds import MAX_COLS, MAX_ROWS, Budget, Reading, memory_reason
from bot.forms.readers.errors import REASON_CORRUPT, UnreadableFile
from bot.forms.readers.ooxml import guard_zip, out_of_memory, xml_parser
from bot.forms.readers.sandbox import isolated
from bot.forms.result import MAX_CELL_CHARS, REASON_CELL_TOO_LONG


def read_xlsx(data: bytes) -> Document:
    guard_zip(data)
    import openpyxl

    with Reading(None) as budget, zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = isolated(data, "xlsx", archive.infolist())
        if document is not None:
            return document
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
        root = etree.fromstring(xml, xml_parser())
    except etree.XMLSyntaxError as exc:
        if out_of_memory(exc):
            raise UnreadableFile(memory_reason()) from None
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
