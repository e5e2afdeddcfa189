"""Reading an OOXML file too big for the reading process itself (`readers.heavy_part`) in a
child process under an address-space limit and the read's wall-clock budget.

The child is `python -m bot.forms.sandbox MEGABYTES REMAINING TOTAL FORMAT`: it limits its own
address space (RLIMIT_AS) before it reads a byte of the file from stdin, reads the file with the
same readers (in the child's own process: `readers.IN_SANDBOX`), and writes the Document or the
reason back as one JSON object. The parent kills the child's whole session when the budget runs
out; a child that dies is a recorded reason, never an exception past `read`.

Starting the child costs about a third of a second (an interpreter, lxml, openpyxl): only the
files whose parts would make this process grow pay it, never a form of the usual size.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from bot.forms import readers
from bot.forms.document import Document, Table
from bot.forms.readers import Budget, ReadTimeout, ScanOnly, UnreadableFile
from bot.forms.result import reason_memory, reason_timeout

EXIT_MEMORY = 3
# Time the parent allows beyond the budget: the child's own deadline should stop it first, with
# the same reason, and its answer still has to travel back.
_GRACE = 2.0
_ROOT = Path(__file__).resolve().parents[2]


def read(data: bytes, fmt: str, budget: Budget, *, megabytes: int | None = None) -> Document:
    """`data` (a "docx" or "xlsx") read in a child; raises UnreadableFile like the readers."""
    megabytes = megabytes or readers.CHILD_MEMORY_MB
    remaining = budget.remaining()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, "-m", "bot.forms.sandbox", str(megabytes), f"{remaining:.3f}",
                                f"{budget.seconds:g}", fmt], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, cwd=_ROOT, start_new_session=True)
    # the child limits itself before reading the file; this holds even if it never got there
    readers.limit_child(process, megabytes)
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


def _child(argv: list[str]) -> int:
    megabytes, remaining, total, fmt = int(argv[0]), float(argv[1]), float(argv[2]), argv[3]
    limit = megabytes * readers.MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    readers.IN_SANDBOX = True
    try:
        data = sys.stdin.buffer.read()
        budget = Budget(remaining)
        budget.seconds = total  # the reason names the attachment's whole budget
        try:
            doc = readers.read_document(data, f"input.{fmt}", fmt=fmt, budget=budget)
            answer = {"document": {"paragraphs": doc.paragraphs, "tables": [t.rows for t in doc.tables],
                                   "text": doc.text, "format": doc.source_format}, "chars": budget.chars}
        except ScanOnly as exc:
            answer = {"scan": exc.reason}
        except ReadTimeout as exc:
            answer = {"timeout": exc.reason}
        except UnreadableFile as exc:  # a MemoryError too (readers: the limit's own reason)
            answer = {"unreadable": exc.reason}
        del data
        sys.stdout.write(json.dumps(answer, ensure_ascii=False))
        sys.stdout.flush()
    except MemoryError:
        return EXIT_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
