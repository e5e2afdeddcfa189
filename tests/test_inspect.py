"""`intake inspect` as an admin runs it: a subprocess on .eml and attachment files, compared with
what a real poll (Dovecot, `intake poll`, `intake messages --json`) makes of the same mail; no
database, storage folder, mailbox or network touched."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect as sa_inspect

from bot.forms.blank_forms import fill_liaison_xlsx, fill_progress_docx, fill_progress_xlsx
from bot.forms.readers.libreoffice import convert
from tests.conftest import ROOT, SAMPLES
from tests.fixtures.mails import build_mail, forwarded, zip_bomb, zip_bytes
from tests.fixtures.office_files import LIAISON_VALUES, expected_messages, png_image, sample_attachments

WHEN = datetime(2020, 6, 20, 2, 0, tzinfo=timezone.utc)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPECTED = expected_messages()


def intake(setup, *args, wrap=(), timeout=300):
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    return subprocess.run([*wrap, sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def progress_values() -> tuple[dict[str, str], dict[str, str]]:
    """The 岳西 sample's 附件2 as typed, with one blank wrong (若干) and one approximate (约50)."""
    m = next(m for m in EXPECTED.values() if m["key"] == "p-yuex-progress")
    values = {k: "" if v is None else str(v) for k, v in m["values"].items() if not k.startswith("header.")}
    header = {k: v for k, v in m["values"].items() if k.startswith("header.")}
    values["inspection.film_screenings"] = "若干"
    values["inspection.violations"] = "约50"
    return values, header


def built_mails() -> dict[str, bytes]:
    """Mail as units send it, built here: 附件2 as .docx (and as old Word .doc), 附件1 as .xlsx,
    a zip holding a 附件2 workbook and a photo, a forwarded mail, a zip bomb."""
    values, header = progress_values()
    docx = fill_progress_docx(values, header)
    liaison = dict(LIAISON_VALUES)
    inner = build_mail(subject="潜山市总工会联络员推荐表", sender="潜山市总工会 <qsszgh@example.test>",
                       attachments=[("附件1.xlsx", fill_liaison_xlsx(liaison), XLSX)],
                       message_id="<inner@example.test>", body="请查收。")
    sample_docx = next((n, d) for n, d in sample_attachments("001.eml") if n.endswith(".docx"))
    return {
        "progress-docx": build_mail(subject="岳西县总工会进展情况统计表", sender="岳西县总工会 <yuexzgh@example.test>",
                                    attachments=[("附件2：进展情况统计表.docx", docx, DOCX)],
                                    message_id="<i-docx@example.test>"),
        "progress-doc": build_mail(subject="岳西县总工会进展情况统计表（doc）", sender="岳西县总工会 <yuexzgh@example.test>",
                                   attachments=[("附件2.doc", convert(docx, "docx", "doc", timeout=120),
                                                 "application/msword")],
                                   message_id="<i-doc@example.test>"),
        "liaison-xlsx": build_mail(subject="潜山市总工会联络员推荐表", sender="潜山市总工会 <qsszgh@example.test>",
                                   attachments=[("联络员推荐表.xlsx", fill_liaison_xlsx(liaison), XLSX)],
                                   message_id="<i-xlsx@example.test>"),
        "zip": build_mail(subject="宜城机械公司工会材料", sender="宜城机械工会 <ycjx_gh@example.test>",
                          attachments=[("材料.zip", zip_bytes([
                              ("附件2/附件2：进展情况统计表.xlsx", fill_progress_xlsx(values, header)),
                              ("现场照片.png", png_image(400, 300))]), "application/zip")],
                          message_id="<i-zip@example.test>"),
        "forwarded": forwarded(inner, outer_headers=(
            "From: =?utf-8?B?5pyJ5Lq6?= <zhangsan1990@example.test>", "To: aqghljb@126.com",
            "Subject: Fw: 联络员推荐表", "Message-ID: <i-fwd@example.test>",
            "Date: Wed, 03 Jun 2020 09:20:41 +0800", "MIME-Version: 1.0")),
        "bomb": build_mail(subject="转发：联络员推荐表", sender="太湖县总工会 <thxzgh@example.test>",
                                     attachments=[(sample_docx[0], sample_docx[1], DOCX),
                                                  ("炸弹.zip", zip_bomb(300 * 1024 * 1024), "application/zip")],
                                     message_id="<i-bomb@example.test>"),
    }


def nothing_written(setup) -> None:
    """No storage folder, no database: the fresh config's places are still empty."""
    assert not (setup.dir / "store").exists()
    url = setup.config().database_url
    if url.startswith("sqlite"):
        assert not (setup.dir / "intake.db").exists()
    else:
        engine = create_engine(url)
        try:
            assert sa_inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


def mailbox_state(setup) -> list[tuple[int, tuple]]:
    with setup.dovecot.client(setup.user) as c:
        c.select_folder("INBOX", readonly=True)
        flags = c.get_flags(c.search("ALL"))
        return sorted((uid, tuple(sorted(f))) for uid, f in flags.items())


@pytest.fixture(scope="module")
def mails(tmp_path_factory) -> dict[str, Path]:
    """Every sample mail and every built one, saved as .eml files (built once for the module)."""
    folder = tmp_path_factory.mktemp("eml")
    out = {}
    for path in sorted((SAMPLES / "messages").glob("*.eml")):
        out[path.stem] = path
    for name, raw in built_mails().items():
        out[name] = folder / f"{name}.eml"
        out[name].write_bytes(raw)
    return out


