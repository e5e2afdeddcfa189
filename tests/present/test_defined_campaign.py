"""Everything downstream of the definition, for a campaign that is not 2020's: a folder built here
(campaign.toml, a blank grid 报名表 .docx, a blank list 汇总表 .xlsx, a 总结 document item and a
weekly item of its own name), loaded with load_campaign, then standings, reminders, the digest
(text and HTML), the workbook (opened with openpyxl), an acknowledgement for a unit with errors,
`report --json` and the admin's tables — each in the campaign's own forms, fields and labels.
Values are FormResult-shaped as the readers give them (a list form: {list_key: [records]})."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from types import SimpleNamespace

import docx
import openpyxl
import pytest
from rich.console import Console

from bot.campaign.calendar import Calendar
from bot.campaign.definition import load_campaign
from bot.campaign.reminders import due_reminders, slots
from bot.campaign.roster import Roster
from bot.campaign.standing import Delivery, stand, summarise
from bot.config import load_config
from bot.forms.result import PARSED, FormResult, Problem
from bot.mail.mime import parse_mail
from bot.present import replies
from bot.present.as_json import report_json, status_json
from bot.present.digest import compose_digest, workbook_filename
from bot.present.labels import blank_phrases, report_forms
from bot.present.tables import report_tables, status_table
from bot.present.workbook import WorkbookData, build_workbook
from tests.fixtures.mails import build_mail

ROOT = Path(__file__).resolve().parents[2]
TITLE_GRID = "2021年全市职工劳动技能竞赛报名表"
TITLE_LIST = "2021年全市职工劳动技能竞赛参赛职工汇总表"
UNITS = ("迎江区总工会", "大观区总工会", "宜秀区总工会")
A, B, C = UNITS

TOML = """
[campaign]
name = "2021年全市职工劳动技能竞赛"
start = 2021-04-01
end = 2021-05-31
mailbox = "ldjs@example.test"
keywords = ["劳动技能竞赛"]

[[items]]
item = "entry_form"
label = "报名表（附件1）"
form = "附件1"
due = 2021-04-15

[[items]]
item = "entrants"
label = "参赛职工汇总表（附件2）"
form = "附件2"
due = 2021-04-30

[[items]]
item = "summary"
label = "竞赛总结"
kind = "document"
due = 2021-05-31
keywords = ["总结"]

[[items]]
item = "weekly"
label = "工作动态"
kind = "weekly"
weekday = "thursday"
time = "17:30"
first = 2021-04-08
last = 2021-04-29

[[forms]]
form = "附件1"
file = "附件1（报名表）.docx"
per_unit = "PER_UNIT"
fields = [
  { key = "unit_name" }, { key = "contact" }, { key = "mobile" }, { key = "email" },
  { key = "team_size", short = "报名参赛人数" }, { key = "trade", short = "参赛工种" },
]

