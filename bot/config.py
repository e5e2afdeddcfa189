"""The TOML contract of interface.md, validated once into frozen dataclasses.

Every problem is a `ConfigError` whose message names the key and says, in one Chinese line,
what is wrong; the CLI prints it and exits 1 without a traceback.
"""
from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_ABBR = {name[:3]: i for i, name in enumerate(WEEKDAYS)}
SECURITY_MODES = ("ssl", "starttls", "none")


class ConfigError(Exception):
    """A configuration problem, already phrased for the admin."""


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    security: str
    username: str
    password_env: str

    def password(self) -> str:
        """The secret, read from the environment only when a connection needs it."""
        if not self.password_env:
            return ""
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(f"环境变量 {self.password_env} 未设置（配置项 password_env 指定的密码/授权码）")
        return value


@dataclass(frozen=True)
class MailboxConfig(ServerConfig):
    folder: str = "INBOX"
    processed_folder: str = ""
    poll_seconds: float = 60
    timeout: float = 30
    # authserv-ids of our receiving server whose Authentication-Results count; empty: the
    # top-most header (the receiving server's own) is read
    trusted_authserv_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmtpConfig(ServerConfig):
    sender: str = ""  # the `from` key
    max_per_minute: int = 20
    timeout: float = 30

    @property
    def sender_address(self) -> str:
        from email.utils import parseaddr

        return parseaddr(self.sender)[1].lower()


@dataclass(frozen=True)
class WeeklyReport:
    weekday: int  # 0 = Monday
    time: time
    first: date
    last: date


@dataclass(frozen=True)
class CampaignConfig:
    name: str
    timezone: ZoneInfo
    start: date
    end: date
    deadlines: dict[str, datetime]  # item -> aware datetime in the campaign's zone
    weekly_report: WeeklyReport
    # The first day whose mail can be a submission (the notice's issue date): mail that
    # arrived before it is kept and listed, never answered or counted. Default: `start`.
    submissions_open: date | None = None

    @property
    def opens_at(self) -> datetime:
        """The moment submissions open, in the campaign's zone."""
        return datetime.combine(self.submissions_open or self.start, time(0, 0), self.timezone)


@dataclass(frozen=True)
class Slot:
    """A weekly moment such as "thu 09:00"."""

    weekday: int
    time: time


@dataclass(frozen=True)
class ScheduleConfig:
    weekly_reminder: Slot
    deadline_reminders_days_before: tuple[int, ...]
    reminder_time: time
    grace_hours: float
    digest: Slot
    tick_seconds: float = 60  # how often the daemon looks for due reminders and digests


@dataclass(frozen=True)
class LimitsConfig:
    max_attachment_mb: float = 25
    max_auto_replies_per_day: int = 10  # per address, as Mailman's default
    conversion_timeout: float = 60
    read_workers: int = 0  # processes that read a backlog's mails; 0: one per core


@dataclass(frozen=True)
class Config:
    path: Path
    mailbox: MailboxConfig
    smtp: SmtpConfig
    database_url: str
    storage_dir: Path
    campaign: CampaignConfig
    schedule: ScheduleConfig
    organizers: tuple[str, ...]
    roster_file: Path
    limits: LimitsConfig = field(default_factory=LimitsConfig)

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def find_config_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("INTAKE_CONFIG"):
        return Path(os.environ["INTAKE_CONFIG"])
    return Path("config.toml")


def _strings(table: "_Table", key: str) -> tuple[str, ...]:
    values = table.get(key, list, [])
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"配置 {table.key(key)} 应为字符串列表，如 [\"126.com\"]")
    return tuple(v.strip() for v in values)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}（用 --config 指定，或设置 INTAKE_CONFIG）") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式错误：{exc}") from None
    return parse_config(data, path.resolve())


class _Table:
    """Reads one TOML table, naming the full key in every error."""

    def __init__(self, data: dict, name: str):
        self.data = data
        self.name = name

    def key(self, key: str) -> str:
        return f"[{self.name}] {key}"

    def get(self, key: str, kind: type | tuple, default: Any = ..., *, label: str = "") -> Any:
        if key not in self.data:
            if default is ...:
                raise ConfigError(f"配置缺少 {self.key(key)}")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ConfigError(f"配置 {self.key(key)} 应为{label or _kind_name(kind)}，实际为 {value!r}")
        return value

    def sub(self, key: str, required: bool = True) -> _Table:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ConfigError(f"配置缺少 [{self.name + '.' if self.name else ''}{key}] 部分")
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"配置 {key} 应为一个表（[{key}]）")
        return _Table(value, f"{self.name}.{key}" if self.name else key)


