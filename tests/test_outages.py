"""Outages through the real path: the disk full while a mail is stored, the database locked by
another process, the IMAP server stopped and started mid-fetch, the SMTP server down and back.
Each ends with every mail recorded once and answered once."""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.forms.blank_forms import fill_progress_docx
from bot.forms.progress_template import BLANKS, INT
from tests.fixtures.mails import build_mail
from tests.fixtures.commands import run, weekly_mail

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def form_mail(n: int, sender: str = "桐城市总工会 <tcszgh@example.test>", unit: str = "桐城市总工会") -> bytes:
    written = {b.key: str(n + i) for i, b in enumerate(BLANKS) if b.type == INT}
    header = {"header.unit_name": unit, "header.contact": "张三", "header.phone": "0556-1", "header.fill_date": f"6月{n}日"}
    return build_mail(subject=f"{unit}进展情况统计表{n}", sender=sender, message_id=f"<form{n}@outage.test>",
                      attachments=[(f"附件2（{n}）.docx", fill_progress_docx(written, header), DOCX)])


def rows(setup) -> list[dict]:
    return json.loads(run(setup, "messages", "--json").stdout)


# ---------------------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(setup):
    """The setup's mail store on a 1 MiB tmpfs (root mounts it; CI runs as root)."""
    store = setup.dir / "store"
    store.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(store)],
                             capture_output=True, text=True)
    assert mounted.returncode == 0, f"cannot mount a tmpfs to fill (needs root): {mounted.stderr}"
    yield store
    subprocess.run(["umount", "-l", str(store)], check=False)


def test_disk_full_leaves_the_mail_on_the_server_until_there_is_room(setup, small_disk):
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk, then leave a few KB: less than the mail
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    os.truncate(filler, filler.stat().st_size - 16 * 1024)
    setup.append(form_mail(1))
    full = run(setup, "poll")
    assert full.returncode == 1
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith("错误：无法保存邮件") and "磁盘空间不足" in last and "稍后重取" in last
    assert "Traceback" not in full.stderr
    assert rows(setup) == [] and setup.sent_to("tcszgh@example.test") == []
    filler.unlink()
    again = run(setup, "poll")
    assert again.returncode == 0, again.stderr
    got = rows(setup)
    assert [(r["message_id"], r["outcome"]) for r in got] == [("<form1@outage.test>", "accepted")]
    assert len(setup.sent_to("tcszgh@example.test")) == 1
    assert not list(small_disk.rglob(".tmp-*"))


# ---------------------------------------------------------------------------- database locked


def _hold_write_lock(url: str, seconds: float, ready: threading.Event) -> None:
    """Another process's writer: an open write transaction on the database for `seconds`."""
    engine = create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER)")
        else:
            conn.execute(text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
        ready.set()
        time.sleep(seconds)
        conn.rollback()
    engine.dispose()


def test_a_locked_database_makes_the_cycle_wait_not_fail(setup):
    run(setup, "status")  # the schema exists before another process locks it
    url = setup.config().database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(setup.dir / url[len("sqlite:///"):])
    for n in range(3):
        setup.append(weekly_mail(mid=f"<w{n}@outage.test>", subject=f"桐城市总工会本周工作开展情况（{n}）",
                                 body=f"本周开展隐患排查{n + 2}次，参加职工{120 + n}人，组织观看警示教育片{n + 1}场。"))
    ready = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(url, 4.0, ready))
    holder.start()
    assert ready.wait(30)
    proc = run(setup, "poll")  # starts while the other writer holds the lock
    holder.join()
    assert proc.returncode == 0, proc.stderr
    got = rows(setup)
    assert sorted(r["message_id"] for r in got) == [f"<w{n}@outage.test>" for n in range(3)]
    assert all(r["outcome"] == "accepted" for r in got)
    assert len(setup.sent_to("tcszgh@example.test")) == 3


# ---------------------------------------------------------------------------- IMAP and SMTP down


def _refusals(setup) -> int:
    """How many times the daemon's log says the SMTP server refused a mail it will retry."""
    path = setup.dir / "store" / "logs" / "intake.log"
    return path.read_text(encoding="utf-8").count("发送失败，稍后重试") if path.exists() else 0


def test_imap_server_restarted_mid_fetch_and_smtp_down_then_back(make_setup):
    """`intake run` over a backlog: Dovecot is stopped and started again while the daemon is
    fetching, and the SMTP server refuses everything for a while; in the end every mail is
    recorded once and answered once."""
    from tests.servers import Daemon
    from tests.conftest import ROOT

    setup = make_setup(poll=0.5, extra="\n[limits]\nmax_auto_replies_per_day = 1000\n")
    total = 120
    for n in range(total):
        setup.append(form_mail(n + 1))
    store = setup.dir / "store" / "mail"
    setup.smtp.fail_with = (421, "4.3.2 Service not available, closing transmission channel")
    try:
        with Daemon(setup.config_path, ROOT) as daemon:
            assert daemon.wait_until(lambda: store.exists() and len(list(store.rglob("*.eml"))) >= 5, timeout=120)
            setup.dovecot.restart(down_for=2.0)  # mid-fetch: the backlog is still coming in
            assert daemon.wait_until(lambda: len(list(store.rglob("*.eml"))) == total, timeout=300), daemon.err
            # acknowledgements are queued and refused meanwhile: wait until the daemon has seen
            # a refusal, rather than for a fixed time
            assert daemon.wait_until(lambda: _refusals(setup) > 0, timeout=120), daemon.err
            assert setup.sent_to("tcszgh@example.test") == []
            setup.smtp.fail_with = None  # the SMTP server is back: the outbox drains
            assert daemon.wait_until(lambda: len(setup.sent_to("tcszgh@example.test")) >= total, timeout=600), daemon.err
            time.sleep(2)
            assert daemon.stop() == 0
    finally:
        setup.smtp.fail_with = None
    acks = [m.message["In-Reply-To"] for m in setup.sent_to("tcszgh@example.test")]
    assert sorted(acks) == sorted(f"<form{n + 1}@outage.test>" for n in range(total))  # once each
    got = rows(setup)
    assert len(got) == total and len({r["message_id"] for r in got}) == total
