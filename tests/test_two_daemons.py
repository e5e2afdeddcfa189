"""Two daemons on one mailbox and one database (PostgreSQL with INTAKE_TEST_DB=postgresql,
else SQLite): every mail is recorded once, answered once, and no submission is doubled. Then
the claim itself, step by step: a message another process holds or has finished is left alone,
and a reader whose claim was taken over records nothing."""
from __future__ import annotations

import collections
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from sqlalchemy import func, select

from bot import pipeline
from bot.mail.imap import Mailbox
from bot.store.models import (ACCEPTED, PENDING, TAKEN, AttachmentRecord, MailboxState, MailLocation, Message,
                              OutboxMail, Submission)
from tests.conftest import ROOT, SAMPLES
from tests.fixtures.office_files import LIAISON_VALUES, liaison_docx
from tests.servers import Daemon

WHEN = datetime(2020, 6, 8, 2, 0, tzinfo=timezone.utc)


def roster_units() -> list[tuple[str, str]]:
    lines = (SAMPLES / "roster.csv").read_text(encoding="utf-8").splitlines()[1:]
    return [(cols[0], cols[3].split("|")[0]) for cols in (line.split(",") for line in lines if line)]


def form_mail(n: int) -> bytes:
    """Mail n: from a roster unit, carrying a weekly report in its body (even n) or its liaison
    form as a .docx (odd n), each different from every other so that each is a new version."""
    unit, address = roster_units()[n % len(roster_units())]
    m = EmailMessage()
    m["From"] = f"{unit} <{address}>"
    m["To"] = "aqghljb@126.com"
    m["Message-ID"] = f"<two-{n}@example.test>"
    if n % 2 == 0:
        m["Subject"] = f"{unit}本周工作开展情况（{n}）"
        m.set_content(f"本周我会开展隐患排查{n}次，参加职工{100 + n}人；组织观看警示教育片{n % 5 + 1}场。", charset="utf-8")
    else:
        m["Subject"] = f"{unit}联络员推荐表（{n}）"
        m.set_content("联络员推荐表见附件。", charset="utf-8")
        values = dict(LIAISON_VALUES, unit_name=unit, email=address, mobile=f"1334278{n:04d}")
        m.add_attachment(liaison_docx(values), maintype="application",
                         subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                         filename=f"联络员推荐表{n}.docx")
    return m.as_bytes()


def log_count(setup, text: str) -> int:
    path = setup.dir / "store" / "logs" / "intake.log"
    return path.read_text(encoding="utf-8").count(text) if path.exists() else 0


