"""The organizers' workbook at campaign scale against a write-only floor.

Project path: `build_workbook(WorkbookData(...))` for a generated roster of units, each with a
liaison form, a full 附件2 (all 51 values), a summary and the weekly reports (some late, some
missing), plus message rows shaped like `present.as_json.messages_json`.

Floor: the same values at the same coordinates of the same sheets, written by openpyxl in
write-only mode, with no styles, merges, widths or chart. The values are read back from one
workbook the project built (outside the timing), so the floor writes exactly what the real
workbook holds, sheet by sheet; `check_same_cells` proves the counts match.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook, load_workbook

from bot.campaign.calendar import Calendar
from bot.campaign.roster import Roster, Unit
from bot.campaign.standing import Delivery, consolidate, stand
from bot.config import load_config
from bot.forms import progress_template as tpl
from bot.present.workbook import OUTCOME_TEXT, WorkbookData, build_workbook

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config.example.toml"

_PLACES = ("大观区", "迎江区", "宜秀区", "怀宁县", "潜山市", "太湖县", "宿松县", "望江县", "岳西县", "桐城市")
_TRADES = ("建设", "机械", "化工", "纺织", "电力", "交通", "教育", "医药", "商贸", "建材")
_CATEGORIES = ("县（市、区）总工会", "产业工会", "企业工会")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明")
_FORMS = ("座谈会、知识竞赛", "线上启动仪式", "专题讲座、现场观摩", "“安全生产月”微视频征集", "安全承诺签名")
_OUTCOMES = tuple(OUTCOME_TEXT)


@dataclass
class Scale:
    units: int = 500
    messages: int = 2000
    seed: int = 2020


def _calendar() -> Calendar:
    # load_config resolves relative paths against the file's folder only; nothing is opened.
    return Calendar(load_config(CONFIG).campaign)


FORMS = _FORMS  # activity forms a clerk writes into 附件2's text blanks (the server benchmarks too)


def make_roster(units: int) -> Roster:
    """A generated roster of `units` units, one address each (shared with the server benchmarks)."""
    return _roster(Scale(units=units), random.Random(Scale.seed))


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


def _roster(scale: Scale, rng: random.Random) -> Roster:
    units = []
    for i in range(scale.units):
        place, trade = _PLACES[i % len(_PLACES)], _TRADES[(i // len(_PLACES)) % len(_TRADES)]
        name = f"{place}{trade}第{i + 1}分公司工会"
        units.append(Unit(name, (f"{trade}{i + 1}分公司",), _CATEGORIES[i % len(_CATEGORIES)],
                          (f"unit{i + 1:04d}@example.test",)))
    return Roster(units)


def _liaison(rng: random.Random, unit: str, i: int) -> dict:
    return {"unit_name": unit, "name": _person(rng), "gender": rng.choice("男女"), "title": "工会主席",
            "office_phone": f"0556-55{i:05d}", "mobile": f"139{rng.randrange(10**8):08d}",
            "fax": f"0556-56{i:05d}", "qq": str(rng.randrange(10**8, 10**10)), "wechat": f"wx_unit{i}",
            "email": f"unit{i + 1:04d}@example.test", "address": f"安庆市{rng.choice(_PLACES)}人民路{i + 1}号"}


def _progress(rng: random.Random, unit: str, when: datetime) -> dict:
    values: dict = {"header.unit_name": unit, "header.contact": _person(rng),
                    "header.phone": f"139{rng.randrange(10**8):08d}", "header.fill_date": when.strftime("%Y年%m月%d日")}
    for blank in tpl.BLANKS:
        values[blank.key] = rng.randrange(0, 800) if blank.type == tpl.INT else rng.choice(_FORMS)
    return values


def _deliveries(cal: Calendar, roster: Roster, rng: random.Random) -> list[Delivery]:
    """Every unit sends every item; about one in ten sends an item late, one in twenty never."""
    out = []
    for i, unit in enumerate(roster.units):
        for dl in cal.deadlines:
            roll = rng.random()
            if roll < 0.05:
                continue  # missing
            shift = timedelta(hours=rng.randint(1, 96)) if roll < 0.15 else -timedelta(hours=rng.randint(1, 120))
            when = dl.due + shift
            if dl.item == "liaison_form":
                values = _liaison(rng, unit.name, i)
            elif dl.item == "progress_table":
                values = _progress(rng, unit.name, when)
            else:
                values = {}
            out.append(Delivery(unit.name, dl.item, dl.kind, when, values))
        if rng.random() < 0.1:  # a corrected 附件2 sent again later: the latest one counts
            due = cal.deadline("progress_table").due
            out.append(Delivery(unit.name, "progress_table", "progress_table", due - timedelta(hours=1),
                                _progress(rng, unit.name, due)))
    return out


def _messages(cal: Calendar, roster: Roster, count: int, rng: random.Random) -> list[dict]:
    start = datetime.combine(cal.campaign.start, datetime.min.time(), cal.tz)
    kinds = ("liaison_form", "progress_table", "summary", "weekly_report")
    rows = []
    for n in range(1, count + 1):
        unit = rng.choice(roster.units)
        when = start + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        outcome = rng.choice(_OUTCOMES)
        rows.append({
            "id": n,
            "message_id": f"<{n}.{rng.randrange(10**9)}@example.test>",
            "from": unit.emails[0],
            "subject": f"{unit.name}{rng.choice(('进展情况统计表', '第三周周报', '联络员推荐表', '活动总结'))}",
            "received_at": when.isoformat(timespec="seconds"),
            "unit": unit.name if outcome != "needs_review" else None,
            "outcome": outcome,
            "reason": "未识别为本次活动的表格或材料" if outcome == "needs_review" else "",
            "kinds": rng.sample(kinds, rng.randint(0, 2)),
            "flags": ["late"] if rng.random() < 0.1 else [],
            "attachments": [],
            "acknowledged": outcome == "accepted",
        })
    return rows


def make_data(scale: Scale | None = None) -> WorkbookData:
    """Campaign-end WorkbookData built by the project's own read side (stand, consolidate)."""
    scale = scale or Scale()
    rng = random.Random(scale.seed)
    cal = _calendar()
    roster = _roster(scale, rng)
    deliveries = _deliveries(cal, roster, rng)
    now = max(dl.due for dl in cal.deadlines) + timedelta(days=3)
    standings = stand(cal, roster, deliveries, now)
    report = consolidate(standings, [b.key for b in tpl.BLANKS if b.type == tpl.INT])
    return WorkbookData(cal.campaign.name, now, cal, standings, report, _messages(cal, roster, scale.messages, rng))


def project(data: WorkbookData) -> bytes:
    return build_workbook(data)


def sheet_values(xlsx: bytes) -> list[tuple[str, list[list]]]:
    """Each sheet's title and its rows of values (None where a cell is empty)."""
    wb = load_workbook(io.BytesIO(xlsx))
    return [(ws.title, [list(row) for row in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]


def count_cells(sheets: list[tuple[str, list[list]]]) -> dict[str, int]:
    return {title: sum(v is not None for row in rows for v in row) for title, rows in sheets}


def floor(sheets: list[tuple[str, list[list]]]) -> bytes:
    """The same values, streamed: write-only workbook, rows appended, no styles."""
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def check_same_cells(real: bytes, floored: bytes) -> dict[str, int]:
    """Per-sheet non-empty cell counts; raises if the floor does not hold the real workbook's."""
    want, got = count_cells(sheet_values(real)), count_cells(sheet_values(floored))
    if want != got:
        raise AssertionError(f"floor cells differ from the real workbook: {got} != {want}")
    return want
