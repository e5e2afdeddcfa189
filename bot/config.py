"""The TOML contract of interface.md, validated once into frozen dataclasses.

Every problem is a `ConfigError` whose message names the key and says, in one Chinese line,
what is wrong; the CLI prints it and exits 1 without a traceback.
"""
from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .os_errors import os_reason

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_ABBR = {name[:3]: i for i, name in enumerate(WEEKDAYS)}
# How a weekday may be written: thursday, thu, 周四, 星期四 (Sunday also 周天, 星期天).
WEEKDAY_NAMES = {**{name: i for i, name in enumerate(WEEKDAYS)}, **WEEKDAY_ABBR,
                 **{f"{prefix}{digit}": i for i, digit in enumerate("一二三四五六日") for prefix in ("周", "星期")},
                 "周天": 6, "星期天": 6}
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
    # The campaign folder (campaign.toml + blank forms); None: the shipped 2020 campaign.
    definition: Path | None = None
    # The keys this table itself gave: they override the definition's (campaign/definition.with_config).
    overrides: frozenset[str] = frozenset()

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
    # Every campaign this mailbox collects for ([[campaigns]]); the first is `campaign`.
    campaigns: tuple[CampaignConfig, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def weekday_number(text: str) -> int | None:
    """0 (Monday) .. 6 for a weekday written as in WEEKDAY_NAMES, else None."""
    return WEEKDAY_NAMES.get(text.strip().lower())


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
        raise ConfigError(f"无法读取配置文件 {path}：{os_reason(exc)}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(path, raw.decode("utf-8"), str(exc))) from None
    return parse_config(data, path.resolve())


_TOML_WHERE = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")
# tomllib's messages (Python 3.11-3.13), most common mistakes first
_TOML_MESSAGES = (
    ("Invalid value", "值无效（文字要加英文双引号，如 \"thursday\"；日期写作 2020-06-10）"),
    ("Expected '=' after a key", "键名后缺少 =（应为“键 = 值”）"),
    ("Invalid statement", "无法识别的内容（应为“键 = 值”或 [部分名]）"),
    ("Unterminated string", "字符串缺少结尾的引号"),
    ("Illegal character '\\n'", "字符串缺少结尾的引号"),
    ("Illegal character", "字符串中有不允许的字符"),
    ("Expected ']' at the end of a table", "部分名缺少右方括号 ]"),
    ("Expected ']]' at the end of an array", "部分名缺少 ]]"),
    ("Expected newline or end of document", "一行只能写一项，此处有多余的内容"),
    ("Cannot overwrite a value", "同一项写了两次"),
    ("Cannot declare", "同一部分写了两次"),
    ("Unclosed array", "列表缺少右方括号 ]"),
    ("Unclosed inline table", "内联表缺少右花括号 }"),
    ("Invalid date or datetime", "日期或时间无效（如 2020-06-10 或 2020-06-10T23:59:59）"),
    ("Invalid initial character for a key", "键名以不允许的字符开头"),
    ("Unescaped '\\'", "字符串中的反斜杠 \\ 应写成 \\\\（或改用单引号）"),
    ("Invalid hex value", "字符串中的转义序列无效"),
    ("Escaped character is not a Unicode", "字符串中的转义序列无效"),
    ("Duplicate inline table key", "内联表中同一项写了两次"),
    ("Cannot mutate immutable namespace", "部分或键的定义互相冲突"),
    ("Cannot redefine namespace", "部分或键的定义互相冲突"),
    ("Found invalid character", "有不允许的字符"),
)


def _syntax_error(path: Path, text: str, message: str) -> str:
    """tomllib's English message as one Chinese line: where, what, and the line itself."""
    found = _TOML_WHERE.search(message)
    what = message[:found.start()] if found else message
    reason = next((zh for en, zh in _TOML_MESSAGES if what.startswith(en)), f"语法错误（{what}）")
    if found and found.group(1):
        line, column = int(found.group(1)), int(found.group(2))
        lines = text.splitlines()
        shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        where = f"第 {line} 行第 {column} 列" + (f"（{shown[:60]}）" if shown else "")
    else:
        where = "文件末尾"
    return f"配置文件 {path} {where}格式错误：{reason}"


class _Table:
    """Reads one TOML table, naming the full key in every error. Every key the parser asks
    for, present or not, is a known key: whatever else the file holds is a mistake
    (`reject_unknown`), so the list of valid keys is the parser itself and cannot drift."""

    def __init__(self, data: dict, name: str, parent: _Table | None = None):
        self.data = data
        self.name = name
        self.parent = parent
        self.asked: set[str] = set()
        self.tables: list[_Table] = parent.tables if parent else []  # every table read, the root first
        self.tables.append(self)

    def key(self, key: str) -> str:
        return f"[{self.name}] {key}" if self.name else key

    def _missing(self, what: str, key: str) -> ConfigError:
        """A required key or section is absent: say so, and point at the likely typo — a
        near name beside it, or a misspelt section above it (`[campain]`)."""
        hint = ""
        table, wanted, section = self, key, what.endswith("部分")
        while table is not None and not hint:
            typo = difflib.get_close_matches(wanted, [str(k) for k in table.data if k != wanted], n=1, cutoff=0.75)
            if typo:
                prefix = f"{table.name}." if table.name else ""
                hint = (f"（文件中的 [{prefix}{typo[0]}] 是否应为 [{prefix}{wanted}]？）" if section
                        else f"（文件中的 {typo[0]} 是否应为 {wanted}？）")
            wanted, section = table.name.rpartition(".")[2], True
            table = table.parent
        return ConfigError(f"配置缺少 {what}{hint}")

    def get(self, key: str, kind: type | tuple, default: Any = ..., *, label: str = "") -> Any:
        self.asked.add(key)
        if key not in self.data:
            if default is ...:
                raise self._missing(self.key(key), key)
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ConfigError(f"配置 {self.key(key)} 应为{label or _kind_name(kind)}，实际为 {value!r}")
        return value

    def sub(self, key: str, required: bool = True) -> _Table:
        self.asked.add(key)
        value = self.data.get(key)
        full = f"{self.name}.{key}" if self.name else key
        if value is None:
            if required:
                raise self._missing(f"[{full}] 部分", key)
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"配置 {key} 应为一个表（[{full}]）")
        return _Table(value, full, self)

    def reject_unknown(self) -> None:
        """A key or section in the file that no table asked for: an error naming it and the
        nearest valid name (`poll_second` → poll_seconds, `[organiser]` → [organizers])."""
        for table in self.tables:
            for key, value in table.data.items():
                if key in table.asked:
                    continue
                known = sorted(table.asked)
                full = f"{table.name}.{key}" if table.name else key
                section = isinstance(value, dict)
                what = f"部分 [{full}]" if section else f"配置项 {table.key(key)}"
                near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                elsewhere = [t.name for t in self.tables if t is not table and key in t.asked and t.name]
                if elsewhere and not section:
                    hint = f"该项应写在 [{elsewhere[0]}] 部分"
                elif near and section:
                    hint = f"是否应为 [{table.name + '.' if table.name else ''}{near[0]}]？"
                elif near:
                    hint = f"是否应为 {table.key(near[0])}？"
                else:
                    hint = "可用的有：" + "、".join(known)
                raise ConfigError(f"未知的{what}：{hint}")


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
    if len(parts) != 2 or weekday_number(parts[0]) is None:
        raise ConfigError(f"配置 {t.key(key)} 应为“星期 时间”形式，如 \"thu 09:00\" 或 \"周四 09:00\"，实际为 {text!r}")
    try:
        hh, mm = parts[1].split(":")
        at = time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f"配置 {t.key(key)} 的时间部分应为 HH:MM，实际为 {parts[1]!r}") from None
    return Slot(weekday_number(parts[0]), at)


