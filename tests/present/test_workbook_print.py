"""The workbook as it is printed and forwarded: LibreOffice turns it into a PDF (what a clerk's
"print to PDF" does), and the PDF is read back page by page with poppler.

A campaign of 24 units, 3 weeks in: standings through the real read path (`stand`,
`consolidate` over recorded deliveries), messages in the shape `messages_json` gives. One
LibreOffice conversion for the whole module.
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.campaign.calendar import Calendar
from bot.campaign.roster import Roster
from bot.campaign.standing import Delivery, consolidate, stand
from bot.config import load_config
from bot.forms.progress_template import BLANKS
from bot.present.tables import KIND_SHORT
from bot.present.workbook import WorkbookData, build_workbook
from tests.fixtures.pdf_pages import read_pages, to_pdf

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples"
INT_KEYS = [b.key for b in BLANKS if b.type == "int"]

# Units beyond the sample roster's 15, as long as real ones get.
EXTRA_UNITS = [
    ("中国石油化工股份有限公司安庆分公司工会", "安庆石化工会", "市直属工会"),
    ("国网安徽省电力有限公司安庆供电公司工会", "安庆供电公司工会", "市直属工会"),
    ("安庆市卫生健康工会", "市卫健工会", "市产业工会"),
    ("安庆市金融工会", "市金融工会", "市产业工会"),
    ("安庆经济技术开发区总工会", "经开区总工会", "县（市、区）工会"),
    ("安庆高新技术产业开发区总工会", "高新区总工会", "县（市、区）工会"),
    ("安庆师范大学工会", "安师大工会", "市直属工会"),
    ("安庆市第一人民医院工会", "市一院工会", "市直属工会"),
    ("中国邮政集团有限公司安庆市分公司工会", "安庆邮政工会", "市直属工会"),
]
FORMS = ["线上启动会", "现场启动仪式", "视频会议", "发放倡议书", "悬挂横幅标语", "LED屏滚动播放", "微信公众号推送",
         "安全知识讲座", "应急演练"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["玉兰", "建国", "海燕", "志强", "丽娟", "明", "晓东", "春梅", "卫东", "静"]
NOW = "2020-06-20T09:00:00+08:00"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def campaign_data(tmp: Path) -> WorkbookData:
    """Three weeks of a campaign of 24 units: most sent their liaison form and weekly reports,
    some late, some not at all; half sent the 附件2 early with long free-text answers."""
    rnd = random.Random(16)
    cfg = tmp / "config.toml"
    cfg.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    cal = Calendar(load_config(cfg).campaign)
    roster_csv = (SAMPLES / "roster.csv").read_text(encoding="utf-8").rstrip("\n").splitlines()
    for i, (name, alias, category) in enumerate(EXTRA_UNITS):
        roster_csv.append(f"{name},{alias},{category},extra{i}@example.test")
    (tmp / "units.csv").write_text("\n".join(roster_csv) + "\n", encoding="utf-8")
    roster = Roster.load(tmp / "units.csv")
    assert len(roster.units) == 24

    deliveries, messages = [], []
    weeks = [dl for dl in cal.items_due_by_end() if dl.item.startswith("weekly_report:")]

    def send(unit, kinds, at, subject, *, outcome="accepted", reason="", flags=()):
        messages.append({"id": len(messages) + 1, "received_at": at.isoformat(), "from": f"unit{len(messages)}@example.test",
                         "subject": subject, "unit": unit, "outcome": outcome, "kinds": list(kinds), "reason": reason,
                         "flags": list(flags)})

    for n, unit in enumerate(u.name for u in roster.units):
        if n % 7 != 3:  # three units never sent a liaison form
            at = t("2020-06-05T10:00:00+08:00") + timedelta(days=n % 9, hours=n)
            name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
            values = {"name": name, "gender": "女" if n % 2 else "男", "title": "办公室主任" if n % 3 else "经济工作部副部长",
                      "office_phone": f"0556-55{n:02d}123", "mobile": f"139{n:04d}5678", "fax": f"0556-55{n:02d}124",
                      "qq": f"{100000 + n * 7919}", "wechat": f"wx_{n:02d}_aq", "email": f"liaison{n}@example.test",
                      "address": f"安庆市{'迎江区人民路' if n % 2 else '宜秀区独秀大道'}{n + 10}号{unit}办公楼{n % 5 + 2}楼"}
            deliveries.append(Delivery(unit, "liaison_form", "liaison_form", at, values))
            send(unit, ["liaison_form"], at, f"{unit}报送“安全生产月”活动联络员推荐表（附件1）")
        for w, dl in enumerate(weeks):
            if dl.due > t(NOW) or (n + w) % 5 == 0:
                continue
            at = dl.due - timedelta(hours=rnd.choice([30, 5, 1])) + timedelta(hours=(n % 4 == 1) * 40)
            deliveries.append(Delivery(unit, dl.item, "weekly_report", at, {}))
            send(unit, ["weekly_report"], at, f"{unit}第{'一二三四'[w]}周安全生产月活动开展情况")
        if n % 2 == 0:
            at = t("2020-06-17T15:00:00+08:00") + timedelta(hours=n)
            values = {k: rnd.randint(0, 2400) for k in INT_KEYS}
            for b in BLANKS:
                if b.type == "text":
                    values[b.key] = "、".join(rnd.sample(FORMS, 2 + n % 4))
            values |= {"header.unit_name": unit, "header.contact": SURNAMES[n % 20] + GIVEN[(n + 3) % 10],
                       "header.phone": f"0556-55{n:02d}123", "header.fill_date": "2020年6月17日"}
            deliveries.append(Delivery(unit, "progress_table", "progress_table", at, values))
            send(unit, ["progress_table", "weekly_report"], at,
                 f"{unit}关于报送2020年“安全生产月”活动进展情况统计表及第三周周报的函")
    # what the clerk has to look at
    send("宿松县总工会", ["progress_table"], t("2020-06-18T11:00:00+08:00"), "宿松县总工会附件2", outcome="needs_review",
         reason="附件2第12处“（ ）个企业开展”应为数字，写的是“若干”，第30处“开展线上‘公众开放日’（ ）场次”应为数字，写的是“多场”",
         flags=["发件地址 ss_personal@example.test 不在 宿松县总工会 的登记记录中（按邮件主题认定）"])
    send(None, [], t("2020-06-19T08:00:00+08:00"), "自动回复：您的邮件已收到", outcome="auto_reply",
         reason="自动回复邮件，不答复")
    messages.sort(key=lambda m: m["received_at"])
    for i, m in enumerate(messages, 1):
        m["id"] = i
    now = t(NOW)
    stands = stand(cal, roster, deliveries, now)
    return WorkbookData("2020年全市“安全生产月”活动", now, cal, stands, consolidate(stands, INT_KEYS), messages)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("print")
    data = campaign_data(tmp)
    book = build_workbook(data)
    pdf = tmp / "workbook.pdf"
    pdf.write_bytes(to_pdf(book))
    return data, read_pages(pdf)


SHEETS = ["汇总", "各单位明细", "报送情况", "及时率", "联络员名单", "消息记录"]
# The header row every page of a sheet starts with: its first and last column.
HEADS = {"报送情况": ("单位", "活动总结"), "及时率": ("名次", "得分"), "联络员名单": ("单位", "提醒发送地址"),
         "消息记录": ("编号", "说明"), "汇总": ("活动项目", "进展情况")}


def sheet_of(page) -> str:
    """The sheet a page belongs to, from the page header (title, sheet name, date)."""
    names = [token for token in page.lines[0].split() if token in SHEETS] if page.lines else []
    assert len(names) == 1, (page.number, page.lines[:1])
    return names[0]


def by_sheet(pages) -> dict[str, list]:
    out: dict[str, list] = {}
    for page in pages:
        out.setdefault(sheet_of(page), []).append(page)
    return out


def body(page) -> list[str]:
    """The page's lines without its page header and footer."""
    return page.lines[1:-1]


