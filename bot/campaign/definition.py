"""A campaign as data: a folder holding campaign.toml and the blank forms the union sends out.

campaign.toml names the campaign, its period, its items (forms, free documents, a weekly
report) with their deadlines, and each form's keys and labels; the forms' shapes and fields
come from the blank files themselves (`forms/definition`). The configuration may override the
period and the deadlines (`[campaign]` keys), so the 2020 config keeps working unchanged.
docs/CAMPAIGNS.md is the clerk's guide to the format.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..config import WEEKDAYS, CampaignConfig, WeeklyReport, weekday_number
from ..forms.definition import CampaignForms, DefinitionError, DocumentItem, Form, build_form
from ..resources import project_file

FORM, DOCUMENT, WEEKLY = "form", "document", "weekly"
ITEM_KINDS = (FORM, DOCUMENT, WEEKLY)
SHIPPED = "2020-anqing-safety-month"
DEFINITION_FILE = "campaign.toml"


@dataclass(frozen=True)
class Item:
    """Something every unit owes: a form, a free document (a 总结), or a weekly report."""

    item: str  # liaison_form | progress_table | summary | weekly_report (the status key)
    label: str  # 联络员推荐表（附件1）
    kind: str  # FORM | DOCUMENT | WEEKLY
    form: str = ""  # FORM: the form it is submitted as (附件1)
    due: datetime | None = None  # FORM / DOCUMENT: aware, campaign zone
    keywords: tuple[str, ...] = ()  # words in a file name or subject that name this item
    source: str = ""  # the notice's sentence it came from (campaign new)


@dataclass(frozen=True)
class Campaign:
    slug: str  # the folder's name: what --campaign and the database call it
    name: str
    year: int
    timezone: ZoneInfo
    start: date
    end: date
    submissions_open: date
    closing_time: time  # 下班: the office's closing time
    mailbox: str
    keywords: tuple[str, ...]  # words in a subject that name this campaign
    items: tuple[Item, ...]
    forms: tuple[Form, ...]
    weekly_report: WeeklyReport | None
    folder: Path

    @property
    def deadlines(self) -> dict[str, datetime]:
        return {i.item: i.due for i in self.items if i.kind != WEEKLY and i.due is not None}

    @property
    def opens_at(self) -> datetime:
        return datetime.combine(self.submissions_open, time(0, 0), self.timezone)

    @property
    def weekly_item(self) -> Item | None:
        return next((i for i in self.items if i.kind == WEEKLY), None)

    def item(self, name: str) -> Item:
        for i in self.items:
            if i.item == name:
                return i
        raise KeyError(name)

    def form(self, name: str) -> Form:
        for f in self.forms:
            if f.form == name or f.item == name:
                return f
        raise KeyError(name)

    def form_of(self, item: str) -> Form | None:
        return next((f for f in self.forms if f.item == item), None)

    @property
    def liaison_form(self) -> Form | None:
        return next((f for f in self.forms if f.liaison), None)

    def reading(self) -> CampaignForms:
        """What the readers need of this campaign (forms/classify)."""
        return CampaignForms(self.slug, self.keywords, self.forms,
                             tuple(DocumentItem(i.item, i.kind, i.keywords) for i in self.items if i.kind != FORM))

    def as_json(self) -> dict:
        """interface.md's `campaign show --json`: the items (a weekly one with its schedule, the
        others with their deadline) and every form's fields in template order."""
        items = []
        for i in self.items:
            if i.kind == WEEKLY and self.weekly_report:
                wr = self.weekly_report
                items.append({"item": i.item, "label": i.label, "kind": i.kind, "weekday": WEEKDAYS[wr.weekday],
                              "time": wr.time.strftime("%H:%M"), "first": wr.first.isoformat(),
                              "last": wr.last.isoformat()})
            else:
                entry = {"item": i.item, "label": i.label, "kind": i.kind}
                if i.form:
                    entry["form"] = i.form
                entry["due"] = i.due.isoformat() if i.due else None
                items.append(entry)
        forms = [{"form": f.form, "shape": f.shape, "per_unit": f.per_unit,
                  "fields": [{"key": x.key, "label": x.label, "type": x.type, "position": x.position}
                             for x in f.fields]} for f in self.forms]
        return {"name": self.name, "items": items, "forms": forms}


