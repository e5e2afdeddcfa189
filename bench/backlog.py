"""A backlog of form mail (the daemon back after a weekend, or the first run at a campaign's
start) through the project's real path, against mbsync downloading the same mailbox.

Rows:
- imap_backlog: fetch and keep only — `daemon.keep_new` (Mailbox.new_uids + Mailbox.fetch in
  batches, pipeline.ingest: archive.keep_mail with fsync, then the message row and watermark
  commit), no parsing. Floor: `mbsync` (isync) pulling the same INBOX into a Maildir (it fsyncs
  each mail too, FSync is on by default).
- e2e_backlog: `daemon.fetch_and_process` with a real config — fetch, keep, unpack, read every
  attachment, identify the unit, record submissions, queue the acknowledgement. The SMTP drain
  that follows in `intake poll` is NOT in the timed figure; it is timed apart and reported.
  Floor: the mbsync time + the parse floor (zipfile + lxml of word/document.xml, as
  bench/parse_floor.py) of every attachment divided by os.cpu_count() — as if the parsing were
  spread over every core and everything else cost nothing beyond a download.

Every repetition starts from an empty database, archive and Maildir; the mailbox is filled
once (MULTIAPPEND) and only read.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench import rig
from bench.run import Outcome, Settings, ms, profile_by_source
from tests.servers import PASSWORD


def _mbsyncrc(d: Path, port: int, user: str) -> Path:
    (d / "maildir").mkdir()
    (d / "state").mkdir()
    rc = d / "mbsyncrc"
    rc.write_text(f"""IMAPAccount bench
Host 127.0.0.1
Port {port}
User {user}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {d}/maildir/
Inbox {d}/maildir/INBOX

Channel inbox
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState {d}/state/
""")
    return rc


def mbsync(base: Path, port: int, user: str, expected: int) -> float:
    """Seconds for a fresh `mbsync` pull of the user's INBOX; checks every mail arrived."""
    d = Path(os.path.join(base, f"mbsync-{time.monotonic_ns()}"))
    d.mkdir()
    try:
        rc = _mbsyncrc(d, port, user)
        start = time.perf_counter()
        done = subprocess.run(["mbsync", "-c", str(rc), "-q", "-a"], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"mbsync failed: {done.stderr[-2000:]}")
        got = sum(len(os.listdir(d / "maildir" / "INBOX" / sub)) for sub in ("cur", "new"))
        if got != expected:
            raise RuntimeError(f"mbsync stored {got} mails, expected {expected}")
        return elapsed
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _fresh_intake(setup, base: Path):
    """A copy of the setup's config in its own folder: empty database and archive, same mailbox."""
    from bot.config import load_config
    from bot.pipeline import Intake

    d = base / f"run-{time.monotonic_ns()}"
    d.mkdir()
    shutil.copy(setup.config_path, d / "config.toml")
    shutil.copy(setup.dir / "units.csv", d / "units.csv")
    return d, Intake.from_config(load_config(d / "config.toml"))


def _keep_only(setup, base: Path, expected: int, clean: bool = True) -> float:
    from bot.daemon import CycleResult, keep_new
    from bot.mail.imap import Mailbox

    d, intake = _fresh_intake(setup, base)
    try:
        start = time.perf_counter()
        result = CycleResult()
        with Mailbox(intake.config.mailbox) as mailbox:
            keep_new(intake, mailbox, result)
        elapsed = time.perf_counter() - start
        if result.new != expected:
            raise RuntimeError(f"kept {result.new} new mails, expected {expected}")
        return elapsed
    finally:
        intake.db.dispose()
        if clean:  # profiled runs leave it to the workdir's removal, outside the profile
            shutil.rmtree(d, ignore_errors=True)


