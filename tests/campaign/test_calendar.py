from datetime import datetime
from pathlib import Path

import pytest

from bot.campaign.calendar import LATE, MISSING, ON_TIME, OPEN, Calendar
from bot.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cal(tmp_path_factory):
    p = tmp_path_factory.mktemp("cfg") / "config.toml"
    p.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return Calendar(load_config(p).campaign)


def t(text):
    return datetime.fromisoformat(text)


def test_weeks(cal):
    assert [d.isoformat() for d in cal.weeks] == ["2020-06-04", "2020-06-11", "2020-06-18", "2020-06-25"]
    assert cal.deadline("weekly_report:2020-06-11").due == t("2020-06-11T17:30:00+08:00")


@pytest.mark.parametrize("arrival,named,week", [
    ("2020-06-04T15:00:12+08:00", None, "2020-06-04"),
    ("2020-06-04T17:30:00+08:00", None, "2020-06-04"),
    ("2020-06-04T17:30:01+08:00", None, "2020-06-11"),
    ("2020-06-08T16:00:30+08:00", None, "2020-06-11"),
    ("2020-06-12T09:00:00+08:00", 1, "2020-06-04"),   # names an earlier week: counts there, late
    ("2020-06-12T09:00:00+08:00", 4, "2020-06-18"),   # names a later week: arrival decides
    ("2020-06-29T09:00:00+08:00", None, "2020-06-25"),  # after the last Thursday
    ("2020-06-04T09:30:00+00:00", None, "2020-06-04"),  # 17:30 in Anqing is 09:30 UTC
    ("2020-06-04T09:30:01+00:00", None, "2020-06-11"),
])
def test_week_for(cal, arrival, named, week):
    assert cal.week_for(t(arrival), named) == f"weekly_report:{week}"


def test_states_at_the_edges(cal):
    item = "weekly_report:2020-06-11"
    now = t("2020-06-12T00:00:00+08:00")
    assert cal.state(item, t("2020-06-11T17:29:59+08:00"), now) == ON_TIME
    assert cal.state(item, t("2020-06-11T17:30:01+08:00"), now) == LATE
    assert cal.state(item, None, t("2020-06-11T17:30:01+08:00")) == MISSING
    assert cal.state(item, None, t("2020-06-11T17:29:59+08:00")) == OPEN
    assert cal.state("liaison_form", t("2020-06-10T23:59:59+08:00"), now) == ON_TIME
    assert cal.state("liaison_form", t("2020-06-11T00:00:00+08:00"), now) == LATE
    # a submission received after `now` does not exist yet at `now`
    assert cal.state("liaison_form", t("2020-06-09T10:00:00+08:00"), t("2020-06-08T10:00:00+08:00")) == OPEN
