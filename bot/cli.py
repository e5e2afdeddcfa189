"""The `intake` command: parse arguments, call one function, print. Nothing else lives here.

Exit status (interface.md): 0 success, 1 an explained failure (one line on stderr, no
traceback), 2 bad usage. With --json, stdout holds exactly one JSON document.
"""
from __future__ import annotations

import functools
import json
import logging
import sys
from typing import Callable

import click

from . import cli_zh
from .campaign.roster import RosterError
from .config import Config, ConfigError, find_config_path, load_config
from .forms.definition import DefinitionError
from .mail.imap import MailboxError
from .mail.smtp import SmtpError
from sqlalchemy.exc import DBAPIError

from .mail.archive import StorageError
from .os_errors import OS_REASONS, describe, os_reason
from .outfiles import OutputError, output_file, output_folder, write_file
from .store.db import DatabaseError, database_reason
from .present.labels import OUTCOME_LABELS

EXPECTED = (ConfigError, DefinitionError, RosterError, MailboxError, SmtpError, DatabaseError, StorageError, OutputError)
cli_zh.install()  # --help, usage errors: click's own words in Chinese


class Failure(click.ClickException):
    """An expected failure: one line on stderr, exit 1."""

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.message}", err=True)


def failure_line(exc: Exception) -> str | None:
    """The one line an expected failure is told in; None for anything else (a bug keeps its
    traceback). Besides the bot's own errors: a disk or path error anywhere (full, read-only,
    missing, a folder where a file should be) and a database statement that failed (locked
    past the busy timeout, disk full)."""
    if isinstance(exc, EXPECTED):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in OS_REASONS:
        return describe(exc)
    if isinstance(exc, DBAPIError):
        return f"数据库出错：{database_reason(exc)}"
    return None


