"""The outbox: every outgoing mail is first a row with an idempotency key, then sent.

Exactly-once: a key is inserted once (unique constraint), so an acknowledgement, a reminder or
a digest is queued at most once however often the step that queues it runs; `is_queued` and
`queued_keys` are the one answer to "was this mail already made?". Sending marks the row sent in
its own commit right after the server's 250; a crash in that gap is the only way a mail can go
out twice (docs/ARCHITECTURE.md).

Retries: transient failures (connection trouble, 4xx, 126.com's `554 DT:SPM` spam throttle)
back off exponentially; permanent ones (other 5xx) are kept with the server's answer. What the
server's answers mean, and talking to it, is bot/mail/smtp.py's.

Every moment here (due, claimed, sent, retried) is the outbox's clock: the Intake's.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TYPE_CHECKING, Callable, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .clock import system_clock
from .config import SmtpConfig
from .mail import smtp
from .store.db import Database
from .store.models import FAILED, QUEUED, SENT, OutboxMail

if TYPE_CHECKING:
    from .intake import Intake

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_BACKOFF = 30.0  # seconds; doubles per attempt, capped at MAX_BACKOFF
MAX_BACKOFF = 3600.0
CLAIM_SECONDS = 300.0  # longer than one SMTP transaction with its timeouts


def enqueue(session: Session, *, key: str, kind: str, message: EmailMessage, now: datetime,
            message_pk: int | None = None) -> bool:
    """Queue a mail under `key`, due and created at `now`; False (and nothing queued) when that
    key exists already, queued by this process or by another one at the same moment: one
    INSERT ... ON CONFLICT DO NOTHING decides, on both backends."""
    recipients = [addr.lower() for _, addr in getaddresses(message.get_all("To", []) + message.get_all("Cc", [])) if addr]
    row = dict(key=key, kind=kind, to_addr=recipients[0] if recipients else "", recipients=recipients,
               subject=str(message["Subject"] or ""), raw=message.as_bytes(), message_pk=message_pk,
               next_attempt_at=now, created_at=now)  # the rest: the columns' defaults
    insert = _insert_for(session)
    session.flush()  # rows this session added before (a message row the key refers to) go first
    # RETURNING, not rowcount: drivers differ in what rowcount says for an INSERT that the
    # database may skip (psycopg reports nothing useful here)
    done = session.execute(insert(OutboxMail).values(**row).on_conflict_do_nothing(index_elements=["key"])
                           .returning(OutboxMail.id))
    return done.first() is not None


def _insert_for(session: Session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - interface.md names these two backends
        raise ValueError(f"unsupported database {name}")
    return insert


def recent_count(session: Session, *, kind: str, to_addr: str, since: datetime) -> int:
    """How many mails of this kind went (or are going) to this address since a moment; the
    per-address daily cap on automatic replies is counted here, in the database."""
    return session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.kind == kind, OutboxMail.to_addr == to_addr.lower(),
        OutboxMail.created_at >= since)) or 0


def is_queued(session: Session, key: str) -> bool:
    """Whether a mail under `key` is queued or was sent, ever: the one answer to "was this
    acknowledgement, reminder, digest or notice already made?"."""
    return session.scalar(select(OutboxMail.id).where(OutboxMail.key == key)) is not None