[[forms]]
form = "附件2"
file = "附件2（参赛职工汇总表）.xlsx"
"""


def grid_docx(path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("附件1")
    d.add_paragraph(TITLE_GRID)
    table = d.add_table(rows=3, cols=4)
    for r, cells in enumerate([("单位名称", "", "联系人", ""), ("手机", "", "电子邮箱", ""),
                               ("参赛人数", "", "参赛工种", "")]):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    d.save(path)


def list_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["附件2"])
    ws.append([TITLE_LIST])
    ws.append(["序号", "姓名", "性别", "身份证号", "手机", "工种", "年龄"])
    for n in range(1, 6):
        ws.append([n])
    wb.save(path)


def make_campaign(folder: Path, per_unit: str = "one"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "campaign.toml").write_text(TOML.replace("PER_UNIT", per_unit), encoding="utf-8")
    grid_docx(folder / "附件1（报名表）.docx")
    list_xlsx(folder / "附件2（参赛职工汇总表）.xlsx")
    return load_campaign(folder)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def record(name, gender, id_number, mobile, trade, age):
    return {"name": name, "gender": gender, "id_number": id_number, "mobile": mobile, "trade": trade, "age": age}


ENTRY_A = {"unit_name": A, "contact": "王丽", "mobile": "13900000001", "email": "yj@example.test",
           "team_size": 12, "trade": "焊工"}
ENTRY_B = {"unit_name": B, "contact": "李强", "mobile": "13900000002", "email": "dg@example.test",
           "team_size": 5, "trade": "电工"}
RECORDS_A = [record("张三", "男", "340802199001011234", "13900001111", "焊工", 30),
             record("李四", "女", "340802198001011234", "13900002222", "焊工", 41),
             record("=cmd|' /C calc'!A0", "男", "340802199601011234", "13900003333", "电工", 25)]
RECORDS_B = [record("王五", "男", "340803198601011234", "13900004444", "电工", 35),
             record("赵六", "女", "340803199201011234", None, "电工", None),
             {"name": None, "gender": None, "id_number": None, "mobile": None, "trade": None, "age": None}]
NOW = t("2021-05-03T09:00:00+08:00")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("defined")
    campaign = make_campaign(base / "2021-labour-skills")
    cal = Calendar(campaign)
    (base / "units.csv").write_text("unit,aliases,category,emails\n" + "".join(
        f"{u},,县（市、区）工会,u{i}@example.test\n" for i, u in enumerate(UNITS)), encoding="utf-8")
    roster = Roster.load(base / "units.csv")
    cfg = base / "config.toml"
    cfg.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    schedule = load_config(cfg).schedule
    deliveries = [
        Delivery(A, "entry_form", "entry_form", t("2021-04-10T10:00:00+08:00"), ENTRY_A),
        Delivery(A, "entrants", "entrants", t("2021-04-20T10:00:00+08:00"), {"records": RECORDS_A}),
        Delivery(A, "weekly:2021-04-08", "weekly", t("2021-04-08T10:00:00+08:00"), {}),
        Delivery(B, "entry_form", "entry_form", t("2021-04-16T10:00:00+08:00"), ENTRY_B),
        Delivery(B, "entrants", "entrants", t("2021-04-28T10:00:00+08:00"), {"records": RECORDS_B}),
        # recorded for another campaign of the same database: not this one's
        Delivery(C, "entry_form", "entry_form", t("2021-04-10T10:00:00+08:00"), ENTRY_A, campaign="other"),
    ]
    stands = stand(cal, roster, deliveries, NOW)
    reports = [summarise(stands, form) for form in report_forms(campaign)]
    messages = [{"id": 1, "received_at": "2021-04-10T10:00:00+08:00", "from": "u0@example.test",
                 "subject": "迎江区总工会报名表", "unit": A, "outcome": "accepted", "kinds": ["entry_form", "weekly"],
                 "reason": "", "flags": []}]
    data = WorkbookData(campaign.name, NOW, cal, stands, reports[0], messages, reports)
    return SimpleNamespace(campaign=campaign, cal=cal, roster=roster, schedule=schedule, deliveries=deliveries,
                           stands=stands, reports=reports, data=data, base=base)


def test_standings_follow_the_definition(site):
    cal, stands = site.cal, {s.unit: s for s in site.stands}
    weeks = ["weekly:2021-04-08", "weekly:2021-04-15", "weekly:2021-04-22", "weekly:2021-04-29"]
    assert list(stands[A].items) == ["entry_form", "entrants", "summary", *weeks]
    assert cal.item_label("weekly:2021-04-22") == "工作动态 第三周（4月22日）"
    assert stands[A].items["entry_form"].state == "on_time" and stands[B].items["entry_form"].state == "late"
    assert stands[C].items["entry_form"].state == "missing"  # the other campaign's delivery does not count
    assert stands[A].items["weekly:2021-04-08"].state == "on_time" and stands[A].items["summary"].state == "open"
    assert stands[A].forms["entrants"] == {"records": RECORDS_A}
    assert stands[A].liaison is None  # the campaign has no liaison form
    doc = status_json(site.stands, cal, NOW)
    assert set(doc["units"][0]["items"]) == {"entry_form", "entrants", "summary", *weeks}
    assert doc["units"][0]["items"]["entrants"]["due"] == "2021-04-30T23:59:59+08:00"


def test_reports_sum_each_form_by_its_fields(site):
    grid, lst = site.reports
    assert grid.form.form == "附件1" and lst.form.form == "附件2"
    assert grid.totals == {"team_size": 17} and grid.units[A] == ENTRY_A and grid.missing_units == [C]
    assert lst.totals == {"age": 30 + 41 + 25 + 35}  # an empty age adds nothing
    assert lst.units[A] == RECORDS_A and lst.units[B] == RECORDS_B[:2]  # the blank row is no record
    assert lst.records == 5 and lst.missing_units == [C]


def test_report_json_lists_every_form(site):
    doc = report_json(site.reports)
    assert doc["totals"] == {"team_size": 17} and doc["units"][B] == ENTRY_B and doc["missing_units"] == [C]
    assert list(doc["forms"]) == ["附件1", "附件2"]
    grid, lst = doc["forms"]["附件1"], doc["forms"]["附件2"]
    assert grid["shape"] == "grid" and grid["per_unit"] == "one" and grid["units"][A]["team_size"] == 12
    assert lst["shape"] == "list" and lst["list_key"] == "records" and lst["item"] == "entrants"
    assert lst["units"][A] == RECORDS_A and lst["records"] == 5 and lst["totals"] == {"age": 131}


def test_many_per_unit_form_lists_every_copy(tmp_path):
    campaign = make_campaign(tmp_path / "many", per_unit="many")
    cal = Calendar(campaign)
    (tmp_path / "units.csv").write_text(f"unit,aliases,category,emails\n{A},,x,a@example.test\n{B},,x,b@example.test\n",
                                        encoding="utf-8")
    roster = Roster.load(tmp_path / "units.csv")
    second = ENTRY_A | {"contact": "周敏", "team_size": 3}
    stands = stand(cal, roster, [
        Delivery(A, "entry_form", "entry_form", t("2021-04-12T10:00:00+08:00"), second),
        Delivery(A, "entry_form", "entry_form", t("2021-04-10T10:00:00+08:00"), ENTRY_A)], NOW)
    reports = [summarise(stands, f) for f in report_forms(campaign)]
    doc = report_json(reports)
    assert doc["forms"]["附件1"]["per_unit"] == "many"
    assert doc["forms"]["附件1"]["units"][A] == [ENTRY_A, second]  # every copy, oldest first
    assert doc["totals"] == {"team_size": 15} and doc["forms"]["附件1"]["records"] == 2
    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(WorkbookData(campaign.name, NOW, cal, stands, reports[0], [],
                                                                       reports))))
    rows = [[c.value for c in row] for row in wb["附件1汇总"].iter_rows(min_row=4)]
    assert [r[0] for r in rows[:2]] == [A, A] and [r[2] for r in rows[:2]] == ["王丽", "周敏"]
    assert rows[2][0] == "合计" and rows[2][5] == 15
    assert any(r[0] == f"未报单位：{B}" for r in rows)


def test_reminders_name_the_items_label_and_deadline(site):
    got = {(item, slot.isoformat()) for item, slot in slots(site.cal, site.schedule)}
    assert ("weekly:2021-04-29", "2021-04-29T09:00:00+08:00") in got
    assert ("entrants", "2021-04-28T09:00:00+08:00") in got and ("summary", "2021-05-29T09:00:00+08:00") in got
    now = t("2021-04-29T09:30:00+08:00")
    stands = stand(site.cal, site.roster, site.deliveries, now)
    due = due_reminders(site.cal, site.schedule, site.roster, stands, now)
    assert {(r.unit, r.item) for r in due} == {(u, "weekly:2021-04-29") for u in UNITS}
    r = next(r for r in due if r.unit == B)
    assert r.key == f"remind:{B}:weekly:2021-04-29:2021-04-29T09:00:00+08:00"
    assert replies.reminder_subject(site.cal, r) == f"【提醒】{B}：请于4月29日17:30前报送工作动态 第四周（4月29日）（今天截止）"
    body = replies.render_reminder(site.cal, r, site.campaign.name, "李强")
    assert "报送本周“劳动技能竞赛”活动及其他相关工作开展情况（电子版）" in body and "2021年4月29日 17:30" in body
    assert "安康杯" not in body and "安全生产月" not in body and "“劳动技能竞赛”材料接收系统" in body
    form_due = site.cal.deadline("entrants").due
    form_reminder = type(r)(C, "entrants", form_due - timedelta(days=2), ("u2@example.test",), form_due)
    body = replies.render_reminder(site.cal, form_reminder, site.campaign.name, None)
    assert "请于4月30日23:59前报送参赛职工汇总表（附件2）" in body and "截止时间：2021年4月30日 23:59" in body


def test_digest_lists_each_form(site):
    msg = compose_digest(site.data, sender="劳动经济部 <ldjs@example.test>", to=["org@example.test"],
                         wall=datetime(2021, 5, 3, tzinfo=timezone.utc))
    parsed = message_from_bytes(msg.as_bytes(), policy=default)
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert f"三、报名表（附件1）汇总：已报 2 个单位，未报 1 个（{C}）" in text
    assert "· 报名参赛人数：17" in text
    assert f"四、参赛职工汇总表（附件2）汇总：已报 2 个单位，共 5 条记录，未报 1 个（{C}）" in text
    assert "· 年龄：131" in text
    assert "五、及时率（得分 = 100" in text and "六、待人工处理的邮件" in text
    assert "· 工作动态 第一周（4月8日）：已报 1 / 3 个单位" in text and "· 竞赛总结：已报 0 / 3 个单位" in text
    assert "详细数据见附件工作簿（附件1汇总、附件2汇总、报送情况、及时率、消息记录）" in text
    assert "安康杯" not in text + html and "安全生产月" not in text + html
    assert "“劳动技能竞赛”材料接收系统" in text and "“劳动技能竞赛”材料接收系统" in html
    assert "三、报名表（附件1）汇总" in html and "四、参赛职工汇总表（附件2）汇总" in html
    assert "<td>年龄</td><td align=\"right\">131</td>" in html and "共 5 条记录" in html
    assert workbook_filename(site.data) == "劳动技能竞赛报送汇总_20210503.xlsx"
    assert next(parsed.iter_attachments()).get_filename() == "劳动技能竞赛报送汇总_20210503.xlsx"


def test_workbook_sheets_follow_each_forms_layout(site):
    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(site.data)))
    assert wb.sheetnames == ["附件1汇总", "附件2汇总", "报送情况", "及时率", "消息记录"]  # no liaison form
    grid = wb["附件1汇总"]
    assert grid["A1"].value == f"{TITLE_GRID}（汇总）"
    assert "已报单位 2 个，未报 1 个" in grid["A2"].value
    assert [c.value for c in grid[3]] == ["单位", "单位名称", "联系人", "手机", "电子邮箱", "报名参赛人数", "参赛工种"]
    rows = [[c.value for c in row] for row in grid.iter_rows(min_row=4)]
    assert rows[0] == [A, A, "王丽", "13900000001", "yj@example.test", 12, "焊工"]
    assert rows[1][0] == B and rows[1][5] == 5
    assert rows[2][:2] == [C, "（未报送）"]
    assert rows[3][0] == "合计" and rows[3][5] == 17
    lst = wb["附件2汇总"]
    assert lst["A1"].value == f"{TITLE_LIST}（汇总）" and "共 5 条记录" in lst["A2"].value
    assert [c.value for c in lst[3]] == ["单位", "姓名", "性别", "身份证号", "手机", "工种", "年龄"]
    rows = [[c.value for c in row] for row in lst.iter_rows(min_row=4)]
    assert [r[0] for r in rows[:5]] == [A, A, A, B, B]
    assert rows[0][1:] == ["张三", "男", "340802199001011234", "13900001111", "焊工", 30]
    assert lst.cell(4, 4).data_type == "s"  # an ID number stays text
    assert rows[2][1] == "=cmd|' /C calc'!A0" and lst.cell(6, 2).data_type == "s"  # never a formula
    assert rows[5][0] == "合计" and rows[5][6] == 131
    assert rows[7][0] == f"未报单位：{C}"
    delivery = [c.value for c in wb["报送情况"][1]]
    assert any(v and v.startswith("报名表（附件1）\n截止 2021-04-15 23:59") for v in delivery)
    assert any(v and v.startswith("工作动态 第一周（4月8日）") for v in delivery)
    assert wb["消息记录"]["G2"].value == "附件1、工作动态"
    assert "安康杯" not in " ".join(str(c.value) for c in wb["及时率"]["A"] if c.value)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate)


def _mail(subject="大观区总工会报名材料"):
    return parse_mail(build_mail(subject=subject, sender=f"{B} <dg@example.test>", message_id="<b1@example.test>"))


def test_acknowledgement_names_the_units_errors_by_label(site):
    slug = site.campaign.slug
    listed = FormResult("entrants", PARSED, {"records": RECORDS_A}, form="附件2", campaign=slug, errors=(
        Problem("records[2].id_number", "第3行 身份证号", "34080219960101123X", "18位身份证号（校验码不符）"),
        Problem("records[1].mobile", "手机", "1390000", "11位手机号码")))
    entry = FormResult("entry_form", PARSED, ENTRY_B | {"mobile": None, "team_size": None}, form="附件1",
                       campaign=slug, errors=(Problem("mobile", "手机", "1390000", "11位手机号码"),
                                              Problem("team_size", "参赛人数", "若干", "整数")))
    files = [SimpleNamespace(filename="参赛职工汇总表.xlsx", result=listed),
             SimpleNamespace(filename="报名表.docx", result=entry)]
    at = t("2021-04-20T10:00:00+08:00")
    ack = replies.build_acknowledgement(
        calendar=site.cal, mail=_mail(), files=files, body=None, unit=B, outcome="accepted", reason="", flags=[],
        items=[("entrants", "参赛职工汇总表.xlsx", "new"), ("entry_form", "报名表.docx", "new")],
        received={"entrants": at, "entry_form": at}, received_at=at, liaison=None, problems=[])
    text = replies.render_acknowledgement(ack)
    assert f"1. 参赛职工汇总表.xlsx —— 识别为《{TITLE_LIST}（附件2）》，读取 3 条记录。" in text
    assert "· 第3行 身份证号：填写“34080219960101123X”，应为18位身份证号（校验码不符）" in text
    assert "· 第2条 手机：填写“1390000”，应为11位手机号码" in text  # a label without its row: the record's number
    assert f"2. 报名表.docx —— 识别为《{TITLE_GRID}（附件1）》，逾期报送（截止时间：2021年4月15日 23:59）。" in text
    assert "· 手机：填写“1390000”，应为11位手机号码" in text
    assert "· 报名参赛人数：填写“若干”，应为整数" in text  # the field's short label, not the form's words
    assert "   报名参赛人数：（未填）" in text and "   参赛工种：电工" in text  # the grid read back
    assert "· 竞赛总结，截止时间：2021年5月31日 23:59" in text
    assert "· 工作动态 第一周（4月8日），截止时间：2021年4月8日 17:30（已逾期，请尽快补报；补报时请在邮件主题中注明“第一周”）" in text
    assert "报名表（附件1），截止" not in text  # received: not owed
    assert "共 3 条记录：" in text
    assert " 1. 姓名：张三　性别：男　身份证号：340802199001011234　手机：13900001111　工种：焊工　年龄：30" in text
    assert " 3. 姓名：=cmd|' /C calc'!A0　性别：男　身份证号：未记录（需更正）　手机：13900003333" in text
    assert " 2. 姓名：李四　性别：女　身份证号：340802198001011234　手机：未记录（需更正）" in text
    assert "（本邮件由“劳动技能竞赛”材料接收系统自动发送）" in text and "安全生产月" not in text
    html = replies.render_acknowledgement_html(ack)
    assert "<th>序号</th><th>姓名</th><th>性别</th><th>身份证号</th><th>手机</th><th>工种</th><th>年龄</th>" in html
    assert "第3行 身份证号：<br>填写“34080219960101123X”，应为18位身份证号（校验码不符）" in html
    assert "=cmd|&#39; /C calc&#39;!A0" in html and "安全生产月" not in html


def test_admin_tables_speak_of_the_campaigns_items(site):
    console = Console(width=120, record=True, file=io.StringIO())
    status_table(status_json(site.stands, site.cal, NOW), console, site.campaign)
    report_tables(report_json(site.reports), site.campaign, console)
    out = console.export_text()
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "单位" in line and "得分" in line)
    assert "附1" in lines[at] and "附2" in lines[at] and "总结" in lines[at] and "4/29" in lines[at]
    assert lines[at - 1].count("工作动态") == 4  # the weekly item's two-line headers
    assert "附1 报名表　附2 参赛职工汇总表" in out
    assert "报名表汇总（2 个单位已报）" in out and "报名参赛人数" in out
    assert "参赛职工汇总表汇总（2 个单位已报，共 5 条记录）" in out and "年龄" in out
    assert f"未报单位：{C}" in out


# ---------------------------------------------------------------------------- a prose form of its own

PROSE_TOML = """
[campaign]
name = "2021年职工书屋建设活动"
start = 2021-05-01
end = 2021-06-30
keywords = ["职工书屋"]

