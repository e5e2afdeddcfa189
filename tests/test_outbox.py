import pytest
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.mail.compose import new_mail
from bot.outbox import Outbox, enqueue, recent_count
from bot.store.db import Database
from bot.store.models import FAILED, QUEUED, SENT, OutboxMail


def mail(to="unit@example.test", subject="回复：测试"):
    m = new_mail(sender="劳动经济部 <aqghljb@126.com>", to=[to], subject=subject,
                 auto_submitted="auto-replied", now=datetime.now(timezone.utc), in_reply_to="<a@b>")
    m.set_content("正文", charset="utf-8")
    return m


def test_key_makes_enqueue_idempotent_and_sending_once(setup):
    cfg = setup.config()
    db = Database(cfg.database_url)
    with db.session() as s:
        assert enqueue(s, key="ack:<1@x>", kind="ack", message=mail(), now=datetime.now(timezone.utc))
        assert not enqueue(s, key="ack:<1@x>", kind="ack", message=mail(), now=datetime.now(timezone.utc))
    outbox = Outbox(db, cfg.smtp)
    assert outbox.drain().sent == 1
    assert outbox.drain().sent == 0
    got = setup.sent_to("unit@example.test")
    assert len(got) == 1
    msg = got[0].message
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Auto-Response-Suppress"] == "All"
    assert msg["In-Reply-To"] == "<a@b>" and msg["Subject"] == "回复：测试"
    assert got[0].mail_from == "aqghljb@126.com"
    with db.session() as s:
        assert s.scalar(select(OutboxMail.status)) == SENT
        assert recent_count(s, kind="ack", to_addr="UNIT@example.test",
                            since=datetime.now(timezone.utc) - timedelta(days=1)) == 1


def test_header_injection_is_folded(setup):
    m = mail(subject="回复：x\r\nBcc: victim@example.test")
    assert "victim" not in str(m.get("Bcc", ""))
    assert "\n" not in m["Subject"]


def test_temporary_failure_backs_off_then_sends(setup):
    cfg = setup.config()
    db = Database(cfg.database_url)
    with db.session() as s:
        enqueue(s, key="k1", kind="ack", message=mail("retry@example.test"), now=datetime.now(timezone.utc))
    outbox = Outbox(db, cfg.smtp)
    setup.smtp.fail_with = (451, "4.3.0 try later")
    try:
        r = outbox.drain()
    finally:
        setup.smtp.fail_with = None
    assert (r.sent, r.deferred) == (0, 1)
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row.status == QUEUED and row.attempts == 1 and "451" in row.last_error
        due = row.next_attempt_at
    assert outbox.drain().sent == 0  # not due yet
    assert outbox.drain(now=due + timedelta(seconds=1)).sent == 1
    assert len(setup.sent_to("retry@example.test")) == 1


def test_permanent_failure_is_kept_with_the_answer(setup):
    cfg = setup.config()
    db = Database(cfg.database_url)
    with db.session() as s:
        enqueue(s, key="k2", kind="ack", message=mail("gone@example.test"), now=datetime.now(timezone.utc))
    setup.smtp.fail_with = (550, "5.1.1 mailbox unavailable")
    try:
        r = Outbox(db, cfg.smtp).drain()
    finally:
        setup.smtp.fail_with = None
    assert r.failed == 1
    with db.session() as s:
        row = s.scalar(select(OutboxMail))
        assert row.status == FAILED and "mailbox unavailable" in row.last_error


def test_server_down_keeps_mail_queued(setup):
    import dataclasses

    from tests.servers import free_port

    cfg = setup.config()
    db = Database(cfg.database_url)
    with db.session() as s:
        enqueue(s, key="k3", kind="ack", message=mail("later@example.test"), now=datetime.now(timezone.utc))
        enqueue(s, key="k4", kind="ack", message=mail("later@example.test"), now=datetime.now(timezone.utc))
    down = dataclasses.replace(cfg.smtp, port=free_port(), timeout=3)
    r = Outbox(db, down).drain()
    assert (r.sent, r.deferred) == (0, 2)
    with db.session() as s:
        assert [row.status for row in s.scalars(select(OutboxMail))] == [QUEUED, QUEUED]


@pytest.mark.filterwarnings("ignore:Requiring AUTH")
def test_wrong_smtp_password_keeps_everything_queued(setup, monkeypatch):
    """A login failure is the server's state, not the mails': nothing is marked failed."""
    import dataclasses

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.servers import free_port

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)  # handled=True would hang the client

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=refuse,
                     auth_require_tls=False, auth_required=True)
    ctl.start()
    try:
        cfg = setup.config()
        db = Database(cfg.database_url)
        with db.session() as s:
            enqueue(s, key="p1", kind="ack", message=mail("a1@example.test"), now=datetime.now(timezone.utc))
            enqueue(s, key="p2", kind="ack", message=mail("a2@example.test"), now=datetime.now(timezone.utc))
        monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", "wrong")
        auth = dataclasses.replace(cfg.smtp, port=port, username="bot", password_env="INTAKE_TEST_SMTP_PASSWORD",
                                   timeout=5)
        r = Outbox(db, auth).drain()
    finally:
        ctl.stop()
    assert (r.sent, r.failed, r.deferred) == (0, 0, 2)
    with db.session() as s:
        rows = list(s.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        assert [row.status for row in rows] == [QUEUED, QUEUED]
        assert rows[0].attempts == 0 and "授权码" in rows[0].last_error
