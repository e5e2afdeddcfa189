"""A whole simulated June: the samples arrive, `--now` steps through the campaign, and every
reminder and digest reaches the real SMTP server exactly once; status and report agree with
expected.json."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from email.utils import getaddresses

import pytest
from openpyxl import load_workbook

from tests.fixtures.render import render_html, rendered_row
from tests.test_samples import EXPECTED, append_samples, intake


@pytest.fixture(scope="module")
def june(tmp_path_factory, dovecot, smtp_sink):
    from tests.conftest import new_setup

    setup = new_setup(tmp_path_factory.mktemp("june"), dovecot, smtp_sink)
    append_samples(setup)
    intake(setup, "poll")
    return setup


def test_status_matches_expected(june):
    at = EXPECTED["status_at"]
    doc = json.loads(intake(june, "status", "--json", "--now", at["now"]).stdout)
    assert doc["now"] == at["now"]
    got = {u["unit"]: {i: v["state"] for i, v in u["items"].items()} for u in doc["units"]}
    for unit, items in at["units"].items():
        for item, state in items.items():
            allowed = state if isinstance(state, list) else [state]
            assert got[unit][item] in allowed, (unit, item, got[unit][item], state)
    liaisons = {u["unit"]: u["liaison"] for u in doc["units"] if u["liaison"]}
    assert liaisons == EXPECTED["liaisons"]
    one = next(u for u in doc["units"] if u["unit"] == "太湖县总工会")
    assert one["items"]["liaison_form"]["due"] == "2020-06-10T23:59:59+08:00"
    assert one["items"]["liaison_form"]["received_at"] == "2020-06-24T09:00:00+08:00"


def test_status_before_anything_arrived(june):
    doc = json.loads(intake(june, "status", "--json", "--now", "2020-06-01T08:00:00+08:00").stdout)
    assert {v["state"] for u in doc["units"] for v in u["items"].values()} == {"open"}
    assert all(u["liaison"] is None for u in doc["units"])


def test_report_matches_expected(june):
    doc = json.loads(intake(june, "report", "--json").stdout)
    assert {k: v for k, v in doc["totals"].items() if k in EXPECTED["report_totals"]} == EXPECTED["report_totals"]
    assert sorted(doc["missing_units"]) == sorted(EXPECTED["report_missing_units"])
    for unit, values in EXPECTED["report_units"].items():
        for key, value in values.items():
            assert doc["units"][unit].get(key) == value, (unit, key)


@pytest.mark.parametrize("case", EXPECTED["reminders"], ids=lambda c: c["now"])
def test_reminders_dry_run(june, case):
    rows = json.loads(intake(june, "remind", "--dry-run", "--json", "--now", case["now"]).stdout)
    if "week" in case:
        units = {r["unit"] for r in rows if r["item"] == f"weekly_report:{case['week']}"}
        assert units == set(case["weekly_report_units"])
    else:
        units = {r["unit"] for r in rows if r["item"] == "liaison_form"}
        assert units == set(case["liaison_form_units"])
    for r in rows:
        assert r["slot"] <= case["now"] and r["to"]


def test_whole_june_sends_each_reminder_and_digest_once(june):
    """Step through the campaign as the daemon's scheduler does (every 3 hours, plus moments a
    restarted daemon would see), twice over: each reminder and digest goes out exactly once."""
    from bot.reporting import send_digest, send_reminders

    setup_intake = june.intake()
    before = len(june.sent)
    moments = []
    moment = datetime.fromisoformat("2020-06-01T00:00:00+08:00")
    while moment <= datetime.fromisoformat("2020-07-05T00:00:00+08:00"):
        moments.append(moment)
        moment += timedelta(hours=3)
    for _ in range(2):
        for moment in moments:
            send_reminders(setup_intake, moment)
            send_digest(setup_intake, moment)
    assert json.loads(intake(june, "remind", "--json", "--now", "2020-06-11T10:30:00+08:00").stdout) == []
    sent = june.sent[before:]
    reminders = [r for r in sent if r.message["Subject"].startswith("【提醒】")]
    keys = [(r.message["Subject"], tuple(r.rcpt_tos)) for r in reminders]
    assert len(keys) == len(set(keys)), "a reminder went out twice"
    assert all(r.message["Auto-Submitted"] == "auto-generated" for r in reminders)
    week2 = [r for r in reminders if "第二周" in r.message["Subject"]]
    assert {r.message["Subject"].split("：")[0][4:] for r in week2} == set(EXPECTED["reminders"][0]["weekly_report_units"])
    assert "今天17:30前" in week2[0].message.get_body(("plain",)).get_content()
    liaison = [r for r in reminders if "联络员推荐表" in r.message["Subject"]]
    # two slots (2 days before, and the day): each owing unit once per slot
    first_slot = set(EXPECTED["reminders"][1]["liaison_form_units"])
    assert len(liaison) >= len(first_slot)
    digests = [r for r in sent if r.message["Subject"].startswith("【周汇总】")]
    assert len(digests) == 5  # Fridays 6/5, 6/12, 6/19, 6/26 and 7/3


def test_digest_send_and_workbook_totals(june):
    before = len(june.sent)
    intake(june, "digest", "--send", "--now", "2020-07-03T09:00:00+08:00")
    intake(june, "digest", "--send", "--now", "2020-07-03T09:00:00+08:00")  # same moment: once
    digests = [r for r in june.sent[before:] if r.message["Subject"].startswith("【周汇总】")]
    assert len(digests) == 1
    msg = digests[0].message
    assert [a for _, a in getaddresses([msg["To"]])] == ["organizer@example.test"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "<table" in msg.get_body(("html",)).get_content()
    att = next(msg.iter_attachments())
    wb = load_workbook(io.BytesIO(att.get_content()))
    detail = wb["各单位明细"]
    header = [c.value for c in detail[1]]
    col = next(i for i, h in enumerate(header, 1) if h and h.startswith("2. "))
    assert detail.cell(detail.max_row, col).value == EXPECTED["report_totals"]["launch.events"]


def test_export_and_status_table(june, tmp_path):
    out = tmp_path / "导出.xlsx"
    assert "已导出" in intake(june, "export", str(out), "--now", "2020-06-30T12:00:00+08:00").stdout
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "各单位明细", "报送情况", "及时率", "联络员名单", "消息记录"]
    liaison = {r[0].value: r[1].value for r in wb["联络员名单"].iter_rows(min_row=2)}
    assert liaison["潜山市总工会"] == "高玉兰" and liaison["迎江区总工会"] == "（未报送）"
    table = intake(june, "status", "--now", "2020-06-30T12:00:00+08:00").stdout
    assert "太湖县总工会" in table and "逾期" in table
    from rich.cells import cell_len

    assert max(cell_len(line) for line in table.splitlines()) <= 80  # fits an 80-column terminal


def test_templates_read_back(june, tmp_path):
    from bot.forms.classify import read_attachment

    paths = intake(june, "templates", str(tmp_path / "forms")).stdout.split()
    assert len(paths) == 4
    kinds = {p.rsplit("/", 1)[-1]: read_attachment(p.rsplit("/", 1)[-1], open(p, "rb").read()).kind for p in paths}
    assert kinds == {"附件1（联络员推荐表）.docx": "liaison_form", "附件1（联络员推荐表）.xlsx": "liaison_form",
                     "附件2（进展情况统计表）.docx": "progress_table", "附件2（进展情况统计表）.xlsx": "progress_table"}


# ---------------------------------------------------------------------------- HTML as people see it


def test_digest_html_renders_its_tables_in_chromium(june, tmp_path):
    before = len(june.sent)
    intake(june, "digest", "--send", "--now", "2020-06-26T09:00:00+08:00")
    digest = [r for r in june.sent[before:] if r.message["Subject"].startswith("【周汇总】")][0]
    png, text = render_html(digest.message.get_body(("html",)).get_content(), tmp_path / "digest")
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a page of tables, not a blank one
    assert rendered_row(text, "材料", "已报", "单位总数")  # 一、报送概况
    assert rendered_row(text, "联络员推荐表", "3", "15")
    # 二、各单位报送情况: one column per item, in the calendar's order
    assert rendered_row(text, "太湖县总工会", "✗ 缺报", "逾期 6/24", "✗ 缺报", "未到期")
    assert rendered_row(text, "望江县总工会", "✓ 按时 6/5")
    assert rendered_row(text, "名次", "单位", "得分", "按时", "逾期", "缺报")  # 四、及时率
    assert "\ufffd" not in text and "□" not in text  # every Chinese character has a glyph
