"""`intake demo` as a newcomer runs it: a subprocess, its embedded servers, what it leaves behind."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from email import message_from_bytes
from email.policy import default as default_policy

import openpyxl
import pytest

from bot.demo.mailbag import june
from bot.demo.run import sent_filename
from bot.starter import EXAMPLE_CONFIG, EXAMPLE_ROSTER, StarterError, config_with
from tests.conftest import ROOT


def intake(*args, cwd=ROOT, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo") / "run"
    proc = intake("demo", "--dir", str(directory), "--speed", "0")
    return directory, proc


def _sent(directory):
    out = []
    for path in sorted((directory / "sent").iterdir()):
        out.append((path.name, message_from_bytes(path.read_bytes(), policy=default_policy)))
    return out


def test_demo_runs_to_the_end_and_says_where_everything_is(demo_run):
    directory, proc = demo_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "报送情况（截至 2020-07-03 09:00）" in out  # the status table
    assert "收到的邮件（" in out  # the messages table
    for unit in ("迎江区总工会", "宜城机械制造有限公司工会"):  # every roster unit is a row
        assert unit in out
    assert "演示结束" in out and str(directory / "config.toml") in out and "status --now" in out
    assert "自动回复，不答复" in out and "无法确定报送单位" in out


def test_demo_keeps_every_sent_mail_with_acknowledgements_reminders_and_digests(demo_run):
    directory, _ = demo_run
    sent = _sent(directory)
    names = [name for name, _ in sent]
    assert names[0].startswith("001-") and all(n.endswith(".eml") for n in names)
    subjects = [str(m["Subject"]) for _, m in sent]
    acks = [s for s in subjects if s.startswith("回复：")]
    assert len(acks) >= 20
    assert any(s.startswith("【周汇总】") for s in subjects)
    assert any(s.startswith("【提醒】") for s in subjects)
    digest = next(m for _, m in sent if str(m["Subject"]).startswith("【周汇总】"))
    assert [p.get_filename() for p in digest.iter_attachments() if (p.get_filename() or "").endswith(".xlsx")]
    # every acknowledgement answers a mail of the demo's bag, to the address it came from
    bag = {message_from_bytes(m.raw)["Message-ID"]: m for m in june()}
    for _, m in sent:
        if str(m["Subject"]).startswith("回复："):
            original = bag[m["In-Reply-To"]]
            assert m["To"].addresses[0].addr_spec == original.sender


def test_the_auto_reply_got_no_answer(demo_run):
    directory, _ = demo_run
    auto = [message_from_bytes(m.raw) for m in june() if b"X-Autoreply: yes" in m.raw]
    assert len(auto) == 1
    auto_id = auto[0]["Message-ID"]
    for _, m in _sent(directory):
        assert auto_id not in str(m.get("In-Reply-To", "")) + str(m.get("References", ""))
        assert "自动回复" not in str(m["Subject"])


def test_demo_writes_the_workbook_and_a_config_the_other_commands_read(demo_run):
    directory, _ = demo_run
    book = openpyxl.load_workbook(directory / "汇总.xlsx")
    assert "汇总" in book.sheetnames
    cells = [str(c) for row in book["报送情况"].iter_rows(values_only=True) for c in row if c is not None]
    assert "迎江区总工会" in cells
    assert (directory / "data" / "intake.db").exists()
    log = (directory / "data" / "logs" / "intake.log").read_text(encoding="utf-8")
    assert "邮件 #1 " in log
    proc = intake("--config", str(directory / "config.toml"), "status", "--now", "2020-06-12T09:00", "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"liaison_form"' in proc.stdout


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    proc = intake("demo", "--dir", str(tmp_path), "--speed", "0", timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "已有其他文件" in proc.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_mailbag_speaks_for_roster_units_except_the_stranger_and_the_personal_mailbox():
    with open(EXAMPLE_ROSTER, encoding="utf-8") as f:
        known = {e for row in csv.DictReader(f) for e in row["emails"].split("|")}
    senders = {m.sender for m in june()}
    assert len(senders - known) == 2  # 宿松县's clerk's own mailbox, and nobody's
    units_sending = {m.sender for m in june()} & known
    assert len(units_sending) >= 11
    months = {m.when.month for m in june()}
    assert months == {6}
    assert [m.when for m in june()] == sorted(m.when for m in june())


def test_sent_filenames_are_safe():
    assert sent_filename(7, "回复：a/b\\c:d*e?f\"g<h>i|j") == "007-回复：a_b_c_d_e_f_g_h_i_j.eml"
    assert sent_filename(1, "") == "001-无主题.eml"
    assert sent_filename(2, "  ..  ") == "002-无主题.eml"
    assert len(sent_filename(3, "长" * 200)) == len("003-") + 60 + len(".eml")
    assert "\n" not in sent_filename(4, "a\r\n b")


def test_config_with_replaces_values_and_keeps_comments():
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    out = config_with(text, {"smtp": {"max_per_minute": 0, "host": "127.0.0.1"}})
    assert "max_per_minute = 0   # pacing" in out
    assert 'host = "127.0.0.1"' in out and 'host = "imap.126.com"' in out  # only [smtp] host changed
    with pytest.raises(StarterError):
        config_with(text, {"smtp": {"no_such_key": 1}})


def test_ctrl_c_ends_the_demo_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "demo", "--dir", str(tmp_path / "run"), "--speed", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "发出：" not in line and proc.poll() is None:
            line = proc.stdout.readline()
        proc.send_signal(signal.SIGINT)  # during the pause before the next moment
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert "已中止演示" in err and "Traceback" not in err
    assert len(list((tmp_path / "run" / "sent").iterdir())) >= 4  # what was sent before is kept