def _aware(value: date | datetime, tz: ZoneInfo, key: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tz)
    raise ConfigError(f"配置 {key} 应为日期时间，实际为 {value!r}")


def parse_config(data: dict, path: Path) -> Config:
    """The whole file, one section after another (in this order, so the first problem named is
    the same every time), then whatever no section asked for."""
    root = _Table(data, "")
    base = path.parent
    mailbox = _mailbox(root.sub("mailbox"))
    smtp = _smtp(root.sub("smtp"))
    url = _database_url(root.sub("database"), base)
    storage = _relative(root.sub("storage").get("dir", str, "data"), base)
    campaigns = _campaigns(root, base)
    campaign = campaigns[0]
    schedule = _schedule(root.sub("schedule", required=False))
    organizers = _organizers(root.sub("organizers", required=False))
    roster = _relative(root.sub("roster", required=False).get("file", str, "data/units.csv"), base)
    limits = _limits(root.sub("limits", required=False))
    root.reject_unknown()
    return Config(path=path, mailbox=mailbox, smtp=smtp, database_url=url, storage_dir=storage,
                  campaign=campaign, schedule=schedule, organizers=organizers, roster_file=roster,
                  limits=limits, campaigns=campaigns)


def _relative(p: str, base: Path) -> Path:
    """A path in the file: `~` expanded, relative to the config file's folder."""
    q = Path(p).expanduser()
    return q if q.is_absolute() else base / q