_TOP = {"campaign", "items", "forms"}
_CAMPAIGN_KEYS = {"slug", "name", "year", "timezone", "start", "end", "submissions_open", "closing_time",
                  "mailbox", "keywords"}
_ITEM_KEYS = {"item", "label", "kind", "form", "due", "keywords", "weekday", "time", "first", "last", "source"}


def _aware(value, tz: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):  # a date alone means the end of that day
        return datetime.combine(value, time(23, 59, 59), tz)
    raise DefinitionError(f"{where}：应为日期或日期时间，如 2020-06-10 或 2020-06-10T23:59:59")


def _time(value, where: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise DefinitionError(f"{where}：应为时刻，如 \"17:30\"") from None


def load_campaign(folder: str | Path) -> Campaign:
    """Read and check one campaign folder; DefinitionError says what is wrong, in Chinese."""
    folder = Path(folder)
    path = folder / DEFINITION_FILE
    if not path.is_file():
        raise DefinitionError(f"活动定义目录 {folder} 中没有 {DEFINITION_FILE}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}：TOML 格式错误：{exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}：无法读取：{exc}") from None
    unknown = set(data) - _TOP
    if unknown:
        raise DefinitionError(f"{path}：不认识的部分 {', '.join(sorted(unknown))}（只能有 [campaign]、[[items]]、[[forms]]）")
    cp = data.get("campaign", {})
    unknown = set(cp) - _CAMPAIGN_KEYS
    if unknown:
        raise DefinitionError(f"{path} [campaign]：不认识的设置 {', '.join(sorted(unknown))}")
    for key in ("name", "start", "end"):
        if key not in cp:
            raise DefinitionError(f"{path} [campaign]：缺少 {key}")
    try:
        tz = ZoneInfo(cp.get("timezone", "Asia/Shanghai"))
    except (ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(f"{path} [campaign]：timezone 不是有效的时区名") from None
    start, end = cp["start"], cp["end"]
    if not isinstance(start, date) or not isinstance(end, date) or end < start:
        raise DefinitionError(f"{path} [campaign]：start、end 应为日期，且 end 不早于 start")
    closing = _time(cp.get("closing_time", "17:30"), f"{path} [campaign] closing_time")

    forms = []
    for n, spec in enumerate(data.get("forms", []), 1):
        forms.append(build_form(spec, folder, f"{path} 第{n}个 [[forms]]（{spec.get('form', '')}）"))
    names = [f.form for f in forms]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{path}：表格名称重复：{', '.join(names)}")

    items, weekly = [], None
    for n, spec in enumerate(data.get("items", []), 1):
        where = f"{path} 第{n}个 [[items]]（{spec.get('item', '')}）"
        unknown = set(spec) - _ITEM_KEYS
        if unknown:
            raise DefinitionError(f"{where}：不认识的设置 {', '.join(sorted(unknown))}")
        kind = spec.get("kind", FORM if "form" in spec else DOCUMENT)
        if kind not in ITEM_KINDS:
            raise DefinitionError(f"{where}：kind 应为 form、document 或 weekly")
        name = spec.get("item")
        if not isinstance(name, str) or not name.isidentifier() or ":" in name:
            raise DefinitionError(f"{where}：item 应为英文名称，如 liaison_form")
        due = None
        if kind == WEEKLY:
            weekday = weekday_number(str(spec.get("weekday", "thursday")))
            if weekday is None:
                raise DefinitionError(f"{where}：weekday 应为星期名，如 thursday 或 周四")
            first, last = spec.get("first"), spec.get("last")
            if not isinstance(first, date) or not isinstance(last, date) or last < first:
                raise DefinitionError(f"{where}：first、last 应为日期，且 last 不早于 first")
            if first.weekday() != weekday:
                raise DefinitionError(f"{where}：first = {first} 不是星期{'一二三四五六日'[weekday]}")
            weekly = WeeklyReport(weekday, _time(spec.get("time", closing.strftime("%H:%M")), where), first, last)
        else:
            if "due" not in spec:
                raise DefinitionError(f"{where}：缺少截止时间 due")
            due = _aware(spec["due"], tz, where)
        form = spec.get("form", "")
        if kind == FORM:
            if form not in names:
                raise DefinitionError(f"{where}：form = {form!r} 不是 [[forms]] 中的表格（{'、'.join(names) or '无'}）")
            forms[names.index(form)] = replace(forms[names.index(form)], item=name)
        items.append(Item(name, spec.get("label", name), kind, form, due, tuple(spec.get("keywords", ())),
                          spec.get("source", "")))
    if not items:
        raise DefinitionError(f"{path}：没有任何报送事项（[[items]]）")
    if len({i.item for i in items}) != len(items):
        raise DefinitionError(f"{path}：报送事项名称重复")
    if sum(1 for i in items if i.kind == WEEKLY) > 1:
        raise DefinitionError(f"{path}：只能有一个每周报送的事项")
    loose = [f.form for f in forms if not f.item]
    if loose:
        raise DefinitionError(f"{path}：表格 {'、'.join(loose)} 没有对应的报送事项（[[items]] 的 form）")
    opens = cp.get("submissions_open", start)
    slug = cp.get("slug", folder.name)
    forms = [replace(f, campaign=slug) for f in forms]
    return Campaign(slug, cp["name"], int(cp.get("year", start.year)), tz, start, end,
                    opens, closing, cp.get("mailbox", ""), tuple(cp.get("keywords", ())), tuple(items),
                    tuple(forms), weekly, folder)


def with_config(campaign: Campaign, config: CampaignConfig | None) -> Campaign:
    """The definition with the configuration's own period and deadlines laid over it (the
    2020 config names them; a config that names a definition need not)."""
    if config is None:
        return campaign
    overrides = config.overrides
    items = tuple(replace(i, due=config.deadlines[i.item]) if i.item in config.deadlines else i
                  for i in campaign.items)
    out = replace(campaign, items=items)
    for key in ("name", "timezone", "start", "end", "submissions_open"):
        if key in overrides:
            out = replace(out, **{key: getattr(config, key)})
    if "weekly_report" in overrides and out.weekly_report is not None:
        out = replace(out, weekly_report=config.weekly_report)
    return out


@lru_cache(maxsize=8)
def _load_cached(folder: str, mtime: float) -> Campaign:
    return load_campaign(folder)


def load_cached(folder: str | Path) -> Campaign:
    """load_campaign, once per folder and campaign.toml version (deriving forms reads files)."""
    path = Path(folder) / DEFINITION_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _load_cached(str(Path(folder).resolve()), mtime)


def shipped_folder(slug: str = SHIPPED) -> Path:
    return project_file("campaigns", slug)


def shipped() -> Campaign:
    """The 2020 Anqing 安全生产月, shipped in the repository."""
    return load_cached(shipped_folder())


def resolve(config: CampaignConfig) -> Campaign:
    """The campaign a `[campaign]` / `[[campaigns]]` table means: its definition (the shipped
    2020 one when it names none) with the table's own period and deadlines over it."""
    campaign = load_cached(config.definition) if config.definition is not None else shipped()
    unknown = set(config.deadlines) - {i.item for i in campaign.items}
    if unknown:
        raise DefinitionError(f"配置 [campaign.deadlines] 中的 {', '.join(sorted(unknown))} 不是活动"
                              f"“{campaign.name}”的报送事项（{'、'.join(i.item for i in campaign.items)}）")
    return with_config(campaign, config)
