"""Terminal tables for the admin (rich aligns CJK text by display width). The console is as
wide as the terminal, or $COLUMNS; every table fits it without cutting a name in two. Items,
forms and fields are named as the campaign's definition names them (present/labels); without a
campaign, the shipped 2020 one."""
from __future__ import annotations

import re

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..campaign.definition import Campaign, shipped
from .labels import bare_label, field_label, form_label, item_header, kind_short, legend, report_forms

OUTCOME_STYLE = {"accepted": ("已登记", "green"), "needs_review": ("待人工处理", "yellow"),
                 "duplicate": ("重复", "cyan"), "auto_reply": ("自动回复", "dim"),
                 "ignored": ("已忽略", "dim"), "pending": ("待处理", "magenta")}


def __getattr__(name: str):
    """KIND_SHORT: the 2020 campaign's item -> short word (附件1, 附件2, 总结, 周报), from its
    definition; a campaign's own: labels.kind_short(campaign)."""
    if name == "KIND_SHORT":
        return kind_short(shipped())
    raise AttributeError(name)


# --- fitting text to the terminal -------------------------------------------------------------
# A unit name or an address is never broken across lines: it is shortened with ELLIPSIS where
# the column is too narrow. Prose (说明) wraps between CJK characters, never inside a Latin
# word or an address, and at most NOTE_LINES lines.

ELLIPSIS = "…"
NOTE_LINES = 2
# Never at the start of a line (Chinese line-breaking rules): the mark goes with what it follows.
_NO_LINE_START = set("，。、；：？！）》」』】〕”’,.;:?!)]}%…·")
_TOKEN = r"\s+|[\x21-\x7e]+|."  # a run of spaces, a Latin word or an address, one character


def _head(text: str, width: int) -> str:
    """The longest start of `text` that fits `width` terminal columns."""
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def clip(text: str, width: int, marked: bool = False) -> str:
    """`text` in one line of at most `width` columns, shortened with … if it does not fit (or,
    `marked`, always ending with …). An address keeps its domain when there is room
    (zhang.san.1990…@example.test)."""
    text = " ".join((text or "").split())
    if cell_len(text) <= width and not marked:
        return text
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    local, at, domain = text.rpartition("@")
    if at and local and not marked and "@" not in local and " " not in text and cell_len(domain) + 5 <= width:
        return _head(local, width - cell_len(domain) - 2) + ELLIPSIS + "@" + domain
    return _head(text, width - 1).rstrip() + ELLIPSIS


def wrap(text: str, width: int, max_lines: int | None = NOTE_LINES, keep: tuple[str, ...] = ()) -> list[str]:
    """`text` in lines of at most `width` columns. Lines break between CJK characters or at
    spaces, never inside a Latin word, an address or one of the names in `keep` (unit names); one
    longer than a line is shortened with …. No line starts with a closing mark. Past
    `max_lines`, the last line ends with …."""
    width = max(width, 2)
    names = sorted({k for k in keep if k}, key=len, reverse=True)
    token = re.compile("|".join([re.escape(k) for k in names] + [_TOKEN]), re.S)
    lines: list[list[str]] = [[]]
    used = 0
    for piece in token.findall(" ".join((text or "").split())):
        line = lines[-1]
        if piece == " ":
            if line:
                line.append(piece)
                used += 1
            continue
        if used + cell_len(piece) > width and line:
            while line and line[-1] == " ":
                line.pop()
            # the character before a closing mark goes down with it
            carry = [line.pop()] if piece in _NO_LINE_START and len(line) > 1 and cell_len(line[-1]) <= 2 else []
            lines.append(carry)
            line, used = carry, sum(cell_len(t) for t in carry)
        line.append(piece)
        used = min(width, used + cell_len(piece))
    lines = [line for line in lines if line]
    more = max_lines is not None and len(lines) > max_lines
    if more:
        lines = lines[:max_lines]
    return [_render(line, width, more and i == len(lines) - 1) for i, line in enumerate(lines)]


