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

from .campaign.roster import RosterError
from .config import Config, ConfigError, find_config_path, load_config
from .mail.imap import MailboxError
from .mail.outbox import SmtpError
from .store.db import DatabaseError

OUTCOME_LABELS = {"accepted": "已登记", "needs_review": "待人工处理", "duplicate": "重复",
                  "auto_reply": "自动回复（不答复）", "ignored": "已忽略", "pending": "待处理"}
EXPECTED = (ConfigError, RosterError, MailboxError, SmtpError, DatabaseError)


class Failure(click.ClickException):
    """An expected failure: one line on stderr, exit 1."""

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.message}", err=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")


def config_option(f: Callable) -> Callable:
    """--config accepted after the command name too (it wins over the one before)."""
    return click.option("--config", "config_after", metavar="PATH", default=None,
                        help="配置文件路径（默认 $INTAKE_CONFIG 或 ./config.toml）")(f)


def command(verbose: bool = False):
    """Wrap a subcommand: load the config, turn expected failures into one line."""
    def deco(f: Callable) -> Callable:
        @config_option
        @click.pass_context
        @functools.wraps(f)
        def wrapper(ctx: click.Context, config_after: str | None, **kwargs):
            _setup_logging(verbose)
            path = find_config_path(config_after or ctx.obj.get("config"))
            try:
                config = load_config(path)
                return f(config, **kwargs)
            except EXPECTED as exc:
                raise Failure(str(exc)) from None
        return wrapper
    return deco


def _intake(config: Config):
    from .pipeline import Intake

    return Intake.from_config(config)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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

    result = poll_once(_intake(config))
    parts = "，".join(f"{OUTCOME_LABELS.get(k, k)} {v}" for k, v in sorted(result.outcomes.items()))
    click.echo(f"收取 {result.fetched} 封，新邮件 {result.new} 封{('（' + parts + '）') if parts else ''}；"
               f"发出 {result.sent.sent} 封，待重试 {result.sent.deferred} 封，失败 {result.sent.failed} 封")


@main.command(help="常驻运行：IDLE 推送或定时轮询，处理并回复，直到收到 SIGTERM/Ctrl-C。")
@command(verbose=True)
def run(config: Config) -> None:
    from .daemon import StopFlag, run_forever

    intake = _intake(config)
    stop = StopFlag()
    stop.install()
    run_forever(intake, stop)


@main.command(help="列出收到的邮件及处理结果。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--state", type=click.Choice(["accepted", "needs_review", "duplicate", "auto_reply", "ignored", "pending"]),
              help="只列出该结果的邮件")
@command()
def messages(config: Config, as_json: bool, state: str | None) -> None:
    from .store.queries import messages_json

    intake = _intake(config)
    with intake.db.session() as s:
        rows = messages_json(s, intake.calendar, state)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from .out.tables import messages_table

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
    click.echo(reprocess_messages(_intake(config), None if all_ else message_id))


@main.command(help="检查配置，并登录 IMAP 与 SMTP 服务器，逐项说明问题。")
@command()
def check(config: Config) -> None:
    from .admin import run_checks

    ok = True
    for good, line in run_checks(config):
        click.echo(("✓ " if good else "✗ ") + line)
        ok = ok and good
    if not ok:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
