"""`intake demo`: the whole June in under a minute, with no mail account and nothing to set up.

The bot's real code runs against real servers (an in-process IMAP mailbox and an SMTP sink):
the demo only plays the calendar. At each moment the campaign schedules something (a reminder
slot, a digest, the end of June) it delivers the mail that arrived by then, runs one daemon
cycle (`poll_once`), then sends the reminders and digest due at that moment, as `intake run`
would have. What the bot sent is kept as .eml files to open.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Callable

from rich.cells import cell_len
from sqlalchemy import func, select

from ..starter import (EXAMPLE_CONFIG, EXAMPLE_ROSTER, ROSTER_RELATIVE, config_with, example_bytes,
                       program_name)
from .mailbag import INTAKE, DemoMail, june
from .servers import HOST, EmbeddedImap, SmtpSink
from ..os_errors import os_reason
from ..present.tables import KIND_SHORT

MARKER = ".intake-demo"  # a folder holding it was made by the demo and may be cleared by it
PASSWORD_ENV = "INTAKE_DEMO_IMAP_PASSWORD"
OUTCOMES = {"accepted": "已登记", "needs_review": "待人工处理", "duplicate": "重复",
            "auto_reply": "自动回复，不答复", "ignored": "已忽略", "pending": "待处理"}
SENT_KINDS = {"ack": "回执", "remind": "催报提醒", "digest": "周汇总", "notice": "告知联络员"}
WEEKDAYS = "一二三四五六日"
MAX_PAUSE = 3.0  # seconds: --speed never makes one step drag


class DemoError(Exception):
    """The demo cannot start; one Chinese line."""


@dataclass
class DemoPaths:
    dir: Path
    config: Path
    roster: Path
    database: Path
    store: Path
    sent: Path
    workbook: Path
    log: Path

    @classmethod
    def under(cls, d: Path) -> DemoPaths:
        return cls(d, d / "config.toml", d / ROSTER_RELATIVE, d / "data" / "intake.db", d / "data",
                   d / "sent", d / "汇总.xlsx", d / "data" / "logs" / "intake.log")


def prepare_dir(directory: Path | None) -> Path:
    """The demo's folder, emptied of an earlier demo's files. A folder with other content is
    never touched; without --dir, ./demo-run, or a temp folder when that cannot be written."""
    if directory is None:
        directory = Path("demo-run")
        try:
            directory.mkdir(exist_ok=True)
            probe = directory / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError:
            directory = Path(tempfile.mkdtemp(prefix="intake-demo-"))
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise DemoError(f"目录 {directory} 已有其他文件，演示不会改动它；请用 --dir 指定一个新目录")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        paths = DemoPaths.under(directory)
        for old in (paths.store, paths.sent):
            shutil.rmtree(old, ignore_errors=True)
        for old in (paths.config, paths.workbook):
            old.unlink(missing_ok=True)
        (directory / MARKER).write_text("intake demo\n", encoding="utf-8")
    except OSError as exc:
        raise DemoError(f"无法写入演示目录 {directory}：{os_reason(exc)}") from None
    return directory


def write_files(paths: DemoPaths, imap: EmbeddedImap, smtp: SmtpSink) -> None:
    """The example config pointed at the demo's servers, and the example roster."""
    text = example_bytes(EXAMPLE_CONFIG).decode("utf-8")
    text = config_with(text, {
        "mailbox": {"host": HOST, "port": imap.port, "security": "none", "username": imap.user,
                    "password_env": PASSWORD_ENV},
        "smtp": {"host": HOST, "port": smtp.port, "security": "none", "username": "", "password_env": "",
                 "max_per_minute": 0},
    })
    head = ("# 由 intake demo 生成：邮件服务器是演示进程内置的，演示结束即关闭；\n"
            "# status、messages、report、export 等命令仍可用此配置查看演示数据。\n\n")
    paths.config.write_text(head + text, encoding="utf-8")
    paths.roster.parent.mkdir(parents=True, exist_ok=True)
    paths.roster.write_bytes(example_bytes(EXAMPLE_ROSTER))


