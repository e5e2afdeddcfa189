"""Admin actions behind `intake assign`, `intake reprocess` and `intake check`."""
from __future__ import annotations

import os
import stat

from sqlalchemy import select

from . import pipeline
from .progress import NoProgress, Progress
from .reading_pool import process_all
from .campaign.roster import Roster, RosterError
from .config import Config, ConfigError
from .mail.imap import Mailbox, MailboxError
from .mail.outbox import Outbox, SmtpError, check_smtp
from .store.db import Database, DatabaseError
from .store.models import OUTCOME_LABELS, Message


class AdminError(ConfigError):
    """A refused admin action (unknown message or unit): one line, exit 1."""


def _find_message(intake: pipeline.Intake, ref: str) -> int:
    with intake.db.session() as s:
        if ref.isdigit() and s.get(Message, int(ref)) is not None:
            return int(ref)
        pk = s.scalar(select(Message.id).where(Message.message_id.in_([ref, f"<{ref.strip('<>')}>"])))
    if pk is None:
        raise AdminError(f"找不到邮件 {ref}（用 intake messages 查看编号）")
    return pk


def assign_message(intake: pipeline.Intake, ref: str, unit_text: str) -> str:
    pk = _find_message(intake, ref)
    unit = intake.roster.by_name.get(unit_text) or intake.roster.match_name(unit_text)
    if unit is None:
        near = intake.roster.suggest(unit_text)
        if near:
            raise AdminError(f"没有名为“{unit_text}”的单位，是否是：{'、'.join(near)}？")
        raise AdminError(f"没有名为“{unit_text}”的单位（单位名单：{intake.config.roster_file}，intake status 可查看全部单位）")
    with intake.db.session() as s:
        s.get(Message, pk).assigned_unit = unit.name
    outcome = pipeline.process(intake, pk)
    sent = Outbox(intake.db, intake.config.smtp).drain()
    return f"邮件 #{pk} 已指定给 {unit.name}，处理结果：{OUTCOME_LABELS.get(outcome, outcome)}；发出回复 {sent.sent} 封"


def reprocess_messages(intake: pipeline.Intake, ref: str | None, progress: Progress | None = None) -> str:
    if ref is None:
        with intake.db.session() as s:
            ids = list(s.scalars(select(Message.id).order_by(Message.id)))
    else:
        ids = [_find_message(intake, ref)]
    progress = progress or NoProgress()
    progress.stage("重新解析已保存的邮件", len(ids))
    counts: dict[str, int] = {}
    for _, outcome in process_all(intake, ids):
        counts[outcome] = counts.get(outcome, 0) + 1
        progress.advance()
    progress.close()
    Outbox(intake.db, intake.config.smtp).drain()
    if not ids:
        return "没有已保存的邮件"
    return f"重新处理 {len(ids)} 封：" + "，".join(f"{OUTCOME_LABELS.get(k, k)} {v}" for k, v in sorted(counts.items()))


def run_checks(config: Config) -> list[tuple[bool | None, str]]:
    """(ok, line) per check; ok None is a warning that does not fail the check."""
    out: list[tuple[bool | None, str]] = [(True, f"配置文件 {config.path} 有效")]
    mode = config.path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        out.append((None, f"提示：配置文件 {config.path} 可被其他用户读取（建议 chmod 600）"))
    try:
        roster = Roster.load(config.roster_file)
        out.append((True, f"单位名单 {config.roster_file}：{len(roster.units)} 个单位"))
    except RosterError as exc:
        out.append((False, str(exc)))
    try:
        Database(config.database_url).dispose()
        out.append((True, "数据库可用"))
    except DatabaseError as exc:
        out.append((False, str(exc)))
    try:
        with Mailbox(config.mailbox) as mb:
            out.append((True, f"IMAP 登录成功（{config.mailbox.host}，文件夹 {config.mailbox.folder}，"
                              f"{'支持 IDLE' if mb.has_idle else '不支持 IDLE，将定时轮询'}）"))
    except (MailboxError, ConfigError) as exc:
        out.append((False, str(exc)))
    try:
        check_smtp(config.smtp)
        out.append((True, f"SMTP 登录成功（{config.smtp.host}）"))
    except (SmtpError, ConfigError) as exc:
        out.append((False, str(exc)))
    for env in {config.mailbox.password_env, config.smtp.password_env} - {""}:
        if env not in os.environ:
            out.append((False, f"环境变量 {env} 未设置"))
    return out
