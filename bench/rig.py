"""What the server-backed measurements share: the test suite's private Dovecot and SMTP sink,
an intake setup (config, roster, database) made the way the tests make one, and generated
campaign mail — units of a generated roster sending a filled 附件2 .docx each.

The servers are the test suite's classes (tests/servers.py), started here once per measurement
and always stopped, so a benchmark leaves no process behind.
"""
from __future__ import annotations

import csv
import os
import random
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from bench import workbook_floor
from bot.campaign.roster import Roster, Unit
from bot.forms import progress_template as tpl
from bot.forms.blank_forms import fill_progress_docx
from tests.conftest import Setup, new_setup
from tests.servers import PASSWORD, Dovecot, SmtpSink

FORM_NAME = "附件2：“安全生产月”活动进展情况统计表.docx"
# INTERNALDATE of the generated backlog: inside the campaign, before the 附件2 deadline.
CAMPAIGN_DAY = datetime(2020, 6, 15, 2, 0, tzinfo=timezone.utc)
# No cap on acknowledgements per address (a unit sends several mails in a backlog), and room
# for the 30 MB attachment of the memory measurement.
LIMITS = "[limits]\nmax_auto_replies_per_day = 0\nmax_attachment_mb = 64\n"


@contextmanager
def servers() -> Iterator[tuple[Dovecot, SmtpSink]]:
    """A private Dovecot and an aiosmtpd sink, stopped whatever happens."""
    if shutil.which("dovecot") is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    dovecot = Dovecot().start()
    try:
        sink = SmtpSink().start()
        try:
            yield dovecot, sink
        finally:
            sink.stop()
    finally:
        dovecot.stop()


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"intake-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def roster(units: int) -> Roster:
    """The workbook benchmark's generated roster: one address per unit."""
    return workbook_floor.make_roster(units)


def write_roster(path: Path, r: Roster) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["unit", "aliases", "category", "emails"])
        for u in r.units:
            out.writerow([u.name, "|".join(u.aliases), u.category, "|".join(u.emails)])
    return path


def make_setup(base: Path, dovecot: Dovecot, sink: SmtpSink, r: Roster, *, extra: str = LIMITS,
               processed: str = "", poll: float = 1) -> Setup:
    """A fresh Dovecot user, SQLite database, storage and config, as the tests make them."""
    os.environ["INTAKE_TEST_IMAP_PASSWORD"] = PASSWORD
    roster_file = write_roster(base / f"roster-{len(r.units)}.csv", r)
    return new_setup(base, dovecot, sink, roster=roster_file, extra=extra, processed=processed, poll=poll,
                     db_url="sqlite:///intake.db")


@lru_cache(maxsize=4)
def form_pool(size: int) -> tuple[bytes, ...]:
    """`size` different filled 附件2 .docx (python-docx takes ~90 ms each, so mails share them)."""
    rng = random.Random(2020)
    out = []
    for n in range(size):
        values = {b.key: str(rng.randrange(0, 800)) if b.type == tpl.INT else rng.choice(workbook_floor.FORMS)
                  for b in tpl.BLANKS}
        header = {"header.unit_name": f"第{n + 1}号填报单位", "header.contact": "李明",
                  "header.phone": f"139{rng.randrange(10 ** 8):08d}", "header.fill_date": "2020年6月15日"}
        out.append(fill_progress_docx(values, header))
    return tuple(out)


def form_mail(n: int, unit: Unit, docx: bytes, *, pad_to: int = 60_000, attachment_name: str = FORM_NAME) -> bytes:
    """Mail number `n` from `unit`: a short covering note (padded with a quoted earlier
    thread to about `pad_to` bytes, as real mail carries) and the 附件2 .docx."""
    msg = EmailMessage()
    msg["Subject"] = f"{unit.name}报送“安全生产月”活动进展情况统计表（第{n}封）"
    msg["From"] = f"{unit.name} <{unit.emails[0]}>"
    msg["To"] = "安庆市总工会劳动经济部 <aqghljb@126.com>"
    msg["Message-ID"] = f"<bench-{n}-{os.getpid()}@example.test>"
    msg["Date"] = "Mon, 15 Jun 2020 10:00:00 +0800"
    body = f"您好！\n\n现将{unit.name}“安全生产月”活动进展情况统计表报送，请查收。\n\n"
    size_now = len(docx) * 4 // 3 * 78 // 76 + 3000  # base64 lines of 76 + CRLF, headers
    quote = "> 关于开展2020年全市“安全生产月”活动的通知，请各单位按时报送进展情况统计表。\n"
    if pad_to > size_now:
        body += quote * max(0, (pad_to - size_now) // len(quote.encode("utf-8")))
    msg.set_content(body)
    msg.add_attachment(docx, maintype="application",
                       subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                       filename=attachment_name)
    return msg.as_bytes(policy=SMTP)


def backlog(count: int, units: int, forms: int = 40) -> tuple[Roster, list[bytes]]:
    """`count` form mails from `units` units, round robin; a unit's successive mails carry
    different forms, so each is a new version, not a duplicate."""
    r = roster(units)
    pool = form_pool(forms)
    mails = [form_mail(n, r.units[n % units], pool[(n // units + n) % forms]) for n in range(count)]
    return r, mails


def append_all(dovecot: Dovecot, user: str, mails: list[bytes], when: datetime = CAMPAIGN_DAY,
               chunk: int = 100) -> None:
    """APPEND every mail to the user's INBOX (MULTIAPPEND, `chunk` per command)."""
    with dovecot.client(user) as c:
        for start in range(0, len(mails), chunk):
            c.multiappend("INBOX", [{"msg": m, "date": when} for m in mails[start:start + chunk]])
