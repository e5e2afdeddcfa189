"""`intake init` and `intake roster import` as an admin runs them: subprocesses, real files."""
from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pytest

from bot.campaign.roster import Roster
from bot.campaign.roster_import import RosterImportError, convert, read_rows
from bot.config import load_config
from tests.conftest import ROOT


def intake(*args, cwd=ROOT):
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))  # run from any folder
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_init_writes_a_config_that_loads_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "site"
    proc = intake("init", str(target))
    assert proc.returncode == 0, proc.stderr
    config = load_config(target / "config.toml")
    assert config.roster_file == (target / "data" / "units.csv").resolve()
    assert Roster.load(config.roster_file).units  # the example roster, ready to edit
    assert "INTAKE_IMAP_PASSWORD" in proc.stdout and "intake" in proc.stdout and "check" in proc.stdout
    assert "roster import" in proc.stdout

    (target / "config.toml").write_text("# edited by the admin\n", encoding="utf-8")
    proc = intake("init", str(target))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "已存在" in proc.stderr and "Traceback" not in proc.stderr
    assert (target / "config.toml").read_text(encoding="utf-8") == "# edited by the admin\n"


def test_init_keeps_an_existing_roster(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "units.csv").write_text("unit,aliases,category,emails\n某单位,,,a@example.test\n",
                                                encoding="utf-8")
    proc = intake("init", cwd=tmp_path)  # DIR defaults to the current folder
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "config.toml").exists()
    assert "保留原文件" in proc.stdout
    assert "某单位" in (tmp_path / "data" / "units.csv").read_text(encoding="utf-8")


def _office_roster(path):
    """The roster as an office keeps it: a title row, Chinese headers, a 类别 cell merged over
    its group, several addresses in one cell with whatever separators were at hand."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2020年各单位联络邮箱"])
    sheet.merge_cells("A1:E1")
    sheet.append(["序号", "单位名称", "简称", "类别", "电子邮箱"])
    rows = [
        (1, "迎江区总工会", "迎江区工会、迎江总工会", "县（市、区）工会", "yjqzgh@example.test； YJ_ghb@example.test"),
        (2, "大观区总工会", "大观区工会", None, "dgqzgh@example.test,dg2@example.test、dg3@example.test"),
        (3, "宜秀区\n总工会", "", None, "yxqzgh@example.test yx2@example.test"),
        (4, "怀宁县总工会", "", None, "hnxzgh.example.test"),  # no @: the value left out, the unit kept
        (5, None, "某简称", None, "nobody@example.test"),  # no name: skipped
        (6, "迎江区总工会", "", None, "dup@example.test"),  # twice: its address joins the first row
        (7, None, None, None, None),  # empty: ignored
        (8, "安庆市教育工会", "市教育工会", "市产业工会", ""),  # kept, noted: no address
        (9, "宜城化工集团有限公司工会", "宜城化工工会", "市直属工会", "ychg_gh@example.test;ychg2@example.test"),
    ]
    for row in rows:
        sheet.append(list(row))
    sheet.merge_cells("D3:D8")  # 县（市、区）工会 for rows 3-8
    book.save(path)


def test_roster_import_from_an_office_xlsx(tmp_path):
    assert intake("init", str(tmp_path)).returncode == 0
    source = tmp_path / "单位名单.xlsx"
    _office_roster(source)
    proc = intake("--config", str(tmp_path / "config.toml"), "roster", "import", str(source))
    assert proc.returncode == 0, proc.stderr
    roster = Roster.load(tmp_path / "data" / "units.csv")
    by_name = roster.by_name
    assert list(by_name) == ["迎江区总工会", "大观区总工会", "宜秀区总工会", "怀宁县总工会", "安庆市教育工会",
                             "宜城化工集团有限公司工会"]
    assert by_name["迎江区总工会"].emails == ("yjqzgh@example.test", "yj_ghb@example.test", "dup@example.test")
    assert by_name["迎江区总工会"].aliases == ("迎江区工会", "迎江总工会")
    assert by_name["大观区总工会"].emails == ("dgqzgh@example.test", "dg2@example.test", "dg3@example.test")
    assert by_name["大观区总工会"].category == "县（市、区）工会"  # from the merged cell
    assert by_name["宜秀区总工会"].emails == ("yxqzgh@example.test", "yx2@example.test")
    assert by_name["安庆市教育工会"].emails == ()
    out = proc.stdout
    assert "已导入 6 个单位" in out and "跳过 1 行" in out
    assert "第 6 行：怀宁县总工会 的邮箱“hnxzgh.example.test”无效" in out
    assert "第 7 行：缺少单位名称" in out
    assert "第 8 行：单位“迎江区总工会”与第 3 行重复" in out
    assert "安庆市教育工会 没有可用的邮箱" in out
    assert [p.name.startswith("units.csv.bak-") for p in (tmp_path / "data").iterdir()].count(True) == 1


def test_roster_import_from_a_gbk_csv_and_its_failures(tmp_path):
    assert intake("init", str(tmp_path)).returncode == 0
    source = tmp_path / "名单.csv"
    source.write_bytes("单位,别称,邮箱\n望江县总工会,望江总工会,wjxzgh@example.test、wj2@example.test\n".encode("gbk"))
    proc = intake("--config", str(tmp_path / "config.toml"), "roster", "import", str(source))
    assert proc.returncode == 0, proc.stderr
    assert Roster.load(tmp_path / "data" / "units.csv").by_name["望江县总工会"].emails == (
        "wjxzgh@example.test", "wj2@example.test")

    old = tmp_path / "名单.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    proc = intake("--config", str(tmp_path / "config.toml"), "roster", "import", str(old))
    assert proc.returncode == 1 and "另存为 .xlsx" in proc.stderr and proc.stderr.strip().count("\n") == 0
    headless = tmp_path / "无表头.csv"
    headless.write_text("甲,乙\n1,2\n", encoding="utf-8")
    proc = intake("--config", str(tmp_path / "config.toml"), "roster", "import", str(headless))
    assert proc.returncode == 1 and "找不到表头" in proc.stderr
    # a failed import leaves the roster as it was
    assert "望江县总工会" in (tmp_path / "data" / "units.csv").read_text(encoding="utf-8")


def test_convert_output_is_what_the_roster_loader_reads(tmp_path):
    source = tmp_path / "r.xlsx"
    _office_roster(source)
    result = convert(read_rows(source))
    assert result.units == 6
    assert Roster.parse(result.csv_bytes).by_name["宜城化工集团有限公司工会"].aliases == ("宜城化工工会",)
    with pytest.raises(RosterImportError):
        convert([["甲", "乙"], ["1", "2"]])
