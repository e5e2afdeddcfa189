"""Every command fails in one line: a bad output path, an unwritable folder, a full disk, a
locked database, a missing storage folder, a bad config path. Each case runs the real `intake`
as a subprocess and expects one Chinese line on stderr starting with 错误：, exit 1, no
traceback, and nothing half-written under the name asked for.

The installation the cases break is a real one — mail fetched from Dovecot by `intake poll`
into a SQLite database — copied afresh for every case. The database cases are about SQLite's
file (its folder, its disk, its lock), so the installation uses SQLite on either test backend.
Read-only and full disks are real tmpfs mounts (the tests run as root, as CI does); as root no
folder is unwritable by permission, so a read-only file system stands for an unwritable one.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import pytest

from bot.cli import main
from bot.store.db import BUSY_TIMEOUT_SECONDS
from tests.conftest import ROOT, new_setup
from tests.fixtures.commands import weekly_mail
from tests.fixtures.outages import fill, sqlite_write_lock, tmpfs

# What must never reach the admin: a traceback, or the system's English words for an error.
ENGLISH = ("Traceback", "Errno", "No such file", "Read-only", "No space", "Permission denied", "Is a directory",
           "Not a directory", "database is locked", "File exists", "disk is full", "disk I/O", "unable to open")


@pytest.fixture(scope="module")
def world(tmp_path_factory, dovecot, smtp_sink):
    """A working installation: two weekly reports fetched, recorded and answered."""
    setup = new_setup(tmp_path_factory.mktemp("world"), dovecot, smtp_sink, db_url="sqlite:///intake.db")
    setup.append(weekly_mail())
    setup.append(weekly_mail(mid="<w2@example.test>", subject="桐城市总工会第二周工作开展情况",
                             body="本周开展隐患排查5次，参加职工200人；组织观看警示教育片2场。"))
    proc = intake(setup.dir, setup.config_path, "poll")
    assert proc.returncode == 0, proc.stderr
    return setup


def intake(cwd: Path, config: Path | None, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)  # this tree's bot, whatever folder the admin is in
    head = ["--config", str(config)] if config else []
    return subprocess.run([sys.executable, "-m", "bot", *head, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


class Case:
    """One copy of the installation, and the broken things a case puts around it."""

    def __init__(self, world, tmp: Path, stack: ExitStack):
        self.world = world
        self.home = tmp / "install"
        shutil.copytree(world.dir, self.home)
        self.config = self.home / "config.toml"
        self.config.chmod(0o600)  # as `check` advises: its hint is not what these cases are about
        self.work = tmp / "work"  # the admin's current folder
        self.work.mkdir()
        self.a_file = self.work / "notes.txt"
        self.a_file.write_text("一个普通文件\n", encoding="utf-8")
        self.tmp = tmp
        self.stack = stack
        self.full_disk: Path | None = None

    def set(self, old: str, new: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        assert old in text, old
        self.config.write_text(text.replace(old, new, 1), encoding="utf-8")

    def read_only(self) -> Path:
        return self.stack.enter_context(tmpfs(self.tmp / "read-only", "1m", read_only=True))

    def full(self, holding: Path | None = None) -> Path:
        """A small disk (holding a copy of `holding`) with not one block free."""
        self.full_disk = self.stack.enter_context(tmpfs(self.tmp / "full", "2m" if holding else "256k"))
        if holding:
            shutil.copy(holding, self.full_disk)
        fill(self.full_disk)
        return self.full_disk

    def run(self, *args) -> subprocess.CompletedProcess:
        return intake(self.work, self.config, *args)

    def outcomes(self) -> list[tuple[int, str]]:
        proc = self.run("messages", "--json")
        assert proc.returncode == 0, proc.stderr
        return [(r["id"], r["outcome"]) for r in json.loads(proc.stdout)]


@pytest.fixture
def case(world, tmp_path):
    with ExitStack() as stack:
        yield Case(world, tmp_path, stack)


def one_line_failure(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误："), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not any(word in proc.stderr for word in ENGLISH), proc.stderr
    return lines[0]


# ---------------------------------------------------------------------------- files the admin asked for


OUTPUT_FILE_CASES: dict[str, tuple[Callable[[Case], Path], tuple[str, ...]]] = {
    "missing folder": (lambda c: c.work / "nowhere" / "汇总.xlsx", ("nowhere", "不存在")),
    "a folder": (lambda c: c.work, ("是文件夹", "请给出文件名")),
    "not .xlsx": (lambda c: c.work / "out.csv", ("out.csv", "须以 .xlsx 结尾")),
    "under a file": (lambda c: c.a_file / "汇总.xlsx", ("notes.txt", "不是文件夹")),
    "read-only disk": (lambda c: c.read_only() / "汇总.xlsx", ("文件系统只读",)),
    "full disk": (lambda c: c.full() / "汇总.xlsx", ("汇总.xlsx", "磁盘空间不足")),
}


@pytest.mark.parametrize("command", ["export", "digest --out"])
@pytest.mark.parametrize("problem", list(OUTPUT_FILE_CASES))
def test_an_output_file_that_cannot_be_written(case, command, problem):
    where, needles = OUTPUT_FILE_CASES[problem]
    target = where(case)
    before = sorted(p.name for p in case.work.iterdir())
    one_line_failure(case.run(*command.split(), target), *needles)
    assert sorted(p.name for p in case.work.iterdir()) == before  # out.csv was not written either
    if case.full_disk:
        assert [p.name for p in case.full_disk.iterdir()] == [".filler"]  # no half-written workbook


def test_export_replaces_a_workbook_whole(case):
    target = case.work / "全部数据.xlsx"
    assert case.run("export", target).returncode == 0
    first = target.read_bytes()
    assert first[:2] == b"PK" and not [p for p in case.work.iterdir() if p.name.startswith(".")]
    proc = case.run("export", "全部数据.xlsx")  # relative to the admin's folder
    assert proc.returncode == 0 and "已导出：全部数据.xlsx" in proc.stdout
    assert target.read_bytes()[:2] == b"PK"


SEED_NOTICE = ROOT.parent / "shared" / "seed" / "000_350574b689c903f2.txt"
FOLDER_CASES: dict[str, tuple[Callable[[Case], Path], tuple[str, ...]]] = {
    "a file": (lambda c: c.a_file, ("notes.txt", "不是文件夹")),
    "under a file": (lambda c: c.a_file / "forms", ("notes.txt", "不是文件夹")),
    "read-only disk": (lambda c: c.read_only() / "forms", ("文件系统只读",)),
    "full disk": (lambda c: c.full() / "forms", ("磁盘空间不足",)),
}
FOLDER_COMMANDS = {"templates": lambda d: ["templates", d], "init": lambda d: ["init", d],
                   "demo": lambda d: ["demo", "--dir", d, "--speed", "0"],
                   "campaign new": lambda d: ["campaign", "new", str(SEED_NOTICE), "--out", d]}


@pytest.mark.parametrize("command", list(FOLDER_COMMANDS))
@pytest.mark.parametrize("problem", list(FOLDER_CASES))
def test_an_output_folder_that_cannot_be_written(case, command, problem):
    where, needles = FOLDER_CASES[problem]
    one_line_failure(intake(case.work, None, *FOLDER_COMMANDS[command](where(case))), *needles)
    if command == "init" and case.full_disk:
        # nothing half-written is left to block the next `intake init` once there is room
        assert not (case.full_disk / "forms" / "config.toml").exists()
        (case.full_disk / ".filler").unlink()
        again = intake(case.work, None, "init", case.full_disk / "forms")
        assert again.returncode == 0, again.stderr


def _roster_file_at(c: Case, folder: Path) -> list:
    """The config's roster file moved to `folder`; the source is the installation's own."""
    c.set('file = "units.csv"', f'file = "{folder}/units.csv"')
    return [c.home / "units.csv"]


ROSTER_CASES: dict[str, tuple[Callable[[Case], list], tuple[str, ...]]] = {
    "missing source": (lambda c: [c.work / "单位名单.xlsx"], ("找不到文件", "单位名单.xlsx")),
    "source is a folder": (lambda c: [c.work], ("这是一个文件夹",)),
    "target on a read-only disk": (lambda c: _roster_file_at(c, c.read_only()), ("文件系统只读",)),
    "target on a full disk": (lambda c: _roster_file_at(c, c.full()), ("磁盘空间不足",)),
    "target under a file": (lambda c: _roster_file_at(c, c.a_file), ("notes.txt", "不是文件夹")),
}


@pytest.mark.parametrize("problem", list(ROSTER_CASES))
def test_roster_import_that_cannot_read_or_write(case, problem):
    args, needles = ROSTER_CASES[problem]
    one_line_failure(case.run("roster", "import", *args(case)), *needles)
    if case.full_disk:
        assert [p.name for p in case.full_disk.iterdir()] == [".filler"]


# ---------------------------------------------------------------------------- the storage folder


@pytest.mark.parametrize("args", [["reprocess", "--all"], ["reprocess", "1"], ["assign", "2", "桐城市总工会"]])
def test_a_missing_storage_folder_changes_nothing(case, args):
    """The store moved away (a disk not mounted): reading the mails again would turn every
    recorded one into a read failure for review."""
    before = case.outcomes()
    assert [o for _, o in before] == ["accepted", "accepted"]
    (case.home / "store").rename(case.home / "store-elsewhere")
    one_line_failure(case.run(*args), "邮件存储目录", "原件", "未做任何改动")
    assert case.outcomes() == before


def test_one_missing_original_is_skipped_and_named(case):
    before = case.outcomes()
    victim = next((case.home / "store" / "mail").rglob("*.eml"))
    victim.unlink()
    proc = case.run("reprocess", "--all")
    assert proc.returncode == 0, proc.stderr
    assert "重新处理 1 封" in proc.stdout and "1 封的原件不在存储目录中，未处理" in proc.stdout
    assert case.outcomes() == before


STORAGE_CASES: dict[str, tuple[Callable[[Case], str], tuple[str, ...]]] = {
    "read-only disk": (lambda c: str(c.read_only() / "store"), ("邮件存储目录", "文件系统只读")),
    "a file": (lambda c: str(c.a_file), ("邮件存储目录", "不是文件夹")),
    "under a file": (lambda c: str(c.a_file / "store"), ("邮件存储目录", "不是文件夹")),
}


@pytest.mark.parametrize("problem,command", [("read-only disk", "poll"), ("read-only disk", "run"),
                                             ("read-only disk", "mark-handled"), ("a file", "poll"),
                                             ("under a file", "run")])
def test_a_storage_folder_that_cannot_be_written(case, command, problem):
    where, needles = STORAGE_CASES[problem]
    case.set('dir = "store"', f'dir = "{where(case)}"')
    one_line_failure(case.run(command), *needles)


def test_a_full_storage_disk_leaves_the_mail_on_the_server(case):
    full = case.full()
    case.set('dir = "store"', f'dir = "{full}"')
    case.world.append(weekly_mail(mid="<w3@example.test>", subject="桐城市总工会第三周工作开展情况",
                                  body="本周开展应急演练1次，参加职工80人。"))
    one_line_failure(case.run("poll"), "无法保存邮件", "磁盘空间不足", "稍后重取")
    assert [o for _, o in case.outcomes()] == ["accepted", "accepted"]


# ---------------------------------------------------------------------------- the database


DATABASE_CASES: dict[str, tuple[Callable[[Case], str], tuple[str, ...]]] = {
    "folder on a read-only disk": (lambda c: f"{c.read_only()}/db/intake.db", ("数据库所在的文件夹", "文件系统只读")),
    "file on a read-only disk": (lambda c: f"{c.read_only()}/intake.db", ("无法打开数据库", "无法打开数据库文件")),
    "a folder": (lambda c: str(c.work), ("无法打开数据库", "无法打开数据库文件")),
    "under a file": (lambda c: f"{c.a_file}/intake.db", ("数据库所在的文件夹", "不是文件夹")),
    "on a full disk": (lambda c: f"{c.full(holding=c.home / 'intake.db')}/intake.db", ("无法打开数据库", "磁盘已满")),
}


# Every command opens the database the same way (the locked case below runs them all): one
# command a problem.
@pytest.mark.parametrize("problem,command", list(zip(DATABASE_CASES, [
    ["status"], ["reprocess", "--all"], ["export", "x.xlsx"], ["messages"], ["assign", "1", "桐城市总工会"]])))
def test_a_database_that_cannot_be_opened(case, command, problem):
    where, needles = DATABASE_CASES[problem]
    case.set('url = "sqlite:///intake.db"', f'url = "sqlite:///{where(case)}"')
    one_line_failure(case.run(*command), *needles)


def test_a_database_locked_by_another_process(case):
    """Every command that opens the database, while another process holds its write lock for
    longer than the busy timeout: all run at once, so the test waits the timeout once."""
    commands = [["status"], ["report"], ["messages"], ["export", "x.xlsx"], ["digest"], ["remind", "--dry-run"],
                ["reprocess", "--all"], ["assign", "1", "桐城市总工会"], ["poll"], ["run"], ["mark-handled"]]
    with sqlite_write_lock(case.home / "intake.db"):
        with ThreadPoolExecutor(len(commands) + 1) as pool:
            check = pool.submit(case.run, "check")
            runs = list(pool.map(lambda args: case.run(*args), commands))
            checked = check.result()
    for args, proc in zip(commands, runs):
        one_line_failure(proc, "锁定", f"{BUSY_TIMEOUT_SECONDS} 秒")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert any(line.startswith("✗ ") and "锁定" in line for line in checked.stdout.splitlines()), checked.stdout
    assert not (case.work / "x.xlsx").exists()
    assert [o for _, o in case.outcomes()] == ["accepted", "accepted"]  # once the lock is gone, all is there


# ---------------------------------------------------------------------------- the config file

# every command that reads the config, with arguments that would otherwise do something
CONFIG_COMMANDS = {
    "poll": [], "run": [], "mark-handled": [], "status": [], "report": [], "messages": [],
    "assign": ["1", "桐城市总工会"], "reprocess": ["--all"], "remind": ["--dry-run"], "digest": [],
    "export": ["x.xlsx"], "roster import": ["units.csv"], "check": [], "inspect": ["mail.eml"],
    "campaign check": [], "campaign show": ["--json"],
}
NO_CONFIG_COMMANDS = set(FOLDER_COMMANDS)


def _command_names(group, prefix="") -> set[str]:
    names = set()
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            names |= _command_names(cmd, f"{prefix}{name} ")
        else:
            names.add(prefix + name)
    return names


def test_every_command_is_in_these_tables():
    """A new command joins the tables here, so that its failures are tried too."""
    assert _command_names(main) == set(CONFIG_COMMANDS) | NO_CONFIG_COMMANDS


def test_a_bad_config_path_for_every_command(case):
    """A missing config for every command; the other bad files (read by the same loader) for a
    few."""
    (case.work / "mail.eml").write_bytes(weekly_mail())
    shutil.copy(case.home / "units.csv", case.work / "units.csv")
    (case.work / "latin1.toml").write_bytes("[mailbox]\nhost = \"caf\xe9\"\n".encode("latin-1"))
    runs = [(case.work / "nope" / "config.toml", ("找不到配置文件", "nope"), command) for command in CONFIG_COMMANDS]
    runs += [(case.work, ("无法读取配置文件", "这是一个文件夹"), command) for command in ("status", "poll")]
    runs += [(case.work / "latin1.toml", ("不是 UTF-8 编码",), command) for command in ("check", "roster import")]
    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda r: intake(case.work, r[0], *r[2].split(), *CONFIG_COMMANDS[r[2]]), runs))
    for (path, needles, command), proc in zip(runs, procs):
        try:
            one_line_failure(proc, *needles)
        except AssertionError as exc:
            raise AssertionError(f"{command} --config {path}: {exc}") from None


def test_a_misspelt_key_fails_check(case):
    """`poll_second = 60` used to pass `check` with ✓ and be ignored."""
    case.set("poll_seconds = 1", "poll_second = 1")
    proc = case.run("check")
    one_line_failure(proc, "[mailbox] poll_second", "[mailbox] poll_seconds")
    assert "✓" not in proc.stdout
    case.set("poll_second = 1", "poll_seconds = 1")
    case.set("[organizers]", "[organiser]")
    one_line_failure(case.run("check"), "[organiser]", "[organizers]")


def test_a_toml_syntax_error_names_the_line(case):
    case.set('weekday = "thursday"', "weekday = thursday")
    line = next(n for n, text in enumerate(case.config.read_text(encoding="utf-8").splitlines(), 1)
                if text == "weekday = thursday")
    one_line_failure(case.run("status"), f"第 {line} 行", "weekday = thursday", "英文双引号")
