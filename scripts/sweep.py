"""Read a larger generated collection of hostile and odd files, each in a fresh interpreter
under an address-space limit and a timeout, and print what came out: outcome, reason, time,
peak resident memory of the reading process and of its children (sandbox, LibreOffice).

    python scripts/sweep.py [--memory-mb 1536] [--timeout 180] [--only SUBSTRING ...] [--budget 60] [--direct]

Each file goes through `intake inspect --json FILE` (the admin's command: the poll's own read
step, limits and classification, touching no database, mailbox or outbox) with the example
configuration; `--direct` reads it with `classify.read_attachment` in a bare child instead, which
also reports the reading process's memory before the read and its children's apart.

The collection is tests/fixtures/hostile_files.py's `sweep_cases()`: the suite's cases (whose
expected outcomes are checked here too: a mismatch is marked and the exit status is 1) and the
same builders at other sizes. Takes a few minutes; nothing is written but temporary files.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import replace
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


ROOT = Path(__file__).resolve().parents[1]


def inspect_limited(filename: str, data: bytes, workdir: Path, *, memory_mb: int, timeout: float,
                    budget: float) -> H.Limited:
    """`intake inspect --json` on the file, in a process limited to `memory_mb` of address space
    and killed after `timeout` seconds; the read's own budget is `[limits] conversion_timeout`."""
    config = workdir / "config.toml"
    if not config.exists():
        text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
        config.write_text(text.replace("conversion_timeout = 60", f"conversion_timeout = {budget:g}"),
                          encoding="utf-8")
    path = workdir / filename
    path.write_bytes(data)

    def limit() -> None:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "inspect", "--json", str(path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        return H.Limited("", "", None, "", timeout, 0, 0, killed=f"no answer within {timeout:g} s")
    seconds = time.perf_counter() - started
    path.unlink()
    try:
        (found,) = json.loads(out)
        (att,) = found["attachments"]
    except ValueError:
        return H.Limited("", "", None, "", seconds, 0, 0, killed=f"exit {process.returncode}: {err.decode()[-1500:]}")
    # the attachment shape carries no extracted text and no memory figures (--direct does)
    return H.Limited(att["status"], att.get("reason") or "", att.get("kind"), "", seconds, 0, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mb", type=int, default=1536, help="address space of each reading process")
    parser.add_argument("--timeout", type=float, default=180, help="seconds before a reading process is killed")
    parser.add_argument("--budget", type=float, default=60, help="the read's own time budget (conversion_timeout)")
    parser.add_argument("--only", action="append", default=[], help="only labels containing this (repeatable)")
    parser.add_argument("--direct", action="store_true", help="read with classify.read_attachment, not intake inspect")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sweep-"))
    cases = [c for c in H.sweep_cases() if not args.only or any(o in c[0] for o in args.only)]
    header = ["file", "size", "status", "reason", "time", "RSS idle", "RSS peak", "children", "check"]
    print("  ".join(header))
    failures = 0
    started = time.perf_counter()
    for label, filename, build in cases:
        data = build()
        if args.direct:
            got = H.read_limited(filename, data, memory_mb=args.memory_mb, timeout=args.timeout, budget=args.budget)
        else:
            got = inspect_limited(filename, data, workdir, memory_mb=args.memory_mb, timeout=args.timeout,
                                  budget=args.budget)
        expected = H.BY_KEY.get(label)
        if expected and not args.direct:
            expected = replace(expected, text_has=None)  # not in inspect's JSON
        problems = H.check(expected, got) if expected else ([got.killed] if got.killed else [])
        failures += bool(problems)
        cells = [pad(label, 34), f"{len(data) / 2**20:7.2f} MB", pad(got.status or "-", 8),
                 pad(short(got.reason or got.killed), 44), f"{got.seconds:6.2f} s",
                 *((f"{got.idle_mb:5.0f} MB", f"{got.peak_mb:5.0f} MB", f"{got.children_mb:5.0f} MB") if args.direct
                   else ("    -", "    -", "    -")),
                 ("ok" if expected else "-") if not problems else "MISMATCH: " + "; ".join(problems)]
        print("  ".join(cells), flush=True)
    print(f"{len(cases)} files in {time.perf_counter() - started:.0f} s; {failures} mismatched or killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
