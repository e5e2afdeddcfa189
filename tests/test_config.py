from datetime import datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def example():
    return (ROOT / "config.example.toml").read_text(encoding="utf-8")


def test_example_config_loads_with_relative_paths(tmp_path):
    cfg = load_config(write(tmp_path, example()))
    assert cfg.mailbox.host == "imap.126.com" and cfg.mailbox.security == "ssl"
    assert cfg.smtp.sender_address == "aqghljb@126.com"
    assert cfg.database_url == f"sqlite:///{tmp_path}/data/intake.db"
    assert cfg.storage_dir == tmp_path / "data"
    assert cfg.roster_file == tmp_path / "data/units.csv"
    dl = cfg.campaign.deadlines["liaison_form"]
    assert dl.isoformat() == "2020-06-10T23:59:59+08:00"
    assert cfg.schedule.weekly_reminder.weekday == 3
    assert cfg.schedule.deadline_reminders_days_before == (2, 0)


@pytest.mark.parametrize("old,new,message", [
    ('security = "ssl"     # ssl', 'security = "plain"     # ssl', "[mailbox] security"),
    ('port = 993', 'port = "993"', "[mailbox] port"),
    ('poll_seconds = 60', 'poll_seconds = -1', "[mailbox] poll_seconds"),
    ('liaison_form = 2020-06-10T23:59:59', 'liaison_form = "6月10日"', "[campaign.deadlines] liaison_form"),
    ('first = 2020-06-04', 'first = 2020-06-05', "[campaign.weekly_report] first"),
    ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"', "[campaign] timezone"),
    ('weekly_reminder = "thu 09:00"', 'weekly_reminder = "someday"', "[schedule] weekly_reminder"),
    ('from = "安庆市总工会劳动经济部 <aqghljb@126.com>"', 'from = "劳动经济部"', "[smtp] from"),
])
def test_bad_values_name_the_key(tmp_path, old, new, message):
    text = example()
    assert old in text
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text.replace(old, new, 1)))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_plain_connection_only_on_loopback(tmp_path):
    text = example().replace('security = "ssl"     # ssl', 'security = "none"     # ssl', 1)
    with pytest.raises(ConfigError, match="只允许用于本机地址"):
        load_config(write(tmp_path, text))
    ok = text.replace('host = "imap.126.com"', 'host = "127.0.0.1"')
    assert load_config(write(tmp_path, ok)).mailbox.security == "none"


def test_password_never_in_file(tmp_path):
    text = example().replace('password_env = "INTAKE_IMAP_PASSWORD"', 'password = "hunter2"')
    with pytest.raises(ConfigError, match="password_env") as err:
        load_config(write(tmp_path, text))
    assert "hunter2" not in str(err.value)


def test_missing_section_and_file(tmp_path):
    with pytest.raises(ConfigError, match=r"\[smtp\]"):
        load_config(write(tmp_path, example().split("[smtp]")[0]))
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="格式错误"):
        load_config(write(tmp_path, "[mailbox\nhost="))


def test_password_read_from_environment(tmp_path, monkeypatch):
    cfg = load_config(write(tmp_path, example()))
    monkeypatch.delenv("INTAKE_IMAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="INTAKE_IMAP_PASSWORD"):
        cfg.mailbox.password()
    monkeypatch.setenv("INTAKE_IMAP_PASSWORD", "abc")
    assert cfg.mailbox.password() == "abc"


def test_deadline_date_only_means_end_of_day(tmp_path):
    text = example().replace("liaison_form = 2020-06-10T23:59:59", "liaison_form = 2020-06-10")
    cfg = load_config(write(tmp_path, text))
    assert cfg.campaign.deadlines["liaison_form"] == datetime.fromisoformat("2020-06-10T23:59:59+08:00")
