"""`intake campaign new | check | show` through the real command: `new` and `check DIR` with no
configuration at all (what a clerk runs on a notice before any config names it), `check` and
`show` over a config's campaigns, and a broken definition told in one `错误：` line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.campaign.definition import shipped_folder
from tests.conftest import ROOT
from tests.fixtures.commands import run
from tests.fixtures.notices import seed_notice_docx


def bare(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`intake ARGS` with no config anywhere (no $INTAKE_CONFIG, no ./config.toml)."""
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="160")
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    base = tmp_path_factory.mktemp("clerk")
    notice = base / "关于做好全市2020年“安全生产月”活动的通知.docx"
    notice.write_bytes(seed_notice_docx())
    proc = bare("campaign", "new", notice.name, cwd=base)
    return base, proc


def test_new_writes_the_folder_and_says_what_it_understood(drafted):
    base, proc = drafted
    assert proc.returncode == 0, proc.stderr
    folder = base / "campaigns" / "2020-全市安全生产月活动"
    assert f"已起草活动定义：campaigns/2020-全市安全生产月活动" in proc.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["campaign.toml", "附件1（联络员推荐表）.docx",
                                                        "附件2（进展情况统计表）.docx"]
    out = proc.stdout
    for words in ("liaison_form", "联络员推荐表（附件1）", "2020-06-10 23:59:59", "progress_table",
                  "2020-06-28 23:59:59", "summary", "每周四 17:30（2020-06-04 至 2020-06-25）",
                  "附件1《“安全生产月”活动联络员推荐表》", "unit_name", "共 11 项",
                  "共 55 项：表头 4 项，空格 51 处"):
        assert words in out, words
    # what it could not understand, in Chinese, numbered
    assert "以下 1 处未能理解" in out and "未找到发文日期" in out
    assert "说明：“重大活动可随时报送”" in out
    assert "intake campaign check campaigns/2020-全市安全生产月活动" in out
    assert proc.stderr == ""


def test_new_refuses_to_overwrite_the_clerks_corrections(drafted):
    base, _ = drafted
    again = bare("campaign", "new", "关于做好全市2020年“安全生产月”活动的通知.docx", cwd=base)
    assert again.returncode == 1
    assert again.stderr.startswith("错误：") and "已存在" in again.stderr and again.stderr.count("\n") == 1


def test_check_dir_needs_no_config_and_prints_items_and_fields(drafted):
    base, _ = drafted
    proc = bare("campaign", "check", "campaigns/2020-全市安全生产月活动", cwd=base)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "报送事项" in out and "2020-06-10 23:59:59" in out
    for key, label, type_name in (("name", "姓名", "文字，必填"), ("mobile", "手机", "手机号码，必填"),
                                  ("header.fill_date", "填报日期", "日期"), ("b51", "制作专题视频（ ）部", "整数")):
        line = next(line for line in out.splitlines() if f" {key} " in line)
        assert label in line and type_name in line, line
    assert out.rstrip().endswith("定义无误：1 个活动。")


