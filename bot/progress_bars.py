"""Progress on long work (the first poll over a season's backlog, `reprocess --all`) for the
admin at a terminal: a rich progress bar on stderr when stderr is a terminal and the work is
long enough to watch; nothing otherwise (cron, systemd, pipes keep their one line per mail).

The steps report through `Progress`; they never know whether anyone is watching.
"""
from __future__ import annotations

import sys
from typing import Protocol

# Below this many items a bar only flickers.
MIN_ITEMS = 20


class Progress(Protocol):
    def stage(self, label: str, total: int) -> None:
        """A new stage of `total` items begins (the previous one, if any, is complete)."""

    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    def stage(self, label: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalProgress:
    """rich bars on stderr, one per stage, started only for stages of MIN_ITEMS or more."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._bar = None
        self._task = None

    def stage(self, label: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeRemainingColumn

        if total < MIN_ITEMS:
            self._task = None
            return
        if self._bar is None:
            self._bar = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("剩余"), TimeRemainingColumn(), console=self.console, transient=False)
            self._bar.start()
        self._task = self._bar.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def for_terminal() -> Progress:
    """Bars when stderr is a terminal, else nothing."""
    return TerminalProgress() if sys.stderr.isatty() else NoProgress()
