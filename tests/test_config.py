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


@pytest.mark.parametrize("old,new,named,hint", [
    ("poll_seconds = 60", "poll_second = 60", "[mailbox] poll_second", "[mailbox] poll_seconds"),
    ("[organizers]", "[organiser]", "[organiser]", "[organizers]"),
    ("[limits]", "[limit]", "[limit]", "[limits]"),
    ('file = "data/units.csv"', 'files = "data/units.csv"', "[roster] files", "[roster] file"),
    ('grace_hours = 12', 'grace_hours = 12\ntick_secs = 5', "[schedule] tick_secs", "[schedule] tick_seconds"),
    # a key in the wrong section: where it belongs
    ('folder = "INBOX"', 'folder = "INBOX"\ntick_seconds = 5', "[mailbox] tick_seconds", "[schedule]"),
    # no near name: the valid ones are listed
    ('dir = "data"', 'dir = "data"\ncolour = "red"', "[storage] colour", "可用的有：dir"),
])
def test_unknown_keys_and_sections_name_the_nearest_valid_one(tmp_path, old, new, named, hint):
    text = example()
    assert old in text
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text.replace(old, new, 1)))
    message = str(err.value)
    assert message.startswith("未知的") and named in message and hint in message, message
    assert "\n" not in message


@pytest.mark.parametrize("old,new,hint", [
    ("[campaign]\n", "[campain]\n", "[campain] 是否应为 [campaign]"),
    ("[campaign.deadlines]", "[campaign.deadline]", "[campaign.deadline] 是否应为 [campaign.deadlines]"),
    ('host = "imap.126.com"', 'hots = "imap.126.com"', "hots 是否应为 host"),
])
def test_a_missing_required_key_points_at_its_misspelling(tmp_path, old, new, hint):
    text = example()
    assert old in text
    with pytest.raises(ConfigError, match="配置缺少") as err:
        load_config(write(tmp_path, text.replace(old, new, 1)))
    assert hint in str(err.value)


def test_every_key_of_the_example_is_known(tmp_path):
    """The example sets every optional key too; none of them is taken for a typo."""
    import tomllib

    data = tomllib.loads(example())
    assert "authserv_ids" not in data["mailbox"]  # commented out in the example: try it too
    text = example().replace('# authserv_ids = ["126.com"]', 'authserv_ids = ["126.com"]')
    assert load_config(write(tmp_path, text)).mailbox.trusted_authserv_ids == ("126.com",)


@pytest.mark.parametrize("weekday,slot", [("周四", "周四 09:00"), ("星期四", "星期四 09:00"), ("Thu", "THURSDAY 09:00")])
def test_weekdays_in_chinese_or_english(tmp_path, weekday, slot):
    text = example().replace('weekday = "thursday"', f'weekday = "{weekday}"').replace(
        'weekly_reminder = "thu 09:00"', f'weekly_reminder = "{slot}"').replace(
        'digest = "fri 09:00"', 'digest = "周日 18:00"')
    cfg = load_config(write(tmp_path, text))
    assert cfg.campaign.weekly_report.weekday == 3
    assert cfg.schedule.weekly_reminder.weekday == 3
    assert (cfg.schedule.digest.weekday, cfg.schedule.digest.time.hour) == (6, 18)


@pytest.mark.parametrize("weekday", ["周八", "thurs", "星期", ""])
def test_a_weekday_that_is_none_is_refused(tmp_path, weekday):
    with pytest.raises(ConfigError, match=r"\[campaign.weekly_report\] weekday .*周四"):
        load_config(write(tmp_path, example().replace('weekday = "thursday"', f'weekday = "{weekday}"')))


def test_a_first_report_day_off_the_weekday_names_it_in_chinese(tmp_path):
    text = example().replace('weekday = "thursday"', 'weekday = "周五"')
    with pytest.raises(ConfigError, match="first = 2020-06-04 不是星期五"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("old,new,marker,reason", [
    ('weekday = "thursday"', "weekday = thursday", "weekday = thursday", "文字要加英文双引号"),
    ('dir = "data"', 'dir = "data', 'dir = "data', "缺少结尾的引号"),
    ("[storage]", "[storage", "[storage", "缺少右方括号"),
    ("end = 2020-06-30", "end = 2020-06-31", "end = 2020-06-31", "日期或时间无效"),
    # the second url: the line where the key is written again
    ("[database]\n", '[database]\nurl = "sqlite:///x.db"\n', 'url = "sqlite:///data/intake.db"', "同一项写了两次"),
])
def test_toml_syntax_errors_in_chinese_with_the_line(tmp_path, old, new, marker, reason):
    text = example()
    assert old in text
    changed = text.replace(old, new, 1)
    line = next(n for n, ln in enumerate(changed.splitlines(), 1) if ln.startswith(marker))
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, changed))
    message = str(err.value)
    assert f"第 {line} 行第 " in message and f"列（{marker}" in message and reason in message, message
    assert "\n" not in message and not any(w in message for w in ("Invalid", "Expected", "line", "column"))
