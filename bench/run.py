"""The benchmarks' one entry point: `python -m bench.run [--quick] [--only KEY ...]`.

Every measurement is a RATIO: the project's real code against a floor (the least any
implementation must do for the same result), both timed side by side in the same process,
alternating project and floor calls, median of several repetitions. Absolute times depend on
the machine; the ratio mostly does not, so targets are ratios and nothing here is a test.

To add a measurement, write a function `(Settings) -> Outcome` and give its `Measurement` in
MEASUREMENTS a `run`; rows without one show as "not yet measured".
Writes docs/PERFORMANCE.md (the table, the machine, the date, the command) and prints the table.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "PERFORMANCE.md"


@dataclass(frozen=True)
class Settings:
    quick: bool

    def reps(self, default: int, quick: int) -> int:
        return quick if self.quick else default


@dataclass
class Outcome:
    project: float  # seconds, median over the repetitions
    floor: float
    reps: int
    details: list[str] = field(default_factory=list)  # markdown lines for the report
    unit: str = "s"  # "s": project and floor are seconds; "MB": they are megabytes
    passed: bool | None = None  # set when the target is not a ratio (absolute latency, memory bound)

    @property
    def ratio(self) -> float:
        return self.project / self.floor

    def show(self, value: float) -> str:
        return f"{value:.0f} MB" if self.unit == "MB" else ms(value)


@dataclass(frozen=True)
class Measurement:
    key: str
    title: str
    floor: str  # what the floor does, in one line
    target: float | None  # the largest acceptable ratio
    run: Callable[[Settings], Outcome] | None = None  # None: not yet measured
    target_text: str | None = None  # a target that is not a ratio; the outcome's `passed` decides

    def target_cell(self) -> str:
        if self.target_text:
            return self.target_text
        return f"≤ {self.target:g}×" if self.target is not None else "—"


# ---------------------------------------------------------------------------- timing


def _timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(project: Callable[[], object], floor: Callable[[], object], reps: int) -> tuple[float, float]:
    """Medians of `reps` alternating runs of each, after one untimed warm-up of each
    (imports, caches: the steady state of a long-running daemon)."""
    project()
    floor()
    p, f = [], []
    for _ in range(reps):
        p.append(_timed(project))
        f.append(_timed(floor))
    return statistics.median(p), statistics.median(f)


def median_time(fn: Callable[[], object], reps: int) -> float:
    fn()
    return statistics.median(_timed(fn) for _ in range(reps))


def _source(filename: str, funcname: str) -> str:
    """Where a profiled function lives: package/subpackage, stdlib module, or project file."""
    if filename in ("~", "<built-in>"):
        return funcname  # a builtin such as {built-in method unicodedata.normalize}
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1:]
        return "/".join(rest[:2]) if len(rest) > 2 else "/".join(rest)
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return f"stdlib {path.stem}" if "python3" in filename else filename


def profile_by_source(fn: Callable[[], object], loops: int, top: int = 10) -> list[str]:
    """Own time (cProfile tottime) summed by where the code lives, as markdown table lines."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(loops):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, func): (cc, nc, tottime, cumtime, callers)}
    by_source: dict[str, float] = {}
    for (filename, _, funcname), (_, _, tottime, _, _) in stats.items():
        key = _source(filename, funcname)
        by_source[key] = by_source.get(key, 0.0) + tottime
    total = sum(by_source.values()) or 1.0
    lines = ["| where (own time, cProfile) | share |", "|---|---:|"]
    for key, seconds in sorted(by_source.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"| `{key}` | {100 * seconds / total:.0f}% |")
    return lines


