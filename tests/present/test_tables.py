"""`intake messages`, `intake report` and `intake status` as the admin sees them in an 80- and a
120-column terminal (COLUMNS), with long unit names and long addresses: no name or address
is cut across lines (a shortened one ends with …), 说明 takes at most two lines, and no line
is wider than the terminal."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from rich.cells import cell_len

from bot.present.tables import clip, wrap
from tests.conftest import ROOT, SAMPLES, new_setup
from tests.test_samples import append_samples

LONG_UNIT = "安庆市石化产业职工技术协会暨高新技术产业开发区企业联合工会委员会"
LONG_UNIT_ADDRESS = "very.long.liaison.address.for.testing@subdomain.example-company.test"
STRANGER = "someone.with.a.very.long.name.indeed@mail.some-long-domain.example.test"
NOW = "2020-06-30T12:00:00+08:00"
WEEKLY = "本周我会组织开展了安全生产月启动仪式，参加职工120人；开展隐患排查3次，整改隐患12处。"


def mail(sender, subject, mid, body):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = sender, "aqghljb@126.com", subject, mid
    m.set_content(body)
    return m.as_bytes()


@pytest.fixture(scope="module")
def site(tmp_path_factory, dovecot, smtp_sink):
    """The sample mail plus a unit with a 34-character name and a 68-character address, a
    stranger with a long address, and a unit's report from an address not on record."""
    base = tmp_path_factory.mktemp("tables")
    roster = base / "units.csv"
    roster.write_text((SAMPLES / "roster.csv").read_text(encoding="utf-8")
                      + f"{LONG_UNIT},石化联合工会,市直属工会,{LONG_UNIT_ADDRESS}\n", encoding="utf-8")
    os.environ.setdefault("INTAKE_TEST_IMAP_PASSWORD", "")
    setup = new_setup(base, dovecot, smtp_sink, roster=roster)
    append_samples(setup)
    when = datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)
    setup.append(mail(STRANGER, "材料", "<t1@example.test>", "请查收。"), when)
    setup.append(mail(f"石化联合工会 <{LONG_UNIT_ADDRESS}>", "周报", "<t2@example.test>", WEEKLY), when)
    setup.append(mail("王五 <wangwu.personal.mailbox@qq-example.test>", "桐城市总工会本周工作开展情况", "<t3@example.test>",
                      WEEKLY), when)
    assert intake(setup, "poll").returncode == 0
    return setup


def intake(setup, *args, columns=None):
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    if columns:
        env["COLUMNS"] = str(columns)
    proc = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def cut(line: str, start: int, end: int | None = None) -> str:
    """The characters of `line` that begin at terminal columns [start, end)."""
    out, col = [], 0
    for ch in line:
        if col >= start and (end is None or col < end):
            out.append(ch)
        col += cell_len(ch)
    return "".join(out).strip()


def column_of(header: str, title: str) -> int:
    return cell_len(header[:header.index(title)])


def shown_as(shown: str, full: str) -> bool:
    """`shown` is `full`, or `full` shortened with … (an address may keep its @domain)."""
    if shown == full:
        return True
    if "…@" in shown:
        head, domain = shown.split("…@")
        return full.startswith(head) and full.endswith("@" + domain)
    return shown.endswith("…") and len(shown) > 1 and full.startswith(shown[:-1])


def in_order(shown: str, full: str) -> bool:
    """`shown` is `full`, or `full` with parts left out where … stands."""
    if "…" not in shown:
        return shown == full
    at = 0
    for i, fragment in enumerate(shown.split("…")):
        found = full.find(fragment, at)
        if found < 0 or (i == 0 and found != 0):
            return False
        at = found + len(fragment)
    return True


def latin_words(text: str) -> set[str]:
    return set(re.findall(r"[\x21-\x7e…]+", text))


