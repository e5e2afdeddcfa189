"""PDF: the text layer via poppler's `pdftotext -layout` — a separate process, so it can be
killed on a timeout (which pypdf inside this process could not), under an address-space limit;
and it maps CJK fonts reliably. A PDF without a text layer is a scan."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from bot.forms import safety
from bot.forms.document import Document
from bot.forms.readers.bounds import CHILD_MEMORY_MB, PDF_MAX_PAGES, current, limit_child
from bot.forms.readers.errors import REASON_PDF_SCAN, ReadTimeout, ScanOnly, UnreadableFile
from bot.forms.result import MAX_DOCUMENT_CHARS, REASON_TOO_MUCH_TEXT, reason_timeout


def read_pdf(data: bytes, *, timeout: float) -> Document:
    binary = shutil.which("pdftotext")
    if binary is None:
        raise UnreadableFile("服务器未安装 pdftotext（poppler-utils），无法读取 PDF 文件")
    budget = current()
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