def _end_to_end(setup, base: Path, expected: int, drain: bool = False,
                clean: bool = True) -> tuple[float, dict, float | None]:
    """(seconds for fetch_and_process, outcomes, seconds for the drain that follows or None)."""
    from bot.daemon import fetch_and_process
    from bot.mail.imap import Mailbox
    from bot.mail.outbox import Outbox

    d, intake = _fresh_intake(setup, base)
    try:
        start = time.perf_counter()
        with Mailbox(intake.config.mailbox) as mailbox:
            result = fetch_and_process(intake, mailbox)
        elapsed = time.perf_counter() - start
        if result.outcomes.get("accepted", 0) != expected:
            raise RuntimeError(f"outcomes {result.outcomes}, expected {expected} accepted")
        drained = None
        if drain:
            start = time.perf_counter()
            sent = Outbox(intake.db, intake.config.smtp).drain()
            drained = time.perf_counter() - start
            if sent.sent != expected:
                raise RuntimeError(f"drain sent {sent.sent}, expected {expected}")
        return elapsed, result.outcomes, drained
    finally:
        intake.db.dispose()
        if clean:  # profiled runs leave it to the workdir's removal, outside the profile
            shutil.rmtree(d, ignore_errors=True)


def _sizes(mails: list[bytes]) -> str:
    return f"{len(mails)} mails, {sum(map(len, mails)) / len(mails) / 1024:.0f} KB each on average"


def measure_fetch(settings: Settings) -> Outcome:
    count = 200 if settings.quick else 2000
    reps = settings.reps(3, 2)
    r, mails = rig.backlog(count, units=min(500, count))
    with rig.servers() as (dovecot, sink), rig.workdir("backlog") as base:
        setup = rig.make_setup(base, dovecot, sink, r)
        rig.append_all(dovecot, setup.user, mails)
        mbsync(base, dovecot.port, setup.user, count)  # warm-up: Dovecot's caches, page cache
        _keep_only(setup, base, count)
        p, f = [], []
        for _ in range(reps):
            p.append(_keep_only(setup, base, count))
            f.append(mbsync(base, dovecot.port, setup.user, count))
        small = min(count, 200)
        with rig.workdir("keep-profile") as pbase:
            psetup = rig.make_setup(pbase, dovecot, sink, r)
            rig.append_all(dovecot, psetup.user, mails[:small])
            profile = profile_by_source(lambda: _keep_only(psetup, pbase, small, clean=False), loops=1, top=12)
    project, floor = statistics.median(p), statistics.median(f)
    details = [f"Backlog: {_sizes(mails)} (a filled 附件2 .docx in each), {len(r.units)} units; "
               "a fresh database, archive and Maildir for every repetition.", "",
               "| run | project (keep_new) | mbsync |", "|---|---:|---:|"]
    details += [f"| {i + 1} | {ms(a)} | {ms(b)} |" for i, (a, b) in enumerate(zip(p, f))]
    details += ["", f"Per mail: project {ms(project / count)}, mbsync {ms(floor / count)}.", "",
                "Both sides sync about twice per mail: mbsync fsyncs each message file and fdatasyncs its "
                "state journal (`strace -c` on a 20-mail pull: 20 fsync, 23 fdatasync), the project fsyncs "
                "the archived file and its directory (bot/mail/archive.py). The difference is per-mail "
                "Python work in `pipeline.ingest` (bot/pipeline.py, another engineer's file): one ORM "
                "session and commit per mail (a get, two SELECTs, two INSERTs), and `_message_id_of` runs "
                "`BytesHeaderParser` over the first 64 KB of the mail — for a ~60 KB mail the whole body, "
                "since the feedparser reads every line even with headers only. Batching the keep of one "
                "FETCH batch into one transaction, and cutting the raw bytes at the first blank line "
                "before parsing headers, are the changes that would close most of the gap.", "",
                f"Where the time goes (one profiled keep of {small} mails, own time by source):", ""]
    details += profile
    return Outcome(project, floor, reps, details)


def parse_floor_seconds(mails_forms: list[bytes], reps: int = 5) -> float:
    """Sum over the mails of the parse floor of each one's attachment (median per distinct form)."""
    from bench import parse_floor
    from bench.run import median_time

    per_form: dict[bytes, float] = {}
    for data in set(mails_forms):
        item = parse_floor.Input("backlog", rig.FORM_NAME, data)
        per_form[data] = median_time(lambda: parse_floor.floor(item), reps)
    return sum(per_form[data] for data in mails_forms)