def _mailbox(mb: _Table) -> MailboxConfig:
    poll = mb.get("poll_seconds", float, 60.0)
    if poll <= 0:
        raise ConfigError(f"配置 {mb.key('poll_seconds')} 应大于 0")
    return MailboxConfig(**_server(mb, 993), folder=mb.get("folder", str, "INBOX"),
                         processed_folder=mb.get("processed_folder", str, ""),
                         poll_seconds=poll, timeout=mb.get("timeout", float, 30.0),
                         trusted_authserv_ids=_strings(mb, "authserv_ids"))


def _smtp(st: _Table) -> SmtpConfig:
    from email.utils import parseaddr

    sender = st.get("from", str)
    if "@" not in parseaddr(sender)[1]:
        raise ConfigError(f"配置 {st.key('from')} 应含有发件地址，如 \"安庆市总工会劳动经济部 <aqghljb@126.com>\"")
    max_per_minute = st.get("max_per_minute", int, 20)
    if max_per_minute < 0:
        raise ConfigError(f"配置 {st.key('max_per_minute')} 不能为负数")
    return SmtpConfig(**_server(st, 465), sender=sender, max_per_minute=max_per_minute,
                      timeout=st.get("timeout", float, 30.0))


def _database_url(db: _Table, base: Path) -> str:
    """A relative SQLite path is relative to the config file's folder, like every other path."""
    url = db.get("url", str, "sqlite:///data/intake.db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = "sqlite:///" + str(_relative(url[len("sqlite:///"):], base))
    return url


def _campaigns(root: _Table, base: Path) -> tuple[CampaignConfig, ...]:
    """`[campaign]` (one campaign, the shipped 2020 one when it names no definition) or
    `[[campaigns]]`, an array of tables each naming its `definition` folder."""
    listed = root.data.get("campaigns")
    if listed is None:
        return (_campaign(root.sub("campaign"), base),)
    root.asked.add("campaigns")
    if "campaign" in root.data:
        raise ConfigError("配置中 [campaign] 与 [[campaigns]] 只能用一种：多个活动请都写成 [[campaigns]]")
    if not isinstance(listed, list) or not listed or not all(isinstance(t, dict) for t in listed):
        raise ConfigError("配置 [[campaigns]] 应为一组表，每个写明 definition = \"活动定义目录\"")
    out = []
    for n, data in enumerate(listed, 1):
        table = _Table(data, f"campaigns 第{n}个", root)
        if "definition" not in data:
            raise ConfigError(f"配置 [[campaigns]] 第{n}个缺少 definition（活动定义目录）")
        out.append(_campaign(table, base))
    return tuple(out)


def _campaign(cp: _Table, base: Path | None = None) -> CampaignConfig:
    written = cp.get("definition", str, "")
    definition = _relative(written, base) if written and base is not None else (Path(written) if written else None)
    given = frozenset(k for k in ("name", "timezone", "start", "end", "submissions_open", "deadlines",
                                  "weekly_report") if k in cp.data)
    if definition is not None and not {"start", "end"} <= given:
        # The definition names the period; the config may still override parts of it.
        tz = _zone(cp)
        start = cp.get("start", date, date.min)
        end = cp.get("end", date, date.max)
        deadlines = _deadlines(cp.sub("deadlines", required=False), tz, required=False)
        weekly = _weekly_report(cp.sub("weekly_report")) if "weekly_report" in given else None
        cp.get("submissions_open", date, None)
        opens = cp.data.get("submissions_open")
        return CampaignConfig(cp.get("name", str, ""), tz, start, end, deadlines, weekly, submissions_open=opens,
                              definition=definition, overrides=given)
    tz = _zone(cp)
    start = cp.get("start", date)
    end = cp.get("end", date)
    if end < start:
        raise ConfigError(f"配置 {cp.key('end')} 早于 start")
    deadlines = _deadlines(cp.sub("deadlines", required=definition is None), tz, required=definition is None)
    weekly = (_weekly_report(cp.sub("weekly_report")) if definition is None or "weekly_report" in given else None)
    opens = cp.get("submissions_open", date, start)
    if opens > end:
        raise ConfigError(f"配置 {cp.key('submissions_open')} 晚于活动结束日期 end")
    if "submissions_open" not in given:
        given = given | {"submissions_open"}  # the old meaning: default `start`
    return CampaignConfig(cp.get("name", str, "“安全生产月”活动"), tz, start, end, deadlines, weekly,
                          submissions_open=opens, definition=definition,
                          overrides=given | ({"name"} if definition is None else frozenset()))


def _zone(cp: _Table) -> ZoneInfo:
    tzname = cp.get("timezone", str, "Asia/Shanghai")
    try:
        return ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"配置 {cp.key('timezone')} 不是有效的时区名：{tzname!r}") from None


