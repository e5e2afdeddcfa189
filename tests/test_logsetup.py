"""The log file: one line per mail on stderr and in <storage>/logs/intake.log, rotated, no passwords."""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from datetime import datetime, timezone

from bot import logsetup
from tests.conftest import ROOT
from tests.servers import PASSWORD
from tests.fixtures.commands import weekly_mail


def _logger(name: str) -> logging.Logger:
    logger = logging.getLogger(f"test.logsetup.{name}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_file_log_redacts_secrets_everywhere(tmp_path):
    logger = _logger("redact")
    screen = io.StringIO()
    logger.addHandler(logging.StreamHandler(screen))
    path = logsetup.add_file_log(tmp_path / "logs", secrets=["hunter2-code", ""], logger=logger)
    assert path == tmp_path / "logs" / "intake.log"
    logger.info("登录 %s 用 %s", "aqghljb@126.com", "hunter2-code")
    try:
        raise ValueError("server said: bad password hunter2-code")
    except ValueError:
        logger.exception("登录失败")
    for handler in logger.handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "登录 aqghljb@126.com 用 ******" in text and "bad password ******" in text
    assert "hunter2" not in text and "hunter2" not in screen.getvalue()
    assert "aqghljb@126.com" in screen.getvalue()


def test_file_log_rotates(tmp_path, monkeypatch):
    monkeypatch.setattr(logsetup, "MAX_BYTES", 2000)
    logger = _logger("rotate")
    path = logsetup.add_file_log(tmp_path, logger=logger)
    for i in range(200):
        logger.info("邮件 #%d 处理完毕", i)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[:2] == ["intake.log", "intake.log.1"] and len(names) == 1 + logsetup.BACKUPS
    assert path.stat().st_size <= 2000


def test_unwritable_log_folder_warns_and_carries_on(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert logsetup.add_file_log(blocker / "logs", logger=_logger("blocked")) is None
    assert "无法写入日志文件" in capsys.readouterr().err


def test_poll_logs_each_mail_to_stderr_and_the_file(setup):
    setup.append(weekly_mail(), datetime(2020, 6, 8, 8, 0, tzinfo=timezone.utc))
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-m", "bot", "poll"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = "邮件 #1 tcszgh@example.test"
    assert line in proc.stderr
    log = (setup.dir / "store" / "logs" / "intake.log").read_text(encoding="utf-8")
    assert line in log and "accepted（桐城市总工会）" in log
    assert PASSWORD not in log and PASSWORD not in proc.stderr
