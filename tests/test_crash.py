"""SIGKILL at random moments while a backlog is worked through (a short run here; the full
count of 30 kills over 300 mails is scripts/crash.py): nothing lost, nothing doubled."""
from __future__ import annotations

from tests.conftest import SAMPLES
from tests.crash import build_backlog, roster_units, run_campaign

LIMITS = "\n[limits]\nmax_auto_replies_per_day = 1000\n"


def test_killed_daemon_loses_and_doubles_nothing(make_setup):
    setup = make_setup(extra=LIMITS, poll=0.5)
    backlog = build_backlog(roster_units(SAMPLES / "roster.csv"), 60, seed=11)
    report = run_campaign(setup, backlog, kills=6, seed=11, min_gap=1.0, max_gap=3.0)
    assert report.kills == 6 and len(report.kill_seconds) >= 4  # the daemon was really killed mid-work
    assert report.recorded == 60 and not report.duplicated_records and report.pending == 0
    assert report.acknowledged_once == 60, (report.acknowledged_twice, report.not_acknowledged)
    assert report.totals_ok
    assert report.temp_files == []
