"""Hostile mail through the path a user's mail takes: appended to the real Dovecot, taken by
`intake poll` (a subprocess), answered through the real SMTP sink, read back with
`intake messages --json`. Each case is followed in the mailbox by an ordinary weekly report;
that it is accepted shows the daemon carried on past the hostile one.

Batched: the hostile mails and their followers are polled once for the module (a bomb or a
5,000-part mail costs seconds, not one poll each); the memory cases each get their own mailbox
and measure the poll's peak RSS with getrusage(RUSAGE_CHILDREN) in a small wrapper process.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT, SAMPLES, new_setup
from tests.fixtures import hostile as H
from tests.fixtures.office_files import liaison_docx
from tests.fixtures.commands import weekly_mail

UNIT = "桐城市总工会"
UNIT_ADDR = "tcszgh@example.test"
SENDER = f"{UNIT} <{UNIT_ADDR}>"
NOW = "2020-06-12T09:00"
WHEN = datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)  # the mail's INTERNALDATE
UNLIMITED_REPLIES = "[limits]\nmax_auto_replies_per_day = 0\n"


def cli(setup, *args, timeout=300):
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return proc


def messages(setup) -> dict[str, dict]:
    rows = json.loads(cli(setup, "messages", "--json").stdout)
    return {row["message_id"]: row for row in rows}


def ack_for(setup, mid: str):
    """The acknowledgement the sink received for message `mid` (raw headers kept: compat32)."""
    found = [r for r in setup.sent if message_from_bytes(r.data, policy=compat32)["In-Reply-To"] == mid]
    assert len(found) == 1, f"{len(found)} acknowledgements for {mid}"
    return found[0]


def ack_text(received) -> str:
    """The acknowledgement's plain text (its only text part, or the text/plain alternative)."""
    body = received.message.get_body(("plain",))
    assert body is not None, received.data[:2000]
    return body.get_content()


# ---------------------------------------------------------------------------- the batch

def _cases() -> dict[str, bytes]:
    docx, xlsx = liaison_docx(), H.xlsx_base()
    files = {
        "docx-huge-member": ("附件1联络员推荐表.docx", H.bomb_huge_member(docx, "word"), H.DOCX_TYPE),
        "docx-many-members": ("附件1联络员推荐表.docx", H.bomb_many_members("word"), H.DOCX_TYPE),
        "docx-high-ratio": ("附件1联络员推荐表.docx", H.bomb_high_ratio(docx, "word"), H.DOCX_TYPE),
        "xlsx-huge-member": ("附件2进展情况统计表.xlsx", H.bomb_huge_member(xlsx, "xl"), H.XLSX_TYPE),
        "xlsx-many-members": ("附件2进展情况统计表.xlsx", H.bomb_many_members("xl"), H.XLSX_TYPE),
        "xlsx-high-ratio": ("附件2进展情况统计表.xlsx", H.bomb_high_ratio(xlsx, "xl"), H.XLSX_TYPE),
        "docx-billion-laughs": ("附件1联络员推荐表.docx", H.laughs_docx(), H.DOCX_TYPE),
        "docx-xxe": ("附件1联络员推荐表.docx", H.xxe_docx(), H.DOCX_TYPE),
        "xlsx-billion-laughs": ("附件2进展情况统计表.xlsx", H.laughs_xlsx(), H.XLSX_TYPE),
        "xlsx-xxe": ("附件2进展情况统计表.xlsx", H.xxe_xlsx(), H.XLSX_TYPE),
        "docx-corrupt": ("附件1联络员推荐表.docx", H.corrupt_docx(), H.DOCX_TYPE),
        "docx-encrypted": ("附件1联络员推荐表.docx", H.encrypted_docx(), H.DOCX_TYPE),
    }
    mails = {name: H.attachment_mail(f"<{name}@hostile.test>", SENDER, f"报送材料（{name}）", [f])
             for name, f in files.items()}
    mails["many-parts"] = H.many_tiny_parts("<many-parts@hostile.test>", SENDER)
    mails["nested-50"] = H.nested_rfc822("<nested-50@hostile.test>", SENDER)
    mails["filenames"], _ = H.hostile_filenames("<filenames@hostile.test>", SENDER)
    mails["injection"] = H.injection_mail("<injection@hostile.test>", UNIT_ADDR)
    return mails


CASES = ["docx-huge-member", "docx-many-members", "docx-high-ratio", "xlsx-huge-member", "xlsx-many-members",
         "xlsx-high-ratio", "docx-billion-laughs", "docx-xxe", "xlsx-billion-laughs", "xlsx-xxe", "docx-corrupt",
         "docx-encrypted", "many-parts", "nested-50", "filenames", "injection"]


