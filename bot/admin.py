"""Admin actions behind `intake assign`, `intake reprocess` and `intake check`."""
from __future__ import annotations

import os
import stat
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from . import pipeline
from .intake import Intake
from .progress_bars import NoProgress, Progress
from .reading_pool import process_all
from .campaign.roster import Roster, RosterError
from .config import Config, ConfigError
from .mail.imap import Mailbox, MailboxError
from .clock import system_clock
from .mail.smtp import SmtpError, check_smtp
from .outbox import Outbox
from .outfiles import folder_problem
from .store.db import Database, DatabaseError
from .present.labels import OUTCOME_LABELS
from .store.models import Message


class AdminError(ConfigError):
    """A refused admin action (unknown message or unit): one line, exit 1."""


def _find_message(intake: Intake, ref: str) -> int:
    with intake.db.session() as s:
        if ref.isdigit() and s.get(Message, int(ref)) is not None:
            return int(ref)
        pk = s.scalar(select(Message.id).where(Message.message_id.in_([ref, f"<{ref.strip('<>')}>"])))
    if pk is None:
        raise AdminError(f"找不到邮件 {ref}（用 intake messages 查看编号）")
    return pk


def _require_stored(intake: Intake, ids: list[int]) -> list[int]:
    """The ids whose original mail is missing from the mail store. Reading them again would
    turn each into a read failure for review, losing what was recorded: when the store itself
    is missing (a disk not mounted, [storage] dir changed) or none of the mails is there, the
    action is refused before anything changes."""
    with intake.db.session() as s:
        digests = dict(s.execute(select(Message.id, Message.sha256).where(Message.id.in_(ids))).all()) if ids else {}
    missing = [pk for pk in ids if not intake.archive.raw_path(digests[pk]).is_file()]
    if missing and (len(missing) == len(ids) or not (intake.archive.root / "mail").is_dir()):
        where = intake.config.storage_dir
        shown = "、".join(f"#{pk}" for pk in missing[:3]) + ("等" if len(missing) > 3 else "")
        raise AdminError(f"邮件存储目录 {where} 中没有{'这封' if len(ids) == 1 else '这些'}邮件的原件（{shown}）："
                         "未做任何改动；请检查磁盘是否已挂载、配置 [storage] dir 是否指向原来的目录")
    return missing


def assign_message(intake: Intake, ref: str, unit_text: str) -> str:
    pk = _find_message(intake, ref)
    unit = intake.roster.by_name.get(unit_text) or intake.roster.match_name(unit_text)
    if unit is None:
        near = intake.roster.suggest(unit_text)
        if near:
            raise AdminError(f"没有名为“{unit_text}”的单位，是否是：{'、'.join(near)}？")
        raise AdminError(f"没有名为“{unit_text}”的单位（单位名单：{intake.config.roster_file}，intake status 可查看全部单位）")
    _require_stored(intake, [pk])
    with intake.db.session() as s:
        s.get(Message, pk).assigned_unit = unit.name
    outcome = pipeline.process(intake, pk)
    sent = Outbox.of(intake).drain()
    return f"邮件 #{pk} 已指定给 {unit.name}，处理结果：{OUTCOME_LABELS.get(outcome, outcome)}；发出回复 {sent.sent} 封"


def reprocess_messages(intake: Intake, ref: str | None, progress: Progress | None = None) -> str:
    if ref is None:
        with intake.db.session() as s:
            ids = list(s.scalars(select(Message.id).order_by(Message.id)))
    else:
        ids = [_find_message(intake, ref)]
    missing = _require_stored(intake, ids)
    ids = [pk for pk in ids if pk not in set(missing)]
    progress = progress or NoProgress()
    progress.stage("重新解析已保存的邮件", len(ids))
    counts: dict[str, int] = {}
    for _, outcome in process_all(intake, [pipeline.Pending(pk) for pk in ids], only_pending=False):
        counts[outcome] = counts.get(outcome, 0) + 1
        progress.advance()
    progress.close()
    Outbox.of(intake).drain()
    if not ids:
        return "没有已保存的邮件"
    skipped = (f"；{len(missing)} 封的原件不在存储目录中，未处理（"
               + "、".join(f"#{pk}" for pk in missing[:10]) + ("等）" if len(missing) > 10 else "）")) if missing else ""
    return (f"重新处理 {len(ids)} 封：" + "，".join(f"{OUTCOME_LABELS.get(k, k)} {v}" for k, v in sorted(counts.items()))
            + skipped)