def queued_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Those of `keys` under which a mail is queued or was sent: `is_queued` for many at once."""
    keys = list(keys)
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMail.key).where(OutboxMail.key.in_(keys))))


@dataclass
class DrainResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


class Outbox:
    def __init__(self, db: Database, cfg: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] = system_clock):
        self.db = db
        self.cfg = cfg
        self.ssl_context = ssl_context
        self.clock = clock

    @classmethod
    def of(cls, intake: Intake) -> Outbox:
        """The outbox of an Intake: its database, its SMTP server, its clock."""
        return cls(intake.db, intake.config.smtp, clock=intake.clock)

    def pending(self, now: datetime) -> list[int]:
        with self.db.session() as s:
            return list(s.scalars(select(OutboxMail.id).where(
                OutboxMail.status == QUEUED, OutboxMail.next_attempt_at <= now).order_by(OutboxMail.id)))

    def drain(self, now: datetime | None = None, *, should_stop=lambda: False) -> DrainResult:
        """Send every queued mail due at `now` (default: the clock's now); never raises for a
        server problem."""
        now = now or self.clock()
        ids = self.pending(now)
        if not ids:
            return DrainResult()
        return asyncio.run(self._drain(ids, should_stop, now))

    async def _drain(self, ids: list[int], should_stop, now: datetime) -> DrainResult:
        result = DrainResult()
        client = None
        pace = 60.0 / self.cfg.max_per_minute if self.cfg.max_per_minute else 0.0
        last_sent = 0.0
        try:
            for pk in ids:
                if should_stop():
                    break
                claimed = self._claim(pk, max(now, self.clock()))
                if claimed is None:
                    continue  # another thread or process took it
                raw, recipients = claimed
                if pace and last_sent:
                    wait = pace - (time.monotonic() - last_sent)
                    if wait > 0:
                        await asyncio.sleep(wait)
                if client is None:
                    try:
                        client = await smtp.connect(self.cfg, self.ssl_context)
                    except Exception as exc:  # noqa: BLE001 - a login or greeting failure is the
                        # server's state, not this mail's: nothing is marked failed, all stays queued
                        self._note_unreachable(pk, exc)
                        result.deferred += len(ids) - ids.index(pk)
                        break
                refused = await smtp.send(client, self.cfg.sender_address, recipients, raw)
                if refused is None:
                    last_sent = time.monotonic()
                    with self.db.session() as s:  # the one statement between 250 and our record
                        row = s.get(OutboxMail, pk)
                        row.status, row.sent_at, row.attempts = SENT, self.clock(), row.attempts + 1
                    result.sent += 1
                    log.info("已发送 %s", pk)
                    continue
                code, text = refused
                if code is None:  # the connection broke: a new one for the next mail
                    await smtp.quiet_quit(client)
                    client = None
                self._record_failure(pk, code, text, result)
                if code is None or smtp.is_throttled(code, text):
                    # unreachable, or 126.com's spam throttle: sending more now only makes it
                    # worse; the rest stay queued, untouched, for the next cycle
                    result.deferred += len(ids) - ids.index(pk) - 1
                    break
        finally:
            if client is not None:
                await smtp.quiet_quit(client)
        return result

    def _claim(self, pk: int, now: datetime) -> tuple[bytes, list[str]] | None:
        """Take a queued row for CLAIM_SECONDS by moving its next attempt forward in one
        conditional UPDATE: two drains (threads, daemons) never send the same row, and a row
        whose sender died is taken again once the claim lapses.

        Why it holds on both backends: SQLite runs writing transactions one at a time (BEGIN
        IMMEDIATE, store/db.py), so the second UPDATE sees the first one's next_attempt_at. On
        PostgreSQL under READ COMMITTED the second UPDATE waits for the first one's row lock and
        then evaluates its WHERE again on the committed row, which no longer qualifies: it
        updates nothing (rowcount 0) and the row is skipped."""
        with self.db.session() as s:
            taken = s.execute(update(OutboxMail).where(
                OutboxMail.id == pk, OutboxMail.status == QUEUED, OutboxMail.next_attempt_at <= now,
            ).values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))).rowcount
            if taken != 1:
                return None
            row = s.get(OutboxMail, pk)
            return row.raw, list(row.recipients)

    def _note_unreachable(self, pk: int, exc: BaseException) -> None:
        """Keep the server's answer on the row for `intake messages`/logs; count no attempt.
        The row's claim lapses after CLAIM_SECONDS, which is the retry delay."""
        text = smtp.unreachable_line(exc)
        log.warning("%s；待发邮件保留，稍后重试", text)
        with self.db.session() as s:
            s.get(OutboxMail, pk).last_error = text[:2000]

    def _record_failure(self, pk: int, code: int | None, text: str, result: DrainResult) -> None:
        now = self.clock()
        with self.db.session() as s:
            row = s.get(OutboxMail, pk)
            row.attempts += 1
            row.last_error = f"{code or ''} {text}".strip()[:2000]
            if smtp.is_transient(code, text) and row.attempts < MAX_ATTEMPTS:
                delay = min(BASE_BACKOFF * 2 ** (row.attempts - 1), MAX_BACKOFF)
                if smtp.is_throttled(code, text):
                    delay = max(delay, 600.0)  # 126.com's spam throttle wants a real pause
                row.next_attempt_at = now + timedelta(seconds=delay)
                result.deferred += 1
                log.warning("发送失败，稍后重试（第 %d 次）：%s", row.attempts, row.last_error)
            else:
                row.status = FAILED
                result.failed += 1
                log.error("发送失败，已放弃：%s", row.last_error)
