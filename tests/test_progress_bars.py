"""Progress bars on long work, as the admin sees them in a terminal (a real pseudo-terminal),
and none when the output goes to a pipe or a log."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

from tests.conftest import ROOT
from tests.fixtures.commands import run
from tests.test_outages import form_mail

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(setup, *args: str, timeout: float = 300) -> tuple[int, str]:
    """`intake ARGS` with stdout and stderr on a pseudo-terminal 100 columns wide; what it drew."""
    master, slave = pty.openpty()
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path), COLUMNS="100", LINES="30", TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_first_poll_over_a_backlog_and_reprocess_all_show_progress(setup):
    for n in range(24):
        setup.append(form_mail(n + 1))
    code, drawn = in_terminal(setup, "poll")
    assert code == 0, drawn
    assert "收取并保存新邮件" in drawn and "24/24" in drawn
    assert "识别、登记并回复" in drawn
    assert "收取 24 封" in drawn
    code, drawn = in_terminal(setup, "reprocess", "--all")
    assert code == 0, drawn
    assert "重新解析已保存的邮件" in drawn and "24/24" in drawn


def test_no_bars_when_nobody_watches(setup):
    for n in range(21):
        setup.append(form_mail(n + 1))
    proc = run(setup, "poll")
    assert proc.returncode == 0
    assert "收取并保存新邮件" not in proc.stderr + proc.stdout and "━" not in proc.stderr
    assert "收取 21 封" in proc.stdout
