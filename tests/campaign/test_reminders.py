from datetime import datetime
from pathlib import Path

import pytest

from bot.campaign.calendar import Calendar
from bot.campaign.reminders import digest_slots, due_digest, due_reminders, slots
from bot.campaign.roster import Roster
from bot.campaign.standing import Delivery, stand
from bot.config import load_config

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples"


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    p = tmp_path_factory.mktemp("cfg") / "config.toml"
    p.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return load_config(p)


@pytest.fixture(scope="module")
def cal(cfg):
    return Calendar(cfg.campaign)


@pytest.fixture(scope="module")
def roster():
    return Roster.load(SAMPLES / "roster.csv")


def t(text):
    return datetime.fromisoformat(text)


def test_slots(cal, cfg):
    got = [(i, s.isoformat()) for i, s in slots(cal, cfg.schedule)]
    assert ("liaison_form", "2020-06-08T09:00:00+08:00") in got
    assert ("liaison_form", "2020-06-10T09:00:00+08:00") in got
    assert ("weekly_report:2020-06-11", "2020-06-11T09:00:00+08:00") in got
    assert ("progress_table", "2020-06-26T09:00:00+08:00") in got
    assert [s.date().isoformat() for s in digest_slots(cal, cfg.schedule)] == [
        "2020-06-05", "2020-06-12", "2020-06-19", "2020-06-26", "2020-07-03"]


def test_weekly_reminder_skips_units_that_reported(cal, cfg, roster):
    deliveries = [Delivery("桐城市总工会", "weekly_report:2020-06-11", "weekly_report", t("2020-06-08T16:00:30+08:00"), {}),
                  Delivery("太湖县总工会", "liaison_form", "liaison_form", t("2020-06-05T10:00:00+08:00"),
                           {"email": "liaison@qq.test", "name": "储丽"})]
    now = t("2020-06-11T09:00:00+08:00")
    due = [r for r in due_reminders(cal, cfg.schedule, roster, stand(cal, roster, deliveries, now), now)
           if r.item == "weekly_report:2020-06-11"]
    units = {r.unit for r in due}
    assert "桐城市总工会" not in units and len(units) == len(roster.units) - 1
    taihu = next(r for r in due if r.unit == "太湖县总工会")
    assert taihu.to == ("liaison@qq.test",)  # the liaison, not the roster
    yj = next(r for r in due if r.unit == "迎江区总工会")
    assert yj.to == ("yjqzgh@example.test", "yj_ghb@example.test")


def test_grace_period_and_deadline(cal, cfg, roster):
    def due_at(text):
        now = t(text)
        return {r.item for r in due_reminders(cal, cfg.schedule, roster, stand(cal, roster, [], now), now)}
    assert "weekly_report:2020-06-11" not in due_at("2020-06-11T08:59:59+08:00")
    assert "weekly_report:2020-06-11" in due_at("2020-06-11T10:30:00+08:00")  # back after an outage
    assert "weekly_report:2020-06-11" not in due_at("2020-06-11T17:30:01+08:00")  # deadline passed
    assert due_at("2020-06-09T09:00:00+08:00") == set()  # a day after the 2-day reminder: beyond grace
    assert due_at("2020-06-08T21:00:00+08:00") == {"liaison_form"}  # 12 h grace


def test_digest_due(cal, cfg):
    assert due_digest(cal, cfg.schedule, t("2020-06-12T08:59:00+08:00")) is None
    assert due_digest(cal, cfg.schedule, t("2020-06-12T09:00:00+08:00")).isoformat() == "2020-06-12T09:00:00+08:00"
    assert due_digest(cal, cfg.schedule, t("2020-06-13T09:00:00+08:00")) is None


def test_standing_sees_only_the_past(cal, roster):
    d = [Delivery("大观区总工会", "liaison_form", "liaison_form", t("2020-06-08T10:00:00+08:00"),
                  {"name": "张三", "email": "dg@x.test"})]
    before = {s.unit: s for s in stand(cal, roster, d, t("2020-06-07T00:00:00+08:00"))}["大观区总工会"]
    after = {s.unit: s for s in stand(cal, roster, d, t("2020-06-11T09:00:00+08:00"))}["大观区总工会"]
    assert before.items["liaison_form"].state == "open" and before.liaison is None
    assert after.items["liaison_form"].state == "on_time" and after.liaison["name"] == "张三"
    assert after.items["weekly_report:2020-06-04"].state == "missing"
    assert after.timeliness.on_time == 1 and after.timeliness.missing == 1
    assert after.timeliness.score == 50.0