def _middle(word) -> float:
    return (word.y0 + word.y1) / 2


def unit_rows(pages, units: list[str], head: str = "单位") -> dict[str, list[str]]:
    """Each unit's row as printed, its words left to right. Cells sit at the bottom of their
    rows (a wrapped one ends on the line the row's one-line cells print on), so a row runs from
    below the line the previous row's unit name ends on (or the header's, its first column
    titled `head`) down to the line its own name ends on. Long names wrap: their pieces in the
    first column are put together. Every unit must have exactly one row in `pages`."""
    rows: dict[str, list[str]] = {}
    for page in pages:
        starts = [w for w in page.words if any(w.text.startswith(u[:5]) for u in units)]
        if not starts:
            continue
        left = min(w.x0 for w in starts)
        column = sorted((w for w in page.words if abs(w.x0 - left) < 2), key=_middle)
        previous, piece = None, ""
        for w in column:
            piece += w.text
            if w.text == head:
                previous, piece = _middle(w), ""
            elif piece in units:
                assert piece not in rows, f"{piece} printed twice"
                # within 5 pt of a line's middle: Latin and CJK words of one line differ by ~2
                rows[piece] = [v.text for v in sorted(page.words, key=lambda v: (v.x0, v.y0))
                               if previous + 5 < _middle(v) <= _middle(w) + 5]
                previous, piece = _middle(w), ""
            elif not any(u.startswith(piece) for u in units):
                piece = ""
    assert sorted(rows) == sorted(units)
    return rows