def checkpoints(intake) -> list[datetime]:
    """Every moment the campaign's schedule does something, and the end of the last day."""
    from datetime import time as dtime

    from ..campaign.reminders import digest_slots, slots

    cal, schedule = intake.calendar, intake.config.schedule
    moments = {slot for _, slot in slots(cal, schedule)} | set(digest_slots(cal, schedule))
    moments.add(datetime.combine(intake.config.campaign.end, dtime(18, 0), cal.tz))
    return sorted(moments)


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def sent_filename(number: int, subject: str) -> str:
    """NNN-<subject>.eml, the subject made safe as a file name on Linux, macOS and Windows."""
    name = _UNSAFE.sub("_", " ".join((subject or "").split())).strip(" ._") or "无主题"
    return f"{number:03d}-{name[:60]}.eml"


def _local(moment: datetime, tz) -> str:
    m = moment.astimezone(tz)
    return f"{m.month}月{m.day}日 周{WEEKDAYS[m.weekday()]} {m:%H:%M}"


class _Run:
    """One demo: the servers, the bot, the clock; what it prints goes through `echo`."""

    def __init__(self, paths: DemoPaths, speed: float, echo: Callable[[str], None]):
        self.paths, self.speed, self.echo = paths, speed, echo
        self.imap = EmbeddedImap(INTAKE)
        self.smtp = SmtpSink()
        self.saved = 0
        self.last_message = 0
        self.last_outbox = 0

    def start(self):
        from ..config import load_config
        from ..intake import Intake

        self.smtp.start()
        self.imap.start()
        write_files(self.paths, self.imap, self.smtp)
        os.environ[PASSWORD_ENV] = self.imap.password  # in this process only; never written down
        self.intake = Intake.from_config(load_config(self.paths.config))
        return self.intake

    def stop(self) -> None:
        self.save_sent()
        self.imap.stop()
        self.smtp.stop()
        os.environ.pop(PASSWORD_ENV, None)

    def save_sent(self) -> None:
        """Each mail the SMTP sink received since the last call, as DIR/sent/NNN-<subject>.eml."""
        new = self.smtp.since(self.saved)
        if not new:
            return
        self.paths.sent.mkdir(parents=True, exist_ok=True)
        for mail in new:
            subject = str(message_from_bytes(mail.data, policy=default_policy).get("Subject", ""))
            (self.paths.sent / sent_filename(self.saved + 1, subject)).write_bytes(mail.data)
            self.saved += 1

    def step(self, moment: datetime, mails: list[DemoMail]) -> None:
        from ..daemon import poll_once
        from ..reporting import send_digest, send_reminders

        tz = self.intake.calendar.tz
        self.echo(f"── {_local(moment, tz)} ──")
        for mail in mails:
            self.imap.append(mail.raw, mail.when)
        if mails:
            poll_once(self.intake)
            self._print_messages()
        reminders = send_reminders(self.intake, moment)
        digest = send_digest(self.intake, moment)
        self._print_sent(len(reminders), digest)
        self.save_sent()

    def _print_messages(self) -> None:
        from ..store.models import Message

        tz = self.intake.calendar.tz
        with self.intake.db.session() as s:
            rows = list(s.scalars(select(Message).where(Message.id > self.last_message).order_by(Message.id)))
            for m in rows:
                self.last_message = m.id
                kinds = "、".join(KIND_SHORT.get(k, k) for k in m.kinds or [])
                errors = sum(len(a.errors or []) for a in m.attachments)
                warnings = sum(len(a.warnings or []) for a in m.attachments)
                found = "，".join([f"{errors} 处需更正"] * bool(errors) + [f"{warnings} 处提醒"] * bool(warnings))
                note = m.reason or "；".join(m.flags or []) or (f"表中 {found}，已在回执中说明" if found else "")
                self.echo(f"  收到 #{m.id} {_local(m.received_at, tz)[:-6]} {m.unit or m.from_addr}"
                          f"《{m.subject[:28]}》→ {OUTCOMES.get(m.outcome, m.outcome)}"
                          f"{'（' + kinds + '）' if kinds else ''}{'：' + note[:60] if note else ''}")

    def _print_sent(self, reminders: int, digest: bool) -> None:
        from ..store.models import SENT, OutboxMail

        with self.intake.db.session() as s:
            rows = s.execute(select(OutboxMail.kind, func.count(), func.max(OutboxMail.id))
                             .where(OutboxMail.id > self.last_outbox, OutboxMail.status == SENT)
                             .group_by(OutboxMail.kind)).all()
        if not rows:
            self.echo("  （无邮件发出）")
            return
        self.last_outbox = max(row[2] for row in rows)
        parts = "，".join(f"{SENT_KINDS.get(kind, kind)} {n} 封" for kind, n, _ in sorted(rows))
        self.echo(f"  发出：{parts}")