def _kind_name(kind: type | tuple) -> str:
    names = {str: "字符串", int: "整数", float: "数字", bool: "true/false", list: "列表",
             date: "日期（如 2020-06-10）", datetime: "日期时间（如 2020-06-10T23:59:59）"}
    if isinstance(kind, tuple):
        return "或".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _server(t: _Table, default_port: int) -> dict:
    security = t.get("security", str, "ssl")
    if security not in SECURITY_MODES:
        raise ConfigError(f"配置 {t.key('security')} 应为 ssl、starttls 或 none，实际为 {security!r}")
    host = t.get("host", str)
    if not host:
        raise ConfigError(f"配置 {t.key('host')} 不能为空")
    if security == "none" and not _is_loopback(host):
        raise ConfigError(f"配置 {t.key('security')} = \"none\" 只允许用于本机地址（127.0.0.1 或 ::1），{host} 请用 ssl 或 starttls")
    port = t.get("port", int, default_port)
    if not 0 < port < 65536:
        raise ConfigError(f"配置 {t.key('port')} 应在 1–65535 之间，实际为 {port}")
    password_env = t.get("password_env", str, "")
    if "password" in t.data:
        raise ConfigError(f"配置 {t.key('password')} 不允许写在文件里：请用 password_env 指定保存密码的环境变量")
    return dict(host=host, port=port, security=security, username=t.get("username", str, ""),
                password_env=password_env)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _time(t: _Table, key: str, default: str | None = None) -> time:
    text = t.get(key, str, default) if default is not None else t.get(key, str)
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f"配置 {t.key(key)} 应为 HH:MM 形式的时间，实际为 {text!r}") from None


def _slot(t: _Table, key: str, default: str) -> Slot:
    text = t.get(key, str, default)
    parts = text.split()
    if len(parts) != 2 or parts[0].lower()[:3] not in WEEKDAY_ABBR:
        raise ConfigError(f"配置 {t.key(key)} 应为“星期 时间”形式，如 \"thu 09:00\"，实际为 {text!r}")
    try:
        hh, mm = parts[1].split(":")
        at = time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f"配置 {t.key(key)} 的时间部分应为 HH:MM，实际为 {parts[1]!r}") from None
    return Slot(WEEKDAY_ABBR[parts[0].lower()[:3]], at)


def _aware(value: date | datetime, tz: ZoneInfo, key: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tz)
    raise ConfigError(f"配置 {key} 应为日期时间，实际为 {value!r}")


