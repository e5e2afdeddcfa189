"""Three further notices (tests/fixtures/more_notices.py), each made a working campaign with no
code change, through the real path:

notice .docx → `intake campaign new NOTICE --out DIR` → the clerk's few corrections to the
drafted campaign.toml (CORRECTIONS below; docs/campaign-new-example.md shows one notice's) →
`intake campaign check DIR` → a config naming DIR, with the roster → mail APPENDed to the real
Dovecot with INTERNALDATE, its forms filled from DIR's own blank templates, one with an error →
`intake poll` → the acknowledgement at the SMTP server names the faulty field by its label →
`status --json`, `report --json`, `digest` and `export` show that campaign's own items and forms.
The last test names two of the campaigns in one config.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.forms.readers.libreoffice import convert

from tests.conftest import ROOT, new_setup
from tests.fixtures.commands import run
from tests.fixtures.mails import zip_bytes
from tests.fixtures.office_files import report_docx
from tests.fixtures.more_notices import JINQIU_2021, NOTICES, SAFETY_2021, SKILLS_2021, Notice, bad_id_number, id_number

CST = timezone(timedelta(hours=8))
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
DOC = ("application", "msword")
ZIP = ("application", "zip")


# ---------------------------------------------------------------------------- the clerk's steps


def bare_intake(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`intake ARGS` with no configuration at all: what a clerk runs on a notice before any
    config names the campaign."""
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def ok(setup, *args: str) -> str:
    proc = run(setup, *args, timeout=300)
    assert proc.returncode == 0, f"intake {' '.join(args)} exited {proc.returncode}: {proc.stderr[-3000:]}"
    return proc.stdout


def ok_json(setup, *args: str):
    return json.loads(ok(setup, *args))


@dataclass(frozen=True)
class Correction:
    """One edit the clerk makes to the drafted campaign.toml: `old` (found exactly once in the
    draft) becomes `new`."""

    why: str
    old: str
    new: str


# What the clerk corrects in each draft, and why. Each `old` must be in the draft exactly once:
# when `campaign new` improves, a correction it made unnecessary fails here and is removed.
CORRECTIONS: dict[str, tuple[Correction, ...]] = {
    SAFETY_2021.key: (
        Correction("第6项的简称从上一空格中间截起（“等形式启动…”），改为它所计的数",
                   'short = "等形式启动“安全生产月”活动…场次"', 'short = "启动仪式场次"'),
    ),
    SKILLS_2021.key: (
        Correction("通知未写活动期间，草稿按截止日期定为 9月10日一天；报名自发文之日开始",
                   "start = 2021-09-10", "start = 2021-08-23"),
        Correction("各单位邮件主题多写“劳动技能竞赛”，不写全称“职工劳动技能竞赛报名”",
                   'keywords = ["职工劳动技能竞赛报名"]', 'keywords = ["劳动技能竞赛"]'),
    ),
    JINQIU_2021.key: (
        Correction("通知未写活动期间，草稿从第一个截止日起算；申请表自发文之日起即可报送",
                   "start = 2021-08-13", "start = 2021-07-26"),
    ),
}


def apply_corrections(text: str, corrections) -> str:
    for c in corrections:
        assert text.count(c.old) == 1, f"correction “{c.why}”: {c.old!r} occurs {text.count(c.old)} times in the draft"
        text = text.replace(c.old, c.new)
    return text


@dataclass
class Drafted:
    notice: Notice
    folder: Path
    draft: str  # campaign.toml as `campaign new` wrote it
    new_output: str  # what `campaign new` printed (the clerk's list of what it could not understand)
    check_output: str  # `campaign check DIR` after the corrections


def draft_campaign(notice: Notice, base: Path) -> Drafted:
    """The clerk's path from the notice to a checked campaign folder."""
    base.mkdir(parents=True, exist_ok=True)
    path = base / notice.filename
    path.write_bytes(notice.docx())
    folder = base / notice.folder
    proc = bare_intake("campaign", "new", str(path), "--out", str(folder), cwd=base)
    assert proc.returncode == 0, f"campaign new {notice.filename}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    toml = folder / "campaign.toml"
    draft = toml.read_text(encoding="utf-8")
    toml.write_text(apply_corrections(draft, CORRECTIONS[notice.key]), encoding="utf-8")
    check = bare_intake("campaign", "check", str(folder), cwd=base)
    assert check.returncode == 0, f"campaign check {folder}: {check.stdout[-3000:]}{check.stderr[-3000:]}"
    return Drafted(notice, folder, draft, proc.stdout + proc.stderr, check.stdout)


def config_for(setup, *folders: Path) -> None:
    """The setup's config with its [campaign] table replaced by the campaign folder(s)."""
    text = setup.config_path.read_text(encoding="utf-8")
    start, stop = text.index("[campaign]\n"), text.index("[schedule]\n")
    if len(folders) == 1:
        block = f'[campaign]\ndefinition = "{folders[0]}"\n\n'
    else:
        block = "".join(f'[[campaigns]]\ndefinition = "{f}"\n\n' for f in folders)
    setup.config_path.write_text(text[:start] + block + text[stop:], encoding="utf-8")


