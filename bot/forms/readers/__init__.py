"""Bytes of one file -> `Document` (paragraphs, tables as grids, text), whatever the format.

`read_document` sends each format to its reader: `docx`, `xlsx`, `pdf` (pdftotext), `text`
(plain text, and HTML read cheaply); .doc/.wps/.xls/.et/.rtf/.odt/.ods/HTML are turned into
docx/xlsx by `libreoffice` first. Every zip-based file passes `safety.check_zip` before any
library opens it, and its XML parts are parsed by `ooxml`. Every read is bounded in time,
text and memory (`bounds`); a package too big to be read in this process is read in
`sandbox`, a child process. Whatever stops a read is an `errors.UnreadableFile` with a Chinese
reason for the sender.
"""
from __future__ import annotations

import os
import zipfile

from bot.forms import safety
from bot.forms.document import Document
from bot.forms.readers import libreoffice
from bot.forms.readers.bounds import DEFAULT_SECONDS, Budget, Reading, memory_reason
from bot.forms.readers.docx import read_docx
from bot.forms.readers.errors import (REASON_CORRUPT, REASON_IMAGE, REASON_PDF_SCAN, REASON_XML_ENTITY, ConversionError,
                                      ReadTimeout, ScanOnly, UnknownCharset, UnreadableFile)
from bot.forms.readers.ooxml import guard_zip
from bot.forms.readers.pdf import read_pdf
from bot.forms.readers.text import read_html_text, read_text
from bot.forms.readers.xlsx import read_xlsx
from bot.forms.result import REASON_TOO_DEEP

__all__ = ["REASON_CORRUPT", "REASON_PDF_SCAN", "REASON_XML_ENTITY", "Budget", "ConversionError", "ReadTimeout",
           "ScanOnly", "UnknownCharset", "UnreadableFile", "read_document", "read_docx", "read_html_text", "read_pdf",
           "read_text", "read_xlsx"]


def read_document(data: bytes, filename: str, *, timeout: float = DEFAULT_SECONDS, fmt: str | None = None,
                  archive: zipfile.ZipFile | None = None, budget: Budget | None = None) -> Document:
    """Read one file; raise UnreadableFile (ScanOnly for images and scans) when it cannot be.
    `fmt` is `safety.sniff(data, filename)` when the caller has it already, and `archive` the
    zip `safety.sniff_archive` opened with it (closed here). `budget` (default: `timeout`
    seconds from now) bounds the time and the text of the whole read."""
    try:
        with Reading(budget or Budget(timeout)) as budget:
            fmt = fmt or safety.sniff(data, filename)
            ext = os.path.splitext(filename or "")[1].lower().lstrip(".")
            try:
                return _read(data, fmt, ext, budget, archive)
            except UnreadableFile:
                raise
            except MemoryError:
                raise UnreadableFile(memory_reason()) from None
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
        guard_zip(data)
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
    converted = libreoffice.convert(data, fmt, target, timeout=budget.remaining())
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