def test_two_daemons_record_and_answer_every_mail_once(setup):
    total, before = 44, 20
    for n in range(before):  # waiting when both start: both fetch and race for the same mail
        setup.append(form_mail(n), WHEN + timedelta(minutes=n))

    def acks():
        return [r.message for r in setup.sent if r.message["Subject"].startswith("回复：")]

    with Daemon(setup.config_path, ROOT) as first, Daemon(setup.config_path, ROOT) as second:
        assert first.wait_until(lambda: log_count(setup, "已连接") >= 2, timeout=180), first.err
        for n in range(before, total):  # arriving while both sit in IDLE: both wake for each
            setup.append(form_mail(n), WHEN + timedelta(minutes=n))
        assert first.wait_until(lambda: len(acks()) >= total, timeout=180), (len(acks()), first.err)
        time.sleep(3)  # a few more cycles of both: nothing may go out again
        assert first.stop() == 0, first.err[-3000:]
        assert second.stop() == 0, second.err[-3000:]
    for daemon in (first, second):
        assert "Traceback" not in daemon.err and " 错误 " not in daemon.err, daemon.err[-3000:]

    answered = collections.Counter(m["In-Reply-To"] for m in acks())
    assert answered == {f"<two-{n}@example.test>": 1 for n in range(total)}
    assert len(setup.sent) == total  # nothing else: no second answer under another key

    intake = setup.intake()
    with intake.db.session() as s:
        messages = list(s.scalars(select(Message).order_by(Message.id)))
        assert sorted(m.message_id for m in messages) == sorted(f"<two-{n}@example.test>" for n in range(total))
        assert {m.outcome for m in messages} == {ACCEPTED}, [(m.message_id, m.outcome, m.reason) for m in messages]
        assert all(m.acknowledged and m.claim_token is None for m in messages)
        per_message = collections.Counter(s.scalars(select(Submission.message_pk)))
        assert per_message == {m.id: 1 for m in messages}
        # No mail was read twice: a second reading deletes and re-inserts a message's attachment
        # and submission rows, which leaves a gap in the ids (always on PostgreSQL, whose
        # sequences never give an id twice; on SQLite when a later row was inserted meanwhile).
        assert sorted(s.scalars(select(Submission.id))) == list(range(1, total + 1))
        assert sorted(s.scalars(select(AttachmentRecord.id))) == list(range(1, total // 2 + 1))
        outbox = s.scalars(select(OutboxMail.key)).all()
        assert len(outbox) == len(set(outbox)) == total
        # liaison forms: one current version per unit, the latest to arrive
        current = dict(s.execute(select(Submission.unit, func.count()).where(
            Submission.kind == "liaison_form", Submission.current.is_(True)).group_by(Submission.unit)).all())
        assert set(current.values()) == {1}


def _one_pending_message(setup) -> tuple[Intake, int]:
    setup.append(form_mail(0), WHEN)
    intake = setup.intake()
    with Mailbox(intake.config.mailbox) as mb:
        pk = pipeline.ingest(intake, next(iter(mb.fetch(mb.new_uids(0)))))
    return intake, pk


def test_a_message_held_or_finished_by_another_process_is_left_alone(setup):
    intake, pk = _one_pending_message(setup)
    [listed] = pipeline.pending_ids(intake)
    other = pipeline.begin(intake, pk, only_pending=True)  # another daemon is reading it
    assert other is not None
    assert pipeline.pending_ids(intake) == []
    assert pipeline.process_pending(intake, listed) == TAKEN
    with intake.db.session() as s:
        msg = s.get(Message, pk)
        assert (msg.outcome, msg.claim_token) == (PENDING, other.token)
        s.query(Message).filter_by(id=pk).update({"claimed_until": datetime.now(timezone.utc) - timedelta(seconds=1)})
    # the other daemon died: its claim lapsed, and the message is taken up again
    assert pipeline.pending_ids(intake) == [pipeline.Pending(pk)]
    assert pipeline.process_pending(intake, listed) == ACCEPTED
    # listed as pending before that, processed since: a daemon leaves it alone
    assert pipeline.process_pending(intake, listed) == TAKEN
    with intake.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 1


def test_a_reader_whose_claim_was_taken_over_records_nothing(setup):
    intake, pk = _one_pending_message(setup)
    stale = pipeline.begin(intake, pk, only_pending=True)
    # an admin's reprocess takes the message over while that daemon is still reading it
    assert pipeline.process(intake, pk) == ACCEPTED
    with intake.db.session() as s:
        raw_digest = s.get(Message, pk).sha256
    reading = pipeline.read_message(intake, intake.archive.read_mail(raw_digest))
    try:
        outcome = pipeline.finish(intake, stale, reading)
    except pipeline.ClaimLost:
        raise AssertionError("finish must turn a lost claim into TAKEN, not raise") from None
    assert outcome == TAKEN
    with intake.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 1
        assert s.get(Message, pk).claim_token is None


def test_the_same_mail_ingested_by_several_daemons_at_once_is_recorded_once(setup):
    import threading

    setup.append(form_mail(1), WHEN)
    intake = setup.intake()
    with Mailbox(intake.config.mailbox) as mb:
        fetched = next(iter(mb.fetch(mb.new_uids(0))))
    # on disk already, as when another process kept it (the archive's temp name is per process)
    intake.archive.keep_mail(fetched.raw)
    start = threading.Barrier(4)
    results: list = []

    def ingest():
        start.wait()
        try:
            results.append(pipeline.ingest(intake, fetched))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=ingest) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # the first mail ever: all four also race to create the folder's watermark row
    assert sorted(results, key=lambda r: r is not None) == [None, None, None, 1], results
    with intake.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1
        assert s.scalar(select(func.count()).select_from(MailLocation)) == 1
        assert s.get(MailboxState, "INBOX").last_uid == fetched.uid


def test_a_claim_whose_daemon_was_killed_on_this_host_is_taken_at_once(setup):
    import socket
    import subprocess
    import sys

    intake, pk = _one_pending_message(setup)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        until = datetime.now(timezone.utc) + timedelta(seconds=pipeline.CLAIM_SECONDS)
        for holder in (f"{socket.gethostname()}:{alive.pid}", f"another-host:{dead.pid}"):
            with intake.db.session() as s:
                s.query(Message).filter_by(id=pk).update(
                    {"claim_token": "held", "claimed_by": holder, "claimed_until": until})
            assert pipeline.pending_ids(intake) == []  # alive, or not ours to judge: it waits
        alive.kill()
        alive.wait()
        with intake.db.session() as s:
            s.query(Message).filter_by(id=pk).update({"claimed_by": f"{socket.gethostname()}:{dead.pid}"})
        [listed] = pipeline.pending_ids(intake)
        assert listed == pipeline.Pending(pk, stale_claim="held")
        assert pipeline.process_pending(intake, listed) == ACCEPTED
    finally:
        if alive.poll() is None:
            alive.kill()
            alive.wait()
    with intake.db.session() as s:
        msg = s.get(Message, pk)
        assert (msg.claim_token, msg.claimed_by, msg.claimed_until) == (None, None, None)