def measure_e2e(settings: Settings) -> Outcome:
    count = 200 if settings.quick else 2000
    reps = settings.reps(2, 1)
    units = min(500, count)
    r, mails = rig.backlog(count, units=units)
    pool = rig.form_pool(40)
    forms = [pool[(n // units + n) % len(pool)] for n in range(count)]  # as rig.backlog assigns them
    cpus = os.cpu_count() or 1
    parse_total = parse_floor_seconds(forms)
    with rig.servers() as (dovecot, sink), rig.workdir("e2e") as base:
        setup = rig.make_setup(base, dovecot, sink, r)
        rig.append_all(dovecot, setup.user, mails)
        mbsync(base, dovecot.port, setup.user, count)
        p, f, drains = [], [], []
        outcomes: dict = {}
        for i in range(reps):
            elapsed, outcomes, drained = _end_to_end(setup, base, count, drain=i == 0)
            p.append(elapsed)
            if drained is not None:
                drains.append(drained)
            f.append(mbsync(base, dovecot.port, setup.user, count) + parse_total / cpus)
        # where the time goes, on a tenth of the backlog (the profiler inflates Python code)
        small = min(count, 200)
        with rig.workdir("e2e-profile") as pbase:
            psetup = rig.make_setup(pbase, dovecot, sink, r)
            rig.append_all(dovecot, psetup.user, mails[:small])
            profile = profile_by_source(lambda: _end_to_end(psetup, pbase, small, clean=False), loops=1, top=14)
            from bench.queries import _Counter

            with _Counter() as counter:
                _end_to_end(psetup, pbase, small)
            statements = len(counter.statements)
    project, floor = statistics.median(p), statistics.median(f)
    mbsync_part = floor - parse_total / cpus
    details = [f"Backlog: {_sizes(mails)}, {units} units; outcomes {outcomes}. Timed: "
               "`daemon.fetch_and_process` (fetch, keep, unpack, read, identify, record, acknowledgement "
               "queued). **Not timed:** the SMTP drain that `intake poll` runs afterwards — "
               f"{ms(drains[0])} for {count} acknowledgements to the local aiosmtpd sink "
               f"({ms(drains[0] / count)} per mail), measured once apart.", "",
               f"Floor = mbsync {ms(mbsync_part)} + parse floor {ms(parse_total)} summed over the "
               f"{count} attachments / {cpus} CPUs = {ms(floor)}.", "",
               "| run | project | floor |", "|---|---:|---:|"]
    details += [f"| {i + 1} | {ms(a)} | {ms(b)} |" for i, (a, b) in enumerate(zip(p, f))]
    details += ["", f"Per mail: project {ms(project / count)}, floor {ms(floor / count)}.", "",
                f"SQL statements per mail (fetch_and_process of the {small} profiled mails, counted with "
                f"`before_cursor_execute`): {statements / small:.0f}.", "",
                "The floor assumes the parsing spread over every core; the project reads attachments one "
                "after another in one process. The profile puts the largest share in SQLAlchemy (the ORM "
                "sessions of `pipeline.ingest` and `pipeline.process`: per mail a keep transaction, then "
                "the outcome, attachment record, submission versions, liaison lookups and the outbox row), "
                "then the e-mail header parsing of `mime.parse_mail` (feedparser, headerregistry, "
                "bot/mail/headers.py), the fsyncs of the archive, and only then the forms' reading — all "
                "in bot/pipeline.py, bot/store/submissions.py, bot/mail/mime.py, bot/mail/outbox.py and "
                "bot/forms/*, none of them in the files this benchmark's owner may change.", "",
                f"Where the time goes (one profiled run of {small} mails, own time by source):", ""]
    details += profile
    return Outcome(project, floor, reps, details)