def test_pages_are_a4_in_sheet_order_with_header_and_numbered_footer(printed):
    _, pages = printed
    order = [sheet_of(p) for p in pages]
    assert [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s] == SHEETS  # each sheet's pages together
    for page in pages:
        assert page.a4, (page.number, page.width, page.height)
        assert "2020年全市“安全生产月”活动" in page.lines[0] and "截至 2020-06-20 09:00" in page.lines[0]
        assert page.lines[-1].strip() == f"第 {page.number} 页，共 {len(pages)} 页"


def test_orientation_and_page_counts(printed):
    data, pages = printed
    sheets = by_sheet(pages)
    counts = {name: len(ps) for name, ps in sheets.items()}
    # wide sheets landscape, and each sheet all one way
    for name, ps in sheets.items():
        assert len({p.landscape for p in ps}) == 1, name
    assert all(p.landscape for name in ("各单位明细", "报送情况", "联络员名单", "消息记录") for p in sheets[name])
    # The summary and the timeliness table with its chart are one page each; the old layout
    # printed this workbook on 31 pages, most of them column strips.
    assert counts["汇总"] == 1 and counts["及时率"] == 1
    assert counts["报送情况"] <= 2 and counts["联络员名单"] <= 2
    assert counts["消息记录"] <= -(-len(data.messages) // 12)
    bands = len({frozenset(blank_numbers(p)) for p in sheets["各单位明细"]})
    assert bands <= 5 and counts["各单位明细"] <= 2 * bands
    assert sum(counts.values()) <= 22, counts


def test_header_row_repeated_on_every_page_with_first_and_last_column(printed):
    data, pages = printed
    units = [s.unit[:5] for s in data.standings]
    for name, ps in by_sheet(pages).items():
        if name == "各单位明细":
            continue  # column bands, below
        first, last = HEADS[name]
        for page in ps:
            lines = body(page)
            # the header's first column ends on its last line (cells sit at the bottom of a row)
            start = next(i for i, line in enumerate(lines) if line.split()[0] == first)
            # nothing but the header above it: the first row printed on the page
            assert not any(u in line for u in units for line in lines[:start + 1]), (name, page.number)
            block = "".join("".join(line.split()) for line in lines[:start + 1])  # headers wrap
            assert last in block, (name, page.number, block)
    assert len(by_sheet(pages)["消息记录"]) >= 2  # a long sheet: its header did repeat


def test_rows_print_whole_on_one_page(printed):
    """No strips: each row's first and last columns print in one row of one page."""
    data, pages = printed
    sheets = by_sheet(pages)
    units = [s.unit for s in data.standings]
    liaison = unit_rows(sheets["联络员名单"], units)
    for s in data.standings:
        row = liaison[s.unit]
        if s.liaison is None:
            assert "（未报送）" in "".join(row), row
            continue
        # 姓名, 手机 in the middle, the address the reminders go to in the last column
        assert s.liaison["name"] in row and s.liaison["mobile"] in row, row
        assert row[-1] == s.liaison_address == s.liaison["email"], row
    delivery = unit_rows(sheets["报送情况"], units)
    words = {"on_time": "按时", "late": "逾期", "missing": "缺报", "open": "未到期"}
    for s in data.standings:
        states = [t for t in delivery[s.unit] if t in words.values()]
        assert states == [words[s.items[dl.item].state] for dl in data.calendar.items_due_by_end()], s.unit
    # 消息记录: each message's 编号 ends its row; its 材料 column, in Chinese, on the same page
    kinds: dict[int, str] = {}
    for page in sheets["消息记录"]:
        head = {w.text: w for w in page.words if w.text in ("收到时间", "材料", "说明")}
        ids = sorted((w for w in page.words if w.text.isdigit() and w.x1 < head["收到时间"].x0), key=_middle)
        previous = _middle(next(w for w in page.words if w.text == "编号"))
        for w in ids:
            row = sorted((v for v in page.words if previous + 5 < _middle(v) <= _middle(w) + 5), key=_middle)
            assert int(w.text) not in kinds
            kinds[int(w.text)] = "".join(v.text for v in row if head["材料"].x0 - 2 <= v.x0 < head["说明"].x0 - 2)
            previous = _middle(w)
    assert kinds == {m["id"]: "、".join(KIND_SHORT[k] for k in m["kinds"]) for m in data.messages}


def blank_numbers(page) -> set[int]:
    """The blanks whose columns a page of 各单位明细 shows, from their numbered headers."""
    return {int(n) for n in re.findall(r"(?<![\d.])(\d{1,2})\. ", body(page)[0])}


def test_detail_sheet_prints_in_bands_of_whole_items_with_unit_column(printed):
    data, pages = printed
    detail = by_sheet(pages)["各单位明细"]
    bands: dict[frozenset, list] = {}
    for page in detail:
        bands.setdefault(frozenset(blank_numbers(page)), []).append(page)
    assert set().union(*bands) == set(range(1, 52))  # every blank printed, in exactly one band
    assert sum(len(b) for b in bands) == 51
    group = {b.number: b.key.rsplit(".", 1)[0] for b in BLANKS}
    for numbers, band_pages in bands.items():
        assert sorted(numbers) == list(range(min(numbers), max(numbers) + 1))  # adjacent columns
        for n in numbers:  # an activity item (进企业…进家庭 each) is never cut in two
            assert all(m in numbers for m in group if group[m] == group[n])
        lines = [line for p in band_pages for line in body(p)]
        assert all(body(p)[0].split()[0] == "单位" for p in band_pages)  # the unit column repeats
        keys = [b.key for b in BLANKS if b.number in numbers and b.type == "int"]
        rows = unit_rows(band_pages, [s.unit for s in data.standings])
        for s in data.standings:
            figures = [int(t) for t in rows[s.unit] if t.isdigit()]
            assert figures == ([s.progress[k] for k in keys] if s.progress else []), (s.unit, rows[s.unit])
        total = next(line for line in lines if line.split()[0] == "合计")
        assert [int(t) for t in total.split()[1:]] == [data.report.totals[k] for k in keys]


def test_chart_names_every_bar_and_its_score(printed):
    data, pages = printed
    page = by_sheet(pages)["及时率"][0]
    right = [w for w in page.words if w.x0 > page.width * 0.5]  # the chart, beside the table
    texts = [w.text for w in right]
    assert "各单位报送得分" in texts and "单位" in texts and "得分" in texts  # title, axis titles
    for s in data.standings:
        label = next((w for w in right if w.text == s.unit), None)
        assert label is not None, f"no bar label for {s.unit}"
        score = f"{s.timeliness.score:g}"
        assert any(w.text == score and abs(w.y0 - label.y0) < 4 and w.x0 > label.x1 for w in right), s.unit
    top = min((w for w in right if w.text in {s.unit for s in data.standings}), key=lambda w: w.y0)
    first = next(s for s in data.standings if s.unit == top.text)
    assert first.timeliness.score == max(s.timeliness.score for s in data.standings)  # on top, as in the table


def test_message_kinds_in_chinese_and_long_text_not_cut_off(printed):
    data, pages = printed
    everything = "\n".join(p.text for p in pages)
    for code in ("liaison_form", "progress_table", "weekly_report"):
        assert code not in everything
    messages = "\n".join(p.text for p in by_sheet(pages)["消息记录"])
    assert "附件1" in messages and "周报" in messages and "附件2" in messages
    # the longest note, wrapped over several lines, printed to its last words: its column's
    # words from its first one down
    page = next(p for p in by_sheet(pages)["消息记录"] if "附件2第12处" in p.text)
    start = next(w for w in page.words if w.text.startswith("附件2第12处"))
    column = sorted((w for w in page.words if w.x0 >= start.x0 - 2 and w.y0 >= start.y0 - 2
                     and "页" not in w.text), key=lambda w: (round(_middle(w)), w.x0))  # the last column
    assert "".join(w.text for w in column).endswith("（按邮件主题认定）")
    summary = by_sheet(pages)["汇总"][0]
    last = data.report.totals["exemplary.videos"]
    assert f"制作专题视频（{last}）部。" in "".join(summary.text.split())


def test_nothing_overprints(printed):
    _, pages = printed
    clashes = [(p.number, a.text, b.text) for p in pages for a, b in p.overprinted()]
    assert clashes == []
