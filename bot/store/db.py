"""Engine, schema and sessions. SQLite by default (WAL, busy timeout), PostgreSQL through
psycopg; any SQLAlchemy URL accepted.

The schema is Alembic's (bot/store/migrations): opening a database brings it to the newest
revision, so a fresh database, one made by an older version of the bot, and one made before
there were migrations (Base.metadata.create_all, no alembic_version table: stamped as the
initial revision) all end up the same. Two processes opening one database at once migrate it
once: the check and the upgrade run in one transaction under a lock.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from ..os_errors import os_reason

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
# The newest revision in migrations/versions (tests/store/test_migrations.py checks it): a
# database already there is opened without importing Alembic, which a short command notices.
SCHEMA_HEAD = "0006_campaigns"
# What Base.metadata.create_all made before there were migrations.
PRE_MIGRATION_REVISION = "0001_initial"
# pg_advisory_xact_lock key for migrating: any constant the bot uses for nothing else ("intk").
_MIGRATION_LOCK = 0x696E746B
# How long SQLite waits for another process's write transaction before giving up.
BUSY_TIMEOUT_SECONDS = 30


log = logging.getLogger(__name__)


class DatabaseError(Exception):
    """The database cannot be opened; the message is one Chinese line for the admin."""


class Database:
    def __init__(self, url: str):
        self.url = url
        try:
            if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
                folder = Path(url[len("sqlite:///"):]).parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseError(f"无法建立数据库所在的文件夹 {folder}：{os_reason(exc)}") from None
            self.engine: Engine = create_engine(url, future=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            # the parser's message may quote the whole URL, password and all
            raise DatabaseError(f"数据库地址 [database] url 无效：{_one_line(str(exc).replace(url, '[database] url'))}") from None
        except ImportError as exc:
            raise DatabaseError(f"缺少数据库驱动 {exc.name or exc}（PostgreSQL 请 pip install psycopg[binary]）") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            migrate(self.engine)
        except DBAPIError as exc:
            self.engine.dispose()
            raise DatabaseError(f"无法打开数据库 {self.engine.url.render_as_string(hide_password=True)}："
                                f"{database_reason(exc, self.engine.url.database if self.engine.dialect.name == 'sqlite' else None)}") from None
        except SchemaError as exc:
            self.engine.dispose()
            raise DatabaseError(str(exc)) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any exception."""
        with self.sessions() as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()


class SchemaError(Exception):
    """The database's schema is not one this version of the bot knows."""


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at; None without an alembic_version table."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.scalar(text("SELECT version_num FROM alembic_version"))


def alembic_config(conn: Connection | None = None):
    """Alembic's configuration for the packaged migrations, on `conn` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.attributes["connection"] = conn
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to SCHEMA_HEAD (`alembic upgrade head`); nothing to do is one query."""
    with engine.connect() as conn:
        if schema_revision(conn) == SCHEMA_HEAD:
            return
    with engine.begin() as conn:
        # Serialise migrating processes: SQLite's transaction already holds the write lock
        # (BEGIN IMMEDIATE, below); PostgreSQL runs DDL in the transaction, under this lock.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        current = schema_revision(conn)
        if current == SCHEMA_HEAD:
            return  # another process migrated while this one waited for the lock
        # Alembic's own INFO lines are for developers: "setup plugin ..." when it is first
        # imported, "Context impl SQLiteImpl." when it runs. The admin gets the one line below.
        alembic_log = logging.getLogger("alembic")
        level = alembic_log.level
        alembic_log.setLevel(logging.WARNING)
        try:
            from alembic import command
            from alembic.util import CommandError

            cfg = alembic_config(conn)
            try:
                if current is None and inspect(conn).has_table("messages"):
                    command.stamp(cfg, PRE_MIGRATION_REVISION)
                    current = PRE_MIGRATION_REVISION
                command.upgrade(cfg, "head")
            except CommandError as exc:
                raise SchemaError(f"数据库结构版本 {current} 不是本程序所知的版本（可能由更新版本的程序创建）：{exc}") from None
        finally:
            alembic_log.setLevel(level)
    log.info("数据库结构已%s到版本 %s", "建立" if current is None else f"从 {current} 升级", SCHEMA_HEAD)


# SQLite's words for what an admin can put right, in Chinese; other messages stay as they are
_SQLITE_REASONS = (
    ("database is locked", f"数据库被另一个程序锁定，等待 {BUSY_TIMEOUT_SECONDS} 秒仍未释放（请稍后重试，或关闭正在使用它的程序）"),
    ("database or disk is full", "数据库所在的磁盘已满"),
    ("attempt to write a readonly database", "数据库文件只读（没有写入权限，或磁盘只读）"),
    ("unable to open database file", "无法打开数据库文件（文件夹不存在、没有权限或磁盘只读）"),
    ("disk I/O error", "磁盘读写错误"),
    ("file is not a database", "文件不是 SQLite 数据库"),
    ("database disk image is malformed", "数据库文件已损坏"),
)


def database_reason(exc: DBAPIError, sqlite_file: str | None = None) -> str:
    """One line saying why a database statement failed, for the admin. SQLite that cannot
    make its -wal/-shm files on a full disk says "disk I/O error": with the file's name given,
    a disk without a free block is named as the reason."""
    text = _one_line(str(exc.orig))
    if sqlite_file and sqlite_file != ":memory:" and "disk I/O error" in text:
        try:
            if os.statvfs(Path(sqlite_file).parent).f_bavail == 0:
                return "数据库所在的磁盘已满"
        except OSError:
            pass
    return next((zh for en, zh in _SQLITE_REASONS if en in text), text)


def _one_line(text: str) -> str:
    return " ".join(text.split())  # psycopg's messages carry a hint on a second line


def _sqlite_connect(dbapi_connection, _record) -> None:
    # The driver's own transaction handling would start transactions late (before the first
    # write) and outside DDL; _sqlite_begin starts every one instead.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    # The busy timeout rides out a short lock held by another process instead of failing at
    # once; set first, since switching a new file to WAL takes a lock too (two daemons starting
    # on one new file). WAL lets the admin's `intake status` read while the daemon writes.
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    _with_retry(lambda: cur.execute("PRAGMA journal_mode=WAL"))
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _with_retry(statement, seconds: float = 30.0) -> None:
    """Changing the journal mode of a file another process is opening can fail with "database
    is locked" at once, without the busy handler: try again for a while."""
    import sqlite3
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock at the start, waiting (busy timeout) for another process's
    # transaction to end. A deferred transaction that reads and then writes fails at once with
    # SQLITE_BUSY when another process wrote in between (no waiting can help it), which is
    # what two daemons on one SQLite file do all the time. It also makes migrations atomic.
    conn.exec_driver_sql("BEGIN IMMEDIATE")
