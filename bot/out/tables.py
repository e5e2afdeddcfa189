"""Terminal tables for the admin (rich aligns CJK text by display width)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

OUTCOME_STYLE = {"accepted": ("已登记", "green"), "needs_review": ("待人工处理", "yellow"),
                 "duplicate": ("重复", "cyan"), "auto_reply": ("自动回复", "dim"),
                 "ignored": ("已忽略", "dim"), "pending": ("待处理", "magenta")}
KIND_SHORT = {"liaison_form": "附件1", "progress_table": "附件2", "summary": "总结", "weekly_report": "周报"}


def messages_table(rows: list[dict], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"收到的邮件（{len(rows)} 封）", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("编号", justify="right", no_wrap=True)
    table.add_column("收到", no_wrap=True)
    table.add_column("单位 / 发件人", ratio=2, overflow="fold")
    table.add_column("结果", no_wrap=True)
    table.add_column("材料", no_wrap=True)
    table.add_column("说明", ratio=3, overflow="fold")
    for r in rows:
        label, style = OUTCOME_STYLE.get(r["outcome"], (r["outcome"], ""))
        note = "；".join([r["reason"]] * bool(r["reason"]) + r["flags"])
        who = r["unit"] or r["from"] or "—"
        table.add_row(str(r["id"]), (r["received_at"] or "")[5:16].replace("T", " "), who,
                      f"[{style}]{label}[/]" if style else label,
                      "、".join(KIND_SHORT.get(k, k) for k in r["kinds"]) or "—", note)
    console.print(table)


STATE_MARK = {"on_time": ("✓", "green"), "late": ("逾期", "yellow"), "missing": ("✗", "red"), "open": ("…", "dim")}


def _item_header(item: str) -> str:
    if item.startswith("weekly_report:"):
        _, _, day = item.partition(":")
        return f"周报\n{int(day[5:7])}/{int(day[8:10])}"
    return {"liaison_form": "附1", "progress_table": "附2", "summary": "总结"}.get(item, item)


def status_table(doc: dict, console: Console | None = None) -> None:
    console = console or Console()
    units = doc["units"]
    items = list(units[0]["items"]) if units else []
    # Fits 80 columns with the longest unit names (12 CJK characters): light borders, no padding
    # at the edges, two-line headers for the weeks.
    table = Table(title=f"报送情况（截至 {doc['now'][:16].replace('T', ' ')}）", box=box.SIMPLE_HEAD,
                  pad_edge=False, padding=(0, 0))
    table.add_column("单位", no_wrap=True, min_width=8)
    for item in items:
        table.add_column(_item_header(item), justify="center", no_wrap=True, min_width=4)
    table.add_column("得分", justify="right", no_wrap=True, min_width=4)
    for u in units:
        cells = []
        for item in items:
            mark, style = STATE_MARK[u["items"][item]["state"]]
            cells.append(f"[{style}]{mark}[/]")
        table.add_row(u["unit"], *cells, f"{u['timeliness']['score']:g}")
    console.print(table)
    console.print("✓ 按时　逾期 迟交　✗ 缺报　… 未到期　附1 联络员推荐表　附2 进展情况统计表", style="dim")
    for u in doc["units"]:
        for flag in u.get("flags", ()):
            console.print(f"⚠ {u['unit']}：{flag}", style="yellow")


def report_table(doc: dict, labels: dict[str, str], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"进展情况统计表汇总（{len(doc['units'])} 个单位已报）")
    table.add_column("项目")
    table.add_column("合计", justify="right")
    for key, total in doc["totals"].items():
        table.add_row(labels.get(key, key), str(total))
    console.print(table)
    if doc["missing_units"]:
        console.print("未报单位：" + "、".join(doc["missing_units"]))