def test_inspect_reads_mail_as_the_poll_does(make_setup, mails):
    setup = make_setup()
    for path in mails.values():
        setup.append(path.read_bytes(), WHEN)
    before = mailbox_state(setup)

    proc = intake(setup, "inspect", "--json", *map(str, mails.values()))
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    nothing_written(setup)
    assert mailbox_state(setup) == before  # nothing fetched, flagged, moved or deleted
    assert setup.sent == []

    # Offline, without a network namespace: the same reading.
    offline = intake(setup, "inspect", "--json", *map(str, mails.values()), wrap=("unshare", "-n"))
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout) == docs

    assert [d["file"] for d in docs] == [str(p) for p in mails.values()]
    assert all(d["kind"] == "mail" and d["error"] is None for d in docs)

    poll = intake(setup, "poll")
    assert poll.returncode == 0, poll.stderr
    rows = {r["message_id"]: r for r in json.loads(intake(setup, "messages", "--json").stdout)}
    assert len(rows) == len(docs)
    for doc in docs:
        row = rows[doc["message_id"]]
        assert (doc["subject"], doc["from"]) == (row["subject"], row["from"]), doc["file"]
        assert doc["attachments"] == row["attachments"], doc["file"]
        assert (doc["machine"] is not None) == (row["outcome"] == "auto_reply"), doc["file"]
        if doc["body"] is not None and doc["body"]["status"] == "parsed":
            assert "weekly_report" in row["kinds"], doc["file"]

    by_name = {Path(d["file"]).stem: d for d in docs}
    progress = by_name["progress-docx"]["attachments"][0]
    assert progress["kind"] == "progress_table" and progress["status"] == "parsed"
    assert [e["key"] for e in progress["errors"]] == ["inspection.film_screenings"]
    assert [(w["key"], w["read_as"]) for w in progress["warnings"]] == [("inspection.violations", 50)]
    assert by_name["progress-doc"]["attachments"][0]["values"] == progress["values"]
    zipped = by_name["zip"]
    assert [(p["filename"], p["origin"]) for p in zipped["parts"]] == [
        ("附件2：进展情况统计表.xlsx", ["材料.zip"]), ("现场照片.png", ["材料.zip"])]
    assert zipped["attachments"][0]["values"] == progress["values"]
    fwd = by_name["forwarded"]
    assert fwd["from_name"] == "有人"
    assert fwd["attachments"][0]["kind"] == "liaison_form" and fwd["attachments"][0]["values"]["name"] == "高玉兰"
    assert fwd["parts"][0]["origin"] and fwd["parts"][0]["filename"] == "附件1.xlsx"
    bomb = by_name["bomb"]
    assert bomb["problems"] and "炸弹.zip" in "".join(bomb["problems"])
    assert by_name["005"]["machine"] and by_name["005"]["attachments"] == []
    assert by_name["004"]["body"]["kind"] == "weekly_report"


def test_inspect_text_listing(setup, mails):
    proc = intake(setup, "inspect", str(mails["progress-docx"]), str(mails["005"]), str(mails["zip"]))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"文件：{mails['progress-docx']}" in out and "类型：邮件" in out
    assert "主题：岳西县总工会进展情况统计表" in out
    assert "状态：已读取" in out and "读取的数值（55 项）" in out
    assert "错误：" in out and "若干" in out and "提醒：" in out and "按 50 记录" in out
    assert "机器邮件：" in out
    assert "（来自 材料.zip）" in out
    nothing_written(setup)


def test_bare_attachment_reads_as_inside_a_mail(setup, mails, tmp_path):
    values, header = progress_values()
    docx = tmp_path / "附件2：进展情况统计表.docx"
    docx.write_bytes(fill_progress_docx(values, header))
    mail_doc = json.loads(intake(setup, "inspect", "--json", str(mails["progress-docx"])).stdout)[0]
    # an extensionless saved mail is sniffed as mail; the .docx is read on its own
    saved = tmp_path / "saved-mail"
    saved.write_bytes(mails["progress-docx"].read_bytes())
    proc = intake(setup, "inspect", "--json", str(docx), str(saved))
    assert proc.returncode == 0, proc.stderr
    bare, sniffed = json.loads(proc.stdout)
    assert bare["kind"] == "attachment" and bare["subject"] is None and bare["from"] is None
    assert len(bare["attachments"]) == 1
    assert {**bare["attachments"][0], "filename": None} == {**mail_doc["attachments"][0], "filename": None}
    assert bare["attachments"][0]["filename"] == docx.name
    assert sniffed["kind"] == "mail" and sniffed["attachments"] == mail_doc["attachments"]
    text = intake(setup, "inspect", str(docx)).stdout
    assert "类型：附件文件" in text and "“安全生产月”活动进展情况统计表（附件2）" in text
    nothing_written(setup)


def test_unreadable_files_are_one_line_each(setup, mails, tmp_path):
    missing = tmp_path / "没有这个文件.eml"
    proc = intake(setup, "inspect", str(missing))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"错误：文件不存在：{missing}" and proc.stdout == ""

    proc = intake(setup, "inspect", "--json", str(mails["001"]), str(tmp_path), str(missing))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert lines == [f"错误：{tmp_path} 是文件夹，请给出 .eml 邮件或附件文件", f"错误：文件不存在：{missing}"]
    docs = json.loads(proc.stdout)
    assert [d["error"] is None for d in docs] == [True, False, False]
    assert docs[0]["attachments"][0]["kind"] == "liaison_form"
    nothing_written(setup)


def test_inspect_needs_a_file(setup):
    proc = intake(setup, "inspect")
    assert proc.returncode == 2