def _deadlines(dl: _Table, tz: ZoneInfo, required: bool = True) -> dict[str, datetime]:
    """[campaign.deadlines]: a date alone means the end of that day in the campaign's zone. The
    2020 campaign's three are required when no definition is named; with one, any item of the
    definition may be given (checked against it when it is loaded)."""
    names = ("liaison_form", "progress_table", "summary") if required else tuple(dl.data)
    return {item: _aware(dl.get(item, (datetime, date)), tz, dl.key(item)) for item in names}


def _weekly_report(wr: _Table) -> WeeklyReport:
    written_weekday = wr.get("weekday", str, "thursday")
    weekday = weekday_number(written_weekday)
    if weekday is None:
        raise ConfigError(f"配置 {wr.key('weekday')} 应为星期名（如 thursday、thu、周四 或 星期四），实际为 {written_weekday!r}")
    first, last = wr.get("first", date), wr.get("last", date)
    if first.weekday() != weekday:
        raise ConfigError(f"配置 {wr.key('first')} = {first} 不是星期{'一二三四五六日'[weekday]}（{WEEKDAYS[weekday]}）")
    if last < first:
        raise ConfigError(f"配置 {wr.key('last')} 早于 first")
    return WeeklyReport(weekday, _time(wr, "time", "17:30"), first, last)


def _schedule(sc: _Table) -> ScheduleConfig:
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
    return schedule


def _organizers(org: _Table) -> tuple[str, ...]:
    """The organizers' addresses (the digest's recipients), lower-cased."""
    emails = org.get("emails", list, [])
    for e in emails:
        if not isinstance(e, str) or "@" not in e:
            raise ConfigError(f"配置 {org.key('emails')} 中有无效地址：{e!r}")
    return tuple(e.lower() for e in emails)


def _limits(lim: _Table) -> LimitsConfig:
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
    return limits
