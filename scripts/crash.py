"""The full crash campaign: `python scripts/crash.py [--mails 300] [--kills 30] [--seed 7]`.

Starts a private Dovecot and SMTP sink as the tests do, appends a backlog of mail with forms,
SIGKILLs `intake run` at seeded random moments, restarts it each time, lets the last run
finish, and prints what it found (tests/crash.py): every mail recorded once, every
acknowledgement at the SMTP server once, report totals exact, no temporary files left. Exit 0
when all of that holds. CI runs the same campaign smaller (tests/test_crash.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import SAMPLES, new_setup
    from tests.crash import build_backlog, roster_units, run_campaign
    from tests.servers import PASSWORD, Dovecot, SmtpSink

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ["INTAKE_TEST_IMAP_PASSWORD"] = PASSWORD
    dovecot, sink = Dovecot().start(), SmtpSink().start()
    try:
        with tempfile.TemporaryDirectory(prefix="intake-crash-") as tmp:
            setup = new_setup(Path(tmp), dovecot, sink, poll=0.5,
                              extra="\n[limits]\nmax_auto_replies_per_day = 100000\n")
            backlog = build_backlog(roster_units(SAMPLES / "roster.csv"), args.mails, seed=args.seed)
            report = run_campaign(setup, backlog, kills=args.kills, seed=args.seed, min_gap=1.0, max_gap=4.0,
                                  settle_timeout=1800)
    finally:
        sink.stop()
        dovecot.stop()
    print(f"mails {report.mails}, SIGKILLs {len(report.kill_seconds)} of {report.kills} starts "
          f"(at {report.kill_seconds} s), {report.seconds} s in all")
    print(f"recorded once: {report.recorded}/{report.mails}; duplicated records: {len(report.duplicated_records)}; "
          f"still pending: {report.pending}")
    print(f"acknowledged exactly once at the SMTP server: {report.acknowledged_once}/{report.mails}; "
          f"twice: {report.acknowledged_twice}; never: {report.not_acknowledged}")
    print(f"report totals exact: {report.totals_ok}; temp files left: {report.temp_files}")
    print("OK" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