def run_demo(directory: Path | None, speed: float, echo: Callable[[str], None]) -> DemoPaths:
    """Play June against the real bot; return where everything was written. Raises DemoError
    (cannot start) and KeyboardInterrupt (Ctrl-C, after the servers are stopped)."""
    from ..present.tables import messages_table, status_table
    from ..reporting import build_digest, standings
    from ..present.as_json import messages_json, status_json
    from ..store.queries import messages as stored_messages

    paths = DemoPaths.under(prepare_dir(directory))
    _log_to_file(paths)
    run = _Run(paths, speed, echo)
    try:
        echo(f"演示目录：{paths.dir}")
        intake = run.start()
        echo(f"内置 IMAP 服务器 {HOST}:{run.imap.port}（pymap，内存邮箱 {INTAKE}），"
             f"SMTP 收信桩 {HOST}:{run.smtp.port}；单位名单 {len(intake.roster.units)} 个单位\n")
        mails = june()
        moments = checkpoints(intake)
        previous = None
        for moment in moments:
            due = [m for m in mails if m.when <= moment]
            mails = mails[len(due):]
            if previous is not None and speed > 0:
                time.sleep(min(MAX_PAUSE, (moment - previous) / timedelta(days=1) / speed))
            run.step(moment, due)
            previous = moment
        final = moments[-1]
        echo("")
        doc = status_json(standings(intake, final), intake.calendar, final)
        status_table(doc)
        with intake.db.session() as s:
            messages_table(messages_json(stored_messages(s), intake.calendar))
        _, book = build_digest(intake, final)
        paths.workbook.write_bytes(book)
    finally:
        run.stop()
    _closing_note(paths, run.saved, intake, echo)
    return paths


def _log_to_file(paths: DemoPaths) -> None:
    """The bot's one-line-per-mail log goes to DIR/data/logs/intake.log, as `intake run` does;
    the terminal shows only warnings, so that the demo's own lines stay readable."""
    from ..logsetup import Formatter, add_file_log

    bot = logging.getLogger("bot")
    bot.setLevel(logging.INFO)
    add_file_log(paths.log.parent, logger=bot)
    if not logging.getLogger().handlers:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(Formatter("%(levelname)s %(message)s"))
        logging.getLogger().addHandler(console)


def _show(path: Path) -> str:
    """A path as short as it can be said from the current folder."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _closing_note(paths: DemoPaths, sent: int, intake, echo: Callable[[str], None]) -> None:
    from ..store.models import NEEDS_REVIEW, Message

    with intake.db.session() as s:
        review = s.scalar(select(func.min(Message.id)).where(Message.outcome == NEEDS_REVIEW,
                                                             Message.unit.is_(None)))
    cfg = _show(paths.config)
    me = program_name()
    echo(f"\n演示结束。全部文件在 {paths.dir}：")
    echo(f"  配置文件    {cfg}")
    echo(f"  单位名单    {_show(paths.roster)}")
    echo(f"  数据库      {_show(paths.database)}")
    echo(f"  邮件存档    {_show(paths.store / 'mail')}、{_show(paths.store / 'files')}（收到的原始邮件与附件，按内容哈希保存）")
    echo(f"  发出的邮件  {_show(paths.sent)}（{sent} 封 .eml：回执、催报提醒、周汇总，可用邮件客户端打开）")
    echo(f"  汇总工作簿  {_show(paths.workbook)}")
    echo(f"  运行日志    {_show(paths.log)}")
    echo("\n接下来可以试试：")
    tries = [(f"{me} --config {cfg} status --now 2020-06-12T09:00", "6月12日那一刻的报送情况"),
             (f"{me} --config {cfg} messages", "每封邮件及处理结果"),
             (f"{me} --config {cfg} report --now 2020-06-30T18:00", "附件2 数据汇总"),
             (f"{me} --config {cfg} export 全部数据.xlsx", "导出全部数据")]
    width = max(cell_len(command) for command, _ in tries)
    for command, note in tries:
        echo(f"  {command}{' ' * (width - cell_len(command))}  # {note}")
    if review:
        echo(f"  邮件 #{review} 无法确定报送单位：正式运行时用 {me} --config {cfg} assign {review} 单位名称 指定")
    echo(f"正式使用：{me} init 生成配置与单位名单，再按 docs/部署指南.md 操作。")
