"""What the bot understood of a campaign definition, for the clerk (`intake campaign new` /
`check`): the period and mailbox, the items with their deadlines, and each form with its
fields — key, the form's own words, the short label people read, the type — as Chinese
terminal tables; and the list of what a drafted notice left unclear."""
from __future__ import annotations

from datetime import datetime

from rich import box
from rich.console import Console
from rich.table import Table

from ..campaign.definition import DOCUMENT, FORM, WEEKLY, Campaign
from ..forms.definition import GRID, LIST, MANY, PROSE, TYPE_NAMES

KIND_NAMES = {FORM: "表格", DOCUMENT: "文档", WEEKLY: "每周报送"}
SHAPE_NAMES = {GRID: "栏目表", PROSE: "带空格的文字表", LIST: "名单表"}
_WEEKDAY = "一二三四五六日"


def due_text(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def campaign_summary(campaign: Campaign, console: Console | None = None) -> None:
    """The campaign as the bot will run it."""
    console = console or Console()
    console.print(f"活动：{campaign.name}（目录 {campaign.slug}，{campaign.year} 年）")
    console.print(f"活动期间：{campaign.start} 至 {campaign.end}；{campaign.submissions_open} 起受理；"
                  f"下班时间 {campaign.closing_time.strftime('%H:%M')}；收件邮箱 {campaign.mailbox or '（未填）'}")
    if campaign.keywords:
        console.print(f"主题关键词：{'、'.join(campaign.keywords)}")

    items = Table(title="报送事项", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    items.add_column("事项", no_wrap=True)
    items.add_column("名称", overflow="fold", min_width=12)
    items.add_column("类别", no_wrap=True)
    items.add_column("表格", no_wrap=True)
    items.add_column("截止", min_width=19)  # a weekly schedule wraps at its spaces
    for item in campaign.items:
        if item.kind == WEEKLY and campaign.weekly_report is not None:
            wr = campaign.weekly_report
            due = (f"每周{_WEEKDAY[wr.weekday]} {wr.time.strftime('%H:%M')}"
                   f"（{wr.first.isoformat()} 至 {wr.last.isoformat()}）")
        else:
            due = due_text(item.due)
        items.add_row(item.item, item.label, KIND_NAMES.get(item.kind, item.kind), item.form or "—", due)
    console.print(items)

    for form in campaign.forms:
        notes = [SHAPE_NAMES.get(form.shape, form.shape),
                 "每人一份（每份一条记录）" if form.per_unit == MANY else "每单位一份（以最新一份为准）"]
        if form.liaison:
            notes.append("联络员表")
        title = f"{form.form}《{form.title}》：{'，'.join(notes)}；事项 {form.item}；空白表格 {form.file}"
        table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
        table.add_column("序", justify="right", no_wrap=True)
        table.add_column("key", no_wrap=True)
        table.add_column("表中文字（label）", overflow="fold")
        table.add_column("简称（short）", overflow="fold")
        table.add_column("类型", no_wrap=True)
        for f in form.fields:
            kind = TYPE_NAMES.get(f.type, f.type) + ("，必填" if f.required else "")
            table.add_row(str(f.position), f.key, f.label, f.short if f.short != f.label else "同左", kind)
        console.print(table)
        count = f"共 {len(form.fields)} 项"
        if form.shape == PROSE:
            count += f"：表头 {len(form.header_fields)} 项，空格 {len(form.blanks)} 处"
        console.print(count)


def unclear_lines(unclear: tuple[str, ...] | list[str], notes: tuple[str, ...] | list[str] = ()) -> list[str]:
    """What the draft could not understand, numbered, then what it understood but set aside."""
    lines = []
    if unclear:
        lines.append(f"以下 {len(unclear)} 处未能理解，请对照通知手工修改 campaign.toml：")
        lines.extend(f"  {n}. {text}" for n, text in enumerate(unclear, 1))
    else:
        lines.append("通知中的报送要求都已理解（仍请逐项核对 campaign.toml 中的注释）。")
    lines.extend(f"说明：{note}" for note in notes)
    return lines
