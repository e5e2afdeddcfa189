"""Reading an OOXML file too big for the reading process itself (`heavy_part`) in a child
process under an address-space limit and the read's wall-clock budget.

The child is `python -m bot.forms.readers MEGABYTES REMAINING TOTAL FORMAT` (`__main__`): it
limits its own address space (RLIMIT_AS) before it reads a byte of the file from stdin, reads
the file with the same readers (in the child's own process: `IN_SANDBOX`), and writes the
Document or the reason back as one JSON object. The parent kills the child's whole session
when the budget runs out; a child that dies is a recorded reason, never an exception past
`read`.

Starting the child costs about a third of a second (an interpreter, lxml, openpyxl): only the
files whose parts would make this process grow pay it, never a form of the usual size.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

from bot.forms.document import Document, Table
from bot.forms.readers.bounds import CHILD_MEMORY_MB, MB, Budget, current, limit_child
from bot.forms.readers.errors import ReadTimeout, ScanOnly, UnreadableFile
from bot.forms.result import reason_memory, reason_timeout

# An OOXML file is read in this process only when what a library reads in one call is small:
# a .docx's main part (lxml builds its whole tree: up to ~16× the XML for one-character runs),
# an .xlsx's XML parts together (openpyxl holds every shared string and builds an object per
# cell format: ~3 s for 60,000 of them; sheets are streamed, but every row is parsed). Bigger
# files are read in the sandbox. Sizes are unpacked sizes from the central directory, which
# zipfile enforces. Measured worst cases just under them, and the sandbox's cost:
# bench/memory.py (docs/PERFORMANCE.md).
IN_PROCESS_MAIN_PART = 4 * MB
IN_PROCESS_XLSX_XML = 2 * MB
# In a sandbox child: never hand a file on to another child.
IN_SANDBOX = False

EXIT_MEMORY = 3
# Time the parent allows beyond the budget: the child's own deadline should stop it first, with
# the same reason, and its answer still has to travel back.
_GRACE = 2.0
_ROOT = Path(__file__).resolve().parents[3]


def heavy_part(fmt: str, members: list[zipfile.ZipInfo], main: str = "") -> str | None:
    """Why an OOXML package is too big to be read in this process (see IN_PROCESS_MAIN_PART),
    or None. `main`: a .docx's main part (its relationship names it)."""
    if fmt == "docx":
        size = next((info.file_size for info in members if info.filename == main), 0)
        return f"{main} {size / MB:.1f} MiB" if size > IN_PROCESS_MAIN_PART else None
    # every XML part counts: the workbook's relationships may give the shared strings any name
    size = sum(info.file_size for info in members if info.filename.lower().endswith((".xml", ".rels")))
    return f"XML {size / MB:.1f} MiB" if size > IN_PROCESS_XLSX_XML else None


def isolated(data: bytes, fmt: str, members: list[zipfile.ZipInfo], main: str = "") -> Document | None:
    """The Document read in a sandbox child when the package is heavy; None when it is to be
    read here."""
    if IN_SANDBOX or heavy_part(fmt, members, main) is None:
        return None
    return read(data, fmt, current())


def read(data: bytes, fmt: str, budget: Budget, *, megabytes: int | None = None) -> Document:
    """`data` (a "docx" or "xlsx") read in a child; raises UnreadableFile like the readers."""
    megabytes = megabytes or CHILD_MEMORY_MB
    remaining = budget.remaining()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, "-m", "bot.forms.readers", str(megabytes), f"{remaining:.3f}",
                                f"{budget.seconds:g}", fmt], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, cwd=_ROOT, start_new_session=True)
    # the child limits itself before reading the file; this holds even if it never got there
    limit_child(process, megabytes)
    try:
        out, err = process.communicate(data, timeout=remaining + _GRACE)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise ReadTimeout(reason_timeout(budget.seconds)) from None
    finally:
        _kill(process)
    answer = _answer(out)
    if answer is None:
        if process.returncode == EXIT_MEMORY or b"MemoryError" in err:
            raise UnreadableFile(reason_memory(megabytes))
        how = f"信号 {-process.returncode}" if process.returncode < 0 else f"退出码 {process.returncode}"
        raise UnreadableFile(f"读取文件的子进程异常退出（{how}），未读取，原件已保存，请人工查看")
    if "scan" in answer:
        raise ScanOnly(answer["scan"])
    if "timeout" in answer:
        raise ReadTimeout(answer["timeout"])
    if "unreadable" in answer:
        raise UnreadableFile(answer["unreadable"])
    doc = answer["document"]
    budget.charge(answer["chars"])
    return Document(tuple(doc["paragraphs"]), tuple(Table(tuple(tuple(row) for row in rows)) for rows in doc["tables"]),
                    doc["text"], doc["format"])


def _answer(out: bytes) -> dict | None:
    try:
        answer = json.loads(out)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError):
        pass