def follower_id(name: str) -> str:
    return f"<after-{name}@hostile.test>"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, dovecot, smtp_sink):
    setup = new_setup(tmp_path_factory.mktemp("hostile"), dovecot, smtp_sink, extra=UNLIMITED_REPLIES)
    mails = _cases()
    assert sorted(mails) == sorted(CASES)
    for n, name in enumerate(CASES):
        setup.append(mails[name], WHEN)
        setup.append(weekly_mail(mid=follower_id(name), subject=f"{UNIT}第二周周报（{n}）",
                                 body=f"本周开展隐患排查{n + 1}次，参加职工{100 + n}人，组织观看警示教育片{n + 2}场。"), WHEN)
    cli(setup, "poll")
    return setup, messages(setup)


def outcome(batch, name: str) -> dict:
    """The case's recorded outcome, after checking the mail after it was processed normally."""
    setup, rows = batch
    after = rows[follower_id(name)]
    assert after["outcome"] == "accepted" and after["kinds"] == ["weekly_report"], after
    return rows[f"<{name}@hostile.test>"]


def single_file(row: dict) -> dict:
    assert len(row["attachments"]) == 1, row["attachments"]
    return row["attachments"][0]


def assert_refused(batch, name: str, *words: str) -> dict:
    """A form file that must not be opened: recorded as an error with a Chinese reason naming
    why, the message left for review with that reason, and the unit told so."""
    setup, _ = batch
    row = outcome(batch, name)
    att = single_file(row)
    assert att["status"] == "error" and att["values"] == {} and att["reason"], att
    assert all(w in att["reason"] for w in words), att["reason"]
    assert row["outcome"] == "needs_review" and att["reason"] in row["reason"], row
    assert row["unit"] == UNIT and row["acknowledged"]
    assert att["reason"] in ack_text(ack_for(setup, f"<{name}@hostile.test>"))
    return att


@pytest.mark.parametrize("name", ["docx-huge-member", "xlsx-huge-member"])
def test_zip_bomb_with_a_huge_member_is_not_opened(batch, name):
    assert_refused(batch, name, "疑为压缩炸弹", "未打开")


@pytest.mark.parametrize("name", ["docx-high-ratio", "xlsx-high-ratio"])
def test_zip_bomb_with_a_high_ratio_is_not_opened(batch, name):
    assert_refused(batch, name, "压缩比异常", "疑为压缩炸弹")


@pytest.mark.parametrize("name", ["docx-many-members", "xlsx-many-members"])
def test_zip_with_too_many_members_is_not_opened(batch, name):
    assert_refused(batch, name, "条目过多", "疑为恶意文件")


@pytest.mark.parametrize("name", ["docx-billion-laughs", "xlsx-billion-laughs", "docx-xxe", "xlsx-xxe"])
def test_xml_entities_are_refused_not_expanded(batch, name):
    setup, _ = batch
    att = assert_refused(batch, name)  # the reason's words: the two tests below
    # nothing of the entity's target (or of the expansion) was read, stored or mailed back
    ack = ack_text(ack_for(setup, f"<{name}@hostile.test>"))
    for text in (json.dumps(att, ensure_ascii=False), ack):
        assert "root:" not in text and "/bin/" not in text and "lollol" not in text


@pytest.mark.parametrize("name", ["xlsx-billion-laughs", "docx-xxe", "xlsx-xxe"])
def test_xml_entities_are_named_as_such(batch, name):
    assert_refused(batch, name, "不安全的XML实体")


def test_billion_laughs_in_a_docx_is_named_as_an_entity_attack(batch):
    assert_refused(batch, "docx-billion-laughs", "不安全的XML实体")


def test_corrupt_docx_is_named_corrupt(batch):
    assert_refused(batch, "docx-corrupt", "损坏")


def test_password_protected_docx_asks_for_the_password_to_be_removed(batch):
    assert_refused(batch, "docx-encrypted", "密码", "去掉密码")


def test_five_thousand_parts_are_cut_at_the_part_limit(batch):
    setup, _ = batch
    row = outcome(batch, "many-parts")
    reason = "邮件的组成部分超过 2000 个，其余部分未读取"
    assert row["outcome"] == "needs_review" and reason in row["reason"]
    assert len(row["attachments"]) < 2000
    assert reason in ack_text(ack_for(setup, "<many-parts@hostile.test>"))


def test_fifty_nested_forwards_stop_at_the_depth_limit(batch):
    setup, _ = batch
    row = outcome(batch, "nested-50")
    reason = "邮件嵌套超过 10 层，更深处的内容未读取"
    assert row["outcome"] == "needs_review" and reason in row["reason"]
    assert reason in ack_text(ack_for(setup, "<nested-50@hostile.test>"))


