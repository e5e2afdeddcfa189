"""A public mailbox: a forged From (the receiving server's SPF/DKIM verdicts say so) never
replaces a unit's figures; it is flagged in `intake messages` and `intake status`, and the
unit's liaison on record is told. Mail from an address not on record is accepted, flagged, told."""
from __future__ import annotations

import json

from bot.forms.blank_forms import fill_progress_docx
from bot.forms.progress_template import BLANKS, INT
from tests.fixtures.mails import build_mail
from tests.fixtures.commands import run

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNIT = "迎江区总工会"  # on record: yjqzgh@example.test and yj_ghb@example.test


def table_mail(mid: str, sender: str, figure: int, results: str | None) -> bytes:
    written = {b.key: str(figure) for b in BLANKS if b.type == INT}
    header = {"header.unit_name": UNIT, "header.contact": "李娟", "header.phone": "0556-5512345",
              "header.fill_date": f"6月{figure % 28 + 1}日"}
    headers = [("Authentication-Results", results)] if results else []
    return build_mail(subject=f"{UNIT}进展情况统计表", sender=f"{UNIT} <{sender}>", message_id=mid, headers=headers,
                      attachments=[("附件2 进展情况统计表.docx", fill_progress_docx(written, header), DOCX)])


def test_forged_sender_never_replaces_figures(setup):
    setup.append(table_mail("<real@yj.test>", "yjqzgh@example.test", 5,
                            "126.com; spf=pass smtp.mailfrom=yjqzgh@example.test; dkim=pass header.d=example.test"))
    setup.append(table_mail("<forged@evil.test>", "yjqzgh@example.test", 900,
                            "126.com; spf=fail (not permitted) smtp.mailfrom=yjqzgh@example.test; dkim=none"))
    setup.append(table_mail("<other@qq.test>", "somebody@qq.test", 7,
                            "126.com; spf=pass smtp.mailfrom=somebody@qq.test; dkim=pass header.d=qq.test"))
    assert run(setup, "poll").returncode == 0
    rows = {r["message_id"]: r for r in json.loads(run(setup, "messages", "--json").stdout)}
    real, forged, other = rows["<real@yj.test>"], rows["<forged@evil.test>"], rows["<other@qq.test>"]
    assert real["outcome"] == "accepted" and real["sender_check"] == "SPF=pass，DKIM=pass" and real["flags"] == []
    assert forged["outcome"] == "needs_review" and forged["unit"] == UNIT
    assert "身份验证未通过" in forged["reason"] and forged["sender_check"] == "SPF=fail，DKIM=none"
    assert any("疑为冒用 yjqzgh@example.test" in f for f in forged["flags"])
    assert other["outcome"] == "accepted" and any("不在" in f for f in other["flags"])
    # the figures are the last ones from a sender the server vouched for, never the forged 900
    report = json.loads(run(setup, "report", "--json").stdout)
    assert report["units"][UNIT]["launch.events"] == 7
    assert report["totals"]["launch.events"] == 7
    # the unit's other address on record hears of both mails sent in its name
    told = setup.sent_to("yj_ghb@example.test")
    assert len(told) == 2 and all(m.message["Subject"].startswith("【核实】") for m in told)
    # the forged From's real owner gets the acknowledgement saying it was not recorded
    ack = [m for m in setup.sent_to("yjqzgh@example.test") if m.message["In-Reply-To"] == "<forged@evil.test>"]
    assert len(ack) == 1 and "身份验证未通过" in ack[0].message.get_body(("plain",)).get_content()
    status = json.loads(run(setup, "status", "--json").stdout)
    flags = next(u["flags"] for u in status["units"] if u["unit"] == UNIT)
    assert any("疑为冒用" in f for f in flags) and any("somebody@qq.test" in f for f in flags)
    assert "⚠ 迎江区总工会：" in run(setup, "status").stdout