def _render(pieces: list[str], width: int, more: bool) -> str:
    """One line of `wrap`: a piece that does not fit is shortened with …; `more`: text follows
    that is not shown, so the line ends with …."""
    out = ""
    for piece in pieces:
        room = width - cell_len(out)
        if cell_len(piece) <= room - more:
            out += piece
        elif not out.strip() or (cell_len(piece) > 6 and room >= 6):  # a long word: shorten it here
            return out + clip(piece, room, marked=more)
        else:
            return out.rstrip() + ELLIPSIS
    return out.rstrip() + (ELLIPSIS if more else "")


def _cell_width(console: Console, renderable) -> int:
    return Measurement.get(console, console.options, renderable).maximum


def _column_width(console: Console, table: Table, index: int) -> int:
    """What a column takes as it stands (its widest cell or header), padding included."""
    column = table.columns[index]
    width = max([_cell_width(console, column.header), *(_cell_width(console, c) for c in column.cells)])
    width = max(width, column.min_width or 0)
    if column.max_width is not None:
        width = min(width, column.max_width)
    return width + table._get_padding_width(index)


def _room(console: Console, table: Table, flexible: set[int]) -> int:
    """Terminal columns left for the `flexible` columns (their padding included) once the
    borders and every other column take theirs."""
    others = sum(_column_width(console, table, i) for i in range(len(table.columns)) if i not in flexible)
    return console.width - table._extra_width - others


def _missing_lines(prefix: str, names: list[str], width: int) -> list[str]:
    """'未报单位：甲、乙、…' in lines of `width` columns, broken only after a 、: no name is cut."""
    lines, line = [], prefix
    for i, name in enumerate(names):
        piece = name + ("、" if i < len(names) - 1 else "")
        if cell_len(line) + cell_len(piece) > width and line.strip():
            lines.append(line)
            line = " " * cell_len(prefix)
        line += clip(piece, width - cell_len(line)) if cell_len(line) + cell_len(piece) > width else piece
    lines.append(line)
    return lines


