"""Read a larger generated collection of hostile and odd files, each in a fresh interpreter
under an address-space limit and a timeout, and print what came out: outcome, reason, time,
peak resident memory of the reading process and of its children (sandbox, LibreOffice).

    python scripts/sweep.py [--memory-mb 1536] [--timeout 180] [--only SUBSTRING ...] [--budget 60]

The collection is tests/fixtures/hostile_files.py's `sweep_cases()`: the suite's cases (whose
expected outcomes are checked here too: a mismatch is marked and the exit status is 1) and the
same builders at other sizes. Takes a few minutes; nothing is written.
"""
from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures import hostile_files as H  # noqa: E402


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def short(reason: str, columns: int = 44) -> str:
    out = ""
    for ch in reason:
        if width(out + ch) > columns - 1:
            return out + "…"
        out += ch
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mb", type=int, default=1536, help="address space of each reading process")
    parser.add_argument("--timeout", type=float, default=180, help="seconds before a reading process is killed")
    parser.add_argument("--budget", type=float, default=60, help="the read's own time budget (conversion_timeout)")
    parser.add_argument("--only", action="append", default=[], help="only labels containing this (repeatable)")
    args = parser.parse_args(argv)
    cases = [c for c in H.sweep_cases() if not args.only or any(o in c[0] for o in args.only)]
    header = ["file", "size", "status", "reason", "time", "RSS idle", "RSS peak", "children", "check"]
    print("  ".join(header))
    failures = 0
    started = time.perf_counter()
    for label, filename, build in cases:
        data = build()
        got = H.read_limited(filename, data, memory_mb=args.memory_mb, timeout=args.timeout, budget=args.budget)
        expected = H.BY_KEY.get(label)
        problems = H.check(expected, got) if expected else ([got.killed] if got.killed else [])
        failures += bool(problems)
        cells = [pad(label, 34), f"{len(data) / 2**20:7.2f} MB", pad(got.status or "-", 8),
                 pad(short(got.reason or got.killed), 44), f"{got.seconds:6.2f} s", f"{got.idle_mb:5.0f} MB",
                 f"{got.peak_mb:5.0f} MB", f"{got.children_mb:5.0f} MB",
                 ("ok" if expected else "-") if not problems else "MISMATCH: " + "; ".join(problems)]
        print("  ".join(cells), flush=True)
    print(f"{len(cases)} files in {time.perf_counter() - started:.0f} s; {failures} mismatched or killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
