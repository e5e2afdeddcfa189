"""One poll that finds no new mail, with a long history against a short one.

Two mailboxes, each consistent with its database: N small mails in the INBOX (MULTIAPPEND), N
messages recorded as processed (message row, its location, a current submission and a sent
acknowledgement, inserted in bulk through the models) and the UID watermark at the top.
Project: `daemon.poll_once` (what `intake poll` and cron run) with N = 10,000.
Floor: the same call with N = 100. Alternating, median. The daemon's own cycle after an IDLE
wake-up (`fetch_and_process` on the open connection, then the outbox drain) is timed the same
way and shown below the headline.
"""
from __future__ import annotations

import statistics
import time
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import insert

from bench import rig
from bench.run import Outcome, Settings, ms


def _small_mail(n: int, address: str) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = f"第{n}周工作简报"
    msg["From"] = address
    msg["To"] = "aqghljb@126.com"
    msg["Message-ID"] = f"<hist-{n}@example.test>"
    msg.set_content("本周开展安全生产宣传活动一次。\n")
    return msg.as_bytes(policy=SMTP)


def _record_history(intake, uidvalidity: int, count: int, roster) -> None:
    """`count` processed messages at UIDs 1..count, the watermark at `count`."""
    from bot.store.models import ACCEPTED, SENT, MailboxState, MailLocation, Message, OutboxMail, Submission

    day = rig.CAMPAIGN_DAY
    units = roster.units
    with intake.db.session() as s:
        s.execute(insert(Message), [
            {"id": n, "message_id": f"<hist-{n}@example.test>", "sha256": f"{n:064x}", "size": 900,
             "received_at": day + timedelta(minutes=n), "from_addr": units[n % len(units)].emails[0],
             "subject": f"第{n}周工作简报", "unit": units[n % len(units)].name, "unit_source": "address",
             "outcome": ACCEPTED, "kinds": ["weekly_report"], "flags": [], "acknowledged": True,
             "processed_at": day + timedelta(minutes=n)} for n in range(1, count + 1)])
        s.execute(insert(MailLocation), [
            {"folder": "INBOX", "uidvalidity": uidvalidity, "uid": n, "message_pk": n} for n in range(1, count + 1)])
        s.execute(insert(Submission), [
            {"unit": units[n % len(units)].name, "item": "weekly_report:2020-06-11", "kind": "weekly_report",
             "message_pk": n, "received_at": day + timedelta(minutes=n), "content_sha256": f"{n:064x}",
             "values": {}, "text": "本周开展安全生产宣传活动一次。", "current": n > count - len(units)}
            for n in range(1, count + 1)])
        s.execute(insert(OutboxMail), [
            {"key": f"ack:<hist-{n}@example.test>", "kind": "ack", "to_addr": units[n % len(units)].emails[0],
             "recipients": [units[n % len(units)].emails[0]], "subject": f"回复：第{n}周工作简报",
             "raw": b"x" * 2000, "message_pk": n, "status": SENT, "attempts": 1,
             "next_attempt_at": day, "sent_at": day + timedelta(minutes=n)} for n in range(1, count + 1)])
        s.add(MailboxState(folder="INBOX", uidvalidity=uidvalidity, last_uid=count))


def _history(dovecot, sink, base, roster, count: int):
    from bot.mail.imap import Mailbox

    d = base / f"h{count}"
    d.mkdir()
    setup = rig.make_setup(d, dovecot, sink, roster)
    rig.append_all(dovecot, setup.user, [_small_mail(n, roster.units[n % len(roster.units)].emails[0])
                                         for n in range(1, count + 1)], chunk=500)
    intake = setup.intake()
    with Mailbox(intake.config.mailbox) as mailbox:
        uidvalidity = mailbox.uidvalidity
        top = max(mailbox.client.search(["ALL"]))
    if top != count:
        raise RuntimeError(f"mailbox top UID {top}, expected {count}")
    _record_history(intake, uidvalidity, count, roster)
    return intake


def measure(settings: Settings) -> Outcome:
    from bot.daemon import fetch_and_process, poll_once
    from bot.mail.imap import Mailbox
    from bot.outbox import Outbox

    big, small = (2000 if settings.quick else 10_000), 100
    reps = settings.reps(21, 7)
    roster = rig.roster(50)
    with rig.servers() as (dovecot, sink), rig.workdir("poll") as base:
        large_intake = _history(dovecot, sink, base, roster, big)
        small_intake = _history(dovecot, sink, base, roster, small)

        def poll(intake):
            result = poll_once(intake)
            if result.fetched or result.sent.sent:
                raise RuntimeError(f"a poll with no new mail fetched {result.fetched}, sent {result.sent.sent}")

        p, f = [], []
        for intake, out in ((large_intake, p), (small_intake, f)):
            poll(intake)  # warm-up
        for _ in range(reps):
            for intake, out in ((large_intake, p), (small_intake, f)):
                start = time.perf_counter()
                poll(intake)
                out.append(time.perf_counter() - start)

        # the daemon's cycle on an open connection (after IDLE says something changed)
        cycle = {}
        for name, intake in (("large", large_intake), ("small", small_intake)):
            with Mailbox(intake.config.mailbox) as mailbox:
                outbox = Outbox.of(intake)
                times = []
                for _ in range(reps + 1):
                    start = time.perf_counter()
                    fetch_and_process(intake, mailbox)
                    outbox.drain()
                    times.append(time.perf_counter() - start)
                cycle[name] = statistics.median(times[1:])
        for intake in (large_intake, small_intake):
            intake.db.dispose()
    project, floor = statistics.median(p), statistics.median(f)
    details = [f"History: {big} vs {small} processed mails in the INBOX and in the database (a message, "
               "location, submission and sent acknowledgement each; watermark at the top UID). "
               "`poll_once` connects, logs in, sends ID, selects, searches above the watermark, looks for "
               "pending messages and drains the outbox.", "",
               f"The daemon's cycle on an open connection (fetch_and_process + drain, after an IDLE wake-up): "
               f"{ms(cycle['large'])} with {big}, {ms(cycle['small'])} with {small} "
               f"(ratio {cycle['large'] / cycle['small']:.2f}×)."]
    return Outcome(project, floor, reps, details)
