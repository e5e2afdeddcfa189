"""The pipeline's guarantees through the real servers: UIDVALIDITY changes, moving handled
mail, the per-address daily cap on automatic replies, and mail that cannot be read."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from bot.daemon import poll_once
from bot.store.models import Message
from tests.fixtures.commands import weekly_mail

WHEN = datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)


def report(n: int) -> bytes:
    return weekly_mail(mid=f"<r{n}@example.test>", subject=f"桐城市总工会第二周周报（{n}）",
                       body=f"本周开展隐患排查{n}次，参加职工{100 + n}人，组织观看警示教育片{n}场。")


def outcomes(intake):
    with intake.db.session() as s:
        return [(m.message_id, m.outcome) for m in s.scalars(select(Message).order_by(Message.id))]


def test_uidvalidity_change_processes_nothing_twice(make_setup):
    setup = make_setup()
    setup.config_path.write_text(setup.config_path.read_text(encoding="utf-8").replace(
        'folder = "INBOX"', 'folder = "报送"'), encoding="utf-8")
    with setup.dovecot.client(setup.user) as c:
        c.create_folder("报送")
    setup.dovecot.append(setup.user, report(1), WHEN, folder="报送")
    intake = setup.intake()
    assert poll_once(intake).new == 1
    # the folder is deleted and made again: a new UIDVALIDITY, the same mail at UID 1 again
    with setup.dovecot.client(setup.user) as c:
        c.delete_folder("报送")
        c.create_folder("报送")
    setup.dovecot.append(setup.user, report(1), WHEN, folder="报送")
    setup.dovecot.append(setup.user, report(2), WHEN, folder="报送")
    result = poll_once(intake)
    assert (result.fetched, result.new) == (2, 1)
    assert outcomes(intake) == [("<r1@example.test>", "accepted"), ("<r2@example.test>", "accepted")]
    assert len(setup.sent_to("tcszgh@example.test")) == 2


def test_processed_mail_is_moved_after_processing(make_setup):
    setup = make_setup(processed="已处理")
    setup.append(report(1), WHEN)
    setup.append(report(2), WHEN)
    poll_once(setup.intake())
    assert setup.dovecot.count(setup.user) == 0
    assert setup.dovecot.count(setup.user, "已处理") == 2
    assert poll_once(setup.intake()).fetched == 0


def test_daily_cap_on_automatic_replies(make_setup):
    setup = make_setup(extra="[limits]\nmax_auto_replies_per_day = 2\n")
    for n in range(1, 4):
        setup.append(report(n), WHEN)
    intake = setup.intake()
    poll_once(intake)
    assert len(setup.sent_to("tcszgh@example.test")) == 2
    with intake.db.session() as s:
        last = s.scalar(select(Message).where(Message.message_id == "<r3@example.test>"))
        assert last.outcome == "accepted" and not last.acknowledged
        assert any("自动回复 2 封" in f for f in last.flags)


def test_unreadable_raw_file_is_a_recorded_failure(make_setup):
    setup = make_setup()
    setup.append(report(1), WHEN)
    intake = setup.intake()
    from bot import pipeline
    from bot.mail.imap import Mailbox

    with Mailbox(intake.config.mailbox) as mb:
        pk = pipeline.ingest(intake, next(iter(mb.fetch(mb.new_uids(0)))))
    with intake.db.session() as s:
        digest = s.get(Message, pk).sha256
    intake.archive.raw_path(digest).unlink()
    assert pipeline.process(intake, pk) == "needs_review"
    with intake.db.session() as s:
        assert "原件文件无法读取" in s.get(Message, pk).reason


def test_a_fetch_batch_is_kept_in_one_transaction_once(make_setup):
    """keep_new records a whole FETCH batch at once: the same mail at two UIDs is one message
    with two locations, the watermark is the batch's highest UID, and fetching the batch again
    records nothing."""
    from bot import pipeline
    from bot.mail.imap import Mailbox
    from bot.store.models import MailboxState, MailLocation

    setup = make_setup()
    for raw in (report(1), report(2), report(1), report(3)):
        setup.append(raw, WHEN)
    intake = setup.intake()
    with Mailbox(intake.config.mailbox) as mb:
        [batch] = list(mb.fetch_batches(mb.new_uids(0)))
        first = pipeline.ingest_batch(intake, batch)
        again = pipeline.ingest_batch(intake, batch)
    assert [pk is not None for pk in first] == [True, True, False, True]
    assert again == [None] * 4
    with intake.db.session() as s:
        assert [m.message_id for m in s.scalars(select(Message).order_by(Message.id))] == [
            "<r1@example.test>", "<r2@example.test>", "<r3@example.test>"]
        locations = dict(s.execute(select(MailLocation.uid, MailLocation.message_pk)).all())
        assert locations[1] == locations[3] == first[0]
        assert s.get(MailboxState, "INBOX").last_uid == 4
    for digest in {m.sha256 for m in [*_messages(intake)]}:
        assert intake.archive.read_mail(digest)


def _messages(intake):
    with intake.db.session() as s:
        return list(s.scalars(select(Message)))


def test_message_id_is_read_from_the_header_block_only():
    from bot.mail.headers import message_id_of as _message_id_of

    body = b"\r\n".join([b"Message-ID: <not-this@example.test>"] * 3)
    assert _message_id_of(b"Subject: x\r\nMessage-ID:\r\n <folded@example.test>\r\n\r\n" + body) == "<folded@example.test>"
    assert _message_id_of(b"Subject: x\n\nMessage-ID: <body@example.test>\n") == ""
    assert _message_id_of(b"Message-ID: <lf@example.test>\nSubject: x\n\nbody\r\n\r\n") == "<lf@example.test>"
