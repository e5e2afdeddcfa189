"""MIME as the world writes it, and archives, through the path a unit's mail takes: appended to
the real Dovecot, taken by `intake poll` (a subprocess), answered through the real SMTP sink,
read back with `intake messages --json`. Every case is built by tests/fixtures/hostile_mime.py
and followed in the mailbox by an ordinary weekly report, whose acceptance shows the daemon
carried on. One poll for the module.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import new_setup
from tests.fixtures import hostile_mime as M
from tests.fixtures.office_files import liaison_docx
from tests.test_cli import weekly_mail
from tests.test_hostile import UNLIMITED_REPLIES, ack_for, ack_text, cli, messages

UNIT = "桐城市总工会"
UNIT_ADDR = "tcszgh@example.test"
SENDER = f"{UNIT} <{UNIT_ADDR}>"
WHEN = datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)  # the mails' INTERNALDATE
LIAISON = {
    "name": "高玉兰", "gender": "女", "title": "办公室主任", "office_phone": "0556-8937711",
    "mobile": "13342782718", "fax": "0556-8937711", "qq": "730323223", "wechat": "13342782718",
    "email": UNIT_ADDR, "unit_name": UNIT, "address": "桐城市龙眠路1号",
}
FORM = "附件1联络员推荐表.docx"
WEEKLY = "本周开展隐患排查3次，参加职工120人，组织观看警示教育片2场。"


def form(n: int) -> bytes:
    """A distinct 附件1 per case (a different QQ number), so that each is new, not a duplicate."""
    return liaison_docx(dict(LIAISON, qq=f"7303232{n:02d}"))


def _cases() -> dict[str, bytes]:
    mail = M.files_mail
    n = iter(range(100))
    return {
        "folded-boundary": M.folded_boundary_mail("<folded-boundary@mime.test>", SENDER, "本单位材料和现场照片",
                                                  [(f"现场照片{i}.png", M.png(i)) for i in range(3)],
                                                  docx=(FORM, form(next(n)))),
        "no-boundary": M.boundaryless_mail("<no-boundary@mime.test>", SENDER, "材料"),
        "iso-2022-jp": M.seven_bit_mail("<iso-2022-jp@mime.test>", SENDER, f"{UNIT}第二周周报（日文客户端）",
                                        WEEKLY, "ISO-2022-JP-2", "iso2022_jp_2"),
        "hz-gb-2312": M.seven_bit_mail("<hz-gb-2312@mime.test>", SENDER, f"{UNIT}第二周周报（HZ）",
                                       WEEKLY, "HZ-GB-2312", "hz"),
        "utf-7": M.seven_bit_mail("<utf-7@mime.test>", SENDER, f"{UNIT}第二周周报（UTF-7）", WEEKLY, "UTF-7", "utf-7"),
        "tnef-objects": M.winmail_mail("<tnef-objects@mime.test>", SENDER, "联络员推荐表", M.tnef_stream([
            ("原邮件", "message", M.tnef_stream([(FORM, "data", form(next(n)))], subject="联络员推荐表")),
            ("Microsoft Word 文档", "ole", M.ole_document()),
            ("Package", "object", b"\x02\x00packager"),
        ])),
        "7z": mail("<7z@mime.test>", SENDER, "联络员推荐表", [("材料.7z", M.seven_zip([(FORM, form(next(n)))]),
                                                               "application/x-7z-compressed")]),
        "rar5": mail("<rar5@mime.test>", SENDER, "联络员推荐表", [("材料.rar", M.rar5([(FORM, form(next(n)))]),
                                                                 "application/x-rar-compressed")]),
        "rar4-gbk": mail("<rar4-gbk@mime.test>", SENDER, "联络员推荐表",
                         [("材料.rar", M.rar4([(FORM, form(next(n)))], legacy_encoding="gbk"), "application/octet-stream")]),
        "7z-locked": mail("<7z-locked@mime.test>", SENDER, "联络员推荐表",
                          [("材料.7z", M.seven_zip([(FORM, form(next(n)))], password="8521"), "application/x-7z-compressed")]),
        "7z-names-locked-password": mail(
            "<7z-names-locked-password@mime.test>", SENDER, "联络员推荐表",
            [("材料.7z", M.seven_zip([(FORM, form(next(n)))], password="ah2020", encrypt_names=True),
              "application/x-7z-compressed")], body="附件为联络员推荐表，解压密码：ah2020"),
        "zip-password": mail("<zip-password@mime.test>", SENDER, "联络员推荐表",
                             [("材料.zip", M.zip_crypto([("lly.docx", form(next(n)))], "1234"), "application/zip")],
                             body="您好！附件已加密，密码：1234。"),
        "zip-wrong-password": mail("<zip-wrong-password@mime.test>", SENDER, "联络员推荐表",
                                   [("材料.zip", M.zip_crypto([("lly.docx", form(next(n)))], "1234"), "application/zip")],
                                   body="解压密码 4321"),
        "rar5-password": mail("<rar5-password@mime.test>", SENDER, "联络员推荐表",
                              [("材料.rar", M.rar5([(FORM, form(next(n)))], password="tc0609"), "application/x-rar")],
                              body="压缩包密码是tc0609，谢谢"),
        "rar5-names-password": mail("<rar5-names-password@mime.test>", SENDER, "联络员推荐表",
                                    [("材料.rar", M.rar5([(FORM, form(next(n)))], password="Tc-2020", encrypt_names=True),
                                      "application/x-rar")], body="WinRAR 加密了文件名，解压密码为“Tc-2020”。"),
        "7z-bomb": mail("<7z-bomb@mime.test>", SENDER, "材料",
                        [("材料.7z", M.seven_zip([("空白.docx", bytes(8 * 1024 * 1024))]), "application/x-7z-compressed")]),
        "rar-corrupt": mail("<rar-corrupt@mime.test>", SENDER, "材料",
                            [("材料.rar", M.rar5([(FORM, form(next(n)))])[:-40] + b"\x00" * 8, "application/x-rar")]),
        "qq-big-attachment": mail("<qq-big-attachment@mime.test>", SENDER, "进展情况统计表",
                                  [], body=M.qq_big_attachment_text("附件2进展情况统计表.docx"),
                                  html=M.qq_big_attachment_html("附件2进展情况统计表.docx")),
        "onedrive": mail("<onedrive@mime.test>", SENDER, "进展情况统计表", [], body="请查收。",
                         html=M.onedrive_html("附件2进展情况统计表.xlsx")),
    }


CASES = ["folded-boundary", "no-boundary", "iso-2022-jp", "hz-gb-2312", "utf-7", "tnef-objects", "7z", "rar5",
         "rar4-gbk", "7z-locked", "7z-names-locked-password", "zip-password", "zip-wrong-password", "rar5-password",
         "rar5-names-password", "7z-bomb", "rar-corrupt", "qq-big-attachment", "onedrive"]


def follower_id(name: str) -> str:
    return f"<after-{name}@mime.test>"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, dovecot, smtp_sink):
    setup = new_setup(tmp_path_factory.mktemp("hostile-mime"), dovecot, smtp_sink, extra=UNLIMITED_REPLIES)
    mails = _cases()
    assert sorted(mails) == sorted(CASES)
    for i, name in enumerate(CASES):
        setup.append(mails[name], WHEN)
        setup.append(weekly_mail(mid=follower_id(name), subject=f"{UNIT}第二周周报（跟随 {i}）",
                                 body=f"本周开展隐患排查{i + 1}次，参加职工{100 + i}人，组织观看警示教育片{i + 2}场。"), WHEN)
    cli(setup, "poll")
    return setup, messages(setup)


def outcome(batch, name: str) -> dict:
    setup, rows = batch
    after = rows[follower_id(name)]
    assert after["outcome"] in ("accepted", "duplicate") and after["kinds"] == ["weekly_report"], after
    return rows[f"<{name}@mime.test>"]


def told(batch, name: str) -> str:
    setup, _ = batch
    return ack_text(ack_for(setup, f"<{name}@mime.test>"))


def accepted_form(batch, name: str, origin_file: str | None = None) -> dict:
    row = outcome(batch, name)
    forms = [a for a in row["attachments"] if a["kind"] == "liaison_form" and a["status"] == "parsed"]
    assert row["outcome"] == "accepted" and row["kinds"] == ["liaison_form"], row
    assert len(forms) == 1 and forms[0]["values"]["unit_name"] == UNIT, row["attachments"]
    return row


# ---------------------------------------------------------------------------- MIME

def test_a_boundary_folded_inside_its_quotes_still_splits_the_mail(batch):
    row = accepted_form(batch, "folded-boundary")
    assert [a["filename"] for a in row["attachments"]] == [f"现场照片{i}.png" for i in range(3)] + [FORM]
    assert [a["status"] for a in row["attachments"]] == ["evidence"] * 3 + ["parsed"], row["attachments"]
    text = told(batch, "folded-boundary")
    assert "Content-Type" not in text and "NextPart" not in text and "问题" not in row["reason"]


def test_a_multipart_no_boundary_splits_is_kept_and_named(batch):
    row = outcome(batch, "no-boundary")
    assert [a["filename"] for a in row["attachments"]] == ["无法拆分的邮件部分.eml"]
    assert row["outcome"] == "needs_review" and "未能拆分" in row["reason"], row
    assert "未能拆分" in told(batch, "no-boundary")


@pytest.mark.parametrize("name,label", [("iso-2022-jp", "日文客户端"), ("hz-gb-2312", "HZ"), ("utf-7", "UTF-7")])
def test_seven_bit_charsets_are_decoded_not_stripped(batch, name, label):
    row = outcome(batch, name)
    assert row["subject"] == f"{UNIT}第二周周报（{label}）"
    # the body was read as the weekly report it is: its figures, not escape sequences
    assert row["outcome"] == "accepted" and row["kinds"] == ["weekly_report"], row
    assert "\x1b" not in told(batch, name) and "~{" not in told(batch, name)


def test_outlook_embedded_objects_are_taken_out_or_named(batch):
    row = accepted_form(batch, "tnef-objects")
    names = [a["filename"] for a in row["attachments"]]
    # the embedded message's form, the OLE object as the .doc it is, and winmail.dat itself kept
    # because something in it (the packager object) could not be taken out: named to the unit
    assert names == [FORM, "Microsoft Word 文档.doc", "winmail.dat"], names
    assert "winmail.dat（Outlook 格式）其中的附件 Package 是 Outlook 嵌入对象" in told(batch, "tnef-objects")


# ---------------------------------------------------------------------------- archives

@pytest.mark.parametrize("name", ["7z", "rar5", "rar4-gbk"])
def test_7z_and_rar_are_opened_as_zip_is(batch, name):
    row = accepted_form(batch, name)
    assert [a["filename"] for a in row["attachments"]] == [FORM]


def test_an_encrypted_archive_without_a_password_is_an_error_saying_so(batch):
    row = outcome(batch, "7z-locked")
    (att,) = row["attachments"]
    assert att["filename"] == "材料.7z" and att["status"] == "error" and "设有密码" in att["reason"], att
    assert row["outcome"] == "needs_review" and "设有密码" in row["reason"], row
    assert "设有密码" in told(batch, "7z-locked") and "解压密码" in told(batch, "7z-locked")


@pytest.mark.parametrize("name", ["zip-password", "rar5-password", "7z-names-locked-password", "rar5-names-password"])
def test_the_password_in_the_mail_body_opens_the_archive(batch, name):
    accepted_form(batch, name)


def test_a_wrong_password_in_the_body_is_named(batch):
    row = outcome(batch, "zip-wrong-password")
    assert [a["status"] for a in row["attachments"]] == ["error"]
    assert row["outcome"] == "needs_review" and "密码不正确" in row["reason"], row


def test_a_7z_bomb_is_not_expanded(batch):
    row = outcome(batch, "7z-bomb")
    assert [(a["filename"], a["status"]) for a in row["attachments"]] == [("材料.7z", "error")]
    assert "疑似压缩炸弹" in row["attachments"][0]["reason"]
    assert row["outcome"] == "needs_review" and "疑似压缩炸弹" in row["reason"]


def test_a_corrupt_rar_is_listed_with_an_error(batch):
    row = outcome(batch, "rar-corrupt")
    assert [(a["filename"], a["status"]) for a in row["attachments"]] == [("材料.rar", "error")]
    assert row["outcome"] == "needs_review" and "已损坏" in row["reason"]


# ---------------------------------------------------------------------------- files that are not in the mail

@pytest.mark.parametrize("name,service,link", [("qq-big-attachment", "QQ邮箱超大附件", M.QQ_LINK),
                                               ("onedrive", "OneDrive", M.ONEDRIVE_LINK)])
def test_a_big_attachment_link_goes_to_a_person_and_the_unit_is_asked_for_the_file(batch, name, service, link):
    row = outcome(batch, name)
    assert row["attachments"] == [] and row["outcome"] == "needs_review", row
    assert service in row["reason"] and link in row["reason"], row["reason"]
    text = told(batch, name)
    # the unit is asked for the file in words meant for it; the admin's line stays in messages
    assert service in text and "请将文件直接作为邮件附件重新发送" in text and "请人工查看" not in text
