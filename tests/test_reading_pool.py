"""Reading a backlog on every core (bot/reading_pool.py), through the real servers: the same
records as reading it in-process, a worker killed mid-way loses and doubles nothing, and
workers that cannot start leave the reading to this process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot import reading_pool
from bot.daemon import CycleResult, keep_new
from bot.mail.imap import Mailbox
from bot.pipeline import pending_ids
from bot.store.models import ACCEPTED, Message, OutboxMail, Submission
from tests.conftest import ROOT
from tests.test_two_daemons import WHEN, form_mail

COUNT = reading_pool.POOL_MIN + 6


def _backlog(setup, count: int = COUNT):
    for n in range(count):
        setup.append(form_mail(n), WHEN + timedelta(minutes=n))
    intake = setup.intake()
    with Mailbox(intake.config.mailbox) as mailbox:
        keep_new(intake, mailbox, CycleResult())
    return intake


def _records(intake):
    """What a reading left, comparable across databases: per mail its outcome, unit, kinds and
    the values of what it recorded, and the keys of the answers queued."""
    with intake.db.session() as s:
        msgs = {m.id: m.message_id for m in s.scalars(select(Message))}
        rows = sorted((m.message_id, m.outcome, m.unit, tuple(m.kinds), m.acknowledged)
                      for m in s.scalars(select(Message)))
        subs = sorted((msgs[sub.message_pk], sub.item, sub.current, sub.content_sha256)
                      for sub in s.scalars(select(Submission)))
        outbox = sorted(s.scalars(select(OutboxMail.key)))
    return rows, subs, outbox


def _workers_of(pid: int) -> list[int]:
    """The pool's worker processes: children of `pid` started by multiprocessing's spawn."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            out.append(int(entry))
    return out


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by whatever init this machine has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_the_pool_records_what_reading_in_process_records(make_setup, monkeypatch):
    pooled = _backlog(make_setup())
    outcomes = [o for _, o in reading_pool.process_all(pooled, pending_ids(pooled))]
    assert outcomes == [ACCEPTED] * COUNT

    monkeypatch.setattr(reading_pool, "POOL_MIN", 10 ** 9)  # the same mail, read in this process
    alone = _backlog(make_setup())
    assert [o for _, o in reading_pool.process_all(alone, pending_ids(alone))] == outcomes
    assert _records(pooled) == _records(alone)


def test_a_worker_killed_mid_way_loses_and_doubles_nothing(make_setup):
    intake = _backlog(make_setup())
    seen, killed = [], []
    for pk, outcome in reading_pool.process_all(intake, pending_ids(intake)):
        seen.append((pk, outcome))
        if len(seen) == 3:  # the pool is busy with the next mails: kill every worker
            killed = _workers_of(os.getpid())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
    assert killed, "no worker process found"
    assert [o for _, o in seen] == [ACCEPTED] * COUNT
    assert len({pk for pk, _ in seen}) == COUNT
    with intake.db.session() as s:
        assert {m.outcome for m in s.scalars(select(Message))} == {ACCEPTED}
        assert len(s.scalars(select(Submission)).all()) == COUNT
        assert len(s.scalars(select(OutboxMail)).all()) == COUNT
        assert all(m.claim_token is None for m in s.scalars(select(Message)))
    assert _workers_of(os.getpid()) == []  # the renewed pool's workers ended with it


def test_workers_that_cannot_start_leave_the_reading_to_this_process(make_setup, tmp_path):
    """A script without the `if __name__ == "__main__"` guard: each spawned worker runs it again
    and dies while starting. The mail is read in-process all the same, with one warning."""
    setup = make_setup()
    _backlog(setup)
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        import logging, sys
        logging.basicConfig(level=logging.WARNING)
        from bot.config import load_config
        from bot.intake import Intake
        from bot.pipeline import pending_ids
        from bot.reading_pool import process_all
        intake = Intake.from_config(load_config({str(setup.config_path)!r}))
        outcomes = [o for _, o in process_all(intake, pending_ids(intake))]
        print("outcomes", len(outcomes), sorted(set(outcomes)))
        """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr[-3000:]
    # the workers' own failure lines aside, this process said it once, and read everything
    assert f"outcomes {COUNT} ['accepted']" in done.stdout, (done.stdout, done.stderr[-3000:])
    assert done.stderr.count("无法启动读取进程，改为在本进程内逐封读取") == 1, done.stderr[-3000:]


def test_workers_end_when_the_daemon_is_killed_outright(make_setup, tmp_path):
    setup = make_setup()
    _backlog(setup)
    script = tmp_path / "reader.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from bot.config import load_config
        from bot.intake import Intake
        from bot.pipeline import pending_ids
        from bot.reading_pool import process_all
        if __name__ == "__main__":
            intake = Intake.from_config(load_config({str(setup.config_path)!r}))
            for _ in process_all(intake, pending_ids(intake)):
                print("read", flush=True)
                time.sleep(60)  # killed here, with the pool's workers busy or waiting
        """), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert proc.stdout.readline().strip() == "read"
        workers = _workers_of(proc.pid)
        assert workers
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.2)
    alive = [pid for pid in workers if _running(pid)]
    for pid in alive:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not alive, "pool workers outlived their killed daemon"
