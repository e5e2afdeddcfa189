"""The hostile files of issue 17 through the path a user's mail takes: appended to the real
Dovecot, taken by `intake poll` (a subprocess, reading in its own process as the daemon does for
a small batch), answered through the real SMTP sink, read back with `intake messages --json`.
Each case is followed by an ordinary weekly report, accepted: the poll carried on past it.

One class of the issue a case: text amplification (a shared-string bomb), the merge count that
used to stall the reader, LibreOffice started for Outlook body fragments (counted by a `soffice`
on PATH that logs each start), memory (a document whose tree needs more than the sandbox's
limit), the wall-clock budget (a million-cell workbook under a one-second budget), and the
Latin-1 text once called damaged. Batched: one poll for all but the time-budget case.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from tests.conftest import ROOT, new_setup
from tests.fixtures import hostile_files as H
from tests.fixtures.commands import weekly_mail
from tests.fixtures.hostile import XLSX_TYPE, DOCX_TYPE, attachment_mail
from tests.test_hostile import SENDER, UNIT, UNLIMITED_REPLIES, ack_for, ack_text

WHEN = datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)


def soffice_logger(directory: Path) -> tuple[Path, Path]:
    """A `soffice` first on PATH that notes each start and runs the real one."""
    import shutil

    real = shutil.which("soffice")
    assert real, "LibreOffice is installed for the suite (scripts/test.sh)"
    log = directory / "soffice.log"
    wrapper = directory / "bin" / "soffice"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return wrapper.parent, log


def poll(setup, path_dir: Path) -> None:
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path), PATH=f"{path_dir}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "bot", "poll"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]


def messages(setup) -> dict[str, dict]:
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-m", "bot", "messages", "--json"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {row["message_id"]: row for row in json.loads(proc.stdout)}


def fragments_mail(mid: str) -> bytes:
    """A weekly report written in the body, which Outlook split into the body and four
    ATT0000n.htm fragments around the pictures the clerk pasted."""
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = "aqghljb@126.com"
    msg["Subject"] = f"{UNIT}第二周周报"
    msg["Message-ID"] = mid
    msg["Date"] = "Tue, 09 Jun 2020 10:00:00 +0800"
    msg.set_content("各位领导：\n本周我会开展隐患排查3次，参加职工120人，组织观看警示教育片2场。\n", charset="utf-8")
    for n in range(1, 5):
        msg.add_attachment(H.outlook_fragment(n), maintype="text", subtype="html", filename=H.fragment_name(n))
    return msg.as_bytes(policy=SMTP)


CASES = {
    "shared-string-bomb": ("附件2进展情况统计表.xlsx", H.shared_string_bomb, XLSX_TYPE),
    "merges-50k": ("数据汇总.xlsx", H.many_merges, XLSX_TYPE),
    "latin1-text": ("notes.txt", lambda: H.LATIN1_TEXT.encode("latin-1"), "text/plain"),
    "huge-main-part": ("活动材料.docx", H.huge_main_part, DOCX_TYPE),
}


def follower(name: str) -> str:
    return f"<after-{name}@files.test>"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, dovecot, smtp_sink):
    base = tmp_path_factory.mktemp("hostile-files")
    setup = new_setup(base, dovecot, smtp_sink, extra=UNLIMITED_REPLIES)
    bin_dir, log = soffice_logger(base)
    names = [*CASES, "fragments"]
    for n, name in enumerate(names):
        if name == "fragments":
            raw = fragments_mail("<fragments@files.test>")
        else:
            filename, build, ctype = CASES[name]
            raw = attachment_mail(f"<{name}@files.test>", SENDER, f"报送材料（{name}）", [(filename, build(), ctype)])
        setup.append(raw, WHEN)
        setup.append(weekly_mail(mid=follower(name), subject=f"{UNIT}第二周周报（{n}）",
                                 body=f"本周开展隐患排查{n + 1}次，参加职工{100 + n}人，组织观看警示教育片{n + 2}场。"), WHEN)
    poll(setup, bin_dir)
    return setup, messages(setup), log


def outcome(batch, name: str) -> dict:
    _, rows, _ = batch
    after = rows[follower(name)]
    assert after["outcome"] == "accepted" and after["kinds"] == ["weekly_report"], after
    return rows[f"<{name}@files.test>"]


def test_shared_string_bomb_is_refused_for_its_cell_not_called_damaged(batch):
    setup, _, _ = batch
    row = outcome(batch, "shared-string-bomb")
    att, = row["attachments"]
    assert att["status"] == "error" and att["reason"] == "表格单元格文字超过 32767 字（Excel 上限），未读取", att
    assert row["outcome"] == "needs_review" and att["reason"] in row["reason"]
    assert att["reason"] in ack_text(ack_for(setup, "<shared-string-bomb@files.test>"))


def test_fifty_thousand_merges_are_read(batch):
    row = outcome(batch, "merges-50k")
    att, = row["attachments"]
    # read to the end (no time limit reached, nothing called damaged): a table, not a form
    assert att["status"] == "skipped" and att["reason"] == "未识别为本次活动的表格或材料", att


def test_outlook_fragments_are_skipped_without_starting_libreoffice(batch):
    _, _, log = batch
    row = outcome(batch, "fragments")
    assert row["outcome"] == "accepted" and "weekly_report" in row["kinds"], row
    fragments = [a for a in row["attachments"] if a["filename"].startswith("ATT")]
    assert [a["filename"] for a in fragments] == [H.fragment_name(n) for n in range(1, 5)]
    for att in fragments:
        assert att["status"] == "skipped" and "正文片段" in att["reason"] and "未转换" in att["reason"], att
    assert not log.exists() or log.read_text() == "", log.read_text()


def test_a_document_too_big_for_memory_is_stopped_at_the_limit(batch):
    setup, _, _ = batch
    row = outcome(batch, "huge-main-part")
    att, = row["attachments"]
    assert att["status"] == "error" and att["reason"] == "文件读取所需内存超过限制（1024 MB），已停止", att
    assert row["outcome"] == "needs_review"
    assert att["reason"] in ack_text(ack_for(setup, "<huge-main-part@files.test>"))


def test_latin1_text_is_text_in_an_unknown_charset(batch):
    row = outcome(batch, "latin1-text")
    att, = row["attachments"]
    assert att["status"] == "skipped", att
    assert att["reason"] == "文本文件编码无法识别（非 UTF-8/GB18030），按未知编码文本保存"
    assert "损坏" not in json.dumps(row, ensure_ascii=False)


def test_a_read_stops_at_the_time_budget(make_setup, tmp_path):
    setup = make_setup(extra=UNLIMITED_REPLIES.replace("[limits]\n", "[limits]\nconversion_timeout = 1\n"))
    setup.append(attachment_mail("<slow@files.test>", SENDER, "报送材料（大表）",
                                 [("数据汇总.xlsx", H.big_table(4000, 100), XLSX_TYPE)]), WHEN)
    setup.append(weekly_mail(mid="<after-slow@files.test>"), WHEN)
    bin_dir, _ = soffice_logger(tmp_path)
    poll(setup, bin_dir)
    rows = messages(setup)
    assert rows["<after-slow@files.test>"]["outcome"] == "accepted"
    row = rows["<slow@files.test>"]
    att, = row["attachments"]
    assert att["status"] == "error" and att["reason"] == "文件读取超过时间限制（1 秒），已停止", att
    assert row["outcome"] == "needs_review" and att["reason"] in row["reason"]
    assert att["reason"] in ack_text(ack_for(setup, "<slow@files.test>"))
