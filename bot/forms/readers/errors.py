"""Why a file could not be read: the exceptions every reader raises, each with `reason`, one
Chinese line for the sender, and the reasons the readers share."""
from __future__ import annotations


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


class ConversionError(UnreadableFile):
    """LibreOffice could not convert the file (missing, timed out, wrote nothing)."""


REASON_XML_ENTITY = "文件含有不安全的XML实体，未打开"
REASON_CORRUPT = "文件已损坏或格式不受支持，无法读取，请重新保存后发送"
REASON_IMAGE = "图片（扫描件或照片）"
REASON_PDF_SCAN = "PDF 为扫描件（无文字层）"
REASON_DOCX_IMAGES = "Word 文件中只有图片（扫描件），没有文字"
