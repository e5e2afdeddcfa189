"""Session-wide real servers (started once) and a per-test intake setup that talks to them.

INTAKE_TEST_DB picks the database every setup gets: `sqlite` (default, a file in the setup's
directory) or `postgresql` (a new database on a private cluster started once per session).
"""
from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import PASSWORD, Dovecot, Postgres, SmtpSink

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"
_users = itertools.count(1)
BACKEND = os.environ.get("INTAKE_TEST_DB", "sqlite")
_postgres: Postgres | None = None


@pytest.fixture(scope="session", autouse=True)
def postgres():
    """The session's PostgreSQL cluster when INTAKE_TEST_DB=postgresql, else None. Autouse and
    session-scoped, so it is up before any module's setup asks fresh_database_url() for one."""
    global _postgres
    if BACKEND not in ("sqlite", "postgresql"):
        pytest.fail(f"INTAKE_TEST_DB={BACKEND!r}: use sqlite or postgresql")
    if BACKEND == "sqlite":
        yield None
        return
    try:
        server = Postgres().start()
    except RuntimeError as exc:
        pytest.fail(f"{exc} (run .ci/run, or apt-get install postgresql)")
    _postgres = server
    yield server
    _postgres = None
    server.stop()


def fresh_database_url(directory: Path) -> str:
    """A new, empty database for one setup, on the backend INTAKE_TEST_DB names."""
    if _postgres is not None:
        return _postgres.create_database()
    return f"sqlite:///{directory}/intake.db"


@pytest.fixture
def db_url(tmp_path) -> str:
    """A new, empty database URL for a test that opens bot.store.db.Database itself."""
    return fresh_database_url(tmp_path)


@pytest.fixture(scope="session")
def dovecot():
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is not installed: run .ci/run (apt-get install dovecot-imapd)")
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


CONFIG_TEMPLATE = """
[mailbox]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "INTAKE_TEST_IMAP_PASSWORD"
folder = "INBOX"
processed_folder = "{processed}"
poll_seconds = {poll}

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = ""
password_env = ""
from = "安庆市总工会劳动经济部 <aqghljb@126.com>"
max_per_minute = 0

[database]
url = "{db_url}"

[storage]
dir = "store"

[campaign]
name = "2020年全市“安全生产月”活动"
timezone = "Asia/Shanghai"
start = 2020-06-01
end = 2020-06-30
[campaign.deadlines]
liaison_form = 2020-06-10T23:59:59
progress_table = 2020-06-28T23:59:59
summary = 2020-06-28T23:59:59
[campaign.weekly_report]
weekday = "thursday"
time = "17:30"
first = 2020-06-04
last = 2020-06-25

[schedule]
weekly_reminder = "thu 09:00"
deadline_reminders_days_before = [2, 0]
reminder_time = "09:00"
grace_hours = 12
digest = "fri 09:00"

[organizers]
emails = ["organizer@example.test"]

[roster]
file = "units.csv"
{extra}
"""


@dataclass
class Setup:
    """One test's mailbox (its own Dovecot user), database, storage and config file."""

    dir: Path
    user: str
    config_path: Path
    dovecot: Dovecot
    smtp: SmtpSink
    first_received: int = 0  # the shared sink's mail before this test began

    def config(self):
        from bot.config import load_config

        return load_config(self.config_path)

    def intake(self):
        from bot.intake import Intake

        return Intake.from_config(self.config())

    def append(self, raw: bytes, when=None) -> None:
        self.dovecot.append(self.user, raw, when)

    @property
    def sent(self):
        """Mail the SMTP server received since this setup was made."""
        return self.smtp.received[self.first_received:]

    def sent_to(self, address: str):
        return [r for r in self.sent if address.lower() in [a.lower() for a in r.rcpt_tos]]


def new_setup(base: Path, dovecot: Dovecot, smtp_sink: SmtpSink, *, processed: str = "", poll: float = 1,
              extra: str = "", db_url: str | None = None, roster: Path = SAMPLES / "roster.csv") -> Setup:
    """A fresh mailbox user, folder, roster and config under `base`."""
    os.environ["INTAKE_TEST_IMAP_PASSWORD"] = PASSWORD
    user = f"u{os.getpid()}x{next(_users)}"
    d = base / user
    d.mkdir()
    shutil.copy(roster, d / "units.csv")
    url = db_url or (fresh_database_url(d) if _postgres is not None else "sqlite:///intake.db")
    path = d / "config.toml"
    path.write_text(CONFIG_TEMPLATE.format(imap_port=dovecot.port, user=user, processed=processed, poll=poll,
                                           smtp_port=smtp_sink.port, db_url=url, extra=extra), encoding="utf-8")
    return Setup(d, user, path, dovecot, smtp_sink, len(smtp_sink.received))


@pytest.fixture
def make_setup(tmp_path, dovecot, smtp_sink, monkeypatch):
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", PASSWORD)
    return lambda **kw: new_setup(tmp_path, dovecot, smtp_sink, **kw)


@pytest.fixture
def setup(make_setup) -> Setup:
    return make_setup()


# The PostgreSQL pass (INTAKE_TEST_DB=postgresql, the second run of scripts/test.sh) runs only
# the tests that can reach a database of INTAKE_TEST_DB: those whose fixtures give them one
# (directly, or through a setup of real servers and a config). The rest — parsers, MIME, the
# calendar, terminal output, SQLite-only store tests — ran in the SQLite pass already and would
# only run again unchanged. `pytest.mark.database` opts a test in that reaches one otherwise.
DATABASE_FIXTURES = frozenset({"db_url", "setup", "make_setup", "dovecot", "smtp_sink"})


def needs_database(item) -> bool:
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))) or \
        item.get_closest_marker("database") is not None


def pytest_configure(config):
    config.addinivalue_line("markers", "database: the test reaches the INTAKE_TEST_DB database without "
                                       "a database fixture (kept in the PostgreSQL pass)")


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgresql":
        return
    skipped = [item for item in items if not needs_database(item)]
    if not skipped:
        return
    kept = [item for item in items if needs_database(item)]
    items[:] = kept
    config.hook.pytest_deselected(items=skipped)
    modules = sorted({item.nodeid.split("::")[0] for item in skipped})
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"PostgreSQL pass: {len(skipped)} tests that touch no database deselected "
                            f"(they ran in the SQLite pass), from {len(modules)} modules: {', '.join(modules)}")
