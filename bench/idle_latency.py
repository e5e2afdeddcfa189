"""How long a unit waits for its acknowledgement while `intake run` sits in IDLE.

Project: `intake run` as a subprocess (tests.servers.Daemon, as the admin starts it) against
the private Dovecot, which offers IDLE. One mail with a filled 附件2 is APPENDed at a time, PAUSE
after the previous acknowledgement (a connection kept open for it); the clock runs from just before the APPEND until the
acknowledgement is in the SMTP sink (polled every 2 ms). A warm-up mail first, so the first
cycle and the scheduler's start are behind us.
Floor: APPEND → the EXISTS notification seen by a bare imapclient client in IDLE — the part of
the wait that belongs to the server. The target is absolute (p50 ≤ 1.5 s, p95 ≤ 3 s).
"""
from __future__ import annotations

import statistics
import time

from bench import rig
from bench.run import Outcome, Settings, ms
from tests.servers import Daemon

ROOT = rig.workbook_floor.ROOT
PAUSE = 1.0  # seconds between an acknowledgement and the next APPEND


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _daemon_latencies(dovecot, sink, base, roster, mails: list[bytes]) -> tuple[list[float], str]:
    setup = rig.make_setup(base, dovecot, sink, roster, poll=600)  # IDLE up to 10 minutes
    units = roster.units
    latencies: list[float] = []
    with Daemon(setup.config_path, ROOT) as daemon, dovecot.client(setup.user) as appender:
        for n, raw in enumerate(mails):
            address = units[n].emails[0]
            time.sleep(PAUSE)  # the daemon is back in IDLE: this is the wait being measured
            start = time.perf_counter()
            appender.append("INBOX", raw, msg_time=rig.CAMPAIGN_DAY)
            deadline = start + 30
            while not setup.sent_to(address):
                if time.perf_counter() > deadline or daemon.proc.poll() is not None:
                    daemon.stop()
                    raise RuntimeError(f"no acknowledgement to {address} within 30 s: {daemon.err[-2000:]}")
                time.sleep(0.002)
            if n:  # mail 0 is the warm-up
                latencies.append(time.perf_counter() - start)
        code = daemon.stop()
    if code != 0:
        raise RuntimeError(f"intake run exited {code}: {daemon.err[-2000:]}")
    return latencies, daemon.err


def _idle_latencies(dovecot, user: str, mails: list[bytes]) -> list[float]:
    out = []
    with dovecot.client(user) as watcher, dovecot.client(user) as appender:
        watcher.select_folder("INBOX")
        for raw in mails:
            watcher.idle()
            start = time.perf_counter()
            appender.append("INBOX", raw, msg_time=rig.CAMPAIGN_DAY)
            while True:
                responses = watcher.idle_check(timeout=10)
                if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                    break
                if time.perf_counter() - start > 10:
                    raise RuntimeError("no EXISTS within 10 s")
            out.append(time.perf_counter() - start)
            watcher.idle_done()
    return out


def measure(settings: Settings) -> Outcome:
    count = settings.reps(20, 8)
    roster = rig.roster(count + 1)
    pool = rig.form_pool(8)
    mails = [rig.form_mail(n, roster.units[n], pool[n % len(pool)]) for n in range(count + 1)]
    with rig.servers() as (dovecot, sink), rig.workdir("idle") as base:
        project, err = _daemon_latencies(dovecot, sink, base, roster, mails)
        bare = rig.make_setup(base, dovecot, sink, roster)
        floor = _idle_latencies(dovecot, bare.user, mails[1:])
    p50, p95 = statistics.median(project), _percentile(project, 0.95)
    f50, f95 = statistics.median(floor), _percentile(floor, 0.95)
    details = [f"{count} mails (~60 KB, one 附件2 .docx each) appended one at a time after a warm-up mail; "
               "the daemon processes each, queues its acknowledgement and drains the outbox to the sink.", "",
               "| | p50 | p95 | max |", "|---|---:|---:|---:|",
               f"| `intake run`: APPEND → acknowledgement received | {ms(p50)} | {ms(p95)} | {ms(max(project))} |",
               f"| bare IDLE client: APPEND → EXISTS | {ms(f50)} | {ms(f95)} | {ms(max(floor))} |", "",
               "Every latency, in order: " + ", ".join(ms(x) for x in project) + ".", "",
               f"Each APPEND comes {PAUSE:g} s after the previous acknowledgement, when the daemon sits in "
               "IDLE. Mail that arrives while the daemon is busy is caught by the NOOP `Mailbox.idle_wait` "
               "sends before IDLE (without it, such mail waited for the IDLE timeout, up to poll_seconds: "
               "Dovecot announces it together with IDLE's continuation line, which imaplib's buffered "
               "reader swallows before `idle_check` polls the socket)."]
    if "Traceback" in err:
        details += ["", "The daemon logged a traceback: " + err[err.index("Traceback"):][:500]]
    return Outcome(p50, f50, count, details, passed=p50 <= 1.5 and p95 <= 3.0)
