"""What a unit is told, read at the SMTP server as the unit receives it, after the real path:
APPEND to Dovecot, `intake poll` / `intake remind` / `intake status` as subprocesses.

- an acknowledged 附件2 reads back every blank's value under a label that says what it counts,
  in the plain-text part and as a table in the HTML part;
- 尚需报送 names every item still owed, however long overdue, as `status` does;
- a late report is called late, as `status` and the digest call it;
- a liaison form without an email address: reminders go to the address it came from, and the
  acknowledgement says so;
- reminders word their deadline one way; equal timeliness scores share a rank.
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from html.parser import HTMLParser

from openpyxl import load_workbook

from bot.forms.blank_forms import fill_liaison_docx, fill_progress_docx
from bot.forms.progress_template import BLANK_RE, BLANKS, BLANKS_BY_KEY, SHORT_LABELS, numbered_label
from tests.fixtures.mails import build_mail
from tests.fixtures.render import render_html, rendered_row
from tests.test_samples import intake

REPORT = "本周我会组织开展了安全生产月启动仪式，参加职工120人；开展隐患排查3次，整改隐患12处。"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def send(setup, *, sender, subject, mid, when, files=(), body="请查收附件。"):
    setup.append(build_mail(subject=subject, sender=sender, attachments=list(files), message_id=mid, body=body),
                 at(when))


def reply_to(setup, mid: str):
    replies = [r for r in setup.sent if r.message["In-Reply-To"] == mid]
    assert len(replies) == 1, [r.message["Subject"] for r in setup.sent]
    return replies[0].message


def plain(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html(msg) -> str:
    return msg.get_body(("html",)).get_content()


class _Rows(HTMLParser):
    """The rows of every table in an HTML part, as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(page: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(page)
    return parser.rows


def status(setup, now: str) -> dict:
    return json.loads(intake(setup, "status", "--json", "--now", now).stdout)


# ---------------------------------------------------------------------------- labels


def test_every_blank_has_its_own_short_label_saying_what_it_counts():
    assert set(SHORT_LABELS) == {b.key for b in BLANKS}
    assert len(set(SHORT_LABELS.values())) == 51
    for b in BLANKS:
        assert not BLANK_RE.search(b.short) and "（ ）" not in b.short, b.short  # no blank left in a label
        assert b.short != b.label
    # the examples: what a clerk could not read before
    assert numbered_label(BLANKS_BY_KEY["inspection.enterprises"]) == "12. 开展“啄木鸟”等活动的企业数"
    assert "场次" in BLANKS_BY_KEY["inspection.community_events"].short
    assert BLANKS_BY_KEY["consultation.innovative_events"].short == "创新活动场次"
    participants = [b.short for b in BLANKS if b.label == "参与（ ）人次"]
    assert len(participants) == 4 and len(set(participants)) == 4


# ---------------------------------------------------------------------------- 附件2 read back


FIGURES = {b.key: str(100 + b.number) for b in BLANKS if b.type == "int"} | {
    b.key: f"座谈会{b.number}" for b in BLANKS if b.type == "text"}
FIGURES |= {"inspection.film_screenings": "若干",  # error: nothing recorded
            "inspection.film_viewers": "300多",  # warning: 300 recorded as an estimate
            "exemplary.videos": ""}  # left empty


def test_progress_acknowledgement_reads_back_every_blank(make_setup):
    setup = make_setup()
    header = {"header.unit_name": "桐城市总工会", "header.contact": "汪洋", "header.phone": "0556-6123456",
              "header.fill_date": "2020年6月20日"}
    send(setup, sender="桐城市总工会 <tcszgh@example.test>", subject="桐城市总工会附件2",
         files=[("附件2进展情况统计表.docx", fill_progress_docx(FIGURES, header), DOCX)], mid="<p1@example.test>",
         when="2020-06-20T10:00:00+08:00")
    intake(setup, "poll")
    msg = reply_to(setup, "<p1@example.test>")
    text = plain(msg)
    print(text)
    assert "读取 49 项" in text  # 51 blanks: one in error, one left empty and "请逐项核对" in text
    assert "填报单位：桐城市总工会　联系人：汪洋　电话：0556-6123456　填报日期：2020年6月20日" in text
    shown = {}
    for b in BLANKS:
        line = next((ln.strip() for ln in text.splitlines() if ln.strip().startswith(f"{numbered_label(b)}：")), None)
        assert line is not None, numbered_label(b)
        shown[b.key] = line.split("：", 1)[1]
    assert shown["launch.events"] == "102" and shown["launch.forms"] == "座谈会1"
    assert shown["inspection.enterprises"] == "112"
    assert shown["inspection.film_screenings"] == "未记录（填写“若干”，需更正）"
    assert shown["inspection.film_viewers"] == "300（估计数，填写“300多”）"
    assert shown["exemplary.videos"] == "未填"
    for key, written in FIGURES.items():
        if key not in ("inspection.film_screenings", "inspection.film_viewers", "exemplary.videos"):
            assert shown[key] == written, key
    # the problems name the blank by what it counts, then in the form's own words
    assert "第10项 组织观看警示教育片场次：组织观看（若干）场 —— 应为数字" in text
    assert "第11项 观看警示教育片人次：" in text
    # the HTML part: the same values as a table of 序号 / 项目 / 读取结果
    rows = table_rows(html(msg))
    assert ["序号", "项目", "读取结果"] in rows
    for b in BLANKS:
        assert [str(b.number), b.short, shown[b.key]] in rows, b.key
    # as her mail client draws it
    png, drawn = render_html(html(msg), setup.dir / "ack")
    assert png.startswith(b"\x89PNG")
    assert rendered_row(drawn, "12", "开展“啄木鸟”等活动的企业数", "112")
    assert rendered_row(drawn, "10", "组织观看警示教育片场次", "未记录")
    assert "\ufffd" not in drawn
    # the organizers see the same labels: `report`, the digest and its workbook
    table = intake(setup, "report").stdout
    assert rendered_row(table, "12. 开展“啄木鸟”等活动的企业数", "112")
    assert rendered_row(table, "37. 安全宣传进企业参与人数", "137")
    intake(setup, "digest", "--send", "--now", "2020-06-26T09:00:00+08:00")
    digest = next(r.message for r in setup.sent if r.message["Subject"].startswith("【周汇总】"))
    assert "· 12. 开展“啄木鸟”等活动的企业数：112" in plain(digest)
    assert ["12. 开展“啄木鸟”等活动的企业数", "112"] in table_rows(html(digest))
    book = load_workbook(io.BytesIO(next(digest.iter_attachments()).get_content()))
    header = [c.value for c in book["各单位明细"][1]]
    assert header[5:] == [numbered_label(b) for b in BLANKS]


# ---------------------------------------------------------------------------- owed and late


def test_a_unit_weeks_overdue_is_told_everything_it_owes_and_that_it_is_late(make_setup):
    """宿松 sends nothing until 29 June, after every deadline: its first weekly report counts
    for the last week, late, and the reply names the three forms and every week it missed."""
    setup = make_setup()
    send(setup, sender="宿松县总工会 <ssxzgh@example.test>", subject="宿松县总工会周报",
         body="本周开展隐患排查3次，参加职工120人。", mid="<s1@example.test>", when="2020-06-29T10:00:00+08:00")
    intake(setup, "poll")
    text = plain(reply_to(setup, "<s1@example.test>"))
    print(text)
    assert "计入第四周（6月25日），逾期报送（截止时间：2020年6月25日 17:30）" in text
    doc = status(setup, "2020-06-29T10:00:00+08:00")
    unit = next(u for u in doc["units"] if u["unit"] == "宿松县总工会")
    assert unit["items"]["weekly_report:2020-06-25"]["state"] == "late"
    owed = [item for item, st in unit["items"].items() if st["state"] in ("missing", "open")]
    assert len(owed) == 6  # 附件1, 附件2, 总结 and weeks one to three
    owed_section = text.split("贵单位尚需报送", 1)[1]
    labels = {"liaison_form": "联络员推荐表（附件1）", "progress_table": "进展情况统计表（附件2）", "summary": "活动总结",
              "weekly_report:2020-06-04": "周报 第一周（6月4日）", "weekly_report:2020-06-11": "周报 第二周（6月11日）",
              "weekly_report:2020-06-18": "周报 第三周（6月18日）"}
    for item in owed:
        line = next(ln for ln in owed_section.splitlines() if labels[item] in ln)
        assert "已逾期，请尽快补报" in line, line
    assert "周报 第一周（6月4日），截止时间：2020年6月4日 17:30（已逾期，请尽快补报；补报时请在邮件主题中注明“第一周”）" \
        in owed_section
    assert "联络员推荐表（附件1），截止时间：2020年6月10日 23:59" in owed_section
    assert "第四周" not in owed_section
    rows = table_rows(html(reply_to(setup, "<s1@example.test>")))
    assert sum(1 for r in rows if len(r) == 3 and r[2].startswith("已逾期")) == 6

    # following the hint: the week-one report, late, is called late and week one is no longer owed
    send(setup, sender="宿松县总工会 <ssxzgh@example.test>", subject="宿松县总工会第一周周报（补报）",
         body="第一周开展启动仪式1场。", mid="<s2@example.test>", when="2020-06-29T11:00:00+08:00")
    intake(setup, "poll")
    text = plain(reply_to(setup, "<s2@example.test>"))
    assert "计入第一周（6月4日），逾期报送（截止时间：2020年6月4日 17:30）" in text
    assert "第一周（6月4日），截止" not in text.split("贵单位尚需报送", 1)[1]
    doc = status(setup, "2020-06-29T12:00:00+08:00")
    unit = next(u for u in doc["units"] if u["unit"] == "宿松县总工会")
    assert unit["items"]["weekly_report:2020-06-04"]["state"] == "late"


def test_a_late_weekly_report_naming_its_week_is_called_late(make_setup):
    """The issue's case: a 第三周 report on Monday 22 June counts for week three, late."""
    setup = make_setup()
    send(setup, sender="桐城市总工会 <tcszgh@example.test>", subject="桐城市总工会第三周工作情况",
         body=REPORT, mid="<w3@example.test>", when="2020-06-22T09:00:00+08:00")
    send(setup, sender="桐城市总工会 <tcszgh@example.test>", subject="桐城市总工会第四周工作情况",
         body=REPORT, mid="<w4@example.test>", when="2020-06-23T09:00:00+08:00")
    intake(setup, "poll")
    late = plain(reply_to(setup, "<w3@example.test>"))
    assert "计入第三周（6月18日），逾期报送（截止时间：2020年6月18日 17:30）" in late
    on_time = plain(reply_to(setup, "<w4@example.test>"))
    assert "计入第四周（6月25日）" in on_time and "逾期报送" not in on_time
    doc = status(setup, "2020-06-23T10:00:00+08:00")
    unit = next(u for u in doc["units"] if u["unit"] == "桐城市总工会")
    assert unit["items"]["weekly_report:2020-06-18"]["state"] == "late"
    assert unit["items"]["weekly_report:2020-06-25"]["state"] == "on_time"


# ---------------------------------------------------------------------------- liaison without email


def test_liaison_form_without_email_reminders_go_to_the_sending_address(make_setup):
    setup = make_setup()
    form = fill_liaison_docx({"name": "何敏", "gender": "女", "title": "办公室主任", "office_phone": "0556-5412345",
                              "mobile": "13905561234", "unit_name": "宿松县总工会", "address": "宿松县孚玉镇"})
    send(setup, sender="何敏 <hemin1990@qq.test>", subject="联络员推荐表", mid="<l1@qq.test>",
         files=[("附件1联络员推荐表.docx", form, DOCX)], when="2020-06-05T10:00:00+08:00")
    intake(setup, "poll")
    msg = reply_to(setup, "<l1@qq.test>")
    text = plain(msg)
    print(text)
    assert "电子邮箱：（未填）" in text
    assert "今后的提醒将发送至本邮件的发件地址 hemin1990@qq.test" in text
    assert "今后的提醒将发送至本邮件的发件地址 hemin1990@qq.test" in html(msg)
    # the week-two reminder goes to her, not to the roster's address
    rows = json.loads(intake(setup, "remind", "--dry-run", "--json", "--now", "2020-06-11T09:30:00+08:00").stdout)
    mine = [r for r in rows if r["unit"] == "宿松县总工会"]
    assert [r["to"] for r in mine] == [["hemin1990@qq.test"]]
    intake(setup, "remind", "--now", "2020-06-11T09:30:00+08:00")
    got = [r for r in setup.sent_to("hemin1990@qq.test") if r.message["Subject"].startswith("【提醒】")]
    assert len(got) == 1 and "何敏同志" in plain(got[0].message)
    assert not [r for r in setup.sent_to("ssxzgh@example.test") if r.message["Subject"].startswith("【提醒】")]
    # and her address is now the unit's: her next mail is recognised without a 单位名称
    send(setup, sender="何敏 <hemin1990@qq.test>", subject="本周工作情况", body=REPORT,
         mid="<l2@qq.test>", when="2020-06-11T10:00:00+08:00")
    intake(setup, "poll")
    row = next(r for r in json.loads(intake(setup, "messages", "--json").stdout) if r["message_id"] == "<l2@qq.test>")
    assert row["outcome"] == "accepted" and row["unit"] == "宿松县总工会" and not row["flags"]
    # the organizers' workbook says where reminders go and why
    out = setup.dir / "导出.xlsx"
    intake(setup, "export", str(out), "--now", "2020-06-12T09:00:00+08:00")
    sheet = load_workbook(out)["联络员名单"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "宿松县总工会")
    assert row[header.index("提醒发送地址")] == "hemin1990@qq.test（表中未填邮箱，用报送邮件的发件地址）"


# ---------------------------------------------------------------------------- reminders' wording


def test_reminder_deadline_is_worded_one_way(make_setup):
    setup = make_setup()
    intake(setup, "remind", "--now", "2020-06-10T09:30:00+08:00")  # the liaison form's last day
    msgs = [r.message for r in setup.sent_to("dgqzgh@example.test") if "联络员推荐表" in r.message["Subject"]]
    assert len(msgs) == 1
    body = plain(msgs[0])
    print(msgs[0]["Subject"], body, sep="\n")
    assert msgs[0]["Subject"] == "【提醒】大观区总工会：请于6月10日23:59前报送联络员推荐表（附件1）（今天截止）"
    assert "请于今天23:59前报送联络员推荐表（附件1）" in body and "截止时间：2020年6月10日 23:59" in body
    assert "24:00" not in body
    intake(setup, "remind", "--now", "2020-06-26T09:30:00+08:00")  # two days before 附件2 is due
    msgs = [r.message for r in setup.sent_to("dgqzgh@example.test") if "进展情况统计表" in r.message["Subject"]]
    assert len(msgs) == 1
    assert "请于6月28日23:59前报送" in plain(msgs[0]) and "截止时间：2020年6月28日 23:59" in plain(msgs[0])


# ---------------------------------------------------------------------------- ranks


def test_equal_scores_share_a_rank(make_setup):
    """Two units with the week-one report on time score 100 and are both first; the thirteen
    with nothing score 0 and are all third, in `status`, its table, the workbook and the digest."""
    setup = make_setup()
    for n, (unit, address) in enumerate((("桐城市总工会", "tcszgh@example.test"), ("大观区总工会", "dgqzgh@example.test"))):
        send(setup, sender=f"{unit} <{address}>", subject=f"{unit}本周工作情况", body=REPORT,
             mid=f"<t{n}@example.test>", when="2020-06-03T10:00:00+08:00")
    intake(setup, "poll")
    now = "2020-06-05T09:00:00+08:00"
    doc = status(setup, now)
    ranks = {u["unit"]: (u["timeliness"]["score"], u["timeliness"]["rank"]) for u in doc["units"]}
    assert ranks["桐城市总工会"] == ranks["大观区总工会"] == (100.0, 1)
    assert {r for u, r in ranks.items() if u not in ("桐城市总工会", "大观区总工会")} == {(0.0, 3)}
    table = intake(setup, "status", "--now", now).stdout
    assert table.split("\n")[3].split()[-2:] == ["得分", "名次"]
    rows = {ln.split()[0]: ln.split()[-2:] for ln in table.splitlines() if ln.strip().endswith(("1", "3"))}
    assert rows["大观区总工会"] == rows["桐城市总工会"] == ["100", "1"]
    assert rows["宿松县总工会"] == ["0", "3"]
    out = setup.dir / "导出.xlsx"
    intake(setup, "export", str(out), "--now", now)
    sheet = load_workbook(out)["及时率"]
    assert [c.value for c in sheet[1]][:3] == ["名次", "单位", "按时"]
    rows = [r for r in sheet.iter_rows(min_row=2, max_row=16, values_only=True)]
    assert [(r[0], r[1]) for r in rows[:2]] == [(1, "大观区总工会"), (1, "桐城市总工会")]
    assert {r[0] for r in rows[2:]} == {3}
    intake(setup, "digest", "--send", "--now", now)
    digest = next(r.message for r in setup.sent if r.message["Subject"].startswith("【周汇总】"))
    text = plain(digest)
    assert "1. 大观区总工会" in text and "1. 桐城市总工会" in text and "3. 宿松县总工会" in text
    book = load_workbook(io.BytesIO(next(digest.iter_attachments()).get_content()))
    assert book["及时率"]["A3"].value == 1