def test_check_of_a_broken_definition_is_one_line(drafted, tmp_path):
    base, _ = drafted
    source = base / "campaigns" / "2020-全市安全生产月活动"
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in source.iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    toml = broken / "campaign.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('form = "附件2"\ndue', 'form = "附件9"\ndue'),
                    encoding="utf-8")
    proc = bare("campaign", "check", str(broken), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("错误：")
    assert "附件9" in proc.stderr and "Traceback" not in proc.stderr
    missing = bare("campaign", "check", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("错误：") and "campaign.toml" in missing.stderr


def test_new_on_something_that_is_not_a_notice_is_one_line(tmp_path):
    (tmp_path / "照片.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    proc = bare("campaign", "new", "照片.png", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.startswith("错误：") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "campaigns").exists()
    proc = bare("campaign", "new", "没有这个文件.docx", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.startswith("错误：") and proc.stderr.count("\n") == 1


def test_check_without_dir_checks_every_campaign_of_the_config(setup, drafted):
    base, _ = drafted
    proc = run(setup, "campaign", "check", env_extra={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    assert "活动：2020年全市“安全生产月”活动（目录 2020-anqing-safety-month" in proc.stdout
    assert proc.stdout.rstrip().endswith("定义无误：1 个活动。")
    _two_campaigns(setup, base / "campaigns" / "2020-全市安全生产月活动")
    proc = run(setup, "campaign", "check", env_extra={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    assert "目录 2020-anqing-safety-month" in proc.stdout and "目录 2020-全市安全生产月活动" in proc.stdout
    assert proc.stdout.rstrip().endswith("定义无误：2 个活动。")


def _two_campaigns(setup, drafted_folder: Path) -> None:
    text = setup.config_path.read_text(encoding="utf-8")
    start, stop = text.index("[campaign]\n"), text.index("[schedule]\n")
    block = f'[[campaigns]]\ndefinition = "{shipped_folder()}"\n\n[[campaigns]]\ndefinition = "{drafted_folder}"\n\n'
    setup.config_path.write_text(text[:start] + block + text[stop:], encoding="utf-8")


def test_show_json_is_interface_mds_shape(setup):
    proc = run(setup, "campaign", "show", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"name", "items", "forms"} and doc["name"] == "2020年全市“安全生产月”活动"
    assert doc["items"][0] == {"item": "liaison_form", "label": "联络员推荐表（附件1）", "kind": "form",
                               "form": "附件1", "due": "2020-06-10T23:59:59+08:00"}
    assert doc["items"][2] == {"item": "summary", "label": "活动总结", "kind": "document",
                               "due": "2020-06-28T23:59:59+08:00"}
    assert doc["items"][3] == {"item": "weekly_report", "label": "周报", "kind": "weekly", "weekday": "thursday",
                               "time": "17:30", "first": "2020-06-04", "last": "2020-06-25"}
    assert [(f["form"], f["shape"], f["per_unit"], len(f["fields"])) for f in doc["forms"]] == \
        [("附件1", "grid", "one", 11), ("附件2", "prose", "one", 55)]
    assert all(set(f) == {"form", "shape", "per_unit", "fields"} for f in doc["forms"])
    liaison, progress = doc["forms"]
    assert liaison["fields"][0] == {"key": "name", "label": "姓名", "type": "text", "position": 1}
    assert [f["key"] for f in progress["fields"][:5]] == \
        ["header.unit_name", "header.contact", "header.phone", "header.fill_date", "launch.forms"]
    assert [f["position"] for f in progress["fields"]] == list(range(1, 56))
    assert all(set(f) == {"key", "label", "type", "position"} for form in doc["forms"] for f in form["fields"])
    assert {f["type"] for f in progress["fields"][4:]} == {"int", "text"}


def test_show_picks_a_campaign_by_slug_or_name(setup, drafted):
    base, _ = drafted
    _two_campaigns(setup, base / "campaigns" / "2020-全市安全生产月活动")
    drafted_keys = run(setup, "campaign", "show", "--json", "--campaign", "2020-全市安全生产月活动")
    assert drafted_keys.returncode == 0, drafted_keys.stderr
    assert json.loads(drafted_keys.stdout)["forms"][1]["fields"][4]["key"] == "b01"  # generated keys
    shipped_keys = run(setup, "campaign", "show", "--json", "--campaign", "2020-anqing-safety-month")
    assert json.loads(shipped_keys.stdout)["forms"][1]["fields"][4]["key"] == "launch.forms"
    table = run(setup, "campaign", "show", "--campaign", "2020-anqing-safety-month", env_extra={"COLUMNS": "160"})
    assert table.returncode == 0 and "launch.forms" in table.stdout and "报送事项" in table.stdout
    unknown = run(setup, "campaign", "show", "--campaign", "金秋助学")
    assert unknown.returncode == 1 and unknown.stderr.startswith("错误：") and unknown.stderr.count("\n") == 1
    assert "2020-anqing-safety-month" in unknown.stderr
