"""`intake check` against the real servers: besides logging in, it warns about what would make
the bot run quietly wrong — a roster or organizers still the example addresses (no mail ever
reaches them), a campaign whose dates are over — and fails on a storage folder it cannot write."""
from __future__ import annotations

import re
from datetime import date, timedelta

from tests.fixtures.commands import run
from tests.fixtures.outages import tmpfs

REAL_ROSTER = """unit,aliases,category,emails
桐城市总工会,桐城市工会|桐城总工会,县（市、区）工会,tcszgh@163.com
潜山市总工会,潜山总工会,县（市、区）工会,qsszgh@126.com|qs_ghb@aqzgh.cn
"""


def warnings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("! ")]


def set_config(setup, old: str, new: str) -> None:
    text = setup.config_path.read_text(encoding="utf-8")
    assert old in text, old
    setup.config_path.write_text(text.replace(old, new, 1), encoding="utf-8")


def current_campaign(setup, today: date) -> None:
    """[campaign] moved to a month around `today`, keeping the weekly report's weekday."""
    start, end = today - timedelta(days=5), today + timedelta(days=25)
    first = start + timedelta(days=(3 - start.weekday()) % 7)  # a Thursday
    last = first + timedelta(weeks=3)
    text = setup.config_path.read_text(encoding="utf-8")
    for key, value in (("start", start), ("end", end), ("liaison_form", f"{end}T23:59:59"),
                       ("progress_table", f"{end}T23:59:59"), ("summary", f"{end}T23:59:59"),
                       ("first", first), ("last", last)):
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        assert n == 1, key
    setup.config_path.write_text(text, encoding="utf-8")


def test_check_warns_about_example_addresses_and_a_finished_campaign(setup):
    proc = run(setup, "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # warnings do not fail it
    found = warnings(proc.stdout)
    assert any("单位名单" in w and "仍是示例名单" in w and "example.test" in w for w in found), found
    assert any("[organizers] emails 仍是示例地址（organizer@example.test）" in w for w in found), found
    assert any("[campaign] 的活动已于 2020-06-30 结束" in w for w in found), found
    assert f"✓ 邮件存储目录 {setup.dir / 'store'} 可写入" in proc.stdout


def test_check_is_quiet_about_a_real_roster_and_a_current_campaign(setup):
    (setup.dir / "units.csv").write_text(REAL_ROSTER, encoding="utf-8")
    set_config(setup, 'emails = ["organizer@example.test"]', 'emails = ["aqghljb@126.com"]')
    current_campaign(setup, date.today())
    setup.config_path.chmod(0o600)
    proc = run(setup, "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert warnings(proc.stdout) == [], proc.stdout
    assert "✓ 单位名单" in proc.stdout and "2 个单位" in proc.stdout


def test_check_counts_the_example_addresses_left_in_a_roster(setup):
    (setup.dir / "units.csv").write_text(REAL_ROSTER + "宿松县总工会,宿松县工会,县（市、区）工会,ssxzgh@example.test\n",
                                         encoding="utf-8")
    proc = run(setup, "check")
    assert any("中有 1 个示例邮箱（如 ssxzgh@example.test）" in w for w in warnings(proc.stdout)), proc.stdout


def test_check_warns_that_no_one_gets_the_digest(setup):
    set_config(setup, 'emails = ["organizer@example.test"]', "emails = []")
    proc = run(setup, "check")
    assert "! 提示：[organizers] emails 为空：周汇总不会发给任何人" in proc.stdout


def test_check_fails_on_a_storage_folder_it_cannot_write(setup, tmp_path):
    with tmpfs(tmp_path / "read-only", read_only=True) as ro:
        set_config(setup, 'dir = "store"', f'dir = "{ro}/store"')
        proc = run(setup, "check")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"✗ 邮件存储目录 {ro}/store（[storage] dir）无法建立：文件系统只读" in proc.stdout
    assert "IMAP 登录成功" in proc.stdout  # the other checks still ran