@pytest.mark.parametrize("columns", [80, 120])
def test_messages_table_cuts_no_name_or_address(site, columns):
    rows = {r["id"]: r for r in json.loads(intake(site, "messages", "--json").stdout)}
    lines = intake(site, "messages", columns=columns).stdout.splitlines()
    assert all(cell_len(line) <= columns for line in lines), max(lines, key=cell_len)
    at = next(i for i, line in enumerate(lines) if "编号" in line and "说明" in line)
    header = lines[at]
    who_at, result_at, note_at = (column_of(header, t) for t in ("单位/发件人", "结果", "说明"))
    id_end = column_of(header, "编号") + cell_len("编号")
    body = [line for line in lines[at + 2:] if line.strip()]
    table: dict[int, list[str]] = {}
    who: dict[int, str] = {}
    for line in body:
        pk = cut(line, 0, id_end)
        if pk:
            current = int(pk)
            who[current] = cut(line, who_at, result_at)
            table[current] = []
        else:
            assert cut(line, who_at, result_at) == "", line  # a name never goes on to a second line
        table[current].append(cut(line, note_at))
    assert set(table) == set(rows)
    for pk, row in rows.items():
        full_who = row["unit"] or row["from"]
        assert shown_as(who[pk], full_who), (who[pk], full_who)
        note = "；".join([row["reason"]] * bool(row["reason"]) + row["flags"])
        shown = [part for part in table[pk] if part]
        assert len(shown) <= 2, shown
        joined = "".join(shown).replace(" ", "")
        assert in_order(joined, note.replace(" ", "")), (shown, note)
        if not joined.endswith("…"):  # nothing left out at the end without the mark
            assert note.replace(" ", "").endswith(joined.split("…")[-1])
        # no Latin word or address split between the two lines (a shortened one has its …)
        words = latin_words(note)
        assert all(all(any(f in x for x in words) for f in w.split("…")) if "…" in w else w in words
                   for part in shown for w in latin_words(part)), shown
    by_who = {rows[pk]["unit"] or rows[pk]["from"]: who[pk] for pk in rows}
    assert by_who[LONG_UNIT] != LONG_UNIT and by_who[STRANGER] != STRANGER  # too long at either width
    if columns == 120:  # room enough for the roster's ordinary names and the note a sender needs
        assert by_who["宜城机械制造有限公司工会"] == "宜城机械制造有限公司工会"
        review = next(pk for pk, r in rows.items() if r["outcome"] == "needs_review")
        assert "intake assign" in " ".join(table[review])


@pytest.mark.parametrize("columns", [80, 120])
def test_report_lists_missing_units_whole(site, columns):
    doc = json.loads(intake(site, "report", "--json", "--now", NOW).stdout)
    assert LONG_UNIT in doc["missing_units"]
    lines = intake(site, "report", "--now", NOW, columns=columns).stdout.splitlines()
    assert all(cell_len(line) <= columns for line in lines)
    start = next(i for i, line in enumerate(lines) if line.startswith("未报单位："))
    names = [name for line in lines[start:] for name in line.removeprefix("未报单位：").strip().split("、") if name]
    assert names == doc["missing_units"]  # each name whole on one line, in order


@pytest.mark.parametrize("columns", [80, 120])
def test_status_keeps_every_column_with_a_long_unit_name(site, columns):
    doc = json.loads(intake(site, "status", "--json", "--now", NOW).stdout)
    lines = intake(site, "status", "--now", NOW, columns=columns).stdout.splitlines()
    assert all(cell_len(line) <= columns for line in lines)
    header = next(line for line in lines if "单位" in line and "得分" in line)
    assert header.rstrip().endswith(header.split()[-1]) and "附1" in header and "总结" in header
    units = {u["unit"]: u for u in doc["units"]}
    seen = {}
    for line in lines:
        for name in units:
            shown = line.split()[0] if line.split() else ""
            if shown_as(shown, name) and (shown == name or shown.endswith("…")):
                seen[name] = line
    assert set(seen) == set(units)
    long_line = seen[LONG_UNIT]
    marks = re.findall(r"✓|逾期|✗|…", long_line.split(maxsplit=1)[1])
    assert len(marks) == len(units[LONG_UNIT]["items"])  # every item's mark still shown


def test_wrap_and_clip():
    assert clip("zhang.san.1990.long@example.test", 20) == "zhang.…@example.test"  # the domain kept
    assert clip("zhang.san.1990.long@example.test", 14) == "zhang.san.199…"  # no room for it
    assert clip(LONG_UNIT, 20) == "安庆市石化产业职工…" and clip("潜山市总工会", 12) == "潜山市总工会"
    # between CJK characters and at spaces, never inside a word; past two lines, …
    assert wrap("无法确定报送单位，请用 intake assign 指定", 22) == ["无法确定报送单位，请用", "intake assign 指定"]
    assert wrap("无法确定报送单位，请用 intake assign 指定", 16) == ["无法确定报送单", "位，请用 intake…"]
    # a closing mark never starts a line: the character before it goes down too
    assert wrap("甲乙丙丁戊己庚辛，壬癸", 8, max_lines=None) == ["甲乙丙丁", "戊己庚", "辛，壬癸"]
    assert wrap("甲乙丙丁戊己庚辛，壬癸", 8) == ["甲乙丙丁", "戊己庚…"]
    assert wrap(f"来自 {STRANGER} 的邮件", 24) == ["来自", "someone.with.a.very.lon…"]
