"""Terminal tables for the admin (rich aligns CJK text by display width)."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

OUTCOME_STYLE = {"accepted": ("已登记", "green"), "needs_review": ("待人工处理", "yellow"),
                 "duplicate": ("重复", "cyan"), "auto_reply": ("自动回复", "dim"),
                 "ignored": ("已忽略", "dim"), "pending": ("待处理", "magenta")}
KIND_SHORT = {"liaison_form": "附件1", "progress_table": "附件2", "summary": "总结", "weekly_report": "周报"}


def messages_table(rows: list[dict], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"收到的邮件（{len(rows)} 封）", show_lines=False)
    for col in ("编号", "收到时间", "发件人", "单位", "结果", "材料", "说明"):
        table.add_column(col, overflow="fold")
    for r in rows:
        label, style = OUTCOME_STYLE.get(r["outcome"], (r["outcome"], ""))
        note = "；".join([r["reason"]] * bool(r["reason"]) + r["flags"])
        table.add_row(str(r["id"]), (r["received_at"] or "")[5:16].replace("T", " "), r["from"],
                      r["unit"] or "—", f"[{style}]{label}[/]" if style else label,
                      "、".join(KIND_SHORT.get(k, k) for k in r["kinds"]) or "—", note)
    console.print(table)
