"""Passwords never reach a log line, an error line or `intake check`'s output; a config file
others can read is pointed out."""
from __future__ import annotations

import os
import re

from tests.servers import free_port
from tests.fixtures.commands import run, weekly_mail

SECRET = "Sq7-wr0ng-Zx9!"  # a wrong IMAP/SMTP authorization code, as an admin might mistype it
DB_SECRET = "Db-Pa55-w0rd"


def _everything(setup, *procs) -> str:
    logs = "".join(p.read_text(encoding="utf-8") for p in (setup.dir / "store" / "logs").glob("intake.log*"))
    return logs + "".join(p.stdout + p.stderr for p in procs)


def test_a_wrong_password_is_named_never_shown(setup):
    setup.append(weekly_mail())
    env = {"INTAKE_TEST_IMAP_PASSWORD": SECRET}
    poll = run(setup, "poll", env_extra=env)
    check = run(setup, "check", env_extra=env)
    assert poll.returncode == 1 and "IMAP 登录失败" in poll.stderr
    assert check.returncode == 1 and "IMAP 登录失败" in check.stdout
    assert (setup.dir / "store" / "logs" / "intake.log").exists()
    text = _everything(setup, poll, check)
    assert SECRET not in text and "Sq7" not in text
    assert "Traceback" not in text


def test_a_database_password_is_never_shown(setup):
    text = setup.config_path.read_text(encoding="utf-8")
    url_line = re.compile(r'^url = ".*"$', re.M)
    unreachable = url_line.sub(f'url = "postgresql+psycopg://bot:{DB_SECRET}@127.0.0.1:{free_port()}/intake"', text, 1)
    malformed = url_line.sub(f'url = "postgresql://bot:{DB_SECRET}@127.0.0.1:port/intake"', text, 1)
    assert unreachable != text and malformed != text
    procs = []
    for name, body in (("unreachable.toml", unreachable), ("malformed.toml", malformed)):
        path = setup.dir / name
        path.write_text(body, encoding="utf-8")
        for args in (("status",), ("check",), ("poll",)):
            proc = run(setup, *args, "--config", str(path))
            assert proc.returncode == 1, proc.stderr
            procs.append(proc)
    assert any("数据库" in p.stderr + p.stdout for p in procs)
    text = _everything(setup, *procs)
    assert DB_SECRET not in text and "Traceback" not in text


def test_a_config_file_others_can_read_is_pointed_out(setup):
    os.chmod(setup.config_path, 0o644)
    assert "可被其他用户读取" in run(setup, "poll").stderr
    assert "可被其他用户读取" in run(setup, "check").stdout
    os.chmod(setup.config_path, 0o600)
    assert "可被其他用户读取" not in run(setup, "poll").stderr
    assert "可被其他用户读取" not in run(setup, "check").stdout
