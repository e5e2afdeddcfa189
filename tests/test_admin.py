"""`intake assign` as the admin types it: a unit name that matches none is refused with the
units it most likely meant, and nothing changes until a real one is given."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from tests.test_cli import run, weekly_mail


def test_assign_suggests_the_unit_a_short_name_meant(setup):
    setup.append(weekly_mail(sender="zhangsan1990@example.test", subject="本周工作情况", mid="<a1@example.test>"),
                 datetime(2020, 6, 8, 8, 0, tzinfo=timezone.utc))
    assert run(setup, "poll").returncode == 0
    [row] = json.loads(run(setup, "messages", "--json").stdout)
    assert row["outcome"] == "needs_review"

    proc = run(setup, "assign", str(row["id"]), "潜山市")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "错误：没有名为“潜山市”的单位，是否是：潜山市总工会？"
    proc = run(setup, "assign", str(row["id"]), "宜城")
    assert proc.stderr.strip() == "错误：没有名为“宜城”的单位，是否是：宜城化工集团有限公司工会、宜城机械制造有限公司工会？"
    proc = run(setup, "assign", str(row["id"]), "北京市总工会")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "没有名为“北京市总工会”的单位" in proc.stderr and "是否是" not in proc.stderr
    assert json.loads(run(setup, "messages", "--json").stdout)[0]["outcome"] == "needs_review"

    proc = run(setup, "assign", str(row["id"]), "潜山市总工会")
    assert proc.returncode == 0, proc.stderr
    assert "已指定给 潜山市总工会" in proc.stdout
    [row] = json.loads(run(setup, "messages", "--json").stdout)
    assert (row["outcome"], row["unit"]) == ("accepted", "潜山市总工会")