class _Group(cli_zh.Group):
    """Every subcommand, with or without `command()`, fails in one line (failure_line)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            line = failure_line(exc)
            if line is None:
                raise
            raise Failure(line) from None


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment, so that log lines go above a progress
    bar (rich redirects sys.stderr while one is shown) instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _setup_logging(verbose: bool) -> None:
    from .logsetup import stderr_formatter

    handler = _StderrHandler()
    handler.setFormatter(stderr_formatter())  # the level in Chinese, like every other line
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


def _log_to_file(config: Config) -> None:
    """`run` and `poll` also log to <storage dir>/logs/intake.log (rotated), passwords redacted."""
    from .logsetup import add_file_log, config_secrets

    add_file_log(config.storage_dir / "logs", secrets=config_secrets(config))


def _require_storage(config: Config) -> None:
    from .outfiles import folder_problem

    problem = folder_problem(config.storage_dir)
    if problem:
        raise StorageError(f"邮件存储目录 {config.storage_dir}（[storage] dir）{problem}，邮件不会被收取")


def config_option(f: Callable) -> Callable:
    """--config accepted after the command name too (it wins over the one before)."""
    return click.option("--config", "config_after", metavar="PATH", default=None,
                        help="配置文件路径（默认 $INTAKE_CONFIG 或 ./config.toml）")(f)


def command(verbose: bool = False, stores_mail: bool | None = None):
    """Wrap a subcommand: load the config, turn expected failures into one line. Whatever it
    prints — log lines, the failure line — has the configured passwords redacted. A command
    that stores mail (default: the verbose ones, poll, run, mark-handled) is refused at once
    when the storage folder cannot be written, before it logs in anywhere."""
    stores_mail = verbose if stores_mail is None else stores_mail

    def deco(f: Callable) -> Callable:
        @config_option
        @click.pass_context
        @functools.wraps(f)
        def wrapper(ctx: click.Context, config_after: str | None, **kwargs):
            from .logsetup import config_secrets, readable_by_others, redact, redact_handlers

            _setup_logging(verbose)
            path = find_config_path(config_after or ctx.obj.get("config"))
            secrets: list[str] = []
            try:
                config = load_config(path)
                secrets = config_secrets(config)
                redact_handlers(secrets)
                if stores_mail:
                    _require_storage(config)
                if verbose:
                    if readable_by_others(config.path):
                        click.echo(f"提示：配置文件 {config.path} 可被其他用户读取，建议 chmod 600", err=True)
                    _log_to_file(config)
                return f(config, **kwargs)
            except Exception as exc:
                line = failure_line(exc)
                if line is None:
                    raise
                raise Failure(redact(line, secrets)) from None
        return wrapper
    return deco


def _intake(config: Config):
    from .intake import Intake

    return Intake.from_config(config)


def _campaign_intake(config: Config, name: str | None):
    """The Intake of the campaign `--campaign NAME` names (slug or name); without it, the one
    open now, else the latest."""
    return _intake(config).for_campaign(name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", metavar="PATH", default=None, help="配置文件路径（默认 $INTAKE_CONFIG 或 ./config.toml）")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """“安全生产月”材料接收机器人：收取邮件、识别表格、自动回复、催报与汇总。"""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command(help="执行一轮：收取新邮件、处理、发送待发邮件，然后退出。")
@command(verbose=True)
def poll(config: Config) -> None:
    from .daemon import poll_once
    from .progress_bars import for_terminal

    progress = for_terminal()
    try:
        result = poll_once(_intake(config), progress)
    finally:
        progress.close()
    parts = "，".join(f"{OUTCOME_LABELS.get(k, k)} {v}" for k, v in sorted(result.outcomes.items()))
    click.echo(f"收取 {result.fetched} 封，新邮件 {result.new} 封{('（' + parts + '）') if parts else ''}；"
               f"发出 {result.sent.sent} 封，待重试 {result.sent.deferred} 封，失败 {result.sent.failed} 封")


@main.command(help="常驻运行：IDLE 推送或定时轮询，处理并回复，直到收到 SIGTERM/Ctrl-C。")
@command(verbose=True)
def run(config: Config) -> None:
    from .daemon import StopFlag, run as run_daemon

    intake = _intake(config)
    stop = StopFlag()
    stop.install()
    run_daemon(intake, stop)


@main.command("mark-handled", help="上线前使用：把邮箱中现有的邮件全部存档并标记为已处理（不回复、不计入），此后收到的邮件才会处理。")
@command(verbose=True)
def mark_handled(config: Config) -> None:
    from .daemon import mark_handled as mark
    from .progress_bars import for_terminal

    progress = for_terminal()
    try:
        marked = mark(_intake(config), progress)
    finally:
        progress.close()
    click.echo(f"已存档并标记 {marked} 封邮件为已处理（intake messages 可查，不回复、不计入）；此后收到的邮件将正常处理和回复")


@main.command(help="列出收到的邮件及处理结果。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--state", type=click.Choice(["accepted", "needs_review", "duplicate", "auto_reply", "ignored", "pending"]),
              help="只列出该结果的邮件")
@command()
def messages(config: Config, as_json: bool, state: str | None) -> None:
    from .present.as_json import messages_json
    from .store.queries import messages as stored_messages

    intake = _intake(config)
    with intake.db.session() as s:
        rows = messages_json(stored_messages(s, state), intake.calendar)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from .present.tables import messages_table

    messages_table(rows)


@main.command(help="把无法识别单位的邮件指定给某单位，并重新处理、回复。")
@click.argument("message_id")
@click.argument("unit")
@command()
def assign(config: Config, message_id: str, unit: str) -> None:
    from .admin import assign_message

    click.echo(assign_message(_intake(config), message_id, unit))


@main.command(help="重新解析已保存的邮件（解析程序更新后），不重复计数。")
@click.argument("message_id", required=False)
@click.option("--all", "all_", is_flag=True, help="重新处理全部邮件")
@command()
def reprocess(config: Config, message_id: str | None, all_: bool) -> None:
    from .admin import reprocess_messages

    if bool(message_id) == all_:
        raise click.UsageError("请给出一个邮件编号，或使用 --all")
    from .progress_bars import for_terminal

    progress = for_terminal()
    try:
        click.echo(reprocess_messages(_intake(config), None if all_ else message_id, progress))
    finally:
        progress.close()


def _now(intake, text: str | None):
    """--now: ISO 8601; without an offset it is read in the campaign's time zone. Without it, the
    Intake's clock. --now is only the moment the answer is as of: what a command sends is still
    dated and queued by the clock (a reminder sent with --now in the past goes out now)."""
    from datetime import datetime

    if not text:
        return intake.clock()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"时间格式应为 ISO 8601，如 2020-06-11T09:00:00+08:00，实际为 {text!r}",
                                 param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=intake.campaign.timezone)


now_option = click.option("--now", "now_text", metavar="TIME", help="假定当前时间（ISO 8601），只看此前收到的邮件")
campaign_option = click.option("--campaign", "campaign_name", metavar="NAME", default=None,
                               help="活动（目录名或名称；默认当前进行中的活动，否则最近的一个）")
json_option = click.option("--json", "as_json", is_flag=True, help="输出 JSON")


@main.command(help="各单位各项材料的报送情况。")
@json_option
@now_option
@campaign_option
@command()
def status(config: Config, as_json: bool, now_text: str | None, campaign_name: str | None) -> None:
    from .reporting import standings
    from .present.as_json import status_json
    from .store.queries import unit_flags

    intake = _campaign_intake(config, campaign_name)
    now = _now(intake, now_text)
    with intake.db.session() as s:
        flags = unit_flags(s, now, campaign=intake.campaign.slug)
    doc = status_json(standings(intake, now), intake.calendar, now, flags)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    from .present.tables import status_table

    status_table(doc, campaign=intake.campaign)


@main.command(help="进展情况统计表（附件2）汇总：合计与各单位数据。")
@json_option
@now_option
@campaign_option
@command()
def report(config: Config, as_json: bool, now_text: str | None, campaign_name: str | None) -> None:
    from .reporting import report_doc

    intake = _campaign_intake(config, campaign_name)
    doc = report_doc(intake, _now(intake, now_text))
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    from .present.tables import report_tables

    report_tables(doc, intake.campaign)


@main.command(help="发送（或用 --dry-run 列出）此刻应发的催报提醒。")
@click.option("--dry-run", is_flag=True, help="只列出，不发送")
@json_option
@now_option
@campaign_option
@command()
def remind(config: Config, dry_run: bool, as_json: bool, now_text: str | None, campaign_name: str | None) -> None:
    from .reporting import pending_reminders, reminder_json, send_reminders

    intake = _campaign_intake(config, campaign_name)
    now = _now(intake, now_text)
    todo = pending_reminders(intake, now) if dry_run else send_reminders(intake, now)
    rows = [reminder_json(intake, r) for r in todo]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    verb = "应发" if dry_run else "已发"
    click.echo(f"{verb}提醒 {len(rows)} 封")
    for r in rows:
        click.echo(f"  {r['unit']}  {r['subject']}  → {', '.join(r['to'])}")


@main.command(help="生成给组织者的周汇总；--send 发送，--out 保存工作簿。")
@click.option("--send", is_flag=True, help="发送给 [organizers] emails")
@click.option("--out", "out_path", metavar="FILE.xlsx", help="把汇总工作簿保存到此文件")
@now_option
@campaign_option
@command()
def digest(config: Config, send: bool, out_path: str | None, now_text: str | None, campaign_name: str | None) -> None:
    from .reporting import build_digest, send_digest_now

    target = output_file(out_path, ".xlsx") if out_path else None  # refused before any work
    intake = _campaign_intake(config, campaign_name)
    now = _now(intake, now_text)
    msg, book = build_digest(intake, now)
    if target:
        write_file(target, book)
        click.echo(f"工作簿已保存：{out_path}")
    if send:
        if not config.organizers:
            raise Failure("配置 [organizers] emails 为空，无人可发")
        queued, result = send_digest_now(intake, now, msg)
        click.echo(f"周汇总{'已发送' if result.sent else ('已在队列中' if not queued else '待重试')}：{', '.join(config.organizers)}")
    if not (send or out_path):
        click.echo(msg.get_body(("plain",)).get_content())


@main.command(help="把全部数据导出为 Excel 工作簿。")
@click.argument("path", metavar="FILE.xlsx")
@now_option
@campaign_option
@command()
def export(config: Config, path: str, now_text: str | None, campaign_name: str | None) -> None:
    from .present.workbook import build_workbook
    from .reporting import workbook_data

    target = output_file(path, ".xlsx")  # refused before any work
    intake = _campaign_intake(config, campaign_name)
    write_file(target, build_workbook(workbook_data(intake, _now(intake, now_text))))
    click.echo(f"已导出：{path}")


@main.command(help="写出空白的附件1、附件2（.docx 与 .xlsx），供下发各单位。")
@click.argument("directory", metavar="DIR")
def templates(directory: str) -> None:
    from .forms.blank_forms import write_blank_forms

    folder = output_folder(directory)
    try:
        paths = write_blank_forms(folder)
    except OSError as exc:
        raise Failure(f"无法写入 {directory}：{os_reason(exc)}") from None
    for p in paths:
        click.echo(str(p))


@main.command(help="零配置演示：内置 IMAP/SMTP 服务器和一个月的模拟来信，完整走一遍，无需邮箱账号。")
@click.option("--dir", "directory", metavar="DIR", default=None,
              help="演示文件存放目录（默认 ./demo-run）")
@click.option("--speed", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="每秒模拟的天数；0 表示不停顿")
def demo(directory: str | None, speed: float) -> None:
    from .demo import DemoError, run_demo
    from .starter import StarterError

    try:
        run_demo(output_folder(directory) if directory else None, speed, click.echo)
    except (DemoError, StarterError, *EXPECTED) as exc:
        raise Failure(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\n已中止演示（Ctrl-C）；已完成的部分留在演示目录中。", err=True)
        sys.exit(130)


@main.command(help="新建配置文件 config.toml 与单位名单 data/units.csv（取自示例），并说明下一步。")
@click.argument("directory", metavar="[DIR]", required=False, default=".")
def init(directory: str) -> None:
    from .starter import StarterError, program_name, write_starter

    try:
        result = write_starter(output_folder(directory))
    except StarterError as exc:
        raise Failure(str(exc)) from None
    cfg, me = result.config, program_name()
    click.echo(f"已生成配置文件：{cfg}")
    click.echo(f"单位名单{'已存在，保留原文件' if result.roster_kept else '（示例）已生成'}：{result.roster}")
    click.echo("下一步：")
    click.echo(f"  1. 编辑 {cfg}：[mailbox]、[smtp] 的邮箱与服务器，[campaign] 的日期，[organizers] 接收汇总的邮箱。")
    click.echo("  2. 设置密码（126 邮箱为“客户端授权码”），只放在环境变量里，不写进配置文件：")
    click.echo("       export INTAKE_IMAP_PASSWORD='授权码'")
    click.echo("       export INTAKE_SMTP_PASSWORD='授权码'")
    click.echo(f"  3. 填写单位名单 {result.roster}，或导入办公室现有的 Excel 名单：")
    click.echo(f"       {me} --config {cfg} roster import 单位名单.xlsx")
    click.echo(f"  4. 检查配置并试登录邮箱：{me} --config {cfg} check")
    click.echo(f"  5. 运行：{me} --config {cfg} run（长期运行、systemd、备份见 docs/部署指南.md）")


@main.group(help="单位名单。")
def roster() -> None:
    pass


@roster.command("import", help="导入办公室现有的单位名单（.xlsx 或 .csv，中文表头），写入配置 [roster] file 指定的文件。")
@click.argument("source", metavar="FILE.xlsx|FILE.csv")
@command()
def roster_import(config: Config, source: str) -> None:
    from pathlib import Path

    from .campaign.roster_import import import_roster
    from .clock import system_clock

    # no Intake: the roster being imported may be the one that does not load yet
    now = system_clock().astimezone(config.campaign.timezone)
    result = import_roster(Path(source), config.roster_file, now)
    for line in result.lines(config.roster_file):
        click.echo(line)


@main.group(help="活动定义（campaign.toml 与空白表格）：从通知起草、检查、查看。")
def campaign() -> None:
    pass


@campaign.command("new", help="根据活动通知（.docx、.doc、.wps、带文字的 .pdf 或 .txt）起草活动定义目录："
                              "campaign.toml 与通知所附的空白表格，并列出未能理解之处。不需要配置文件。")
@click.argument("notice", metavar="NOTICE")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="写入的目录（默认 campaigns/<年份-活动名>）")
@click.option("--form", "form_files", metavar="FILE", multiple=True,
              help="通知另附的空白表格文件（文件名中写明“附件N”；可多次给出）")
@click.option("--closing-time", default="17:30", show_default=True, metavar="HH:MM",
              help="下班时间：通知中“下班前”按此时刻")
def campaign_new(notice: str, out_dir: str | None, form_files: tuple[str, ...], closing_time: str) -> None:
    from pathlib import Path

    from .campaign.notice import draft, write
    from .present.campaign_view import campaign_summary, unclear_lines

    path = Path(notice)
    drafted = draft(path.read_bytes(), path.name, forms=[Path(f) for f in form_files], closing_time=closing_time)
    target = Path(out_dir) if out_dir else Path("campaigns") / drafted.slug
    if (target / "campaign.toml").exists():
        raise Failure(f"{target / 'campaign.toml'} 已存在（可能已手工改过），未覆盖；请换一个目录，或先移走该文件")
    loaded = write(drafted, output_folder(target))
    click.echo(f"已起草活动定义：{target}（campaign.toml 与 {len(drafted.forms)} 个空白表格）")
    campaign_summary(loaded)
    for line in unclear_lines(drafted.unclear, drafted.notes):
        click.echo(line)
    click.echo(f"下一步：核对并修改 {target / 'campaign.toml'}，运行 intake campaign check {target}；"
               f"无误后在配置文件中写上 [campaign] definition = \"{target}\"（多个活动用 [[campaigns]]）。")


@campaign.command("check", help="检查活动定义目录（不写 DIR 时检查配置文件中的每个活动），"
                                "以表格列出机器人读到的报送事项、截止时间和各表格的栏目。")
@click.argument("directory", metavar="[DIR]", required=False)
@config_option
@click.pass_context
def campaign_check(ctx: click.Context, directory: str | None, config_after: str | None) -> None:
    from .campaign.definition import load_campaign, resolve
    from .present.campaign_view import campaign_summary

    if directory:
        campaigns = [load_campaign(directory)]
    else:
        config = load_config(find_config_path(config_after or ctx.obj.get("config")))
        campaigns = [resolve(c) for c in (config.campaigns or (config.campaign,))]
    for n, loaded in enumerate(campaigns):
        if n:
            click.echo("")
        campaign_summary(loaded)
    click.echo(f"定义无误：{len(campaigns)} 个活动。")


@campaign.command("show", help="列出一个活动的报送事项和各表格的栏目（key、名称、类型、位置），供脚本使用。")
@click.option("--campaign", "campaign_name", metavar="NAME", default=None,
              help="活动（目录名或名称；默认当前进行中的活动，否则最近的一个）")
@json_option
@command()
def campaign_show(config: Config, campaign_name: str | None, as_json: bool) -> None:
    chosen = _intake(config).for_campaign(campaign_name).campaign
    if as_json:
        click.echo(json.dumps(chosen.as_json(), ensure_ascii=False, indent=1))
        return
    from .present.campaign_view import campaign_summary

    campaign_summary(chosen)


@main.command(help="检查配置，并登录 IMAP 与 SMTP 服务器，逐项说明问题。")
@command()
def check(config: Config) -> None:
    from .admin import run_checks
    from .logsetup import config_secrets, redact

    ok = True
    secrets = config_secrets(config)
    for good, line in run_checks(config):
        click.echo({True: "✓ ", None: "! ", False: "✗ "}[good] + redact(line, secrets))
        ok = ok and good is not False
    if not ok:
        sys.exit(1)


@main.command(help="离线读取 .eml 邮件或附件文件，按收取时的方式识别并列出结果；不读写数据库、邮箱和发件队列。")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@json_option
@command()
def inspect(config: Config, files: tuple[str, ...], as_json: bool) -> None:
    from .inspect import inspect_paths, render_text

    results = inspect_paths(config, files)
    if as_json:
        click.echo(json.dumps([doc for _, doc, _ in results], ensure_ascii=False, indent=1))
    else:
        texts = [render_text(ins) for ins, _, _ in results if ins is not None]
        if texts:
            click.echo("\n\n".join(texts))
    failures = [line for _, _, line in results if line]
    for line in failures:
        click.echo(f"错误：{line}", err=True)
    if failures:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