def parse_config(data: dict, path: Path) -> Config:
    root = _Table(data, "")
    base = path.parent

    def rel(p: str) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else base / q

    mb = root.sub("mailbox")
    poll = mb.get("poll_seconds", float, 60.0)
    if poll <= 0:
        raise ConfigError(f"配置 {mb.key('poll_seconds')} 应大于 0")
    mailbox = MailboxConfig(**_server(mb, 993), folder=mb.get("folder", str, "INBOX"),
                            processed_folder=mb.get("processed_folder", str, ""),
                            poll_seconds=poll, timeout=mb.get("timeout", float, 30.0),
                            trusted_authserv_ids=_strings(mb, "authserv_ids"))

    st = root.sub("smtp")
    sender = st.get("from", str)
    from email.utils import parseaddr

    if "@" not in parseaddr(sender)[1]:
        raise ConfigError(f"配置 {st.key('from')} 应含有发件地址，如 \"安庆市总工会劳动经济部 <aqghljb@126.com>\"")
    max_per_minute = st.get("max_per_minute", int, 20)
    if max_per_minute < 0:
        raise ConfigError(f"配置 {st.key('max_per_minute')} 不能为负数")
    smtp = SmtpConfig(**_server(st, 465), sender=sender, max_per_minute=max_per_minute,
                      timeout=st.get("timeout", float, 30.0))

    db = root.sub("database")
    url = db.get("url", str, "sqlite:///data/intake.db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = "sqlite:///" + str(rel(url[len("sqlite:///"):]))

    storage = rel(root.sub("storage").get("dir", str, "data"))

    cp = root.sub("campaign")
    tzname = cp.get("timezone", str, "Asia/Shanghai")
    try:
        tz = ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"配置 {cp.key('timezone')} 不是有效的时区名：{tzname!r}") from None
    start = cp.get("start", date)
    end = cp.get("end", date)
    if end < start:
        raise ConfigError(f"配置 {cp.key('end')} 早于 start")
    dl = cp.sub("deadlines")
    deadlines = {}
    for item in ("liaison_form", "progress_table", "summary"):
        deadlines[item] = _aware(dl.get(item, (datetime, date)), tz, dl.key(item))
    wr = cp.sub("weekly_report")
    written_weekday = wr.get("weekday", str, "thursday")
    weekday_name = next((d for d in WEEKDAYS if written_weekday.strip().lower()[:3] == d[:3]), "")
    if not weekday_name or written_weekday.strip().lower() not in (weekday_name, weekday_name[:3]):
        raise ConfigError(f"配置 {wr.key('weekday')} 应为英文星期名（如 thursday 或 thu），实际为 {written_weekday!r}")
    first, last = wr.get("first", date), wr.get("last", date)
    weekday = WEEKDAYS.index(weekday_name)
    if first.weekday() != weekday:
        raise ConfigError(f"配置 {wr.key('first')} = {first} 不是 {weekday_name}")
    if last < first:
        raise ConfigError(f"配置 {wr.key('last')} 早于 first")
    weekly = WeeklyReport(weekday, _time(wr, "time", "17:30"), first, last)
    opens = cp.get("submissions_open", date, start)
    if opens > end:
        raise ConfigError(f"配置 {cp.key('submissions_open')} 晚于活动结束日期 end")
    campaign = CampaignConfig(cp.get("name", str, "“安全生产月”活动"), tz, start, end, deadlines, weekly,
                              submissions_open=opens)

    sc = root.sub("schedule", required=False)
    days = sc.get("deadline_reminders_days_before", list, [2, 0])
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in days):
        raise ConfigError(f"配置 {sc.key('deadline_reminders_days_before')} 应为非负整数列表，如 [2, 0]")
    grace = sc.get("grace_hours", float, 12.0)
    if grace < 0:
        raise ConfigError(f"配置 {sc.key('grace_hours')} 不能为负数")
    schedule = ScheduleConfig(_slot(sc, "weekly_reminder", "thu 09:00"), tuple(sorted(set(days), reverse=True)),
                              _time(sc, "reminder_time", "09:00"), grace, _slot(sc, "digest", "fri 09:00"),
                              sc.get("tick_seconds", float, 60.0))
    if schedule.tick_seconds <= 0:
        raise ConfigError(f"配置 {sc.key('tick_seconds')} 应大于 0")

    org = root.sub("organizers", required=False)
    emails = org.get("emails", list, [])
    for e in emails:
        if not isinstance(e, str) or "@" not in e:
            raise ConfigError(f"配置 {org.key('emails')} 中有无效地址：{e!r}")

    roster = rel(root.sub("roster", required=False).get("file", str, "data/units.csv"))

    lim = root.sub("limits", required=False)
    limits = LimitsConfig(lim.get("max_attachment_mb", float, 25.0),
                          lim.get("max_auto_replies_per_day", int, 10),
                          lim.get("conversion_timeout", float, 60.0),
                          lim.get("read_workers", int, 0))
    for key, value, floor in (("max_attachment_mb", limits.max_attachment_mb, 0.0),
                              ("conversion_timeout", limits.conversion_timeout, 0.0)):
        if value <= floor:
            raise ConfigError(f"配置 {lim.key(key)} 应大于 0，实际为 {value:g}")
    if limits.max_auto_replies_per_day < 0:
        raise ConfigError(f"配置 {lim.key('max_auto_replies_per_day')} 不能为负数（0 表示不限）")
    if limits.read_workers < 0:
        raise ConfigError(f"配置 {lim.key('read_workers')} 不能为负数（0 表示按 CPU 核数）")

    return Config(path=path, mailbox=mailbox, smtp=smtp, database_url=url, storage_dir=storage,
                  campaign=campaign, schedule=schedule, organizers=tuple(e.lower() for e in emails),
                  roster_file=roster, limits=limits)
