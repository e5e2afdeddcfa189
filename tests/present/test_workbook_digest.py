import io
import re
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.campaign.calendar import Calendar
from bot.campaign.roster import Roster
from bot.campaign.standing import Delivery, consolidate, stand
from bot.config import load_config
from bot.forms.progress_template import BLANKS
from bot.present.digest import compose_digest
from bot.present.workbook import WorkbookData, build_workbook

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples"
INT_KEYS = [b.key for b in BLANKS if b.type == "int"]


def t(text):
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    p = tmp_path_factory.mktemp("cfg") / "config.toml"
    p.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    cal = Calendar(load_config(p).campaign)
    roster = Roster.load(SAMPLES / "roster.csv")
    a = {k: 2 for k in INT_KEYS} | {"launch.forms": "=cmd|' /C calc'!A0", "header.unit_name": "大观区总工会"}
    b = {k: 3 for k in INT_KEYS} | {"launch.forms": "<script>alert(1)</script>", "exemplary.videos": None}
    deliveries = [
        Delivery("大观区总工会", "progress_table", "progress_table", t("2020-06-20T10:00:00+08:00"), a),
        Delivery("岳西县总工会", "progress_table", "progress_table", t("2020-06-29T10:00:00+08:00"), b),
        Delivery("岳西县总工会", "liaison_form", "liaison_form", t("2020-06-05T10:00:00+08:00"),
                 {"name": "=HYPERLINK(\"http://evil\",\"点我\")", "email": "yx@x.test", "mobile": "13900000000"}),
    ]
    now = t("2020-07-03T09:00:00+08:00")
    stands = stand(cal, roster, deliveries, now)
    report = consolidate(stands, INT_KEYS)
    messages = [{"id": 1, "received_at": "2020-06-20T10:00:00+08:00", "from": "dg@x.test",
                 "subject": "=1+1 <b>标题</b>", "unit": "大观区总工会", "outcome": "accepted",
                 "kinds": ["progress_table"], "reason": "", "flags": []}]
    return WorkbookData("2020年全市“安全生产月”活动", now, cal, stands, report, messages)


def test_workbook_sheets_totals_and_text_cells(data):
    wb = load_workbook(io.BytesIO(build_workbook(data)))
    assert wb.sheetnames == ["汇总", "各单位明细", "报送情况", "及时率", "联络员名单", "消息记录"]
    summary = "\n".join(str(c.value) for row in wb["汇总"].iter_rows() for c in row if c.value)
    assert "启动“安全生产月”活动（5）场次" in summary  # 2 + 3 written into the blank
    assert "制作专题视频（2）部" in summary  # a null blank adds nothing
    detail = wb["各单位明细"]
    header = [c.value for c in detail[1]]
    col = header.index(next(h for h in header if h and h.startswith("2. "))) + 1
    total_row = detail.max_row
    assert detail.cell(total_row, 1).value == "合计" and detail.cell(total_row, col).value == 5
    # text from units stays text in every sheet: no formula survives
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    liaison = wb["联络员名单"]
    assert any(c.value == "=HYPERLINK(\"http://evil\",\"点我\")" for row in liaison.iter_rows() for c in row)
    assert wb["及时率"]._charts, "timeliness sheet has its bar chart"
    states = [c.value for c in wb["报送情况"][2]]
    assert any(v and v.startswith("缺报") for v in states)


def test_digest_parts_escaping_and_attachment_name(data):
    msg = compose_digest(data, sender="劳动经济部 <aqghljb@126.com>", to=["org@x.test"],
                         wall=datetime.now(timezone.utc))
    parsed = message_from_bytes(msg.as_bytes(), policy=default)
    assert parsed["Auto-Submitted"] == "auto-generated"
    html = parsed.get_body(("html",)).get_content()
    text = parsed.get_body(("plain",)).get_content()
    assert "<script>" not in html
    assert "<table" in html and "大观区总工会" in html and "缺报" in text
    att = next(parsed.iter_attachments())
    raw = msg.as_bytes().decode("ascii")  # as it goes on the wire
    assert re.search(r"filename\*(0\*)?=utf-8''%E5%AE%89", raw)  # RFC 2231
    assert 'name="=?utf-8?b?' in raw
    assert att.get_filename().startswith("安全生产月报送汇总_") and att.get_filename().endswith(".xlsx")
    book = load_workbook(io.BytesIO(att.get_content()))
    assert "汇总" in book.sheetnames