def test_hostile_file_names_are_cleaned_and_never_paths(batch):
    setup, _ = batch
    row = outcome(batch, "filenames")
    names = [a["filename"] for a in row["attachments"]]
    assert names[:3] == ["evil.docx", "evil.docx", "a b.docx"]
    assert len(names[3]) == 255 and names[3].endswith(".docx") and names[3].startswith("很长的文件名")
    for name in names:
        assert "/" not in name and "\\" not in name and "\x00" not in name and ".." not in name
    # every file was read as the 附件1 it is, and the sender's names never became paths
    assert [a["kind"] for a in row["attachments"]] == ["liaison_form"] * 4
    assert row["outcome"] in ("accepted", "duplicate")
    stored = [p for p in (setup.dir / "store").rglob("*") if p.is_file()]
    assert stored and all(p.name.split(".")[0].isalnum() or p.name.endswith(".db") for p in stored)
    assert not any("evil" in str(p) for p in setup.dir.rglob("*"))
    ack = ack_text(ack_for(setup, "<filenames@hostile.test>"))
    assert "evil.docx" in ack and "\x00" not in ack and "../" not in ack


def test_line_breaks_in_subject_and_sender_name_inject_no_header(batch):
    setup, _ = batch
    row = outcome(batch, "injection")
    assert row["outcome"] == "accepted" and row["unit"] == UNIT
    assert "\n" not in row["subject"] and "\r" not in row["subject"]
    received = ack_for(setup, "<injection@hostile.test>")
    assert received.rcpt_tos == [UNIT_ADDR]
    head = received.data.split(b"\r\n\r\n", 1)[0]
    ack = message_from_bytes(received.data, policy=compat32)
    assert ack["X-Injected"] is None and ack["Bcc"] is None, head
    assert b"\nBcc:" not in head and b"\nX-Injected:" not in head
    assert ack.get_all("Subject") and len(ack.get_all("Subject")) == 1
    assert all(not line.startswith((b"Bcc", b"X-Injected")) for line in head.split(b"\r\n"))


# ---------------------------------------------------------------------------- formulas and HTML

def test_formulas_in_form_blanks_stay_text_in_the_workbooks(make_setup):
    setup = make_setup(extra=UNLIMITED_REPLIES)
    cmd, link = "=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")'
    values = dict(H_LIAISON, name=cmd, unit_name=link, address=link, title="+SUM(1,2)")
    setup.append(H.attachment_mail("<formula@hostile.test>", SENDER, link,
                                   [("附件1联络员推荐表.docx", liaison_docx(values), H.DOCX_TYPE)]), WHEN)
    cli(setup, "poll")
    row = messages(setup)["<formula@hostile.test>"]
    assert row["outcome"] == "accepted" and row["kinds"] == ["liaison_form"], row
    assert row["attachments"][0]["values"]["unit_name"] == link

    cli(setup, "export", str(setup.dir / "export.xlsx"), "--now", NOW)
    cli(setup, "digest", "--out", str(setup.dir / "digest.xlsx"), "--now", NOW)
    for path in (setup.dir / "export.xlsx", setup.dir / "digest.xlsx"):
        book = openpyxl.load_workbook(path)
        cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r
                 if isinstance(c.value, str) and c.value.startswith(("=", "+"))]
        found = {c.value for c in cells}
        assert {cmd, link} <= found, found  # the liaison sheet, and the subject in the log
        assert all(c.data_type == "s" for c in cells), [(c.coordinate, c.data_type) for c in cells]
        # and no formula element reached the sheets' XML at all
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name


H_LIAISON = {
    "name": "高玉兰", "gender": "女", "title": "办公室主任", "office_phone": "0556-8937711",
    "mobile": "13342782718", "fax": "0556-8937711", "qq": "730323223", "wechat": "13342782718",
    "email": "tcszgh@example.test", "unit_name": "桐城市总工会", "address": "桐城市龙眠路1号",
}


