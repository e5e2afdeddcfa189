"""Real mail servers for the tests (and the benchmarks): a private Dovecot and an aiosmtpd sink.

Dovecot runs as root from its own config in a temp dir (lab-notes.md): mail owned by Debian's
`mail` user (Dovecot refuses root-owned mail), `first_valid_uid = 8`, a static passdb so that
every test can log in as its own user and so get a fresh, empty mailbox.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

from imapclient import IMAPClient

PASSWORD = "s3cret-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


class Dovecot:
    """A private Dovecot instance on a free loopback port."""

    def __init__(self, capabilities: str | None = None):
        self.capabilities = capabilities
        self.dir = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        os.chmod(self.dir, 0o755)  # the mail user must reach its mail below
        self.port = free_port()
        self.conf = self.dir / "dovecot.conf"
        self.proc: subprocess.Popen | None = None

    def _write_config(self) -> None:
        d = self.dir
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir(exist_ok=True)
        shutil.chown(d / "mail", "mail", "mail")
        caps = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        self.conf.write_text(f"""
instance_name = intake-test-{self.port}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
protocols = imap
mail_location = maildir:{d}/mail/%u
mail_uid = mail
mail_gid = mail
first_valid_uid = 8
first_valid_gid = 8
mail_privileged_group =
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  {caps}
}}
""")

    def start(self) -> Dovecot:
        self._write_config()
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            log = (self.dir / "dovecot.log").read_text(errors="replace") if (self.dir / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not start: {log[-2000:]}")
        return self

    def stop(self) -> None:
        self._terminate()
        shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self, down_for: float = 2.0) -> None:
        """Stop the server (every connection drops), stay down `down_for` seconds, start it
        again on the same port with the same mail."""
        self._terminate()
        time.sleep(down_for)
        self.start()

    def _terminate(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    # -- helpers for tests ----------------------------------------------------------------------
    def client(self, user: str) -> IMAPClient:
        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        c.login(user, PASSWORD)
        return c

    def append(self, user: str, raw: bytes, when: datetime | None = None, folder: str = "INBOX") -> None:
        with self.client(user) as c:
            c.append(folder, raw, msg_time=when)

    def count(self, user: str, folder: str = "INBOX") -> int:
        with self.client(user) as c:
            if not c.folder_exists(folder):
                return 0
            return c.select_folder(folder, readonly=True)[b"EXISTS"]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data, policy=default_policy)


@dataclass
class SmtpSink:
    """An aiosmtpd server in a thread that keeps every mail it is given."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    fail_with: tuple[int, str] | None = None  # answer every DATA with this (for failure tests)

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.fail_with:
                    code, text = sink.fail_with
                    return f"{code} {text}"
                sink.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address.lower() in [a.lower() for a in r.rcpt_tos]]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)


class Daemon:
    """`intake run` as a subprocess, as an admin starts it; stopped with SIGTERM, killed if it
    hangs, so no test leaves it behind."""

    def __init__(self, config_path: Path, cwd: Path):
        import os
        import sys

        env = dict(os.environ, INTAKE_CONFIG=str(config_path))
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err = ""

    def wait_until(self, condition, timeout: float = 60.0) -> bool:
        """Poll `condition` while the daemon lives; True once it holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if condition():
                return True
            time.sleep(0.1)
        return condition()

    def stop(self) -> int:
        """SIGTERM, then the exit code; stderr is kept in `err`."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, self.err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, self.err = self.proc.communicate()
        return self.proc.returncode

    def __enter__(self) -> "Daemon":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def pg_bin_dir() -> Path:
    """Debian's server binaries (/usr/lib/postgresql/<major>/bin, the newest installed), or
    $INTAKE_TEST_PG_BIN."""
    if os.environ.get("INTAKE_TEST_PG_BIN"):
        return Path(os.environ["INTAKE_TEST_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


class Postgres:
    """A private PostgreSQL cluster on a free loopback port, its data and socket in a temp dir.

    PostgreSQL refuses to run as root: as root the cluster belongs to Debian's `postgres` user
    (the server binaries are started with that uid), otherwise to the current user. Durability
    is switched off (fsync, synchronous_commit): the cluster lives as long as the test session.
    """

    def __init__(self, bin_dir: Path | None = None):
        self.bin = bin_dir or pg_bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="intake-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.user = "postgres" if os.geteuid() == 0 else None
        self._names = 0

    def _run_as_owner(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, user=self.user, group=self.user, extra_groups=[] if self.user else None,
                              capture_output=True, text=True, **kw)

    def start(self) -> Postgres:
        if not (self.bin / "initdb").exists():
            raise RuntimeError(f"PostgreSQL is not installed ({self.bin}/initdb): apt-get install postgresql")
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        init = self._run_as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                                   "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr[-2000:]}")
        log = open(self.dir / "postgres.log", "w")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.dir), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=400", "-c", "shared_buffers=32MB",
             "-c", "log_min_messages=warning", "-c", "timezone=UTC"],
            user=self.user, group=self.user, extra_groups=[] if self.user else None,
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            deadline = time.monotonic() + 30
            while True:
                ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                        "-U", "postgres", "-q"])
                if ready.returncode == 0:
                    break
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("postgres did not start: "
                                       + (self.dir / "postgres.log").read_text(errors="replace")[-2000:])
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        self._names += 1
        name = f"{prefix}_{os.getpid()}_{self._names}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT is the "fast" shutdown: it ends the sessions still open (SIGTERM would wait
            # for every client's pool to close), then exits cleanly.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