# ---------------------------------------------------------------------------- filling the forms


def load(folder: Path):
    from bot.campaign.definition import load_campaign

    return load_campaign(folder)


def blank_file(campaign, form: str) -> Path:
    return campaign.folder / campaign.form(form).file


def fill_prose(campaign, form: str, values: dict[str, str], header: dict[str, str]) -> bytes:
    """A prose form (附件2) filled from the campaign's own blank template."""
    from bot.forms.blank_forms import fill_progress_docx

    return fill_progress_docx(values, header, form=campaign.form(form))


def fill_grid(campaign, form: str, values: dict[str, str]) -> bytes:
    """A grid form filled from the campaign's own blank template."""
    from tests.fixtures.campaign_forms import fill_grid as fill

    path = blank_file(campaign, form)
    return fill(path.read_bytes(), path.name, campaign.form(form), values)


def fill_list(campaign, form: str, records: list[dict[str, str]]) -> bytes:
    """A list form filled from the campaign's own blank template (more rows than it has are added)."""
    from tests.fixtures.campaign_forms import fill_list as fill

    path = blank_file(campaign, form)
    return fill(path.read_bytes(), path.name, campaign.form(form), records)


def _blanks_before(form, section: int) -> int:
    """How many blanks the prose form's sections before `section` hold."""
    return sum(len(form.sections[i].parts) // 2 for i in range(section))


def mail(sender: str, unit: str, subject: str, mid: str, *, body: str = "请查收。", attachments=()) -> bytes:
    m = EmailMessage()
    m["From"] = f"{unit} <{sender}>"
    m["To"] = "aqghljb@126.com"
    m["Subject"] = subject
    m["Message-ID"] = mid
    m.set_content(body, charset="utf-8")
    for name, data, (main, sub) in attachments:
        m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return m.as_bytes()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def ack_of(setup, mid: str) -> str:
    replies = [r for r in setup.sent if r.message["In-Reply-To"] == mid]
    assert len(replies) == 1, f"{mid}: {len(replies)} acknowledgements"
    return replies[0].message.get_body(("plain",)).get_content()


def message_rows(setup) -> dict[str, dict]:
    return {m["message_id"]: m for m in ok_json(setup, "messages", "--json")}


def sheet_rows(path: Path, title: str) -> list[tuple]:
    book = load_workbook(path)
    return [tuple(r) for r in book[title].iter_rows(values_only=True)]


def all_cells(path: Path) -> list[str]:
    book = load_workbook(path)
    return [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]


def item_of(doc: dict, words: str, kind: str | None = None) -> dict:
    found = [i for i in doc["items"] if words in i.get("label", "") and (kind is None or i["kind"] == kind)]
    assert len(found) == 1, (words, doc["items"])
    return found[0]


# ---------------------------------------------------------------------------- each notice drafted


@pytest.fixture(scope="module")
def drafted(tmp_path_factory) -> dict[str, Drafted]:
    base = tmp_path_factory.mktemp("notices")
    return {n.key: draft_campaign(n, base / n.key) for n in NOTICES}


@pytest.mark.parametrize("notice", NOTICES, ids=[n.key for n in NOTICES])
def test_the_draft_understands_the_notice(drafted, notice):
    """What `campaign new` drafted (with the clerk's corrections) is the notice: its name, year
    and mailbox; every item with its form and deadline; every form's shape and fields in
    template order, with the blanks' types; the clerk can read it back from `campaign check`."""
    d = drafted[notice.key]
    data = tomllib.loads((d.folder / "campaign.toml").read_text(encoding="utf-8"))
    assert data["campaign"]["name"] == notice.name
    campaign = load(d.folder)
    assert campaign.name == notice.name and campaign.year == notice.year and campaign.mailbox == notice.mailbox
    shown = campaign.as_json()
    assert len(shown["items"]) == len(notice.items), shown["items"]
    for want in notice.items:
        if want.kind == "weekly":
            got = next(i for i in shown["items"] if i["kind"] == "weekly")
            assert (got["weekday"], got["time"], got["first"], got["last"]) == \
                (want.weekday, want.time, want.first, want.last), got
            continue
        got = item_of(shown, want.label_words, want.kind)
        assert got["due"] == want.due, got
        if want.form:
            assert got["form"] == want.form, got
    assert [f["form"] for f in shown["forms"]] == [p.heading for p in notice.pages]
    for page in notice.pages:
        form = campaign.form(page.heading)
        assert form.shape == page.shape, (page.heading, form.shape)
        assert form.per_unit == notice.per_unit[page.heading], (page.heading, form.per_unit)
        assert len(form.fields) == len(page.fields), [f.label for f in form.fields]
        for position, (f, (words, type_)) in enumerate(zip(form.fields, page.fields), 1):
            assert f.position == position
            assert words in f.label, (page.heading, position, f.label, words)
            if type_ is not None:
                assert f.type == type_, (page.heading, f.label, f.type, type_)
        shorts = [f.short for f in form.fields]
        assert len(set(shorts)) == len(shorts), shorts  # each field says what it counts, distinctly
        # the blank the draft copied out of the notice is the notice's own form
        assert (d.folder / form.file).is_file()
    # `campaign check` prints what the bot understood, in Chinese: items, deadlines, fields
    for want in notice.items:
        if want.due:
            month, day = int(want.due[5:7]), int(want.due[8:10])
            assert f"{month}月{day}日" in d.check_output or want.due[:10] in d.check_output, d.check_output
    for page in notice.pages:
        form = campaign.form(page.heading)
        for f in form.fields:
            assert f.key in d.check_output, (f.key, d.check_output)


def test_corrections_are_few(drafted):
    """The clerk corrects a handful of lines per notice, not the definition."""
    for notice in NOTICES:
        assert len(CORRECTIONS[notice.key]) <= 6, notice.key


# ---------------------------------------------------------------------------- (a) 安全生产月 2021


@pytest.fixture(scope="module")
def safety(drafted, tmp_path_factory, dovecot, smtp_sink):
    d = drafted[SAFETY_2021.key]
    campaign = load(d.folder)
    setup = new_setup(tmp_path_factory.mktemp("safety2021"), dovecot, smtp_sink)
    config_for(setup, d.folder)
    liaison, progress = campaign.form("附件1"), campaign.form("附件2")
    ints = [f for f in progress.blanks if f.type == "int"]
    texts = [f for f in progress.blanks if f.type == "text"]
    dg_values = {f.key: str(3 + 2 * n) for n, f in enumerate(ints)} | {f.key: "座谈会、现场观摩" for f in texts}
    tc_values = {f.key: str(10 + n) for n, f in enumerate(ints)} | {f.key: "视频会议" for f in texts}
    # 桐城 writes 若干 where its number of 应急演练 participants belongs
    drill = next(f for f in ints if f.position == len(progress.fields))
    tc_values[drill.key] = "若干"
    header_keys = [f.key for f in progress.header_fields]
    dg_header = dict(zip(header_keys, ("大观区总工会", "王芳", "0556-5588101", "2021年6月24日")))
    tc_header = dict(zip(header_keys, ("桐城市总工会", "赵磊", "0556-6212345", "2021年6月23日")))
    lf = {f.label: f.key for f in liaison.fields}
    dg_liaison = {lf["姓名"]: "李明", lf["性别"]: "男", lf["职务"]: "办公室主任", lf["办公电话"]: "0556-5588123",
                  lf["手机"]: "13905561234", lf["电子邮箱"]: "dgqzgh@example.test", lf["单位名称"]: "大观区总工会",
                  lf["通信地址"]: "安庆市大观区德宽路18号"}
    mails = [
        ("<a-liaison-dg@example.test>", "2021-06-04T10:00:00",
         mail("dgqzgh@example.test", "大观区总工会", "大观区总工会安全生产月联络员推荐表", "<a-liaison-dg@example.test>",
              attachments=[("附件1 联络员推荐表.docx", fill_grid(campaign, "附件1", dg_liaison), DOCX)])),
        ("<a-week-dg@example.test>", "2021-06-02T15:00:00",
         mail("dgqzgh@example.test", "大观区总工会", "大观区总工会安全生产月本周工作开展情况", "<a-week-dg@example.test>",
              body="本周我会召开安全生产月动员会，组织3家企业开展隐患排查。")),
        ("<a-progress-dg@example.test>", "2021-06-24T09:30:00",
         mail("dgqzgh@example.test", "大观区总工会", "报送安全生产月活动进展情况统计表", "<a-progress-dg@example.test>",
              attachments=[("附件2 进展情况统计表.docx", fill_prose(campaign, "附件2", dg_values, dg_header), DOCX)])),
        ("<a-progress-tc@example.test>", "2021-06-23T16:00:00",
         mail("tcszgh@example.test", "桐城市总工会", "桐城市总工会安全生产月进展情况统计表", "<a-progress-tc@example.test>",
              attachments=[("进展情况统计表（桐城）.docx", fill_prose(campaign, "附件2", tc_values, tc_header), DOCX)])),
        ("<a-summary-tc@example.test>", "2021-06-25T11:00:00",
         mail("tcszgh@example.test", "桐城市总工会", "桐城市总工会2021年安全生产月活动总结", "<a-summary-tc@example.test>",
              attachments=[("桐城市总工会2021年“安全生产月”活动总结.docx",
                            report_docx("桐城市总工会2021年“安全生产月”活动总结",
                                        ["今年6月，我会围绕“落实安全责任，推动安全发展”主题，组织开展了启动仪式、"
                                         "安全生产大检查和应急演练等活动。", "下一步，我们将继续深化“安康杯”竞赛。"]),
                            DOCX)])),
    ]
    for _, when, raw in mails:
        setup.append(raw, at(when))
    ok(setup, "poll")
    return setup, campaign, {"dg": dg_values, "tc": tc_values, "drill": drill, "dg_liaison": dg_liaison}


def test_safety_acknowledgements_name_the_fields(safety):
    setup, campaign, data = safety
    progress = campaign.form("附件2")
    text = ack_of(setup, "<a-progress-tc@example.test>")
    drill = data["drill"]
    # the problem names the blank by its number and by what it counts (the clerk's short label)
    problem = next(line for line in text.splitlines() if "若干" in line)
    assert f"第{drill.number}项" in problem and drill.short in problem, problem
    assert "应急演练" in drill.short  # the label the clerk gave it, not the bare 参与…人次
    # every other blank was read back under its own label
    for f in progress.blanks:
        if f.key != drill.key and f.type == "int":
            assert f"{f.short}：{data['tc'][f.key]}" in text, (f.short, text)
    # 2021's items and deadlines, not 2020's
    assert "6月9日" in text and "2020" not in text
    clean = ack_of(setup, "<a-progress-dg@example.test>")
    assert "项需更正" not in clean and "若干" not in clean
    liaison = ack_of(setup, "<a-liaison-dg@example.test>")
    assert "李明" in liaison and "13905561234" in liaison


def test_safety_status_report_digest_export(safety, tmp_path):
    setup, campaign, data = safety
    progress = campaign.form("附件2")
    now = "2021-06-26T09:00:00+08:00"
    status = ok_json(setup, "status", "--json", "--now", now)
    units = {u["unit"]: u for u in status["units"]}
    items = {i.kind: i for i in campaign.items}
    weekly = next(i for i in campaign.items if i.kind == "weekly")
    liaison_item = next(i for i in campaign.items if i.form == "附件1")
    progress_item = next(i for i in campaign.items if i.form == "附件2")
    summary_item = items["document"]
    dg = units["大观区总工会"]
    assert set(dg["items"]) == {liaison_item.item, progress_item.item, summary_item.item} | {
        f"{weekly.item}:2021-06-{d:02d}" for d in (2, 9, 16, 23, 30)}
    assert dg["items"][liaison_item.item]["state"] == "on_time"
    assert dg["items"][liaison_item.item]["due"] == "2021-06-09T23:59:59+08:00"
    assert dg["items"][progress_item.item]["state"] == "on_time"
    assert dg["items"][f"{weekly.item}:2021-06-02"]["state"] == "on_time"
    assert dg["items"][f"{weekly.item}:2021-06-02"]["due"] == "2021-06-02T17:30:00+08:00"
    assert dg["items"][f"{weekly.item}:2021-06-09"]["state"] == "missing"
    assert dg["items"][summary_item.item]["state"] == "missing"
    assert dg["liaison"] == {"name": "李明", "email": "dgqzgh@example.test", "mobile": "13905561234"}
    assert units["桐城市总工会"]["items"][progress_item.item]["state"] == "on_time"
    assert units["潜山市总工会"]["items"][progress_item.item]["state"] == "missing"
    assert units["桐城市总工会"]["items"][summary_item.item]["state"] == "on_time"

    report = ok_json(setup, "report", "--json", "--now", now)
    drill = data["drill"]
    for f in progress.blanks:
        if f.type != "int":
            continue
        want = int(data["dg"][f.key]) + (0 if f.key == drill.key else int(data["tc"][f.key]))
        assert report["totals"][f.key] == want, (f.key, f.short)
    assert report["units"]["桐城市总工会"][drill.key] is None
    text_key = next(f.key for f in progress.blanks if f.type == "text")
    assert report["units"]["大观区总工会"][text_key] == "座谈会、现场观摩"
    assert "潜山市总工会" in report["missing_units"] and "大观区总工会" not in report["missing_units"]

    digest = ok(setup, "digest", "--now", now)
    assert liaison_item.label in digest and progress_item.label in digest
    assert "2020" not in digest

    out = tmp_path / "安全生产月2021.xlsx"
    ok(setup, "export", str(out), "--now", now)
    cells = all_cells(out)
    # the 汇总 sheet is 2021's 附件2 as the notice prints it, each int blank holding its total
    summary = sheet_rows(out, "汇总")
    flat = "\n".join(str(v) for row in summary for v in row if v is not None)
    for section in progress.sections:
        assert section.requirements in flat, section.requirements
    for f in progress.blanks:
        if f.type != "int":
            continue
        total = int(data["dg"][f.key]) + (0 if f.key == drill.key else int(data["tc"][f.key]))
        parts = progress.sections[f.section].parts  # literal, blank, literal, …
        before = parts[2 * (f.number - 1 - _blanks_before(progress, f.section))].strip(" \u3000")
        assert f"{before[-3:]}（{total}）" in flat, (f.short, total)
    # 各单位明细: one row per unit, one column per field by its short label
    detail = sheet_rows(out, "各单位明细")
    header = detail[0]
    for f in progress.blanks:
        assert any(h and f.short in str(h) for h in header), f.short
    dg_row = next(r for r in detail if r[0] == "大观区总工会")
    col = next(i for i, h in enumerate(header) if h and progress.blanks[1].short in str(h))
    assert dg_row[col] == int(data["dg"][progress.blanks[1].key])
    assert "李明" in cells  # 联络员名单
    assert not any("警示教育片" in c for c in cells)  # nothing of 2020's 附件2


# ---------------------------------------------------------------------------- (b) 劳动技能竞赛报名


def _contestants(n: int, seq0: int) -> list[dict[str, str]]:
    trades = ("电工", "焊工", "车工", "数控车工", "养老护理员")
    people = ("张伟", "王强", "李娜", "刘洋", "陈杰", "杨帆", "赵敏", "黄磊", "周静", "吴昊", "徐丽", "孙涛")
    out = []
    for i in range(n):
        birth = f"19{85 + i % 10}0{1 + i % 9}1{i % 9}"
        out.append({"姓名": people[(seq0 + i) % len(people)], "性别": "男" if i % 3 else "女",
                    "身份证号": id_number("340803", birth, f"{seq0 + i:03d}"), "工种": trades[i % len(trades)],
                    "手机": f"1390556{seq0 + i:04d}", "备注": ""})
    return out


@pytest.fixture(scope="module")
def skills(drafted, tmp_path_factory, dovecot, smtp_sink):
    d = drafted[SKILLS_2021.key]
    campaign = load(d.folder)
    form = campaign.form("附件1")
    by_label = {f.label: f.key for f in form.fields}
    setup = new_setup(tmp_path_factory.mktemp("skills2021"), dovecot, smtp_sink)
    config_for(setup, d.folder)
    hn = _contestants(3, 10)
    ss = _contestants(10, 40)  # more people than the blank's 8 rows: the unit added rows
    ss[3]["身份证号"] = bad_id_number("340826", "19900312", "043")
    as_keys = lambda rows: [{by_label[k]: v for k, v in r.items()} for r in rows]  # noqa: E731
    setup.append(mail("hnxzgh@example.test", "怀宁县总工会", "怀宁县总工会劳动技能竞赛报名表", "<b-hn@example.test>",
                      attachments=[("附件1 报名表（怀宁县）.docx", fill_list(campaign, "附件1", as_keys(hn)), DOCX)]),
                 at("2021-09-06T10:00:00"))
    setup.append(mail("ssxzgh@example.test", "宿松县总工会", "宿松县总工会职工劳动技能竞赛报名", "<b-ss@example.test>",
                      attachments=[("宿松县报名表.docx", fill_list(campaign, "附件1", as_keys(ss)), DOCX)]),
                 at("2021-09-09T16:20:00"))
    wj = _contestants(2, 70)
    wj_doc = convert(fill_list(campaign, "附件1", as_keys(wj)), "docx", "doc", timeout=120)  # Word 97, as many send
    setup.append(mail("wjxzgh@example.test", "望江县总工会", "望江县劳动技能竞赛报名表", "<b-wj@example.test>",
                      attachments=[("望江县报名表.doc", wj_doc, DOC)]),
                 at("2021-09-10T17:00:00"))
    ok(setup, "poll")
    return setup, campaign, {"hn": hn, "ss": ss, "wj": wj, "keys": by_label}


def test_skills_acknowledgement_names_the_row_and_column(skills):
    setup, campaign, data = skills
    text = ack_of(setup, "<b-ss@example.test>")
    problem = next(line for line in text.splitlines() if data["ss"][3]["身份证号"] in line)
    assert "第4行" in problem and "身份证号" in problem, problem
    assert "共 10 条记录" in text  # the rows the unit added are read too
    clean = ack_of(setup, "<b-hn@example.test>")
    assert "项需更正" not in clean and "共 3 条记录" in clean
    for person in data["hn"]:
        assert person["姓名"] in clean and person["身份证号"] in clean


def test_skills_status_report_digest_export(skills, tmp_path):
    setup, campaign, data = skills
    item = campaign.items[0]
    now = "2021-09-11T09:00:00+08:00"
    status = ok_json(setup, "status", "--json", "--now", now)
    units = {u["unit"]: u for u in status["units"]}
    assert set(units["怀宁县总工会"]["items"]) == {item.item}
    assert units["怀宁县总工会"]["items"][item.item] == {"state": "on_time", "due": "2021-09-10T23:59:59+08:00",
                                                         "received_at": "2021-09-06T10:00:00+08:00"}
    assert units["宿松县总工会"]["items"][item.item]["state"] == "on_time"
    assert units["望江县总工会"]["items"][item.item]["state"] == "on_time"  # its .doc, read through LibreOffice
    assert units["太湖县总工会"]["items"][item.item]["state"] == "missing"

    report = ok_json(setup, "report", "--json", "--now", now)
    keys = data["keys"]
    # a campaign of one list form: each unit's records, in the order the unit wrote them
    hn = report["units"]["怀宁县总工会"]
    assert [r[keys["姓名"]] for r in hn] == [p["姓名"] for p in data["hn"]]
    assert [r[keys["身份证号"]] for r in hn] == [p["身份证号"] for p in data["hn"]]
    ss = report["units"]["宿松县总工会"]
    assert len(ss) == 10 and ss[3][keys["身份证号"]] is None  # the faulty cell is not taken
    assert [r[keys["身份证号"]] for r in report["units"]["望江县总工会"]] == [p["身份证号"] for p in data["wj"]]
    assert "太湖县总工会" in report["missing_units"] and "望江县总工会" not in report["missing_units"]

    digest = ok(setup, "digest", "--now", now)
    assert item.label in digest and "安全生产月" not in digest

    out = tmp_path / "技能竞赛报名.xlsx"
    ok(setup, "export", str(out), "--now", now)
    summary = sheet_rows(out, "汇总")
    header = next(r for r in summary if "姓名" in r and "身份证号" in r)
    assert "单位" in header  # a list form's 汇总: every unit's records with a 单位 column
    unit_col, name_col = header.index("单位"), header.index("姓名")
    body = [r for r in summary[summary.index(header) + 1:] if r[name_col]]
    assert len(body) == 15
    assert sorted(r[name_col] for r in body if r[unit_col] == "怀宁县总工会") == sorted(p["姓名"] for p in data["hn"])
    assert sum(1 for r in body if r[unit_col] == "宿松县总工会") == 10


# ---------------------------------------------------------------------------- (c) 金秋助学


def _student(name: str, gender: str, birth: str, seq: str, school: str, major: str, mobile: str) -> dict[str, str]:
    return {"姓名": name, "性别": gender, "出生日期": f"{birth[:4]}年{int(birth[4:6])}月{int(birth[6:])}日",
            "身份证号": id_number("340828", birth, seq), "民族": "汉族", "手机": mobile, "家庭人口（人）": "4",
            "家庭住址": "岳西县天堂镇城西路12号", "就读学校": school, "录取专业": major,
            "家庭年收入（元）": "18000", "困难类型": "因病致困", "困难情况说明": "父亲患病长期治疗，母亲无固定收入。"}


@pytest.fixture(scope="module")
def jinqiu(drafted, tmp_path_factory, dovecot, smtp_sink):
    d = drafted[JINQIU_2021.key]
    campaign = load(d.folder)
    application, summary = campaign.form("附件1"), campaign.form("附件2")
    grid = {f.label: f.key for f in application.fields}
    listed = {f.label: f.key for f in summary.fields}
    setup = new_setup(tmp_path_factory.mktemp("jinqiu2021"), dovecot, smtp_sink)
    config_for(setup, d.folder)
    yx = [_student("储小雨", "女", "20030415", "026", "安徽大学", "汉语言文学", "13805561001"),
          _student("汪子豪", "男", "20021109", "051", "合肥工业大学", "机械工程", "13805561002")]
    th = _student("朱佳怡", "女", "20030201", "062", "安庆师范大学", "学前教育", "1380556100")  # 10 digits
    as_grid = lambda s: {grid[k]: v for k, v in s.items()}  # noqa: E731
    rows = [{listed["姓名"]: s["姓名"], listed["性别"]: s["性别"], listed["身份证号"]: s["身份证号"],
             listed["就读学校"]: s["就读学校"], listed["录取专业"]: s["录取专业"], listed["家庭住址"]: s["家庭住址"],
             listed["手机"]: s["手机"], listed["资助金额（元）"]: "5000", listed["备注"]: ""} for s in yx]
    setup.append(mail("yuexzgh@example.test", "岳西县总工会", "岳西县总工会金秋助学申请表（2份）", "<c-yx-apply@example.test>",
                      attachments=[("金秋助学申请表（岳西县2份）.zip",
                                    zip_bytes([(f"金秋助学申请表-{s['姓名']}.docx", fill_grid(campaign, "附件1", as_grid(s)))
                                               for s in yx]), ZIP)]),
                 at("2021-08-10T09:00:00"))
    setup.append(mail("yuexzgh@example.test", "岳西县总工会", "岳西县总工会金秋助学受助学生汇总表", "<c-yx-sum@example.test>",
                      attachments=[("附件2 受助学生汇总表.docx", fill_list(campaign, "附件2", rows), DOCX)]),
                 at("2021-08-18T15:00:00"))
    setup.append(mail("thxzgh@example.test", "太湖县总工会", "太湖县金秋助学申请表", "<c-th-apply@example.test>",
                      attachments=[("申请表（朱佳怡）.docx", fill_grid(campaign, "附件1", as_grid(th)), DOCX)]),
                 at("2021-08-12T11:00:00"))
    ok(setup, "poll")
    return setup, campaign, {"yx": yx, "th": th, "grid": grid, "listed": listed}


def test_jinqiu_acknowledgements_name_the_fields(jinqiu):
    setup, campaign, data = jinqiu
    text = ack_of(setup, "<c-th-apply@example.test>")
    problem = next(line for line in text.splitlines() if "1380556100" in line and "需更正" not in line)
    assert "手机" in problem, problem
    assert "汇总表" in text and "8月20日" in text  # still owed, with its deadline
    both = ack_of(setup, "<c-yx-apply@example.test>")
    assert "项需更正" not in both
    for s in data["yx"]:
        assert s["姓名"] in both and s["身份证号"] in both
    summary = ack_of(setup, "<c-yx-sum@example.test>")
    assert "共 2 条记录" in summary


def test_jinqiu_status_report_digest_export(jinqiu, tmp_path):
    setup, campaign, data = jinqiu
    apply_item = next(i for i in campaign.items if i.form == "附件1")
    sum_item = next(i for i in campaign.items if i.form == "附件2")
    now = "2021-08-21T09:00:00+08:00"
    units = {u["unit"]: u for u in ok_json(setup, "status", "--json", "--now", now)["units"]}
    assert set(units["岳西县总工会"]["items"]) == {apply_item.item, sum_item.item}
    assert units["岳西县总工会"]["items"][apply_item.item]["state"] == "on_time"
    assert units["岳西县总工会"]["items"][sum_item.item]["state"] == "on_time"
    assert units["太湖县总工会"]["items"][apply_item.item]["state"] == "on_time"
    assert units["太湖县总工会"]["items"][sum_item.item]["state"] == "missing"
    assert units["太湖县总工会"]["items"][sum_item.item]["due"] == "2021-08-20T23:59:59+08:00"

    report = ok_json(setup, "report", "--json", "--now", now)
    grid, listed = data["grid"], data["listed"]
    # two forms: each under "forms" by its name, its records per unit
    assert set(report["forms"]) == {"附件1", "附件2"}
    applications = report["forms"]["附件1"]["units"]
    assert report["forms"]["附件1"]["per_unit"] == "many"
    # the many-form: each student's application is a record of its own
    yx = applications["岳西县总工会"]
    assert sorted(a[grid["姓名"]] for a in yx) == sorted(s["姓名"] for s in data["yx"])
    assert {a[grid["身份证号"]] for a in yx} == {s["身份证号"] for s in data["yx"]}
    th = applications["太湖县总工会"]
    assert len(th) == 1 and th[0][grid["手机"]] is None and th[0][grid["姓名"]] == "朱佳怡"
    records = report["forms"]["附件2"]["units"]["岳西县总工会"]
    assert [r[listed["姓名"]] for r in records] == [s["姓名"] for s in data["yx"]]
    assert [r[listed["资助金额（元）"]] for r in records] == [5000, 5000]
    assert "太湖县总工会" not in report["forms"]["附件2"]["units"]

    digest = ok(setup, "digest", "--now", now)
    assert apply_item.label in digest and sum_item.label in digest

    out = tmp_path / "金秋助学.xlsx"
    ok(setup, "export", str(out), "--now", now)
    cells = all_cells(out)
    for s in data["yx"]:
        assert s["身份证号"] in cells
    assert "朱佳怡" in cells
    # one 汇总 sheet per form, each in its own layout: the records of all units, 单位 first
    applications = sheet_rows(out, "附件1汇总")
    header = next(r for r in applications if r and r[0] == "单位")
    assert list(header[1:]) == [f.label for f in campaign.form("附件1").fields]
    body = applications[applications.index(header) + 1:]
    assert sorted((r[0], r[1]) for r in body if r[1]) == sorted(
        [("岳西县总工会", s["姓名"]) for s in data["yx"]] + [("太湖县总工会", "朱佳怡")])
    listed_rows = sheet_rows(out, "附件2汇总")
    header = next(r for r in listed_rows if r and r[0] == "单位")
    money = header.index("资助金额（元）")
    body = listed_rows[listed_rows.index(header) + 1:]
    assert [r[1] for r in body if r[0] == "岳西县总工会"] == [s["姓名"] for s in data["yx"]]
    assert next(r for r in body if r[0] == "合计")[money] == 10000


# ---------------------------------------------------------------------------- two campaigns, one config


def test_two_campaigns_in_one_config(drafted, tmp_path, dovecot, smtp_sink):
    """安全生产月 2021 and 金秋助学 2021 in one config and one database: each mail goes to the
    campaign whose form it fits — a late 附件2 arriving in August, while 金秋助学 is the open
    campaign, is still 安全生产月's; `--campaign` shows each campaign's own items and forms."""
    safety_dir, jinqiu_dir = drafted[SAFETY_2021.key].folder, drafted[JINQIU_2021.key].folder
    safety_c, jinqiu_c = load(safety_dir), load(jinqiu_dir)
    setup = new_setup(tmp_path, dovecot, smtp_sink)
    config_for(setup, safety_dir, jinqiu_dir)
    progress = safety_c.form("附件2")
    header_keys = [f.key for f in progress.header_fields]
    yx_values = {f.key: ("7" if f.type == "int" else "知识讲座") for f in progress.blanks}
    tc_values = {f.key: ("2" if f.type == "int" else "网络直播") for f in progress.blanks}
    yx_header = dict(zip(header_keys, ("宜秀区总工会", "孙丽", "0556-5566778", "2021年6月20日")))
    tc_header = dict(zip(header_keys, ("桐城市总工会", "赵磊", "0556-6212345", "2021年8月10日")))
    grid = {f.label: f.key for f in jinqiu_c.form("附件1").fields}
    student = {grid[k]: v for k, v in
               _student("方思远", "男", "20030618", "073", "中国科学技术大学", "物理学", "13805561003").items()}
    setup.append(mail("yxqzgh@example.test", "宜秀区总工会", "宜秀区总工会安全生产月本周工作情况", "<two-week@example.test>",
                      body="本周我会开展安全生产知识讲座2场，参加职工160人次。"),
                 at("2021-06-16T11:00:00"))
    setup.append(mail("yxqzgh@example.test", "宜秀区总工会", "宜秀区总工会报送材料", "<two-progress@example.test>",
                      attachments=[("统计表.docx", fill_prose(safety_c, "附件2", yx_values, yx_header), DOCX)]),
                 at("2021-06-21T10:05:00"))
    # August, 金秋助学 is open: its application by its content, a late 附件2 by its own
    setup.append(mail("yxqzgh@example.test", "宜秀区总工会", "宜秀区总工会报送材料", "<two-apply@example.test>",
                      attachments=[("申请表.docx", fill_grid(jinqiu_c, "附件1", student), DOCX)]),
                 at("2021-08-10T10:00:00"))
    setup.append(mail("tcszgh@example.test", "桐城市总工会", "桐城市总工会补报材料", "<two-late@example.test>",
                      attachments=[("统计表（补报）.docx", fill_prose(safety_c, "附件2", tc_values, tc_header), DOCX)]),
                 at("2021-08-11T15:00:00"))
    ok(setup, "poll")

    for c in (safety_c, jinqiu_c):
        shown = ok_json(setup, "campaign", "show", "--json", "--campaign", c.slug)
        assert shown["name"] == c.name
        assert [f["form"] for f in shown["forms"]] == [f.form for f in c.forms]
        assert [[x["key"] for x in f["fields"]] for f in shown["forms"]] == [[x.key for x in f.fields] for f in c.forms]

    now = "2021-08-21T12:00:00+08:00"
    status = {c.slug: ok_json(setup, "status", "--json", "--now", now, "--campaign", c.slug) for c in (safety_c, jinqiu_c)}
    s_units = {u["unit"]: u for u in status[safety_c.slug]["units"]}
    j_units = {u["unit"]: u for u in status[jinqiu_c.slug]["units"]}
    s_items = {i.item for i in safety_c.items if i.kind != "weekly"}
    j_items = {i.item for i in jinqiu_c.items}
    assert s_items <= set(s_units["宜秀区总工会"]["items"]) and not j_items & set(s_units["宜秀区总工会"]["items"])
    assert set(j_units["宜秀区总工会"]["items"]) == j_items
    progress_item = next(i for i in safety_c.items if i.form == "附件2")
    apply_item = next(i for i in jinqiu_c.items if i.form == "附件1")
    weekly = next(i for i in safety_c.items if i.kind == "weekly")
    yx = s_units["宜秀区总工会"]["items"]
    assert yx[progress_item.item]["received_at"] == "2021-06-21T10:05:00+08:00"
    assert yx[progress_item.item]["state"] == "on_time"
    assert yx[f"{weekly.item}:2021-06-16"]["state"] == "on_time"
    assert s_units["桐城市总工会"]["items"][progress_item.item]["state"] == "late"
    assert j_units["宜秀区总工会"]["items"][apply_item.item]["received_at"] == "2021-08-10T10:00:00+08:00"
    assert j_units["桐城市总工会"]["items"][apply_item.item]["state"] == "missing"

    rows = message_rows(setup)
    for mid, item in (("<two-apply@example.test>", apply_item), ("<two-late@example.test>", progress_item),
                      ("<two-progress@example.test>", progress_item)):
        assert rows[mid]["outcome"] == "accepted", rows[mid]
        assert rows[mid]["kinds"] == [item.item], rows[mid]
    # each acknowledgement speaks of its own campaign's form
    assert "方思远" in ack_of(setup, "<two-apply@example.test>")
    late = ack_of(setup, "<two-late@example.test>")
    assert progress.blanks[1].short in late and "方思远" not in late

    s_report = ok_json(setup, "report", "--json", "--now", now, "--campaign", safety_c.slug)
    assert s_report["totals"][progress.blanks[1].key] == 9
    j_report = ok_json(setup, "report", "--json", "--now", now, "--campaign", jinqiu_c.slug)
    assert "宜秀区总工会" in j_report["units"] and "桐城市总工会" not in j_report["units"]
    s_out, j_out = tmp_path / "s.xlsx", tmp_path / "j.xlsx"
    ok(setup, "export", str(s_out), "--now", now, "--campaign", safety_c.slug)
    ok(setup, "export", str(j_out), "--now", now, "--campaign", jinqiu_c.slug)
    assert "方思远" in all_cells(j_out) and "方思远" not in all_cells(s_out)
    assert any(progress.blanks[1].short in c for c in all_cells(s_out))
    assert not any(progress.blanks[1].short in c for c in all_cells(j_out))
