"""Back up (or restore) one intake setup: database, mail store, config and roster.

    python deploy/backup.py --config /var/lib/intake/config.toml --dest /var/backups/intake
    python deploy/backup.py --config /var/lib/intake/config.toml --restore /var/backups/intake/latest

Run by deploy/intake-backup.service (daily, deploy/intake-backup.timer) as user intake, with
the project's virtualenv python; docs/部署指南.md, 第 8 节. Each backup is one folder
`<dest>/YYYYmmdd-HHMMSS/` that is complete by itself:

    intake.db        SQLite: a consistent copy made with SQLite's online backup API while the
                     bot runs (never a copy of the live file)
    intake.pgdump    PostgreSQL instead: `pg_dump --format=custom` (pg_restore reads it)
    store/           the [storage] dir (raw mail, attachments, logs) without the live database
                     files; a file unchanged since the previous backup is a hard link to it, so a
                     daily backup costs the new mail only
    config.toml      the configuration (mode 0600 kept; the passwords are not in it)
    units.csv        the roster ([roster] file)
    backup.json      where each came from, what the database is

The database is copied first, then the store: every mail the copied database knows was in
the store before the copy began (stored files are written once, under their hash), so the
pair is consistent while the bot keeps running. `<dest>/latest` points at the newest backup;
the oldest beyond --keep are removed. A backup that fails half-way leaves only a
`.partial-*` folder, removed by the next run.

--restore puts a backup's database and store back into the places the configuration names
(stop the service first): the SQLite file is rewritten through the backup API, PostgreSQL is
`pg_restore --clean --if-exists --no-owner --single-transaction` into the configured
database; store files missing or different are copied back, files newer than the backup are
left alone. config.toml and units.csv are left for the admin to copy back by hand if lost.

Expected failures print one Chinese line on stderr and exit 1.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import ConfigError, find_config_path, load_config

STAMP = "%Y%m%d-%H%M%S"
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


class BackupError(Exception):
    pass


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (config.py already made a relative one absolute)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    if not u.database or u.database == ":memory:":
        raise BackupError(f"数据库 {url} 不是文件，无法备份")
    return Path(u.database)


def pg_env(url: str) -> tuple[dict[str, str], str]:
    """libpq's environment for pg_dump/pg_restore (the password never on a command line) and
    the database name."""
    u = make_url(url)
    env = dict(os.environ)
    host = u.host or u.query.get("host")
    for key, value in (("PGHOST", host), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
        if value:
            env[key] = str(value)
    if not u.database:
        raise BackupError(f"数据库地址 {u.render_as_string(hide_password=True)} 没有写数据库名")
    return env, u.database


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"未找到 {name}：请安装 PostgreSQL 客户端（apt-get install postgresql-client，"
                          "版本不低于数据库服务器）")
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or [f"退出码 {proc.returncode}"])[-1]
        raise BackupError(f"{what}失败：{last}")


def _skip(path: Path, live_db: set[Path]) -> bool:
    return path in live_db or path.name.startswith(".tmp-")


def copy_store(src: Path, dst: Path, previous: Path | None, live_db: set[Path]) -> tuple[int, int]:
    """Copy the tree `src` to `dst`; a file unchanged since `previous` (same size and
    modification time) is hard-linked to it. Returns (files, bytes copied)."""
    files = copied = 0
    for folder, dirs, names in os.walk(src):
        dirs.sort()
        here = Path(folder)
        rel = here.relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(names):
            path = here / name
            if _skip(path, live_db) or not path.is_file():
                continue
            target = dst / rel / name
            st = path.stat()
            old = previous / rel / name if previous else None
            if old is not None and _same(old, st):
                os.link(old, target)
            else:
                shutil.copy2(path, target)
                copied += st.st_size
            files += 1
    return files, copied


def _same(path: Path, st: os.stat_result) -> bool:
    try:
        o = path.stat()
    except OSError:
        return False
    return o.st_size == st.st_size and o.st_mtime_ns == st.st_mtime_ns


def backup(config_path: Path, dest: Path, keep: int, now: datetime | None = None) -> str:
    config = load_config(config_path)
    now = now or datetime.now(config.campaign.timezone)
    dest.mkdir(parents=True, exist_ok=True)
    for stale in dest.glob(".partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    name = stamp = now.strftime(STAMP)
    n = 1
    while (dest / name).exists():  # two backups within one second
        name, n = f"{stamp}.{n}", n + 1
    db_file = sqlite_path(config.database_url)
    if db_file is not None and not db_file.is_file():
        raise BackupError(f"数据库文件 {db_file} 不存在（[database] url），没有可备份的数据")
    work = dest / f".partial-{name}"
    work.mkdir()
    try:
        previous = _latest(dest)
        if db_file is not None:
            src = sqlite3.connect(db_file)
            dst = sqlite3.connect(work / "intake.db")
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file; the bot turns WAL on again
            finally:
                dst.close()
                src.close()
            database = {"kind": "sqlite", "file": "intake.db", "from": str(db_file)}
            live = {Path(f"{db_file}{s}") for s in DB_SUFFIXES}
        else:
            env, dbname = pg_env(config.database_url)
            _run([_tool("pg_dump"), "--format=custom", f"--file={work / 'intake.pgdump'}", dbname], env, "pg_dump 备份数据库")
            database = {"kind": "postgresql", "file": "intake.pgdump",
                        "from": make_url(config.database_url).render_as_string(hide_password=True)}
            live = set()

        files, copied = copy_store(config.storage_dir, work / "store", previous / "store" if previous else None, live)
        shutil.copy2(config.path, work / "config.toml")
        if config.roster_file.is_file():
            shutil.copy2(config.roster_file, work / "units.csv")
        (work / "backup.json").write_text(json.dumps({
            "made": now.isoformat(timespec="seconds"), "config": str(config.path.resolve()),
            "database": database, "store": str(config.storage_dir), "roster": str(config.roster_file),
            "store_files": files}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        work.rename(dest / name)
        _point_latest(dest, name)
        removed = _prune(dest, keep)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return (f"已备份到 {dest / name}：数据库、邮件存档 {files} 个文件（新复制 {copied / 1e6:.1f} MB）、配置与单位名单"
            + (f"；删除了 {removed} 份旧备份" if removed else ""))


def _backups(dest: Path) -> list[Path]:
    out = []
    for p in dest.iterdir():
        try:
            datetime.strptime(p.name.partition(".")[0], STAMP)
        except ValueError:
            continue
        if p.is_dir() and not p.is_symlink():
            out.append(p)
    return sorted(out, key=lambda p: p.name)


def _latest(dest: Path) -> Path | None:
    found = _backups(dest)
    return found[-1] if found else None


def _point_latest(dest: Path, name: str) -> None:
    tmp = dest / ".latest-new"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(name)
    os.replace(tmp, dest / "latest")


def _prune(dest: Path, keep: int) -> int:
    old = _backups(dest)[:-keep] if keep > 0 else []
    for p in old:
        shutil.rmtree(p)
    return len(old)


def restore(config_path: Path, source: Path) -> str:
    config = load_config(config_path)
    source = source.resolve()
    meta_file = source / "backup.json"
    if not meta_file.is_file():
        raise BackupError(f"{source} 不是备份目录（其中没有 backup.json）")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    db_file = sqlite_path(config.database_url)
    kind = meta["database"]["kind"]
    if (kind == "sqlite") != (db_file is not None):
        raise BackupError(f"备份中的数据库是 {kind}，而配置 [database] url 是另一种数据库，不能直接恢复")
    snapshot = source / meta["database"]["file"]
    if not snapshot.is_file():
        raise BackupError(f"备份目录 {source} 中缺少数据库文件 {snapshot.name}")
    live = {Path(f"{db_file}{s}") for s in DB_SUFFIXES} if db_file else set()
    files = 0
    store = source / "store"
    if store.is_dir():
        for folder, _dirs, names in os.walk(store):
            here = Path(folder)
            rel = here.relative_to(store)
            (config.storage_dir / rel).mkdir(parents=True, exist_ok=True)
            for name in names:
                target = config.storage_dir / rel / name
                if target in live:
                    continue
                if not _same(target, (here / name).stat()):
                    shutil.copy2(here / name, target)
                    files += 1
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(snapshot)
        dst = sqlite3.connect(db_file)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        env, dbname = pg_env(config.database_url)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={dbname}", str(snapshot)], env, "pg_restore 恢复数据库")
    return (f"已从 {source} 恢复数据库（{db_file or meta['database']['from']}）和邮件存档（复制回 {files} 个文件）；"
            f"配置与单位名单的备份在 {source}/config.toml、{source}/units.csv，需要时手动放回")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="备份或恢复机器人的数据库、邮件存档、配置与单位名单。")
    p.add_argument("--config", help="配置文件（默认 $INTAKE_CONFIG 或 ./config.toml）")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--dest", help="备份存放目录：每次备份在其中新建一个以时间命名的目录")
    what.add_argument("--restore", metavar="BACKUP", help="要恢复的备份目录（如 DEST/latest）；请先停止服务")
    p.add_argument("--keep", type=int, default=14, help="保留最近几份备份（默认 14；0 表示全部保留）")
    args = p.parse_args(argv)
    os.umask(0o027)  # as the services' UMask: backups hold the 0600 config and every mail
    try:
        path = find_config_path(args.config)
        if args.dest:
            print(backup(path, Path(args.dest), args.keep))
        else:
            print(restore(path, Path(args.restore)))
    except (BackupError, ConfigError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"错误：备份或恢复失败：{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
