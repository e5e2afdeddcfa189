"""The `intake` command as a user runs it: a subprocess, real servers, exit codes, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from tests.conftest import ROOT
from tests.fixtures.commands import run, weekly_mail
from tests.servers import Daemon, free_port


def test_check_passes_against_real_servers(setup):
    proc = run(setup, "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "IMAP 登录成功" in proc.stdout and "SMTP 登录成功" in proc.stdout


def test_check_names_a_wrong_password(setup):
    proc = run(setup, "check", env_extra={"INTAKE_TEST_IMAP_PASSWORD": "wrong-code"})
    assert proc.returncode == 1
    assert "IMAP 登录失败" in proc.stdout and "授权码" in proc.stdout
    assert "wrong-code" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_expected_failures_are_one_line(setup):
    bad = setup.dir / "bad.toml"
    bad.write_text(setup.config_path.read_text(encoding="utf-8").replace('security = "none"', 'security = "tls"', 1),
                   encoding="utf-8")
    proc = run(setup, "poll", "--config", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "[mailbox] security" in proc.stderr
    down = setup.dir / "down.toml"
    down.write_text(setup.config_path.read_text(encoding="utf-8").replace(
        f"port = {setup.dovecot.port}", f"port = {free_port()}"), encoding="utf-8")
    proc = run(setup, "--config", str(down), "poll")
    assert proc.returncode == 1 and "连接被拒绝" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(setup, "messages", "--state", "nonsense")
    assert proc.returncode == 2


def test_run_daemon_answers_with_idle_and_stops_on_sigterm(setup):
    tc = "tcszgh@example.test"
    with Daemon(setup.config_path, ROOT) as daemon:
        setup.append(weekly_mail(), datetime(2020, 6, 8, 8, 0, tzinfo=timezone.utc))
        assert daemon.wait_until(lambda: len(setup.sent_to(tc)) >= 1)
        # a second mail while the daemon sits in IDLE
        setup.append(weekly_mail(mid="<w2@example.test>", subject="桐城市总工会第二周周报",
                                 body="本周组织观看警示教育片2场，120人次参加；开展安全宣传进企业活动1场。"),
                     datetime(2020, 6, 9, 8, 0, tzinfo=timezone.utc))
        assert daemon.wait_until(lambda: len(setup.sent_to(tc)) >= 2)
        assert daemon.stop() == 0, daemon.err
    assert len(setup.sent_to(tc)) == 2
    assert "已退出" in daemon.err and "Traceback" not in daemon.err
    rows = json.loads(run(setup, "messages", "--json").stdout)
    assert [r["outcome"] for r in rows] == ["accepted", "accepted"]
    assert all(r["kinds"] == ["weekly_report"] for r in rows)


def _bare(*args):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_help_and_usage_errors_are_in_chinese():
    top = _bare("--help")
    assert top.returncode == 0
    assert top.stdout.startswith("用法: intake [选项] 命令 [参数]...")
    assert "选项:" in top.stdout and "命令:" in top.stdout and "显示本帮助并退出。" in top.stdout
    sub = _bare("status", "--help")
    assert sub.stdout.startswith("用法: intake status [选项]")
    for english in ("Usage:", "Options:", "Commands:", "Show this message"):
        assert english not in top.stdout + sub.stdout
    bad_option = _bare("status", "--bogus")
    assert bad_option.returncode == 2
    assert "错误：没有这个选项：--bogus" in bad_option.stderr
    assert "运行 'intake status --help' 查看帮助。" in bad_option.stderr
    typo = _bare("statu")
    assert typo.returncode == 2
    assert "错误：没有这个命令：statu" in typo.stderr and "status" in typo.stderr
    missing = _bare("assign")
    assert missing.returncode == 2 and "错误：缺少参数 'MESSAGE_ID'" in missing.stderr
    assert "Error" not in bad_option.stderr + typo.stderr + missing.stderr
