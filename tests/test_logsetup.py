"""The log file: one line per mail on stderr and in <storage>/logs/intake.log, rotated, no passwords."""
from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import zipfile
from datetime import datetime, timezone

from bot import logsetup
from tests.conftest import ROOT
from tests.fixtures.commands import weekly_mail
from tests.fixtures.hostile import attachment_mail
from tests.fixtures.office_files import liaison_columns_xlsx
from tests.servers import PASSWORD

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\S+) (.*)$")
CJK = re.compile(r"[\u4e00-\u9fff]")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    assert line in log and "已登记（桐城市总工会）" in log
    assert PASSWORD not in log and PASSWORD not in proc.stderr


def with_dropdown_extension(data: bytes) -> bytes:
    """The workbook with a sheet extension Excel and WPS write for drop-down lists (x14 data
    validation): openpyxl drops it with a UserWarning on stderr."""
    ext = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           b'<x14:dataValidations count="0"/></ext></extLst>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            member = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                member = member.replace(b"</worksheet>", ext + b"</worksheet>")
            dst.writestr(item, member)
    return out.getvalue()


def test_poll_on_a_fresh_database_prints_only_the_bots_chinese_lines(setup):
    """Nothing from Alembic (its plugin and "Context impl" lines) or openpyxl, and every log
    line of the bot's own in Chinese, its level included; the file log the same."""
    assert not (setup.dir / "intake.db").exists()
    setup.config_path.chmod(0o600)  # else a 提示 line about it comes first
    setup.append(weekly_mail(), datetime(2020, 6, 8, 8, 0, tzinfo=timezone.utc))
    sheet = with_dropdown_extension(liaison_columns_xlsx())
    setup.append(attachment_mail("<x1@example.test>", "潜山市总工会 <qsszgh@example.test>", "潜山市总工会联络员推荐表",
                                 [("附件1.xlsx", sheet, XLSX)]), datetime(2020, 6, 8, 9, 0, tzinfo=timezone.utc))
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-m", "bot", "poll"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    for chatter in ("alembic", "plugin", "Context impl", "Will assume", "Warning", "openpyxl", "Traceback"):
        assert chatter not in err, err
    lines = err.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), err
    for line in lines:
        level, message = LOG_LINE.match(line).groups()
        assert level in logsetup.LEVEL_NAMES.values() and CJK.search(message), line
    assert "数据库结构已建立" in err and "→ 已登记（桐城市总工会）" in err and "→ 已登记（潜山市总工会）" in err
    log = (setup.dir / "store" / "logs" / "intake.log").read_text(encoding="utf-8").splitlines()
    assert log and all(line.split()[2] in logsetup.LEVEL_NAMES.values() for line in log), log

    # a command that only reads opens the database quietly too
    proc = subprocess.run([sys.executable, "-m", "bot", "status", "--json"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""


def test_the_level_is_chinese_and_the_exception_text_stays(tmp_path):
    logger = _logger("levels")
    path = logsetup.add_file_log(tmp_path, logger=logger)
    logger.warning("发送失败，稍后重试")
    try:
        raise ConnectionResetError("Connection reset by peer")
    except ConnectionResetError:
        logger.exception("IMAP 连接中断")
    text = path.read_text(encoding="utf-8")
    assert " 警告 test.logsetup.levels 发送失败，稍后重试" in text and " 错误 test.logsetup.levels IMAP 连接中断" in text
    assert "ConnectionResetError: Connection reset by peer" in text  # as the library said it
    assert "WARNING" not in text and "ERROR" not in text
