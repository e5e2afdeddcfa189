"""docs/部署指南.md, run as written: every shell block the guide marks `<!-- run: NAME -->` is
executed by bash, in order through a campaign year, against a real setup (the session's
Dovecot and SMTP sink, SQLite or PostgreSQL as INTAKE_TEST_DB says), through the real
`/usr/local/bin/intake` (deploy/intake) and deploy/backup.py.

What differs from a server is said here, once: the layout's folders live below a temporary
directory (/opt/intake is this checkout, /var/lib/intake, /etc/intake, /var/backups/intake
and /tmp are moved below tmp_path), the service user `intake` is the user running the tests
(so `runuser -u intake`, `install -o intake -g intake` name that user; the switch from root
to another user is deploy/intake's first branch, tested on its refusals below), and the
guide's placeholders (这里填授权码, 邮件编号, 单位名称) are filled in. The editing the guide
asks of the admin (config.toml) is done here in Python. The unit files are checked with
systemd-analyze verify on copies with the same paths moved.
"""
from __future__ import annotations

import configparser
import grp
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl

from tests.conftest import ROOT, SAMPLES, fresh_database_url
from tests.fixtures.office_files import expected_messages, sample_attachments
from tests.servers import PASSWORD

GUIDE = ROOT / "docs" / "部署指南.md"
DEPLOY = ROOT / "deploy"
BLOCK = re.compile(r"<!-- run: ([\w-]+) -->\n```(\w*)\n(.*?)```\n", re.S)
ME = pwd.getpwuid(os.geteuid()).pw_name
MY_GROUP = grp.getgrgid(os.getegid()).gr_name
BACKEND = os.environ.get("INTAKE_TEST_DB", "sqlite")


def guide_blocks() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, _lang, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        assert name not in found, f"two blocks named {name}"
        found[name] = body
    return found


