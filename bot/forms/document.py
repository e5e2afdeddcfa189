"""The neutral shape every reader produces, so that form parsers never care about file formats."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A grid of cell texts. Merged cells repeat their text in every grid position they cover
    (python-docx does this for horizontal and vertical merges; the xlsx reader does the same)."""

    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Document:
    """Text content of a file, in reading order.

    `paragraphs` are body paragraphs outside tables (docx) or an empty tuple (xlsx);
    `tables` are docx tables or xlsx worksheets; `text` is everything joined with newlines,
    tables included, for classification and free-text reports.
    """

    paragraphs: tuple[str, ...]
    tables: tuple[Table, ...]
    text: str
    source_format: str  # docx | xlsx | doc | wps | xls | et | pdf | txt