def test_markup_is_escaped_in_the_digest_html(make_setup, tmp_path):
    roster = tmp_path / "units.csv"
    evil_unit = "<script>alert(1)</script>工会"
    roster.write_text((SAMPLES / "roster.csv").read_text(encoding="utf-8")
                      + f'"{evil_unit}",<b>别名</b>,<i>类别</i>,evil@example.test\n', encoding="utf-8")
    setup = make_setup(roster=roster, extra=UNLIMITED_REPLIES)
    text = setup.config_path.read_text(encoding="utf-8").replace(
        'name = "2020年全市“安全生产月”活动"', 'name = "2020年<img src=x onerror=alert(2)>活动"')
    setup.config_path.write_text(text, encoding="utf-8")
    setup.append(weekly_mail(sender="evil@example.test", subject="<script>alert(3)</script>周报",
                             mid="<markup@hostile.test>",
                             body="<script>alert(4)</script>本周开展隐患排查3次，参加职工120人，组织观看警示教育片2场。"), WHEN)
    cli(setup, "poll")
    assert messages(setup)["<markup@hostile.test>"]["unit"] == evil_unit
    cli(setup, "digest", "--send", "--now", NOW)
    digests = setup.sent_to("organizer@example.test")
    assert len(digests) == 1
    html = digests[0].message.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;工会" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "onerror=alert" not in lowered.replace(
        "&lt;img src=x onerror=alert(2)&gt;", "")


# ---------------------------------------------------------------------------- size and memory

_MEASURE = ("import resource, subprocess, sys\n"
            "proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stderr.write(proc.stderr)\n"
            "print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def peak_rss_mb(setup, *args) -> float:
    """Peak RSS (MiB) of `intake <args>` run as a child of a small wrapper process, so that
    only that child's own peak is counted (not the test process's, not other children's)."""
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "bot", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    code, kib = proc.stdout.split()
    assert code == "0", proc.stderr[-3000:]
    return int(kib) / 1024


def test_thirty_megabyte_attachment_is_refused_within_bounded_memory(make_setup):
    setup = make_setup(extra=UNLIMITED_REPLIES)
    idle = peak_rss_mb(setup, "poll")  # the same command with nothing to do
    setup.append(H.big_attachment_mail("<big30@hostile.test>", SENDER, 30), WHEN)
    setup.append(weekly_mail(mid="<after-big30@hostile.test>"), WHEN)
    peak = peak_rss_mb(setup, "poll")
    rows = messages(setup)
    row, after = rows["<big30@hostile.test>"], rows["<after-big30@hostile.test>"]
    assert after["outcome"] == "accepted"
    att = single_file(row)
    assert att["status"] == "error" and "附件超过25MB" in att["reason"]
    assert row["outcome"] == "needs_review" and "附件超过25MB" in row["reason"]
    assert "附件超过25MB，未读取" in ack_text(ack_for(setup, "<big30@hostile.test>"))
    print(f"30 MB attachment: idle {idle:.0f} MiB, peak {peak:.0f} MiB")
    assert peak <= idle + 4 * 30, f"peak {peak:.0f} MiB, idle {idle:.0f} MiB"


def test_fetching_a_large_mail_costs_little_more_than_the_mail(make_setup):
    setup = make_setup(extra=UNLIMITED_REPLIES)
    idle = peak_rss_mb(setup, "poll")
    setup.append(H.big_attachment_mail("<big30b@hostile.test>", SENDER, 30), WHEN)
    peak = peak_rss_mb(setup, "poll")
    # the raw mail (41 MiB) is held twice (fetched, read back from the archive) plus the file
    assert peak <= idle + 3 * 30, f"peak {peak:.0f} MiB, idle {idle:.0f} MiB"


def test_mail_far_over_the_size_cap_is_not_parsed(make_setup):
    setup = make_setup(extra=UNLIMITED_REPLIES)
    idle = peak_rss_mb(setup, "poll")
    raw = H.big_attachment_mail("<big60@hostile.test>", SENDER, 45)  # 62 MiB of mail
    size_mb = len(raw) / 2**20
    setup.append(raw, WHEN)
    del raw
    setup.append(weekly_mail(mid="<after-big60@hostile.test>"), WHEN)
    peak = peak_rss_mb(setup, "poll")
    rows = messages(setup)
    row, after = rows["<big60@hostile.test>"], rows["<after-big60@hostile.test>"]
    assert after["outcome"] == "accepted"
    reason = "邮件过大（约62MB，超过50MB的处理上限），正文和附件未读取，请压缩附件或分几封邮件发送"
    assert row["outcome"] == "needs_review" and row["reason"] == reason and row["attachments"] == []
    assert row["unit"] == UNIT and row["subject"] == "大附件"
    assert reason in ack_text(ack_for(setup, "<big60@hostile.test>"))
    print(f"{size_mb:.0f} MB mail: idle {idle:.0f} MiB, peak {peak:.0f} MiB")
    # before the cap, the stdlib parser held this mail about five times over (~800 MiB)
    assert peak <= idle + 4 * size_mb, f"peak {peak:.0f} MiB, idle {idle:.0f} MiB"
