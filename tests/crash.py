"""The crash campaign: `intake run` killed with SIGKILL at seeded random moments while it works
through a backlog of mail with forms, restarted each time, then left to finish.

Shared by tests/test_crash.py (a short run in CI) and scripts/crash.py (the full count). What
it checks is what the union relies on: every mail recorded exactly once, every acknowledgement
received by the SMTP server exactly once (counted there), no figure counted twice, no
temporary file left behind.
"""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.forms.blank_forms import fill_liaison_docx, fill_progress_docx
from bot.forms.progress_template import BLANKS, INT
from tests.fixtures.mails import build_mail

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Backlog:
    mails: list[tuple[str, bytes, datetime]]  # (Message-ID, raw, INTERNALDATE)
    figures: dict[str, dict[str, int]]  # unit -> the 附件2 figures it sent (every version alike)


@dataclass
class CrashReport:
    mails: int
    kills: int
    kill_seconds: list[float] = field(default_factory=list)
    recorded: int = 0
    acknowledged_once: int = 0
    acknowledged_twice: list[str] = field(default_factory=list)
    not_acknowledged: list[str] = field(default_factory=list)
    duplicated_records: list[str] = field(default_factory=list)
    totals_ok: bool = False
    temp_files: list[str] = field(default_factory=list)
    pending: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.recorded == self.mails and not self.acknowledged_twice and not self.not_acknowledged
                and not self.duplicated_records and self.totals_ok and not self.temp_files and not self.pending)


def roster_units(roster: Path) -> list[tuple[str, str]]:
    with roster.open(encoding="utf-8") as fh:
        return [(row["unit"], row["emails"].split("|")[0]) for row in csv.DictReader(fh)]


def build_backlog(units: list[tuple[str, str]], count: int, seed: int) -> Backlog:
    """`count` mails from the roster's units, from their addresses on record: 附件2 tables (the
    same figures in every version a unit sends, a different 填报日期 each time), 附件1 forms
    and weekly reports in the body."""
    rng = random.Random(seed)
    figures = {unit: {b.key: rng.randint(0, 500) for b in BLANKS if b.type == INT} for unit, _ in units}
    mails = []
    tabled: set[str] = set()
    start = datetime(2020, 6, 2, 1, 0, tzinfo=timezone.utc)
    for n in range(count):
        unit, address = units[n % len(units)]
        when = start + timedelta(minutes=7 * n)
        mid = f"<crash-{seed}-{n}@example.test>"
        kind = rng.random()
        if kind < 0.45:
            written = {k: str(v) for k, v in figures[unit].items()} | {b.key: "座谈会" for b in BLANKS if b.type != INT}
            header = {"header.unit_name": unit, "header.contact": "张三", "header.phone": "0556-5550000",
                      "header.fill_date": f"2020年6月{2 + n % 25}日（第{n}版）"}
            files = [(f"附件2 进展情况统计表（{unit}）.docx", fill_progress_docx(written, header), DOCX)]
            tabled.add(unit)
            raw = build_mail(subject=f"{unit}进展情况统计表", sender=f"{unit} <{address}>", message_id=mid,
                             attachments=[(name, data, ctype) for name, data, ctype in files])
        elif kind < 0.6:
            data = fill_liaison_docx({"name": "王芳", "gender": "女", "mobile": "13900001111", "email": address,
                                      "unit_name": unit, "title": f"干事{n}"})
            raw = build_mail(subject=f"{unit}联络员推荐表", sender=f"{unit} <{address}>", message_id=mid,
                             attachments=[("附件1 联络员推荐表.docx", data, DOCX)])
        else:
            raw = build_mail(subject=f"{unit}本周工作开展情况（{n}）", sender=f"{unit} <{address}>", message_id=mid,
                             body=f"本周开展隐患排查{n}次，参加职工{100 + n}人，组织观看警示教育片{n % 7}场，"
                                  f"走访企业{n % 11}家，发现并整改隐患{n % 13}处。")
        mails.append((mid, raw, when))
    return Backlog(mails, {unit: values for unit, values in figures.items() if unit in tabled})


def _env(config_path: Path) -> dict[str, str]:
    return dict(os.environ, INTAKE_CONFIG=str(config_path))


def _intake(config_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=_env(config_path),
                          capture_output=True, text=True, timeout=300, check=True)


def _start(config_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=_env(config_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _settled(config_path: Path, sink, first_received: int, expected_acks: int) -> bool:
    rows = json.loads(_intake(config_path, "messages", "--json").stdout)
    done = rows and all(r["outcome"] != "pending" for r in rows)
    return bool(done) and len(sink.received) - first_received >= expected_acks


def run_campaign(setup, backlog: Backlog, *, kills: int, seed: int, min_gap: float = 0.8,
                 max_gap: float = 4.0, settle_timeout: float = 600) -> CrashReport:
    """Append the backlog, then `kills` times: start `intake run`, SIGKILL it after a seeded
    random delay; then one last run until every mail is handled and every acknowledgement is
    at the SMTP server, stopped with SIGTERM. Returns what was found."""
    rng = random.Random(seed)
    report = CrashReport(mails=len(backlog.mails), kills=kills)
    clock = time.monotonic()
    for _, raw, when in backlog.mails:
        setup.append(raw, when)
    first = setup.first_received
    for _ in range(kills):
        proc = _start(setup.config_path)
        delay = rng.uniform(min_gap, max_gap)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            report.kill_seconds.append(round(delay, 2))
        proc.wait()
    proc = _start(setup.config_path)
    try:
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            if _settled(setup.config_path, setup.smtp, first, len(backlog.mails)):
                break
            time.sleep(1.0)
        time.sleep(2.0)  # anything sent twice would arrive now
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    report.seconds = round(time.monotonic() - clock, 1)
    _inspect(setup, backlog, report)
    return report


def _inspect(setup, backlog: Backlog, report: CrashReport) -> None:
    rows = json.loads(_intake(setup.config_path, "messages", "--json").stdout)
    by_id: dict[str, int] = {}
    for r in rows:
        by_id[r["message_id"]] = by_id.get(r["message_id"], 0) + 1
    report.recorded = sum(1 for mid, _, _ in backlog.mails if by_id.get(mid) == 1)
    report.duplicated_records = [mid for mid, n in by_id.items() if n > 1]
    report.pending = sum(1 for r in rows if r["outcome"] == "pending")
    acks: dict[str, int] = {}
    for received in setup.sent:
        reply_to = received.message["In-Reply-To"]
        if reply_to:
            acks[reply_to.strip()] = acks.get(reply_to.strip(), 0) + 1
    for mid, _, _ in backlog.mails:
        n = acks.get(mid, 0)
        if n == 1:
            report.acknowledged_once += 1
        elif n == 0:
            report.not_acknowledged.append(mid)
        else:
            report.acknowledged_twice.append(mid)
    totals = json.loads(_intake(setup.config_path, "report", "--json").stdout)["totals"]
    expected = {}
    for values in backlog.figures.values():
        for key, value in values.items():
            expected[key] = expected.get(key, 0) + value
    report.totals_ok = all(totals.get(key) == value for key, value in expected.items())
    report.temp_files = sorted(str(p.relative_to(setup.dir)) for p in setup.dir.rglob(".tmp-*"))
