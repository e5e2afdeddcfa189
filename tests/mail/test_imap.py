import dataclasses
import threading
import time
from datetime import datetime, timezone

import pytest

from bot.mail.imap import Mailbox, MailboxError
from tests.servers import free_port


def raw(n: int) -> bytes:
    return (f"From: a@example.test\r\nTo: aqghljb@126.com\r\nSubject: m{n}\r\n"
            f"Message-ID: <m{n}@example.test>\r\n\r\nbody {n}\r\n").encode()


def test_fetch_new_uids_with_internaldate(setup):
    when = datetime(2020, 6, 4, 7, 0, 12, tzinfo=timezone.utc)
    for n in range(3):
        setup.append(raw(n), when)
    with Mailbox(setup.config().mailbox) as mb:
        assert mb.uidvalidity > 0 and mb.has_idle
        uids = mb.new_uids(0)
        assert uids == [1, 2, 3]
        got = list(mb.fetch(uids))
        assert [g.raw.split(b"Subject: ")[1][:2] for g in got] == [b"m0", b"m1", b"m2"]
        assert got[0].internaldate == when and got[0].internaldate.tzinfo is not None
        # `UID 4:*` returns the newest message even though nothing is above 3: filtered
        assert mb.new_uids(3) == []
        assert mb.new_uids(2) == [3]


def test_fetch_in_batches(setup):
    from bot.mail import imap

    for n in range(7):
        setup.append(raw(n))
    old = imap.BATCH
    imap.BATCH = 3
    try:
        with Mailbox(setup.config().mailbox) as mb:
            assert [g.uid for g in mb.fetch(mb.new_uids(0))] == list(range(1, 8))
    finally:
        imap.BATCH = old


def test_move_processed(make_setup):
    s = make_setup(processed="已处理")
    s.append(raw(1))
    s.append(raw(2))
    with Mailbox(s.config().mailbox) as mb:
        mb.move_processed([1])
    assert s.dovecot.count(s.user) == 1
    assert s.dovecot.count(s.user, "已处理") == 1


def test_idle_wakes_on_new_mail(setup):
    with Mailbox(setup.config().mailbox) as mb:
        threading.Timer(0.3, lambda: setup.append(raw(9))).start()
        start = time.monotonic()
        assert mb.idle_wait(10)
        assert time.monotonic() - start < 10
        assert mb.new_uids(0) == [1]


def test_mail_that_arrived_while_busy_wakes_the_next_idle(setup):
    """Mail appended while the daemon was processing (connected, not in IDLE) is announced with
    the reply that opens IDLE; it must end the wait, not sit until the IDLE timeout."""
    with Mailbox(setup.config().mailbox) as mb:
        setup.append(raw(1))
        assert mb.idle_wait(30) is True
        assert mb.new_uids(0) == [1]
        assert mb.idle_wait(1) is False  # the same mail is news only once


def test_idle_stops_when_asked(setup):
    with Mailbox(setup.config().mailbox) as mb:
        assert mb.idle_wait(30, should_stop=lambda: True) is False


def test_errors_are_one_chinese_line(setup, monkeypatch):
    cfg = setup.config().mailbox
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", "wrong")
    with pytest.raises(MailboxError, match="登录失败") as err:
        Mailbox(cfg).connect()
    assert "wrong" not in str(err.value)
    with pytest.raises(MailboxError, match="连接被拒绝"):
        Mailbox(dataclasses.replace(cfg, port=free_port())).connect()
