"""Where the daemon's log goes: stderr (set up by the CLI) and a rotating file beside the mail
store, so that a clerk can read what happened to a mail last week after the terminal is gone.

Secrets never reach a log: every handler on the way redacts the configured passwords, whatever
a library or an exception message puts into a line. Lines read like the rest of the bot: the
level in Chinese (信息, 警告, 错误); libraries' chatter (the scheduler's ticks, Alembic's
start-up lines) stays out. An exception's own text is logged as it is.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Iterable

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
FILENAME = "intake.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
STDERR_FORMAT = "%(asctime)s %(levelname)s %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"
LEVEL_NAMES = {"DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重错误"}
REDACTED = "******"
# APScheduler logs every tick (once a minute): it would bury the one line per mail.
QUIET_LOGGERS = ("apscheduler",)


class Formatter(logging.Formatter):
    """logging.Formatter with the level named in Chinese."""

    def format(self, record: logging.LogRecord) -> str:
        english = record.levelname
        record.levelname = LEVEL_NAMES.get(english, english)
        try:
            return super().format(record)
        finally:
            record.levelname = english  # the record goes on to other handlers


def stderr_formatter() -> Formatter:
    """What the CLI's stderr handler prints: time, level, message."""
    return Formatter(STDERR_FORMAT, DATEFMT)


def quiet_libraries() -> None:
    """Libraries log only their warnings: their INFO lines are for their own developers."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _ordered(secrets: Iterable[str]) -> list[str]:
    # Longest first, so that a secret containing another is replaced whole; very short values
    # would blank out ordinary words.
    return sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ******."""
    for secret in _ordered(secrets):
        text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's final text with ******."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = _ordered(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc = record.exc_text or ""
        if any(s in text or s in exc for s in self.secrets):
            for s in self.secrets:
                text, exc = text.replace(s, REDACTED), exc.replace(s, REDACTED)
            record.msg, record.args, record.exc_text = text, None, exc or None
        return True


def config_secrets(config) -> list[str]:
    """The passwords the config names: their values, read from the environment, and the one a
    database URL may carry (postgresql://user:PASSWORD@host/db)."""
    out = []
    for server in (config.mailbox, config.smtp):
        if server.password_env and os.environ.get(server.password_env):
            out.append(os.environ[server.password_env])
    try:
        from sqlalchemy.engine import make_url

        password = make_url(config.database_url).password
    except Exception:  # noqa: BLE001 - a malformed URL carries no parseable password
        password = _url_password(config.database_url)
    if password:
        out.append(str(password))
    return out


def _url_password(url: str) -> str | None:
    """user:PASSWORD@ from a URL SQLAlchemy could not parse."""
    rest = url.partition("://")[2]
    credentials, at, _ = rest.rpartition("@")
    return credentials.partition(":")[2] or None if at else None


def redact_handlers(secrets: Iterable[str], logger: logging.Logger | None = None) -> None:
    """Redact `secrets` on every handler already attached to `logger` (the stderr one)."""
    logger = logger or logging.getLogger()
    redact_filter = RedactSecrets(secrets)
    for handler in logger.handlers:
        handler.addFilter(redact_filter)


def readable_by_others(path: Path) -> bool:
    import stat

    try:
        return bool(Path(path).stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


def add_file_log(directory: Path, *, secrets: Iterable[str] = (), logger: logging.Logger | None = None,
                 level: int = logging.INFO) -> Path | None:
    """Attach DIR/intake.log (rotated at 5 MB, 5 old files kept) to `logger` (default: the
    root logger) and redact `secrets` on every handler of that logger. Returns the file's path,
    or None (after one warning on stderr) when the folder cannot be written: a log file is not
    worth refusing to run for."""
    logger = logger or logging.getLogger()
    quiet_libraries()  # also when the file cannot be written: stderr is INFO for these commands
    redact = RedactSecrets(secrets)
    for handler in logger.handlers:
        handler.addFilter(redact)
    path = Path(directory) / FILENAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8")
    except OSError as exc:
        from .os_errors import os_reason

        print(f"警告：无法写入日志文件 {path}：{os_reason(exc)}；日志只输出到屏幕", file=sys.stderr)
        return None
    handler.setLevel(level)
    handler.setFormatter(Formatter(FORMAT, DATEFMT))
    handler.addFilter(redact)
    logger.addHandler(handler)
    return path