[[items]]
item = "progress"
label = "建设情况统计表（附件1）"
form = "附件1"
due = 2021-06-20

[[forms]]
form = "附件1"
file = "附件1.docx"
"""


def prose_docx(path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("附件1")
    d.add_paragraph("职工书屋建设情况统计表")
    d.add_paragraph("填报单位：　　　　联系人：　　　　")
    table = d.add_table(rows=3, cols=3)
    rows = [("项目", "要求", "完成情况"),
            ("新建书屋", "覆盖基层", "新建职工书屋（  ）个，配送图书（  ）册。"),
            ("读书活动", "形式多样", "以（  ）等形式开展读书活动（  ）场。")]
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    d.save(path)


def test_prose_form_of_another_campaign(tmp_path):
    folder = tmp_path / "2021-reading-rooms"
    folder.mkdir()
    (folder / "campaign.toml").write_text(PROSE_TOML, encoding="utf-8")
    prose_docx(folder / "附件1.docx")
    campaign = load_campaign(folder)
    form = campaign.form("附件1")
    assert [(f.key, f.type) for f in form.blanks] == [("b01", "int"), ("b02", "text"), ("b03", "text"), ("b04", "int")]
    cal = Calendar(campaign)
    (tmp_path / "units.csv").write_text(f"unit,aliases,category,emails\n{A},,x,a@example.test\n{B},,x,b@example.test\n",
                                        encoding="utf-8")
    roster = Roster.load(tmp_path / "units.csv")
    values_a = {"header.unit_name": A, "header.contact": "王丽", "b01": 2, "b02": "约500", "b03": "读书会", "b04": 3}
    values_b = {"header.unit_name": B, "header.contact": "李强", "b01": 1, "b02": "", "b03": None, "b04": None}
    stands = stand(cal, roster, [Delivery(A, "progress", "progress", t("2021-06-01T10:00:00+08:00"), values_a),
                                 Delivery(B, "progress", "progress", t("2021-06-02T10:00:00+08:00"), values_b)],
                   t("2021-06-25T10:00:00+08:00"))
    reports = [summarise(stands, f) for f in report_forms(campaign)]
    assert reports[0].totals == {"b01": 3, "b04": 3}
    assert report_json(reports) == {"totals": {"b01": 3, "b04": 3}, "units": {A: values_a, B: values_b},
                                    "missing_units": []}
    data = WorkbookData(campaign.name, t("2021-06-25T10:00:00+08:00"), cal, stands, reports[0], [], reports)
    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(data)))
    assert wb.sheetnames == ["汇总", "各单位明细", "报送情况", "及时率", "消息记录"]
    summary = wb["汇总"]
    assert [c.value for c in summary[3]] == ["项目", "要求", "完成情况"]
    assert summary["C4"].value == "新建职工书屋（3）个，配送图书（1个单位填写）册。"
    assert summary["C5"].value == "以（1个单位填写）等形式开展读书活动（3）场。"
    detail = [c.value for c in wb["各单位明细"][1]]
    assert detail[:3] == ["单位", "填报单位", "联系人"] and detail[3].startswith("1. ")
    # an acknowledgement reads every blank back and names an error by its number and words
    result = FormResult("progress", PARSED, values_b, form="附件1", campaign=campaign.slug,
                        errors=(Problem("b04", form.field("b04").label, "很多", "数字"),))
    at = t("2021-06-02T10:00:00+08:00")
    ack = replies.build_acknowledgement(
        calendar=cal, mail=_mail("书屋统计表"), files=[SimpleNamespace(filename="附件1.docx", result=result)], body=None,
        unit=B, outcome="accepted", reason="", flags=[], items=[("progress", "附件1.docx", "new")],
        received={"progress": at}, received_at=at, liaison=None, problems=[])
    text = replies.render_acknowledgement(ack)
    assert "识别为《职工书屋建设情况统计表（附件1）》，读取 2 项" in text
    phrase = blank_phrases(form)["b04"]
    assert f"· 第4项 {form.field('b04').short}：{phrase.replace('（ ）', '（很多）')} —— 应为数字" in text
    assert f"填报单位：{B}　联系人：李强" in text and f" 4. {form.field('b04').short}：未记录（填写“很多”，需更正）" in text
    assert "目前没有待报送的材料" in text and "“职工书屋”材料接收系统" in text
