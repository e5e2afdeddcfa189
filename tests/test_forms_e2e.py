"""Forms as units really send them, through the real servers: the samples re-sent as .doc and
.xlsx, a clerk's WPS-style table full of variants from an address not on record, versions and
duplicates, `intake assign`, `intake reprocess`, and a hostile attachment."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot.forms.blank_forms import fill_liaison_xlsx, fill_progress_docx, fill_progress_xlsx
from bot.forms.readers.libreoffice import convert
from bot.forms.progress_template import BLANKS
from tests.fixtures.mails import build_mail, zip_bomb
from tests.fixtures.office_files import expected_messages, sample_attachments
from tests.fixtures.render import render_html, rendered_row
from tests.test_samples import intake

EXPECTED = expected_messages()
WHEN = datetime(2020, 6, 20, 2, 0, tzinfo=timezone.utc)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sample(key: str) -> dict:
    return next(m for m in EXPECTED.values() if m["key"] == key)


def send(setup, *, sender, subject, files, mid, when=WHEN, body="请查收附件。"):
    setup.append(build_mail(subject=subject, sender=sender, attachments=files, message_id=mid, body=body), when)


def messages(setup):
    return json.loads(intake(setup, "messages", "--json").stdout)


def row_of(setup, mid):
    return next(r for r in messages(setup) if r["message_id"] == mid)


def parsed_values(row):
    parsed = [a for a in row["attachments"] if a["status"] == "parsed"]
    assert len(parsed) == 1, row
    return parsed[0]


def as_written(values: dict) -> dict[str, str]:
    """What a clerk types for the expected values (empty for null)."""
    return {k: "" if v is None else str(v) for k, v in values.items() if not k.startswith("header.")}


def header_of(values: dict) -> dict[str, str]:
    return {k: v for k, v in values.items() if k.startswith("header.")}


@pytest.mark.parametrize("key", ["p-yuex-progress", "p-js-progress-variants", "p-jx-progress",
                                 "p-qs-liaison", "p-th-liaison-late"])
def test_samples_resent_as_doc_read_the_same(make_setup, key):
    """The sample .docx saved as old Word .doc (LibreOffice) reads exactly as the original."""
    setup = make_setup()
    m = sample(key)
    name, data = next((n, d) for n, d in sample_attachments(m["file"].split("/")[-1]) if n.endswith(".docx"))
    doc = convert(data, "docx", "doc", timeout=120)
    send(setup, sender=m["from"], subject=m["subject"], files=[(name[:-5] + ".doc", doc, "application/msword")],
         mid=f"<doc-{key}@example.test>")
    intake(setup, "poll")
    row = row_of(setup, f"<doc-{key}@example.test>")
    assert row["outcome"] == "accepted" and row["unit"] == m["unit"] and row["kinds"] == m["kinds"]
    att = parsed_values(row)
    for k, v in m["values"].items():
        assert att["values"].get(k) == v, (k, att["values"].get(k), v)
    assert sorted(w["key"] for w in att["warnings"]) == sorted(m["warnings"])


@pytest.mark.parametrize("layout", ["table", "rows", "cells"])
def test_progress_samples_as_xlsx(make_setup, layout):
    setup = make_setup()
    m = sample("p-yuex-progress")
    xlsx = fill_progress_xlsx(as_written(m["values"]), header_of(m["values"]), layout=layout)
    send(setup, sender=m["from"], subject=m["subject"], files=[("附件2.xlsx", xlsx, XLSX)], mid=f"<x-{layout}@e.test>")
    intake(setup, "poll")
    row = row_of(setup, f"<x-{layout}@e.test>")
    assert row["outcome"] == "accepted" and row["kinds"] == ["progress_table"]
    values = parsed_values(row)["values"]
    assert {k: values.get(k) for k in m["values"]} == m["values"]


def test_liaison_xlsx_grid(make_setup):
    setup = make_setup()
    m = sample("p-qs-liaison")
    xlsx = fill_liaison_xlsx({k: v or "" for k, v in m["values"].items()}, layout="grid")
    send(setup, sender=m["from"], subject="联络员推荐表", files=[("附件1.xlsx", xlsx, XLSX)], mid="<lx@e.test>")
    intake(setup, "poll")
    row = row_of(setup, "<lx@e.test>")
    assert row["kinds"] == ["liaison_form"]
    assert parsed_values(row)["values"] == m["values"]


CLERK = {  # how the 迎江区 clerk filled her table (forms.md's variants), and what must be read
    "launch.forms": ("座谈会、知识竞赛", "座谈会、知识竞赛"),
    "launch.events": ("３", 3),
    "study.group_sessions": ("1,200", 1200),
    "study.group_participants": ("1，200", 1200),
    "study.online_sessions": ("三", 3),
    "study.online_participants": ("一百二十", 120),
    "study.media_columns": ("3个", 3),
    "inspection.media_columns": ("200人次", 200),
    "inspection.films_made": ("无", 0),
    "inspection.film_screenings": ("若干", None),  # error
    "inspection.film_viewers": ("约50", 50),  # warning
    "inspection.enterprises": ("/", 0),
    "inspection.enterprise_hazards": ("—", 0),
    "inspection.communities": ("", None),
    "inspection.community_events": ("十二", 12),
    "inspection.violations": ("3-5", None),  # error
    "inspection.hazard_reports": ("50余", 50),  # warning
}


def test_clerk_wps_doc_from_her_own_address(make_setup):
    """The issue's clerk: a WPS-saved .doc with every variant, parentheses deleted on one blank,
    sent from her QQ address; tied to 迎江区总工会 by the 填报单位 line."""
    setup = make_setup()
    written = {b.key: "5" for b in BLANKS if b.type == "int"} | {b.key: "宣讲" for b in BLANKS if b.type == "text"}
    written |= {k: w for k, (w, _) in CLERK.items()}
    header = {"header.unit_name": "安庆市迎江区总工会", "header.contact": "李娟", "header.phone": "0556-5512345",
              "header.fill_date": "2020年6月19日"}
    docx = fill_progress_docx(written, header, drop_parens_for={"exemplary.reports"})
    wps = convert(docx, "docx", "doc", timeout=120)
    send(setup, sender="李娟 <lijuan1988@qq.test>", subject="统计表", files=[("进展情况统计表.wps", wps, "application/octet-stream")],
         mid="<clerk@qq.test>")
    intake(setup, "poll")
    row = row_of(setup, "<clerk@qq.test>")
    assert row["outcome"] == "accepted" and row["unit"] == "迎江区总工会"
    assert any("lijuan1988@qq.test" in f and "不在" in f for f in row["flags"])
    att = parsed_values(row)
    for key, (_, value) in CLERK.items():
        if value is not None:
            assert att["values"][key] == value, key
    assert att["values"]["exemplary.reports"] == 5  # parentheses deleted
    assert sorted(e["key"] for e in att["errors"]) == ["inspection.film_screenings", "inspection.violations"]
    assert sorted(w["key"] for w in att["warnings"]) == ["inspection.film_viewers", "inspection.hazard_reports"]
    ack = setup.sent_to("lijuan1988@qq.test")
    assert len(ack) == 1
    body = ack[0].message.get_body(("plain",)).get_content()
    assert "读取 48 项" in body  # 51 blanks: 2 in error and 1 left empty
    assert "以下 2 项需更正" in body and "组织观看（若干）场 —— 应为数字" in body
    # the unit's addresses on record are told that its figures came from elsewhere
    told = setup.sent_to("yjqzgh@example.test")
    assert len(told) == 1 and "lijuan1988@qq.test" in told[0].message.get_body(("plain",)).get_content()
    # the same acknowledgement as HTML, rendered the way her mail client draws it
    assert ack[0].message.get_content_type() == "multipart/alternative"
    png, text = render_html(ack[0].message.get_body(("html",)).get_content(), setup.dir / "ack-html")
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert rendered_row(text, "序号", "文件", "识别结果", "需要更正")
    assert rendered_row(text, "1", "进展情况统计", "识别为")
    assert rendered_row(text, "以下 2 项需更正")
    assert "组织观看（若干）场" in text and "应为数字" in text
    assert rendered_row(text, "材料", "截止时间", "状态")
    assert "\ufffd" not in text


def test_versions_duplicates_reprocess(make_setup):
    setup = make_setup()
    m = sample("p-yuex-progress")
    first = as_written(m["values"])
    second = dict(first, **{"launch.events": "7"})
    for i, (values, mid) in enumerate([(first, "<v1@e.test>"), (second, "<v2@e.test>"), (second, "<v3@e.test>")]):
        send(setup, sender=m["from"], subject=f"{m['subject']}（第{i + 1}次）",
             files=[("附件2.docx", fill_progress_docx(values, header_of(m["values"])), DOCX)], mid=mid,
             when=datetime(2020, 6, 20 + i, 2, 0, tzinfo=timezone.utc))
    intake(setup, "poll")
    outcomes = {r["message_id"]: r["outcome"] for r in messages(setup)}
    assert outcomes == {"<v1@e.test>": "accepted", "<v2@e.test>": "accepted", "<v3@e.test>": "duplicate"}
    report = json.loads(intake(setup, "report", "--json").stdout)
    assert report["units"]["岳西县总工会"]["launch.events"] == 7  # the latest counts
    assert report["totals"]["launch.events"] == 7  # counted once
    acks = len(setup.sent)
    out = intake(setup, "reprocess", "--all").stdout
    assert "重新处理 3 封" in out
    assert json.loads(intake(setup, "report", "--json").stdout)["totals"] == report["totals"]
    assert {r["message_id"]: r["outcome"] for r in messages(setup)} == outcomes
    assert len(setup.sent) == acks  # reprocessing answers nobody again


def test_assign_unknown_sender(make_setup):
    setup = make_setup()
    m = sample("p-unknown-sender")
    name, data = sample_attachments(m["file"].split("/")[-1])[0]
    send(setup, sender="zhangsan <zhangsan1990@example.test>", subject="材料", files=[(name, data, DOCX)],
         mid="<unknown@e.test>", when=datetime(2020, 6, 12, 6, 0, tzinfo=timezone.utc))
    intake(setup, "poll")
    row = row_of(setup, "<unknown@e.test>")
    assert row["outcome"] == "needs_review" and row["unit"] is None
    first = setup.sent_to("zhangsan1990@example.test")
    assert len(first) == 1 and "注明贵单位全称" in first[0].message.get_body(("plain",)).get_content()
    bad = intake(setup, "assign", str(row["id"]), "不存在的工会", check=False)
    assert bad.returncode == 1 and "不存在的工会" in bad.stderr
    intake(setup, "assign", str(row["id"]), "大观区工会")
    row = row_of(setup, "<unknown@e.test>")
    assert row["outcome"] == "accepted" and row["unit"] == "大观区总工会" and row["kinds"] == ["weekly_report"]
    acks = setup.sent_to("zhangsan1990@example.test")
    assert len(acks) == 2 and "大观区总工会" in acks[1].message.get_body(("plain",)).get_content()
    status = json.loads(intake(setup, "status", "--json", "--now", "2020-06-30T12:00:00+08:00").stdout)
    dg = next(u for u in status["units"] if u["unit"] == "大观区总工会")
    assert dg["items"]["weekly_report:2020-06-18"]["state"] == "on_time"


def office_bomb(size: int) -> bytes:
    """A .docx whose document.xml inflates to `size` bytes of zeros (a few hundred KB on the wire)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return buf.getvalue()


@pytest.mark.parametrize("make_bomb", [lambda: zip_bomb(150 * 1024 * 1024, name="word/document.xml"),
                                       lambda: office_bomb(150 * 1024 * 1024)], ids=["bare", "ooxml"])
def test_hostile_attachment_gets_a_reason(make_setup, make_bomb):
    setup = make_setup()
    bomb = make_bomb()
    send(setup, sender="wjxzgh@example.test", subject="望江县总工会进展情况统计表",
         files=[("附件2.docx", bomb, DOCX)], mid="<bomb@e.test>")
    intake(setup, "poll")
    row = row_of(setup, "<bomb@e.test>")
    assert row["outcome"] == "needs_review"
    att = row["attachments"][0]
    assert att["status"] == "error" and att["reason"]
    ack = setup.sent_to("wjxzgh@example.test")
    assert len(ack) == 1 and "无法读取" in ack[0].message.get_body(("plain",)).get_content()