class Server:
    """The guide's layout below `base`, and bash running its blocks there as root would."""

    def __init__(self, base: Path, dovecot, smtp):
        self.base = base
        self.home = base / "var/lib/intake"
        self.etc = base / "etc/intake"
        self.backups = base / "var/backups/intake"
        self.tmp = base / "tmp"
        self.admin = base / "root"  # where the admin stands when a block does not cd
        for d in (self.home, self.tmp, self.admin, base / "etc", base / "var/backups", base / "usr/local/bin"):
            d.mkdir(parents=True, exist_ok=True)
        # 2. 安装's last line, `install -m 0755 /opt/intake/deploy/intake /usr/local/bin/intake`
        subprocess.run(["install", "-m", "0755", str(DEPLOY / "intake"), str(base / "usr/local/bin/intake")], check=True)
        self.dovecot, self.smtp = dovecot, smtp
        self.user = f"g{os.getpid()}x{id(self) % 100000}"
        self.blocks = guide_blocks()
        self.ran: list[str] = []
        self.sent_before = len(smtp.received)

    def moved(self, text: str) -> str:
        places = {"/opt/intake": str(ROOT), "/var/lib/intake": str(self.home), "/etc/intake": str(self.etc),
                  "/var/backups/intake": str(self.backups), "/tmp/": f"{self.tmp}/"}
        text = re.sub("|".join(map(re.escape, places)), lambda m: places[m.group(0)], text)  # one pass
        text = re.sub(r"(-[uo]) intake\b", rf"\1 {ME}", text)
        return re.sub(r"-g intake\b", f"-g {MY_GROUP}", text)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("INTAKE_CONFIG", "INTAKE_IMAP_PASSWORD", "INTAKE_SMTP_PASSWORD")}
        env.update(PATH=f"{self.base / 'usr/local/bin'}:{env['PATH']}", INTAKE_USER=ME, INTAKE_CODE=str(ROOT),
                   INTAKE_HOME=str(self.home), INTAKE_SECRETS=str(self.etc / "secrets.env"))
        return env

    def bash(self, script: str, *, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run(["bash", "-e", "-c", script], cwd=self.admin, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"{script}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        return proc

    def run(self, name: str, **placeholders: str) -> str:
        """The guide's block `name`, as written (layout moved, placeholders filled); its stdout."""
        text = self.moved(self.blocks[name])
        for key, value in placeholders.items():
            assert key in text, f"block {name} has no placeholder {key}"
            text = text.replace(key, value)
        self.ran.append(name)
        return self.bash(text).stdout

    def intake(self, *args: str) -> subprocess.CompletedProcess:
        """A command of the test's own (not the guide's), through the same wrapper."""
        return self.bash(f"cd {shlex.quote(str(self.home))} && intake {shlex.join(args)}")

    def json(self, *args: str):
        return json.loads(self.intake(*args, "--json").stdout)

    def append(self, raw: bytes, when: datetime) -> None:
        self.dovecot.append(self.user, raw, when)

    @property
    def sent(self):
        return self.smtp.received[self.sent_before:]


def admin_edits_config(path: Path, server: Server, *, year: int, db_url: str | None) -> None:
    """What the guide asks the admin to edit in config.toml: the mailbox and SMTP server (here
    the test's Dovecot and sink), and for a new year the campaign's dates."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("[smtp]")
    smtp, _, tail = rest.partition("[database]")
    head = (head.replace('host = "imap.126.com"', 'host = "127.0.0.1"')
            .replace("port = 993", f"port = {server.dovecot.port}")
            .replace('security = "ssl"', 'security = "none"')
            .replace('username = "aqghljb@126.com"', f'username = "{server.user}"')
            .replace("poll_seconds = 60", "poll_seconds = 1"))
    smtp = (smtp.replace('host = "smtp.126.com"', 'host = "127.0.0.1"')
            .replace("port = 465", f"port = {server.smtp.port}")
            .replace('security = "ssl"', 'security = "none"')
            .replace('username = "aqghljb@126.com"', 'username = ""')
            .replace('password_env = "INTAKE_SMTP_PASSWORD"', 'password_env = ""')
            .replace("max_per_minute = 20", "max_per_minute = 0"))
    tail = re.sub(r"\b2020(?=-|年)", str(year), tail)
    if year == 2021:  # the weekly report days move to 2021's Thursdays
        tail = tail.replace("first = 2021-06-04", "first = 2021-06-03").replace("last = 2021-06-25", "last = 2021-06-24")
    if db_url:
        tail = re.sub(r'^url = ".*?"', f'url = "{db_url}"', tail, count=1, flags=re.M)
    new = f"{head}[smtp]{smtp}[database]{tail}"
    assert new != text
    path.write_text(new, encoding="utf-8")


def office_roster_xlsx(path: Path) -> int:
    """The office's Excel roster with Chinese headers, from the sample roster."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位名称", "别称", "类别", "电子邮箱"])
    lines = (SAMPLES / "roster.csv").read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        unit, aliases, category, emails = line.split(",")
        ws.append([unit, aliases.replace("|", "、"), category, emails.replace("|", "；")])
    wb.save(path)
    return len(lines)


def sample_raw(name: str) -> tuple[bytes, datetime]:
    meta = expected_messages()[name]
    return (SAMPLES / "messages" / name).read_bytes(), datetime.fromisoformat(meta["internaldate"])


def everyday_mail(subject: str, mid: str) -> bytes:
    from email.message import EmailMessage

    m = EmailMessage()
    m["From"] = "市总办公室 <office@example.test>"
    m["To"] = "aqghljb@126.com"
    m["Subject"] = subject
    m["Message-ID"] = mid
    m.set_content("日常工作邮件。", charset="utf-8")
    return m.as_bytes()


def snapshot(server: Server, config: str | None = None) -> dict:
    args = ("--config", config) if config else ()
    return {"status": server.json(*args, "status", "--now", "2020-07-01T00:00:00"),
            "messages": server.json(*args, "messages")}


def drop_everything(server: Server) -> None:
    """A lost disk: the database and the mail store are gone."""
    from bot.config import load_config

    config = load_config(server.home / "config.toml")
    if config.database_url.startswith("sqlite"):
        for p in config.storage_dir.glob("intake.db*"):
            p.unlink()
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(config.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    shutil.rmtree(config.storage_dir / "mail")
    shutil.rmtree(config.storage_dir / "files")


def test_the_guide_through_a_campaign_year_as_written(tmp_path, dovecot, smtp_sink):
    server = Server(tmp_path / "srv", dovecot, smtp_sink)
    db_url = fresh_database_url(tmp_path) if BACKEND == "postgresql" else None

    # -- 3. configuration: init, the passwords, the roster, check
    out = server.run("init")
    config = server.home / "config.toml"
    assert "已生成配置文件" in out and config.is_file()
    # its next steps name the command the admin types (the wrapper), not the venv's own intake
    assert ".venv/bin/intake" not in out and "  intake --config" in out, out
    assert config.stat().st_mode & 0o777 == 0o600 and config.stat().st_uid == os.geteuid()
    admin_edits_config(config, server, year=2020, db_url=db_url)
    server.run("secrets", 这里填授权码=PASSWORD)
    assert (server.etc / "secrets.env").stat().st_mode & 0o777 == 0o640
    units = office_roster_xlsx(server.admin / "各单位联络邮箱.xlsx")
    out = server.run("roster")
    assert f"{units} 个单位" in out, out
    assert list((server.home / "data").glob("units.csv.bak-*")), "the import keeps the example roster"
    out = server.run("check")  # the IMAP password comes only from secrets.env, read by deploy/intake
    assert "✓ IMAP 登录成功" in out and "✓ SMTP 登录成功" in out and "✗" not in out, out

    # -- 4. before going live: test send, marking what the mailbox holds, the first poll
    out = server.run("test-send")
    assert "周汇总已发送" in out and "应发提醒 0 封" in out, out
    assert [r for r in server.sent if "organizer@example.test" in r.rcpt_tos]
    server.append(everyday_mail("五一假期值班安排", "<old1@example.test>"), datetime.fromisoformat("2020-04-28T09:00:00+08:00"))
    server.append(everyday_mail("关于报送一季度工作的通知", "<old2@example.test>"), datetime.fromisoformat("2020-05-27T09:00:00+08:00"))
    out = server.run("mark-handled")
    assert "已存档并标记 2 封邮件为已处理" in out, out
    rows = server.json("messages")
    assert [r["outcome"] for r in rows] == ["ignored", "ignored"]
    raw, when = sample_raw("001.eml")
    server.append(raw, when)
    before = len(server.sent)
    out = server.run("first-poll")
    assert "新邮件 1 封（已登记 1）" in out, out
    assert len(server.sent) == before + 1  # the acknowledgement, nothing for the two old mails

    # -- 6. June: the daemon's work (poll), the daily look, the review of a mail
    for i in range(2, 13):
        server.append(*sample_raw(f"{i:03d}.eml"))
    server.run("first-poll")
    out = server.run("daily")
    review = [r for r in server.json("messages", "--state", "needs_review")]
    assert review, "the sample's unknown sender waits for a person"
    unknown = next(r for r in review if r["from"] == "zhangsan1990@example.test")
    assert str(unknown["id"]) in out
    out = server.run("assign", 邮件编号=str(unknown["id"]), 单位名称="宿松县总工会")
    assert f"邮件 #{unknown['id']} 已指定给 宿松县总工会" in out, out
    accepted = next(r for r in server.json("messages") if r["outcome"] == "accepted")
    out = server.run("reprocess", 邮件编号=str(accepted["id"]))
    assert "重新处理 1 封" in out, out
    name, data = sample_attachments("007.eml")[0]
    (server.tmp / "附件2.docx").write_bytes(data)
    out = server.run("inspect")
    assert "附件2.docx" in out, out

    # -- 7. after June: the final exports
    server.run("final-export")
    for name in ("2020年安全生产月-最终汇总.xlsx", "2020年安全生产月-截至6月30日.xlsx"):
        book = openpyxl.load_workbook(server.home / name, read_only=True)
        assert "及时率" in book.sheetnames and "报送情况" in book.sheetnames
        assert (server.home / name).stat().st_uid == os.geteuid()

    # -- 8. backups: the folder, the command of the timer/cron, and a restore after a lost disk
    server.run("backup-dir")
    out = server.run("backup")
    assert "已备份到" in out, out
    cron = server.moved(server.blocks["cron"]).split()
    server.ran.append("cron")
    assert cron[:6] == ["30", "2", "*", "*", "*", "intake"]  # cron runs the rest as that user, from /
    server.bash(f"cd / && runuser -u {ME} -- {shlex.join(cron[6:])}")
    made = sorted(p for p in server.backups.iterdir() if p.name != "latest")
    assert len(made) == 2 and (server.backups / "latest").resolve() == made[-1]
    kept = snapshot(server)
    drop_everything(server)
    assert server.intake("status", "--json").stdout != json.dumps(kept["status"])
    out = server.run("restore")
    assert "已从" in out and "恢复数据库" in out, out
    assert snapshot(server) == kept
    assert server.run("reprocess-all").startswith("重新处理")  # every stored mail is back

    # -- 10. upgrades: the Alembic example against this database
    from bot.store.db import SCHEMA_HEAD

    block = "alembic"
    if db_url:  # the guide's example is the default SQLite URL; PostgreSQL writes its own
        server.blocks[block] = server.blocks[block].replace("sqlite:////var/lib/intake/data/intake.db", db_url)
    out = server.run(block)
    assert f"{SCHEMA_HEAD} (head)" in out, out

    # -- 9. the next year: last year kept aside, a new config and database
    server.run("next-year")
    assert (server.home / "2020/config.toml").stat().st_mode & 0o777 == 0o600
    new_db = fresh_database_url(tmp_path / "2021") if db_url else None
    admin_edits_config(config, server, year=2021, db_url=new_db)
    out = server.run("next-year-start")
    assert "已存档并标记 14 封邮件为已处理" in out, out
    assert "新邮件 0 封" in out, out
    assert "宿松县总工会" in out  # last year's status table
    assert snapshot(server, str(server.home / "2020/config.toml")) == kept
    this_year = server.json("messages")
    assert len(this_year) == 14 and {r["outcome"] for r in this_year} == {"ignored"}

    assert set(server.ran) == set(server.blocks), "every block the guide marks runnable was run"


def unit(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.optionxform = str
    cp.read(DEPLOY / name, encoding="utf-8")
    return cp


def test_unit_files_agree_with_the_guide_and_verify(tmp_path):
    daemon, backup, timer = unit("intake.service"), unit("intake-backup.service"), unit("intake-backup.timer")
    for svc in (daemon, backup):
        assert svc["Service"]["User"] == "intake" and svc["Service"]["Group"] == "intake"
        assert "/var/lib/intake" in svc["Service"]["ReadWritePaths"].split()
    assert daemon["Service"]["ExecStart"] == "/opt/intake/.venv/bin/intake --config /var/lib/intake/config.toml run"
    assert daemon["Service"]["EnvironmentFile"] == "/etc/intake/secrets.env"
    assert "/var/backups/intake" in backup["Service"]["ReadWritePaths"].split()
    cron = guide_blocks()["cron"].split()
    assert backup["Service"]["ExecStart"] == " ".join(cron[6:]), "the cron line runs what the timer runs"
    assert cron[5] == backup["Service"]["User"]
    assert timer["Timer"]["OnCalendar"] == "*-*-* 02:30:00" and "02:30" in GUIDE.read_text(encoding="utf-8")
    wrapper = (DEPLOY / "intake").read_text(encoding="utf-8")
    for default in ('INTAKE_USER:-intake}', 'INTAKE_CODE:-/opt/intake}', 'INTAKE_HOME:-/var/lib/intake}',
                    'INTAKE_SECRETS:-/etc/intake/secrets.env}'):
        assert default in wrapper

    # systemd's own reading, with the layout's paths moved to where they exist here
    moved = tmp_path / "units"
    moved.mkdir()
    (tmp_path / "var/lib/intake").mkdir(parents=True)
    (tmp_path / "var/backups/intake").mkdir(parents=True)
    for name in ("intake.service", "intake-backup.service", "intake-backup.timer"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        for old, new in (("/opt/intake", str(ROOT)), ("/var/lib/intake", str(tmp_path / "var/lib/intake")),
                         ("/var/backups/intake", str(tmp_path / "var/backups/intake"))):
            text = text.replace(old, new)
        (moved / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", *(str(moved / n) for n in
                           ("intake.service", "intake-backup.service", "intake-backup.timer"))],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in proc.stderr.splitlines() if str(moved) in line or "intake" in line]
    assert proc.returncode == 0 and not problems, proc.stderr
    cal = subprocess.run(["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]], capture_output=True, text=True)
    assert cal.returncode == 0 and "Next elapse" in cal.stdout


def test_the_admin_command_refuses_a_user_it_cannot_become(tmp_path):
    """deploy/intake as someone neither root nor the service user: one Chinese line, exit 1;
    as root, for a service user the system lacks: the same."""
    script = str(DEPLOY / "intake")
    env = dict(os.environ, INTAKE_USER="intake")
    other = subprocess.run(["runuser", "-u", "nobody", "--", "sh", script, "status"], cwd="/", env=env,
                           capture_output=True, text=True, timeout=30)
    assert other.returncode == 1 and other.stderr.strip() == "错误：请以 root 身份（如 sudo intake ...）或 intake 用户运行本命令"
    missing = subprocess.run(["sh", script, "status"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, INTAKE_USER="no-such-intake-user"))
    assert missing.returncode == 1 and missing.stderr.startswith("错误：系统中没有用户 no-such-intake-user")


def test_backup_of_a_missing_database_is_one_line(tmp_path):
    from tests.conftest import CONFIG_TEMPLATE

    if BACKEND == "postgresql":
        url = fresh_database_url(tmp_path)  # an empty database: pg_dump backs it up
    else:
        url = f"sqlite:///{tmp_path}/nothing-yet.db"
    (tmp_path / "config.toml").write_text(CONFIG_TEMPLATE.format(imap_port=1, user="u", processed="", poll=1,
                                          smtp_port=1, db_url=url, extra=""), encoding="utf-8")
    (tmp_path / "units.csv").write_text((SAMPLES / "roster.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "store").mkdir()
    proc = subprocess.run([str(ROOT / ".venv/bin/python"), str(DEPLOY / "backup.py"), "--config",
                           str(tmp_path / "config.toml"), "--dest", str(tmp_path / "bk")],
                          capture_output=True, text=True, timeout=120)
    if BACKEND == "postgresql":
        assert proc.returncode == 0 and "已备份到" in proc.stdout, proc.stderr
    else:
        assert proc.returncode == 1 and proc.stderr.startswith("错误：数据库文件") and "Traceback" not in proc.stderr
        assert not list((tmp_path / "bk").iterdir()), "a failed backup leaves nothing behind"
