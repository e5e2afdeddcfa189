"""What one read may cost (issue 17; docs/RELIABILITY.md has the table):

- time: a `Budget` per attachment, checked between paragraphs, table rows, sheet rows and
  merged ranges (the work a hostile file can multiply), and passed on as the timeout of every
  child process (LibreOffice, pdftotext, the sandbox);
- text: an Excel cell holds at most 32,767 characters, a document at most 2,000,000 — counted
  over every grid position, so a merged cell repeated over its range counts every time, as
  everything downstream of the Document will read it (`bot.forms.result` has the limits);
- memory: what a library builds in one call (lxml's tree of document.xml, openpyxl's shared
  strings and styles) grows with the size of the part it reads, so an OOXML file whose parts
  are not all small is read in `sandbox`, a child process under an address-space limit; every
  child has such a limit (`limit_child`); what the readers build is bounded by the text limit
  and by the rows, columns and spans below.
"""
from __future__ import annotations

import contextvars
import resource
import subprocess
import time

from bot.forms.readers.errors import ReadTimeout, UnreadableFile
from bot.forms.result import (MAX_DOCUMENT_CHARS, REASON_OUT_OF_MEMORY, REASON_TOO_MUCH_TABLE_TEXT,
                              REASON_TOO_MUCH_TEXT, reason_memory, reason_timeout)

DEFAULT_SECONDS = 60.0

# Bounds on what one sheet or table can make us hold; forms are a few dozen rows.
MAX_ROWS = 5000
MAX_COLS = 200
MAX_SPAN = 64
PDF_MAX_PAGES = 200
MB = 1024 * 1024
# Address space of the sandbox and of pdftotext / LibreOffice children.
CHILD_MEMORY_MB = 1024
LIBREOFFICE_MEMORY_MB = 2048  # soffice converts a small form within 512 MB; big documents need more


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


def current() -> Budget:
    """The budget of the read in progress; a helper called on its own (tests) gets an
    allowance of its own, for this call only."""
    return _BUDGET.get() or Budget()


class Reading:
    """`with Reading(budget) as budget:` makes `budget` (or the one already current, or a
    fresh one) the current budget for the block."""

    def __init__(self, budget: Budget | None):
        self.budget = budget

    def __enter__(self) -> Budget:
        budget = self.budget or _BUDGET.get() or Budget()
        self.token = _BUDGET.set(budget)
        return budget

    def __exit__(self, *exc) -> None:
        _BUDGET.reset(self.token)


def limit_child(process: subprocess.Popen, megabytes: int) -> None:
    """Put an address-space limit on a child just started (prlimit: unlike a preexec_fn it is
    safe in a process with threads). The child has only exec'd its program by now."""
    try:
        resource.prlimit(process.pid, resource.RLIMIT_AS, (megabytes * MB, megabytes * MB))
    except (ProcessLookupError, PermissionError, ValueError, OSError):
        pass  # the child is gone already, or the platform has no prlimit: its timeout still holds


def memory_reason() -> str:
    """Why a read that ran out of memory stopped: this process's address-space limit (a
    sandbox child has one), or the machine's memory."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return reason_memory(soft // MB) if soft != resource.RLIM_INFINITY else REASON_OUT_OF_MEMORY