def messages_table(rows: list[dict], console: Console | None = None, campaign: Campaign | None = None) -> None:
    console = console or Console()
    shorts = kind_short(campaign or shipped())
    cells = []
    units = tuple({r["unit"] for r in rows if r["unit"]})  # notes name units: never cut one
    for r in rows:
        label, style = OUTCOME_STYLE.get(r["outcome"], (r["outcome"], ""))
        cells.append((str(r["id"]), (r["received_at"] or "")[5:16].replace("T", " "), r["unit"] or r["from"] or "—",
                      Text(label, style=style), "、".join(shorts.get(k, k) for k in r["kinds"]) or "—",
                      "；".join([r["reason"]] * bool(r["reason"]) + r["flags"])))

    def build(who_width: int, note_width: int) -> Table:
        # Light borders, two columns between cells, none at the edges: the unit and the note get
        # what is left of the terminal's width.
        table = Table(title=f"收到的邮件（{len(rows)} 封）", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                      padding=(0, 1, 0, 0))
        table.add_column("编号", justify="right", no_wrap=True)
        table.add_column("收到", no_wrap=True)
        table.add_column("单位/发件人", no_wrap=True, overflow="ellipsis")
        table.add_column("结果", no_wrap=True)
        table.add_column("材料", no_wrap=True)
        table.add_column("说明", no_wrap=True, overflow="ellipsis")
        for pk, received, who, label, kinds, note in cells:
            table.add_row(pk, received, Text(clip(who, who_width)), label, kinds,
                          Text("\n".join(wrap(note, note_width, keep=units))))
        return table

    probe = build(1, 1)
    room = _room(console, probe, {2, 5}) - probe._get_padding_width(2) - probe._get_padding_width(5)
    who_need = max([cell_len(c[2]) for c in cells] + [cell_len("单位/发件人")])
    note_need = max([cell_len(c[5]) for c in cells] + [cell_len("说明")])
    if who_need + note_need <= room:
        who_width = who_need
    else:  # the unit gets up to 45%, more when the notes are short
        who_width = min(who_need, max(room * 9 // 20, room - note_need, cell_len("单位/发件人")))
    console.print(build(who_width, max(room - who_width, 8)))


STATE_MARK = {"on_time": ("✓", "green"), "late": ("逾期", "yellow"), "missing": ("✗", "red"), "open": ("…", "dim")}


def status_table(doc: dict, console: Console | None = None, campaign: Campaign | None = None) -> None:
    console = console or Console()
    campaign = campaign or shipped()
    units = doc["units"]
    items = list(units[0]["items"]) if units else []
    # Fits 80 columns with the longest unit names (12 CJK characters): light borders, no padding
    # at the edges, two-line headers for the weeks.
    table = Table(title=f"报送情况（截至 {doc['now'][:16].replace('T', ' ')}）", box=box.SIMPLE_HEAD,
                  pad_edge=False, padding=(0, 0))
    table.add_column("单位", no_wrap=True, min_width=8, overflow="ellipsis")
    for item in items:
        table.add_column(item_header(campaign, item), justify="center", no_wrap=True, min_width=4)
    table.add_column("得分", justify="right", no_wrap=True, min_width=4)
    table.add_column("名次", justify="right", no_wrap=True, min_width=4)
    for u in units:
        cells = []
        for item in items:
            mark, style = STATE_MARK[u["items"][item]["state"]]
            cells.append(f"[{style}]{mark}[/]")
        table.add_row(Text(u["unit"]), *cells, f"{u['timeliness']['score']:g}", str(u["timeliness"].get("rank", "")))
    # A unit name longer than the room the marks leave is shortened with …, never the marks.
    table.columns[0].max_width = max(8, _room(console, table, {0}) - table._get_padding_width(0))
    console.print(table)
    console.print("　".join(["✓ 按时　逾期 迟交　✗ 缺报　… 未到期"] + [legend(campaign)] * bool(legend(campaign))),
                  style="dim")
    names = tuple(u["unit"] for u in doc["units"])
    for u in doc["units"]:
        for flag in u.get("flags", ()):
            # the lines after the first indented under the text
            lines = wrap(f"⚠ {u['unit']}：{flag}", console.width - 2, max_lines=None, keep=names)
            console.print(Text("\n  ".join(lines), style="yellow"), overflow="ignore", crop=False)


def report_table(doc: dict, labels: dict[str, str], console: Console | None = None,
                 title: str = "进展情况统计表") -> None:
    """One form's figures (`report --json`'s totals, units, missing_units): its totals by
    `labels`, then the units that sent nothing."""
    console = console or Console()
    counted = f"，共 {doc['records']} 条记录" if doc.get("records") is not None and (
        doc.get("shape") == "list" or doc.get("per_unit") == "many") else ""
    heading = f"{title}汇总（{len(doc['units'])} 个单位已报{counted}）"
    # as wide as its title at least, so that a form with short labels does not wrap it
    table = Table(title=heading, min_width=min(cell_len(heading) + 2, console.width))
    table.add_column("项目")
    table.add_column("合计", justify="right")
    for key, total in doc["totals"].items():
        table.add_row(labels.get(key, key), str(total))
    if doc["totals"]:
        console.print(table)
    else:
        console.print(Text(table.title, style="bold"))
    if doc["missing_units"]:
        console.print(Text("\n".join(_missing_lines("未报单位：", doc["missing_units"], console.width))))


def report_tables(doc: dict, campaign: Campaign, console: Console | None = None) -> None:
    """`intake report`: each reported form's table (`report --json`, present.as_json.report_json),
    its fields named as the definition names them."""
    console = console or Console()
    docs = list(doc["forms"].values()) if "forms" in doc else [doc]
    for n, part in enumerate(docs):
        try:
            form = campaign.form(part["form"]) if "form" in part else None
        except KeyError:
            form = None
        if form is None:
            form = next(iter(report_forms(campaign)), None)
        if form is None:
            return
        if n:
            console.print()
        labels = {f.key: field_label(form, f) for f in form.fields}
        report_table(part, labels, console, title=bare_label(form_label(campaign, form)))