def run_checks(config: Config, clock: Callable[[], datetime] = system_clock) -> list[tuple[bool | None, str]]:
    """(ok, line) per check; ok None is a warning that does not fail the check. No Intake here:
    the check must speak also when the roster or the database is broken, so the clock comes alone."""
    out: list[tuple[bool | None, str]] = [(True, f"配置文件 {config.path} 有效")]
    mode = config.path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        out.append((None, f"提示：配置文件 {config.path} 可被其他用户读取（建议 chmod 600）"))
    try:
        roster = Roster.load(config.roster_file)
        out.append((True, f"单位名单 {config.roster_file}：{len(roster.units)} 个单位"))
        out.extend(_example_roster(config, roster))
    except RosterError as exc:
        out.append((False, str(exc)))
    out.extend(_example_organizers(config))
    out.extend(_campaign_over(config, clock()))
    try:
        Database(config.database_url).dispose()
        out.append((True, "数据库可用"))
    except DatabaseError as exc:
        out.append((False, str(exc)))
    problem = folder_problem(config.storage_dir)
    out.append((False, f"邮件存储目录 {config.storage_dir}（[storage] dir）{problem}") if problem
               else (True, f"邮件存储目录 {config.storage_dir} 可写入"))
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


# Domains reserved for examples and tests (RFC 2606, RFC 6761): no mail ever reaches them.
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = (".test", ".example", ".invalid", ".localhost")


def _example_addresses() -> set[str]:
    """The addresses of the shipped examples (config.example.toml, data/units.example.csv)."""
    import tomllib

    from .starter import EXAMPLE_CONFIG, EXAMPLE_ROSTER

    found: set[str] = set()
    try:
        found.update(e.lower() for e in tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
                     .get("organizers", {}).get("emails", []))
    except (OSError, tomllib.TOMLDecodeError):
        pass
    try:
        for unit in Roster.load(EXAMPLE_ROSTER).units:
            found.update(unit.emails)
    except RosterError:
        pass
    return found


def is_example_address(address: str, examples: set[str]) -> bool:
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return (address.lower() in examples or domain.endswith(_RESERVED_TLDS)
            or any(domain == d or domain.endswith("." + d) for d in _RESERVED_DOMAINS))


def _example_roster(config: Config, roster: Roster) -> list[tuple[bool | None, str]]:
    examples = _example_addresses()
    emails = [e for u in roster.units for e in u.emails]
    fake = [e for e in emails if is_example_address(e, examples)]
    if not fake:
        return []
    whole = "仍是示例名单" if len(fake) == len(emails) else f"中有 {len(fake)} 个示例邮箱"
    return [(None, f"提示：单位名单 {config.roster_file} {whole}（如 {fake[0]}）：这些地址收不到提醒，"
                   "请换成各单位的真实邮箱")]


def _example_organizers(config: Config) -> list[tuple[bool | None, str]]:
    if not config.organizers:
        return [(None, "提示：[organizers] emails 为空：周汇总不会发给任何人")]
    examples = _example_addresses()
    fake = [e for e in config.organizers if is_example_address(e, examples)]
    if not fake:
        return []
    return [(None, f"提示：[organizers] emails 仍是示例地址（{'、'.join(fake)}）：周汇总将无人收到，"
                   "请改为组织者的真实邮箱")]


def _campaign_over(config: Config, now: datetime) -> list[tuple[bool | None, str]]:
    """A hint when every campaign of the config has ended; a definition that cannot be loaded
    fails the check."""
    from .campaign.definition import resolve
    from .forms.definition import DefinitionError

    if len(config.campaigns) <= 1 and config.campaign.definition is None:  # the 2020 [campaign] table
        campaign = config.campaign
        today = now.astimezone(campaign.timezone).date()
        if today <= campaign.end:
            return []
        return [(None, f"提示：[campaign] 的活动已于 {campaign.end} 结束（今天是 {today}）："
                       "如是新一期活动，请改 start、end、截止日期和每周报送日期")]
    out: list[tuple[bool | None, str]] = []
    campaigns = []
    for cc in config.campaigns or (config.campaign,):
        try:
            campaigns.append(resolve(cc))
        except DefinitionError as exc:
            out.append((False, str(exc)))
    if campaigns and all(now.astimezone(c.timezone).date() > c.end for c in campaigns):
        last = max(campaigns, key=lambda c: c.end)
        out.append((None, f"提示：配置中的活动均已结束（最近的“{last.name}”于 {last.end} 结束，今天是 "
                          f"{now.astimezone(last.timezone).date()}）：如有新一期活动，请在 [[campaigns]] 中加入它的定义目录"))
    return out
