"""`intake status` and `intake report` on a full campaign: CPU time and SQL statements.

The database: a generated roster of N units, each with ~10 submissions (liaison form, 附件2
with all 51 values, summary, the four weekly reports, and older versions kept as history),
inserted through the models. Project: what the CLI commands call, in process, printing aside —
`Intake.from_config`, then `reporting.standings` + `present.as_json.status_json` (status) and
`reporting.report` (report) — timed with time.process_time, median of the repetitions.
SQL statements are counted with SQLAlchemy's `before_cursor_execute` for N = 50 and N = 500:
the count must not grow with the units.
Floor: one sqlite3 SELECT of the same submission rows with json.loads of their values — the
least any read of the data costs. The target is absolute: ≤ 1 s CPU, statements flat in N.
"""
from __future__ import annotations

import json
import random
import sqlite3
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine

from bench import rig, workbook_floor
from bench.run import Outcome, Settings, ms
from tests.conftest import CONFIG_TEMPLATE

PER_UNIT = 10
NOW = datetime(2020, 7, 1, 4, 0, tzinfo=timezone.utc)  # the campaign is over: every item judged


def _database(base: Path, units: int) -> Path:
    """A config, roster and database with `units` units × PER_UNIT submissions; the config path."""
    from bot.config import load_config
    from bot.intake import Intake
    from bot.store.models import ACCEPTED, Message, Submission

    d = base / f"units-{units}"
    d.mkdir()
    roster = rig.roster(units)
    rig.write_roster(d / "units.csv", roster)
    (d / "config.toml").write_text(CONFIG_TEMPLATE.format(
        imap_port=143, user="bench", processed="", poll=60, smtp_port=25, db_url="sqlite:///intake.db",
        extra=""), encoding="utf-8")
    config = load_config(d / "config.toml")
    intake = Intake.from_config(config)
    rng = random.Random(units)
    rows = []
    for delivery in workbook_floor._deliveries(intake.calendar, roster, rng):
        rows.append(delivery)
    by_unit: dict[str, int] = {}
    for dl in rows:
        by_unit[dl.unit] = by_unit.get(dl.unit, 0) + 1
    history = []  # earlier versions, so that every unit has PER_UNIT rows
    for unit, n in by_unit.items():
        for k in range(PER_UNIT - n):
            first = next(dl for dl in rows if dl.unit == unit)
            history.append((first, k))
    subs, msgs = [], []
    pk = 0
    for dl, current in [(dl, True) for dl in rows] + [(dl, False) for dl, _ in history]:
        pk += 1
        when = dl.received_at - (timedelta(0) if current else timedelta(hours=1 + pk % 48))
        msgs.append({"id": pk, "message_id": f"<q-{pk}@example.test>", "sha256": f"{pk:064x}", "size": 60000,
                     "received_at": when, "from_addr": "", "subject": f"报送 {dl.item}", "unit": dl.unit,
                     "unit_source": "address", "outcome": ACCEPTED, "kinds": [dl.kind], "flags": [],
                     "acknowledged": True, "processed_at": when})
        subs.append({"unit": dl.unit, "item": dl.item, "kind": dl.kind, "message_pk": pk, "received_at": when,
                     "content_sha256": f"{pk:064x}", "values": dl.values, "text": "", "current": current})
    with intake.db.session() as s:
        s.execute(insert(Message), msgs)
        s.execute(insert(Submission), subs)
    intake.db.dispose()
    return d / "config.toml"


def _status(config_path: Path) -> int:
    from bot.config import load_config
    from bot.intake import Intake
    from bot.reporting import standings
    from bot.present.as_json import status_json

    intake = Intake.from_config(load_config(config_path))
    doc = status_json(standings(intake, NOW), intake.calendar, NOW)
    intake.db.dispose()
    return len(doc["units"])


def _report(config_path: Path) -> int:
    from bot.config import load_config
    from bot.intake import Intake
    from bot.reporting import report

    intake = Intake.from_config(load_config(config_path))
    result = report(intake, NOW)
    intake.db.dispose()
    return len(result.units)


def _floor(config_path: Path) -> int:
    con = sqlite3.connect(config_path.parent / "intake.db")
    try:
        rows = con.execute("SELECT unit, item, kind, received_at, \"values\", evidence_only FROM submissions "
                           "WHERE received_at <= ?", (NOW.replace(tzinfo=None).isoformat(sep=" "),)).fetchall()
        return sum(len(json.loads(r[4])) for r in rows)
    finally:
        con.close()


def _cpu(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


class _Counter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement.split(None, 1)[0].upper())

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self)


def _count(fn) -> tuple[int, dict[str, int]]:
    with _Counter() as c:
        fn()
    kinds: dict[str, int] = {}
    for s in c.statements:
        kinds[s] = kinds.get(s, 0) + 1
    return len(c.statements), kinds


def measure(settings: Settings) -> Outcome:
    reps = settings.reps(7, 3)
    with rig.workdir("queries") as base:
        configs = {n: _database(base, n) for n in (50, 500)}
        if _status(configs[500]) != 500 or _report(configs[500]) == 0:
            raise RuntimeError("status/report did not see the 500 units")
        counts = {(name, n): _count(lambda: fn(configs[n])) for n in (50, 500)
                  for name, fn in (("status", _status), ("report", _report))}
        cpu = {(name, n): _cpu(lambda: fn(configs[n]), reps) for n in (50, 500)
               for name, fn in (("status", _status), ("report", _report))}
        floor = _cpu(lambda: _floor(configs[500]), reps)
        wall_start = time.perf_counter()
        _status(configs[500])
        wall = time.perf_counter() - wall_start
    project = cpu[("status", 500)] + cpu[("report", 500)]
    flat = all(counts[(name, 50)][0] == counts[(name, 500)][0] for name in ("status", "report"))
    worst = max(cpu[("status", 500)], cpu[("report", 500)])
    details = [f"{PER_UNIT} submissions per unit (current and history); `--now` after the campaign's end. "
               "The headline is status + report at 500 units; each command on its own must stay ≤ 1 s CPU.", "",
               "| command | units | CPU (process_time) | SQL statements |", "|---|---:|---:|---|"]
    for (name, n), seconds in cpu.items():
        total, kinds = counts[(name, n)]
        split = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        details.append(f"| {name} | {n} | {ms(seconds)} | {total} ({split}) |")
    details += ["", f"Statements {'do not grow' if flat else 'GROW'} with the units "
                "(the constant part is the schema check of `Database()`'s create_all, as every CLI command does). "
                f"Wall time of one `status` at 500 units: {ms(wall)}."]
    return Outcome(project, floor, reps, details, passed=flat and worst <= 1.0)
