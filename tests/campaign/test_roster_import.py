"""`intake roster import` as an admin runs it (a subprocess, a workbook the office keeps): a bad
cell costs only that value, the roster it replaces is kept as a dated backup, and the columns
it does not read are named."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import openpyxl

from bot.campaign.roster import Roster
from tests.conftest import ROOT

BACKUP = re.compile(r"^units\.csv\.bak-\d{8}-\d{6}(-\d+)?$")


def intake(*args, cwd=ROOT, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def office_workbook(path, rows, header=("序号", "单位名称", "电子邮箱", "联系人", "手机", "备注")):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["各单位联络方式"])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    book.save(path)


ROWS = [
    (1, "潜山市总工会", "不知道", "高玉兰", 13342782718, "已电话确认"),
    (2, "望江县总工会", "wjxzgh@example.test；吴斌<wb@example.test>", "吴斌", "不详", None),
    (3, "太湖县总工会", "thxzgh@example.test, 不知道", None, None, None),
    (4, "望江县总工会", "wj3@example.test", None, None, None),  # listed twice: one unit, both addresses
    (5, "岳西县总工会", "无", "陈刚", "0556-4189154", None),
]


def backups(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("units.csv.bak"))


def test_a_bad_cell_keeps_its_unit_and_says_so(tmp_path):
    assert intake("init", str(tmp_path)).returncode == 0
    config = str(tmp_path / "config.toml")
    source = tmp_path / "名单.xlsx"
    office_workbook(source, ROWS)
    proc = intake("--config", config, "roster", "import", str(source))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    roster = Roster.load(tmp_path / "data" / "units.csv")
    units = roster.by_name
    assert list(units) == ["潜山市总工会", "望江县总工会", "太湖县总工会", "岳西县总工会"]
    assert units["潜山市总工会"].emails == ()  # kept: counted as missing, reminded once a liaison form names an address
    assert units["太湖县总工会"].emails == ("thxzgh@example.test",)  # the good address of a cell with a bad one
    assert units["望江县总工会"].emails == ("wjxzgh@example.test", "wb@example.test", "wj3@example.test")
    assert (units["潜山市总工会"].contact, units["潜山市总工会"].mobile) == ("高玉兰", "13342782718")
    assert (units["望江县总工会"].contact, units["望江县总工会"].mobile) == ("吴斌", "")
    assert units["岳西县总工会"].mobile == "0556-4189154"

    assert "已导入 4 个单位" in out and "跳过" not in out
    assert "第 3 行：潜山市总工会 的邮箱“不知道”无效，已略过这一项（单位照常导入）" in out
    assert "第 3 行：潜山市总工会 没有可用的邮箱" in out
    assert "第 5 行：太湖县总工会 的邮箱“不知道”无效" in out
    assert "第 4 行：望江县总工会 的手机“不详”不是电话号码" in out
    assert "第 6 行：单位“望江县总工会”与第 4 行重复，已把邮箱 wj3@example.test 并入第 4 行" in out
    assert "第 7 行：岳西县总工会 没有可用的邮箱" in out and "“无”" not in out  # 无 is an empty cell
    assert "读取的列：单位名称、电子邮箱、联系人、手机" in out
    assert "未使用的列：备注" in out and "序号" not in out
    assert "联系人、手机已存入名单（3 个单位）" in out

    # The unit whose only address was bad is on the status board, every item missing.
    status = intake("--config", config, "status", "--json", "--now", "2020-06-30T12:00:00+08:00")
    assert status.returncode == 0, status.stderr
    qianshan = next(u for u in json.loads(status.stdout)["units"] if u["unit"] == "潜山市总工会")
    assert {i["state"] for i in qianshan["items"].values()} == {"missing"}
    assert qianshan["liaison"] is None  # the roster contact is not a liaison form


def test_each_import_keeps_a_dated_backup(tmp_path):
    assert intake("init", str(tmp_path)).returncode == 0
    config = str(tmp_path / "config.toml")
    data = tmp_path / "data"
    example = (data / "units.csv").read_bytes()
    first, second = tmp_path / "一.xlsx", tmp_path / "二.xlsx"
    office_workbook(first, ROWS[:2])
    office_workbook(second, ROWS[:3])

    proc = intake("--config", config, "roster", "import", str(first))
    assert proc.returncode == 0, proc.stderr
    [one] = backups(data)
    assert BACKUP.match(one) and f"原文件已备份为 {one}" in proc.stdout
    assert (data / one).read_bytes() == example
    imported_first = (data / "units.csv").read_bytes()

    proc = intake("--config", config, "roster", "import", str(second))
    assert proc.returncode == 0, proc.stderr
    names = backups(data)
    assert len(names) == 2 and all(BACKUP.match(n) for n in names)
    assert (data / one).read_bytes() == example  # the second import did not overwrite the only copy
    [two] = [n for n in names if n != one]
    assert (data / two).read_bytes() == imported_first and f"原文件已备份为 {two}" in proc.stdout

    proc = intake("--config", config, "roster", "import", str(second))  # the same file again
    assert proc.returncode == 0, proc.stderr
    assert "与现有名单相同，未改动" in proc.stdout and backups(data) == names


def test_a_roster_without_contact_columns_stays_four_columns(tmp_path):
    assert intake("init", str(tmp_path)).returncode == 0
    source = tmp_path / "名单.csv"
    source.write_bytes("单位,邮箱1,邮箱2\n桐城市总工会,tcszgh@example.test,待补充\n".encode("gbk"))
    proc = intake("--config", str(tmp_path / "config.toml"), "roster", "import", str(source))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "data" / "units.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "unit,aliases,category,emails"
    assert Roster.load(tmp_path / "data" / "units.csv").by_name["桐城市总工会"].emails == ("tcszgh@example.test",)
    assert "读取的列：单位、邮箱1、邮箱2" in proc.stdout and "未使用的列" not in proc.stdout
    assert "邮箱“待补充”无效" in proc.stdout


def test_a_csv_is_read_in_the_charsets_a_text_attachment_is_read_in(tmp_path):
    """One decoder for CSV (safety.decode_text, as for a .csv attached to a mail): UTF-16 as
    Excel's "Unicode" saving writes it is read; a charset it does not know is one line, exit 1."""
    from bot.forms.readers import read_document

    assert intake("init", str(tmp_path)).returncode == 0
    config = str(tmp_path / "config.toml")
    source = tmp_path / "名单.csv"
    text = "单位名称,电子邮箱\n宿松县总工会,ssxzgh@example.test\n"
    source.write_bytes(text.encode("utf-16"))
    assert "\n".join(read_document(source.read_bytes(), source.name).paragraphs) == text
    proc = intake("--config", config, "roster", "import", str(source))
    assert proc.returncode == 0, proc.stderr
    assert Roster.load(tmp_path / "data" / "units.csv").by_name["宿松县总工会"].emails == ("ssxzgh@example.test",)

    source.write_bytes("単位名称,電子メール\n東京都,tokyo@example.test\n".encode("shift_jis"))
    proc = intake("--config", config, "roster", "import", str(source))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == ["错误：名单.csv 的编码无法识别（请存为 UTF-8 或 GBK）"]


def test_the_roster_contact_is_addressed_until_a_liaison_form_arrives(make_setup, tmp_path):
    roster = tmp_path / "units.csv"
    roster.write_text("unit,aliases,category,emails,contact,mobile\n"
                      "潜山市总工会,,县（市、区）工会,qsszgh@example.test,高玉兰,13342782718\n"
                      "望江县总工会,,县（市、区）工会,wjxzgh@example.test,,\n", encoding="utf-8")
    setup = make_setup(roster=roster)
    env = {"INTAKE_CONFIG": str(setup.config_path)}
    proc = intake("remind", "--now", "2020-06-08T09:00:00+08:00", env_extra=env)
    assert proc.returncode == 0, proc.stderr
    bodies = {r.rcpt_tos[0]: r.message.get_body(("plain",)).get_content() for r in setup.sent}
    assert bodies["qsszgh@example.test"].startswith("潜山市总工会 高玉兰同志：")
    assert bodies["wjxzgh@example.test"].startswith("望江县总工会：")