def sample_profile(fn: Callable[[], object], *, top: int = 12,
                   steps: tuple[tuple[str, str, str], ...] = ()) -> tuple[list[str], list[str]]:
    """Wall-clock sampling (pyinstrument, 1 ms) of one call on this thread: its own time by
    where the code lives, and the inclusive share of named steps — (label, file ending,
    function) — as two markdown tables. Sampling barely slows the code down, unlike cProfile,
    so the shares are those of the real run; time this thread spends waiting (for a worker
    process, a socket, the disk) shows up where it waits."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        fn()
    finally:
        profiler.stop()
    root = profiler.last_session.root_frame()
    total = root.time or 1.0
    own: dict[str, float] = {}
    inclusive = {label: 0.0 for label, _, _ in steps}
    stack = [(root, frozenset())]
    while stack:
        frame, inside = stack.pop()
        if frame.is_synthetic:
            continue
        path = frame.file_path or ""
        key = f"built-in {frame.function}" if path.startswith("<") else _source(path, frame.function)
        own[key] = own.get(key, 0.0) + frame.total_self_time
        for label, ending, function in steps:
            # a step's time counted once, at its outermost call
            if frame.function == function and path.endswith(ending) and label not in inside:
                inclusive[label] += frame.time
                inside = inside | {label}
        stack.extend((child, inside) for child in frame.children)
    by_source = ["| where (own time, pyinstrument sampling) | share |", "|---|---:|"]
    by_source += [f"| `{k}` | {100 * v / total:.0f}% |" for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    by_step = ["| step (inclusive time, pyinstrument sampling) | share |", "|---|---:|"]
    by_step += [f"| {label} | {100 * inclusive[label] / total:.0f}% |" for label, _, _ in steps]
    return by_source, by_step


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


# ---------------------------------------------------------------------------- measurements


def measure_parse(settings: Settings) -> Outcome:
    from bench import parse_floor

    reps = settings.reps(21, 5)
    inputs = parse_floor.inputs()
    rows = ["| input | bytes | project | floor | ratio |", "|---|---:|---:|---:|---:|"]
    projects, floors = [], []
    for item in inputs:
        parse_floor.check(item)
        p, f = side_by_side(lambda: parse_floor.project(item), lambda: parse_floor.floor(item), reps)
        projects.append(p)
        floors.append(f)
        rows.append(f"| {item.label} | {len(item.data)} | {ms(p)} | {ms(f)} | {p / f:.1f}× |")
    project, floor = statistics.mean(projects), statistics.mean(floors)

    stage_rows = ["| stage of the project path | time | share |", "|---|---:|---:|"]
    names: list[str] = []
    totals: dict[str, float] = {}
    for item in inputs:
        for name, fn in parse_floor.stages(item):
            if name not in totals:
                names.append(name)
                totals[name] = 0.0
            totals[name] += median_time(fn, reps) / len(inputs)
    # Shares of the stages' own sum: they are timed after the side-by-side pass, when the
    # machine's load may differ, so they are not divided by the headline figure.
    whole = sum(t for name, t in totals.items() if not name.startswith("of which"))
    for name in names:
        shown = f"&nbsp;&nbsp;↳ {name}" if name.startswith("of which") else name
        stage_rows.append(f"| {shown} | {ms(totals[name])} | {100 * totals[name] / whole:.0f}% |")
    parts = ", ".join(f"{name} {size // 1024} KB" for name, size in parse_floor.package_parts(inputs[0])[:4])

    def everything():
        for item in inputs:
            parse_floor.project(item)

    details = (["Per input (each a median of alternating runs):", ""] + rows
               + ["", "Stages (public functions called one by one, median, mean over the inputs; share of their sum):", ""]
               + stage_rows
               + ["", f"Largest XML parts of {inputs[0].label}'s attachment (unpacked): {parts}; the floor "
                  "parses only word/document.xml."]
               + ["", "Where the time goes inside (one profiled pass per input; the profiler inflates "
                  "Python-heavy code):", ""]
               + profile_by_source(everything, loops=settings.reps(5, 2)))
    return Outcome(project, floor, reps, details)


def measure_workbook(settings: Settings) -> Outcome:
    from bench import workbook_floor

    reps = settings.reps(7, 3)
    scale = workbook_floor.Scale()
    data = workbook_floor.make_data(scale)
    real = workbook_floor.project(data)
    sheets = workbook_floor.sheet_values(real)
    cells = workbook_floor.check_same_cells(real, workbook_floor.floor(sheets))
    p, f = side_by_side(lambda: workbook_floor.project(data), lambda: workbook_floor.floor(sheets), reps)
    details = ([f"{scale.units} units × {len(data.calendar.weeks)} weeks, {len(data.messages)} message rows; "
                f"{sum(cells.values())} non-empty cells in both workbooks:", "",
                "| sheet | cells |", "|---|---:|"]
               + [f"| {title} | {n} |" for title, n in cells.items()]
               + ["", "Where the project's time goes (one profiled build):", ""]
               + profile_by_source(lambda: workbook_floor.project(data), loops=1))
    return Outcome(p, f, reps, details)


def _lazy(module: str, function: str) -> Callable[[Settings], Outcome]:
    """A measurement living in bench/<module>.py, imported only when it runs (they start servers
    and import the whole bot; `--only parse` should not pay for that)."""
    def run(settings: Settings) -> Outcome:
        import importlib

        return getattr(importlib.import_module(f"bench.{module}"), function)(settings)
    run.__name__ = f"{module}.{function}"
    return run


MEASUREMENTS: list[Measurement] = [
    Measurement("parse", "Parse one 附件2 .docx (read_attachment)",
                "zipfile + lxml.etree.fromstring(word/document.xml)", 3.0, measure_parse),
    Measurement("workbook", "Organizers' workbook, 500 units × 4 weeks (build_workbook)",
                "same cells via openpyxl Workbook(write_only=True), no styles/chart", 2.0, measure_workbook),
    Measurement("imap_backlog", "IMAP backlog fetch + keep, 2,000 mails (keep_new)",
                "mbsync (isync) pulling the same INBOX into a Maildir", 1.5, _lazy("backlog", "measure_fetch")),
    Measurement("e2e_backlog", "End-to-end backlog, 2,000 form mails (fetch_and_process, no SMTP)",
                "mbsync + the parse floor of every attachment / os.cpu_count()", 2.0,
                _lazy("backlog", "measure_e2e")),
    Measurement("poll_history", "Poll with 0 new mail: 10,000 recorded vs 100 (poll_once)",
                "the same poll with 100 mails recorded and in the mailbox", 1.2,
                _lazy("poll_history", "measure")),
    Measurement("idle_latency", "IDLE latency, APPEND → acknowledgement at the SMTP sink (p50)",
                "APPEND → IDLE notification seen by a bare imapclient IDLE client (p50)", None,
                _lazy("idle_latency", "measure"), target_text="p50 ≤ 1.5 s, p95 ≤ 3 s"),
    Measurement("memory_30mb", "Peak memory, one mail with a 30 MB attachment (intake poll)",
                "idle process RSS + 30 MB (the attachment held once)", None, _lazy("memory", "measure"),
                target_text="peak ≤ idle + 4×30 MB"),
    Measurement("memory_kinds", "Peak memory, the worst file of each kind (read_attachment)",
                "the same read of a plain filled 附件2 .docx", None, _lazy("memory", "measure_kinds"),
                target_text="reading process ≤ 4× 附件2; children ≤ 1 GiB"),
    Measurement("queries", "status + report, 500 units × 10 submissions (CPU)",
                "one SELECT of the same submission rows + json.loads (sqlite3)", None,
                _lazy("queries", "measure"), target_text="≤ 1 s CPU, queries flat in units"),
]


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": str(cpus), "CPU": model, "memory": memory,
            "Python": f"{platform.python_version()} ({platform.python_implementation()})",
            "OS": f"{platform.system()} {platform.release()}"}


def _cells(m: Measurement, outcome: Outcome | None) -> list[str]:
    target = m.target_cell()
    if outcome is None:
        return [m.title, "—", "—", "—", target, "not yet measured"]
    if outcome.passed is not None:
        status = "ok" if outcome.passed else "OVER TARGET"
    else:
        status = "—" if m.target is None else ("ok" if outcome.ratio <= m.target else "OVER TARGET")
    return [m.title, outcome.show(outcome.project), outcome.show(outcome.floor), f"{outcome.ratio:.2f}×", target,
            status]


HEADERS = ["measurement", "project", "floor", "ratio", "target", "status"]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    lines = []
    for r in [HEADERS, *rows]:
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def markdown(results: list[tuple[Measurement, Outcome | None]], command: str, started: datetime,
             elapsed: float) -> str:
    out = ["# Performance", "",
           "Generated by `bench/run.py`; do not edit by hand. Every figure is a ratio against a floor "
           "timed side by side in the same run (alternating calls, median of the repetitions), so it "
           "compares code, not machines. Targets are ratios; tests never assert times.", "",
           "| " + " | ".join(HEADERS) + " |", "|---|---:|---:|---:|---:|---|"]
    out += ["| " + " | ".join(_cells(m, o)) + " |" for m, o in results]
    out += ["", "## Run", "",
            f"- command: `{command}`",
            f"- date: {started.isoformat(timespec='seconds')}",
            f"- wall time of the run: {elapsed:.0f} s"]
    out += [f"- {k}: {v}" for k, v in machine().items()]
    for m, o in results:
        out += ["", f"## {m.title}", "", f"Floor: {m.floor}.", ""]
        if o is None:
            out.append("Not yet measured.")
            continue
        out += [f"Project {o.show(o.project)}, floor {o.show(o.floor)}, ratio {o.ratio:.2f}× "
                f"(target {m.target_cell() if m.target or m.target_text else 'none'}); "
                f"{o.reps} repetitions each.", ""]
        out += o.details
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--only", action="append", choices=[m.key for m in MEASUREMENTS],
                        help="run only this measurement (repeatable); the others show as not measured")
    parser.add_argument("--no-write", action="store_true", help=f"print only, do not write {REPORT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    settings = Settings(quick=args.quick)
    started, clock = datetime.now().astimezone(), time.perf_counter()
    results: list[tuple[Measurement, Outcome | None]] = []
    for m in MEASUREMENTS:
        outcome = None
        if m.run is not None and (not args.only or m.key in args.only):
            print(f"measuring {m.key} ...", file=sys.stderr, flush=True)
            outcome = m.run(settings)
        results.append((m, outcome))
    elapsed = time.perf_counter() - clock
    print(text_table([_cells(m, o) for m, o in results]))
    if not args.no_write:
        command = "python -m bench.run" + ("".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])))
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(markdown(results, command, started, elapsed), encoding="utf-8")
        print(f"wrote {REPORT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    # Run the imported module's main, so the measurement modules (which import bench.run) and
    # this entry point share one set of classes rather than __main__'s copies.
    from bench.run import main as _main

    sys.exit(_main())
