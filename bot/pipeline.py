"""One message through the steps: archive -> unpack MIME -> classify -> parse forms ->
identify unit -> record submissions -> compose acknowledgement -> outbox.

Two commits per message: `ingest` keeps the raw bytes and records the message (outcome
`pending`) before anything is parsed; `process` decides the outcome and queues the
acknowledgement in one transaction. A crash between them leaves a pending message that the
next cycle processes; an exception inside `process` becomes a `needs_review` outcome with its
reason, never a stopped daemon.

Two daemons may share one mailbox and one database. Both fetch the same mail: the second
`ingest` finds the first one's location row (or loses the race on its unique constraint and
looks again). `process` claims the message row first (a conditional UPDATE: token and lease),
so only one daemon reads a mail, and its final transaction records the outcome only while it
still holds that claim.
"""
from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from . import conversation
from .campaign.calendar import Calendar
from .campaign.roster import Roster
from .config import Config
from .forms import classify
from .forms.result import (ERROR, EVIDENCE, FORM_KINDS, LIAISON_FORM, PARSED, PROGRESS_TABLE, WEEKLY_REPORT,
                           FormResult)
from .mail.archive import Archive, sha256
from .mail import cloud_links
from .mail.authresults import sender_check
from .mail.imap import FetchedMail
from .mail.machines import machine_reason
from .mail.message import ParsedMail
from .mail.mime import parse_mail
from .mail.outbox import enqueue, recent_count
from .out import replies
from .out.organizer_notes import compose_identity_note
from .store import submissions
from .store.db import Database
from .store.models import (ACCEPTED, AUTO_REPLY, DUPLICATE, IGNORED, NEEDS_REVIEW, PENDING, TAKEN,
                           AttachmentRecord, MailboxState, MailLocation, Message, OutboxMail)
from .store.models import OUTCOME_LABELS

log = logging.getLogger(__name__)

# How long a claim on a message holds: far longer than reading one mail (each attachment's
# conversion has its own timeout). A daemon killed mid-way on this host frees its claims at
# once (see _holder_is_gone); one on another host holds them until they lapse.
CLAIM_SECONDS = 600.0

# What `process` returns for mail that is kept and listed but not read: it arrived before the
# campaign accepts submissions, or an admin marked it handled before going live. Stored as
# IGNORED with the reason; the daemon counts these apart so a first start on a full mailbox
# can say how many old mails it set aside.
SET_ASIDE = "set_aside"
REASON_MARKED_HANDLED = "启用前已在邮箱中，管理员已标记为已处理（intake mark-handled），仅存档，不回复、不计入"


@dataclass
class Intake:
    """Everything a message's walk needs, built once per process."""

    config: Config
    db: Database
    archive: Archive
    roster: Roster
    calendar: Calendar

    @classmethod
    def from_config(cls, config: Config) -> Intake:
        return cls(config, Database(config.database_url), Archive(config.storage_dir),
                   Roster.load(config.roster_file), Calendar(config.campaign))


# -- step 1: keep ---------------------------------------------------------------------------

def _message_id_of(raw: bytes) -> str:
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(_header_block(raw))
        value = str(headers.get("Message-ID", "") or "")
    except Exception:  # noqa: BLE001 - a mail without a readable Message-ID is still kept
        return ""
    return " ".join(value.split())[:998]


def _header_block(raw: bytes, limit: int = 65536) -> bytes:
    """The header lines only: the parser reads every line it is given, headers-only or not,
    so for a mail of 60 KB handing it the body costs more than all the rest of keeping it."""
    head = raw[:limit]
    crlf = head.find(b"\r\n\r\n")
    lf = head.find(b"\n\n", 0, crlf + 4 if crlf >= 0 else len(head))  # a bare-LF mail's end, if earlier
    if lf >= 0:
        return head[:lf + 1]
    return head[:crlf + 2] if crlf >= 0 else head


def ingest(intake: Intake, fetched: FetchedMail) -> int | None:
    """Keep the raw mail and record it; return the new message's id, or None when this
    location or this exact mail (Message-ID and bytes) was seen before."""
    return ingest_batch(intake, [fetched])[0]


def ingest_batch(intake: Intake, batch: list[FetchedMail]) -> list[int | None]:
    """`ingest` for one IMAP fetch batch: every raw mail on disk first (one directory sync per
    folder), then one transaction records them all and moves the UID watermark. Returns, per
    mail, the new message's id or None when seen before. A crash in between leaves files
    without rows, which the next fetch of the same UIDs records."""
    if not batch:
        return []
    digests = intake.archive.keep_mails([f.raw for f in batch])  # on disk before the database knows them
    message_ids = [_message_id_of(f.raw) for f in batch]
    for attempt in range(3):
        try:
            return _record_arrivals(intake, batch, digests, message_ids)
        except IntegrityError:
            # Another daemon recorded some of these mails (or the folder's first state row) at
            # the same moment; its rows are committed now, and looking again finds them.
            if attempt == 2:
                raise
    return [None] * len(batch)


def _record_arrivals(intake: Intake, batch: list[FetchedMail], digests: list[str],
                     message_ids: list[str]) -> list[int | None]:
    """Set-based: one look-up of the batch's known locations and one of its known mails,
    whatever the batch's size."""
    folder, uidvalidity = batch[0].folder, batch[0].uidvalidity
    with intake.db.session() as s:
        # The folder's row is locked (PostgreSQL) so that two daemons' watermarks never
        # overwrite each other and their look-ups below see each other's rows.
        state = s.get(MailboxState, folder, with_for_update=True)
        if state is None:
            state = MailboxState(folder=folder, uidvalidity=uidvalidity, last_uid=0)
            s.add(state)
        elif state.uidvalidity != uidvalidity:
            state.uidvalidity, state.last_uid = uidvalidity, 0
        state.last_uid = max(state.last_uid, max(f.uid for f in batch))
        seen_uids = set(s.scalars(select(MailLocation.uid).where(
            MailLocation.folder == folder, MailLocation.uidvalidity == uidvalidity,
            MailLocation.uid.in_([f.uid for f in batch]))))
        known: dict[tuple[str, str], int] = {
            (mid, sha): pk for pk, mid, sha in s.execute(
                select(Message.id, Message.message_id, Message.sha256).where(Message.sha256.in_(set(digests))))}
        plan: list[tuple[FetchedMail, tuple[str, str], bool]] = []  # (mail, identity, first sight)
        fresh: dict[tuple[str, str], Message] = {}
        for fetched, digest, message_id in zip(batch, digests, message_ids):
            if fetched.uid in seen_uids:
                continue
            seen_uids.add(fetched.uid)
            key = (message_id, digest)
            first = key not in known and key not in fresh
            if first:
                fresh[key] = Message(message_id=message_id, sha256=digest, size=len(fetched.raw),
                                     received_at=fetched.internaldate, outcome=PENDING)
            plan.append((fetched, key, first))
        s.add_all(fresh.values())
        s.flush()  # one multi-row INSERT ... RETURNING for the batch's new mails
        known.update((key, msg.id) for key, msg in fresh.items())
        s.add_all([MailLocation(folder=folder, uidvalidity=uidvalidity, uid=fetched.uid, message_pk=known[key])
                   for fetched, key, _ in plan])
        new_ids = {fetched.uid: known[key] for fetched, key, first in plan if first}
        ids: list[int | None] = [new_ids.get(f.uid) for f in batch]
        return ids


# -- step 2: understand and answer -----------------------------------------------------------

@dataclass
class ReadFile:
    """One attachment as read, before it is recorded."""

    filename: str
    content_type: str
    origin: tuple[str, ...]
    data_sha: str
    size: int
    result: FormResult


@dataclass
class Reading:
    mail: ParsedMail
    machine: str | None
    files: list[ReadFile] = field(default_factory=list)
    body: FormResult | None = None


def read_message(intake: Intake, raw: bytes) -> Reading:
    """The pure part: bytes in, what the mail is and carries out (files are archived by hash).
    Uses only `intake.config` and `intake.archive`."""
    mail = parse_mail(raw)
    own = frozenset({intake.config.smtp.sender_address, intake.config.mailbox.username.lower()} - {""})
    reason = machine_reason(mail, own_addresses=own)
    reading = Reading(mail, reason)
    if reason:
        return reading
    limits = intake.config.limits
    for att in mail.attachments:
        digest = intake.archive.keep_file(att.data)
        if att.error:  # the mail step kept it unopened (a locked archive, an unsplittable part)
            reading.files.append(ReadFile(att.filename, att.content_type, att.origin, digest, len(att.data),
                                          FormResult(kind=None, status=ERROR, reason=att.error)))
            continue
        try:
            result = classify.read_attachment(att.filename, att.data, subject=mail.subject,
                                              max_bytes=int(limits.max_attachment_mb * 1024 * 1024),
                                              timeout=limits.conversion_timeout)
        except Exception as exc:  # noqa: BLE001 - classify promises not to raise; be sure
            log.exception("读取附件出错 %s", att.filename)
            result = FormResult(kind=None, status="error", reason=f"读取附件时程序出错（{type(exc).__name__}）")
        reading.files.append(ReadFile(att.filename, att.content_type, att.origin, digest, len(att.data), result))
    # A reply to one of our mails echoes our subject ("回复：…周报…"): it names nothing the sender
    # wrote, so the body must be a weekly report on its own ("收到，谢谢" is not one).
    reading.body = classify.read_body("" if _replies_to_our_mail(mail) else mail.subject, mail.body_text)
    return reading


def _form_unit_names(reading: Reading) -> list[str]:
    names = []
    for f in reading.files:
        for key in ("unit_name", "header.unit_name"):
            v = f.result.values.get(key)
            if isinstance(v, str) and v.strip():
                names.append(v)
    return names


def identify_unit(intake: Intake, reading: Reading, liaison_addrs: dict[str, str],
                  assigned: str | None) -> tuple[str | None, str | None]:
    """In order (issue #3): assigned by an admin, the sender's address on record (roster or an
    accepted liaison form), the form's own 单位名称 / 填报单位, the subject."""
    roster = intake.roster
    if assigned:
        return assigned, "assigned"
    # Only From decides: a Reply-To is whatever the sender chose to write.
    unit = roster.unit_for_address(reading.mail.from_addr or "", liaison_addrs)
    if unit:
        return unit.name, "address"
    for name in _form_unit_names(reading):
        unit = roster.match_name(name)
        if unit:
            return unit.name, "form"
    unit = roster.find_in_text(reading.mail.subject)
    if unit:
        return unit.name, "subject"
    return None, None


class PendingId(int):
    """A message id as pending_ids() listed it: process() takes such a message only while it is
    still pending, since another daemon may have processed it after the listing. `stale_claim`
    is the token of a claim whose holder was found gone, which process() may take over."""

    stale_claim: str | None

    def __new__(cls, pk: int, stale_claim: str | None = None) -> PendingId:
        obj = super().__new__(cls, pk)
        obj.stale_claim = stale_claim
        return obj


class _ClaimLost(Exception):
    """Another process took the message over (an admin's reprocess, or a lapsed claim)."""


def process(intake: Intake, pk: int, *, only_pending: bool | None = None) -> str:
    """Decide one archived message's outcome, record what it carried, queue its answer.

    The message is claimed first. With `only_pending` (the default for a PendingId) a message
    that is no longer pending, or that another daemon is reading, is left alone and TAKEN is
    returned; without it (an admin's `assign` or `reprocess`) the claim is taken over, and a
    daemon that was reading the message drops its result."""
    job = begin(intake, pk, only_pending=only_pending)
    if job is None:
        return TAKEN
    return finish(intake, job, read_archived(intake, job.digest, headers_only=job.set_aside is not None))


@dataclass(frozen=True)
class Job:
    """A claimed message, between its claim and its recorded outcome."""

    pk: int
    token: str
    digest: str
    received_at: datetime
    assigned: str | None
    set_aside: str | None = None  # why the mail is only kept and listed (see SET_ASIDE)


@dataclass(frozen=True)
class ReadFailure:
    """Why an archived mail could not be read: `reason` for the admin's `intake messages`,
    `detail` (a traceback) for the log."""

    reason: str
    detail: str = ""


def begin(intake: Intake, pk: int, *, only_pending: bool | None = None) -> Job | None:
    """Claim the message (see `process`); None when another process has it."""
    if only_pending is None:
        only_pending = isinstance(pk, PendingId)
    return _claim(intake, pk, only_pending, getattr(pk, "stale_claim", None))


def set_aside_reason(intake: Intake, received_at: datetime, marked_handled_at: datetime | None,
                     assigned: str | None) -> str | None:
    """Why a mail is only kept and listed, never read, answered or counted; None when it is
    read as usual. An admin's `assign` overrides both reasons: that mail is wanted."""
    if assigned:
        return None
    if marked_handled_at is not None:
        return REASON_MARKED_HANDLED
    opens = intake.config.campaign.opens_at
    if received_at < opens:
        return (f"早于本次活动开始接收报送的日期（{opens.year}年{opens.month}月{opens.day}日），"
                "仅存档备查，不回复、不计入")
    return None


def read_archived(reader, digest: str, *, headers_only: bool = False) -> Reading | ReadFailure:
    """The pure middle of a message's walk: its raw bytes from the archive, read. `reader` has
    the `config` and `archive` of an Intake (a worker process of bot/reading_pool.py builds
    just those). With `headers_only` (mail set aside) only From and Subject are read: years
    of an everyday mailbox cost no attachment reading. Never raises for a mail: a failure is
    returned with its reason."""
    try:
        raw = reader.archive.read_mail(digest)
    except OSError as exc:
        return ReadFailure(f"原件文件无法读取（{exc.strerror or exc}），请从邮箱重新收取", f"{digest}: {exc}")
    try:
        if headers_only:
            # parse_mail's over-size path reads the header block alone; its problem line
            # (the mail being too large) does not apply here.
            return Reading(replace(parse_mail(raw, max_bytes=0), problems=()), None)
        return read_message(reader, raw)
    except Exception as exc:  # noqa: BLE001 - never stop the daemon for one mail
        return ReadFailure(f"邮件无法解析（{type(exc).__name__}），原件已保存，请人工查看", traceback.format_exc())


def finish(intake: Intake, job: Job, reading: Reading | ReadFailure) -> str:
    """Record a claimed message's outcome from its reading, in one transaction that holds the
    claim; TAKEN when another process took the message over meanwhile."""
    pk, token = job.pk, job.token
    try:
        if isinstance(reading, ReadFailure):
            log.error("处理邮件 %s 出错：%s", pk, reading.detail or reading.reason)
            return _record_failure(intake, pk, token, reading.reason)
        try:
            follow_ups: list[int] = []
            outcome = _record(intake, job, reading, follow_ups)
        except _ClaimLost:
            raise
        except Exception as exc:  # noqa: BLE001
            log.error("记录邮件 %s 出错：%s", pk, traceback.format_exc())
            return _record_failure(intake, pk, token, f"处理出错（{type(exc).__name__}），原件已保存，请人工查看")
    except _ClaimLost:
        log.info("邮件 %s 已由另一进程处理，本次结果不记录", pk)
        return TAKEN
    for other in follow_ups:  # mail this one settled (its sender named its unit): read again now
        process(intake, other)
    return SET_ASIDE if job.set_aside else outcome


def _claim(intake: Intake, pk: int, only_pending: bool, stale: str | None = None) -> Job | None:
    """Mark the message as being read by this call for CLAIM_SECONDS, in one conditional UPDATE:
    of two daemons updating the row at once, the second finds the condition false (PostgreSQL
    re-checks it on the row the first one committed; SQLite runs them one after the other).
    A claim is free when it lapsed, or when it is still exactly the `stale` one whose holder
    pending_ids() found gone."""
    token = uuid.uuid4().hex
    now = datetime.now(timezone.utc)
    where = [Message.id == pk]
    if only_pending:
        free = [Message.claimed_until.is_(None), Message.claimed_until <= now]
        if stale:
            free.append(Message.claim_token == stale)
        where += [Message.outcome == PENDING, or_(*free)]
    with intake.db.session() as s:
        # RETURNING gives what the walk needs of the row in the same statement (SQLite 3.35+,
        # PostgreSQL): one round trip per claim.
        row = s.execute(update(Message).where(*where).values(
            claim_token=token, claimed_by=_HOLDER, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .returning(Message.sha256, Message.received_at, Message.assigned_unit, Message.marked_handled_at)
            .execution_options(synchronize_session=False)).first()
    if row is None:
        return None
    return Job(int(pk), token, row.sha256, row.received_at, row.assigned_unit,
               set_aside_reason(intake, row.received_at, row.marked_handled_at, row.assigned_unit))


_HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_gone(holder: str | None) -> bool:
    """True when a claim's holder is a process of this host that has ended (killed mid-way):
    its claims need not wait out CLAIM_SECONDS. Anything uncertain (another host, a process
    that exists, this very process) counts as alive: the worst case is waiting for the lapse."""
    host, _, pid_text = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by another user
    try:  # a killed child its parent has not reaped yet is a zombie: gone all the same
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _claimed(s, pk: int, token: str) -> Message:
    """The message row, locked until the transaction ends, if this call still holds its claim;
    the claim is released by the same commit that records the outcome."""
    msg = s.get(Message, pk, with_for_update=True)
    if msg is None or msg.claim_token != token:
        raise _ClaimLost
    msg.claim_token, msg.claimed_by, msg.claimed_until = None, None, None
    return msg


def _record_failure(intake: Intake, pk: int, token: str, reason: str) -> str:
    with intake.db.session() as s:
        msg = _claimed(s, pk, token)
        msg.outcome, msg.reason, msg.processed_at = NEEDS_REVIEW, reason, datetime.now(timezone.utc)
    return NEEDS_REVIEW


def _record(intake: Intake, job: Job, reading: Reading, follow_ups: list[int]) -> str:
    with intake.db.session() as s:
        msg = _claimed(s, job.pk, job.token)
        if job.set_aside:
            outcome = _set_aside(s, msg, reading, job.set_aside)
        else:
            outcome = _decide(intake, s, msg, reading, job.received_at, job.assigned, follow_ups)
        # one line per mail handled; mail set aside (years of an old mailbox) is counted instead
        log.log(logging.DEBUG if job.set_aside else logging.INFO, "邮件 #%d %s 《%s》 → %s%s%s", msg.id, msg.from_addr, (msg.subject or "")[:40], OUTCOME_LABELS.get(outcome, outcome),
                 f"（{msg.unit}）" if msg.unit else "", f"：{msg.reason}" if msg.reason else "")
        return outcome


def _start_over(s, msg: Message, mail: ParsedMail, now: datetime) -> None:
    """A message read before (reprocess, assign) forgets what it recorded; its headers are
    stored as read now."""
    if msg.processed_at is not None:
        submissions.forget_message(s, msg.id)
        msg.attachments.clear()
        s.flush()
    msg.from_addr, msg.from_name, msg.subject = mail.from_addr, mail.from_name, mail.subject
    msg.processed_at, msg.flags = now, []


def _set_aside(s, msg: Message, reading: Reading, reason: str) -> str:
    """Kept and listed with its sender and subject; nothing read, recorded or answered."""
    _start_over(s, msg, reading.mail, datetime.now(timezone.utc))
    msg.outcome, msg.reason, msg.kinds, msg.unit, msg.unit_source = IGNORED, reason, [], None, None
    return IGNORED


# Words that make mail from a registered unit look like a try at this campaign's submission even
# when nothing in it was recognised: such mail waits for a person and its sender is told what
# was missing. Without them it is the office's everyday mail and is not answered.
_CAMPAIGN_WORDS = ("安全生产",)
_SUBMISSION_KINDS = frozenset({LIAISON_FORM, PROGRESS_TABLE, WEEKLY_REPORT})


def _looks_like_submission(reading: Reading) -> bool:
    mail = reading.mail
    names = [mail.subject, *(f.filename for f in reading.files)]
    if any(classify.keyword_kind(text) in _SUBMISSION_KINDS for text in names):
        return True
    hay = " ".join(names) + " " + (mail.body_text or "")[:4000]
    return any(word in hay for word in _CAMPAIGN_WORDS)


# The footer of every mail the bot sends (templates/*.txt.j2): quoted in a reply, it shows the
# reply answers one of ours.
_OUR_FOOTER = "材料接收系统自动发送"


def _replies_to_our_mail(mail: ParsedMail) -> bool:
    return _OUR_FOOTER in (mail.body_text or "")


def _decide(intake: Intake, s, msg: Message, reading: Reading, received_at: datetime,
            assigned: str | None, follow_ups: list[int]) -> str:
    """The outcome of a claimed message from its reading: what it carried recorded, its answer
    queued, all in the caller's transaction. Mail it settles (an earlier one whose unit its
    sender now named) is appended to `follow_ups` for reading after the commit."""
    pk = msg.id
    mail = reading.mail
    cal = intake.calendar
    now = datetime.now(timezone.utc)
    _start_over(s, msg, mail, now)
    if reading.machine:
        msg.outcome, msg.reason, msg.kinds, msg.unit = AUTO_REPLY, reading.machine, [], None
        return AUTO_REPLY

    records = []
    for i, f in enumerate(reading.files):
        r = f.result
        rec = AttachmentRecord(position=i, filename=f.filename, content_type=f.content_type,
                               origin=list(f.origin), sha256=f.data_sha, size=f.size, kind=r.kind,
                               status=r.status, values=dict(r.values),
                               errors=[p.as_json() for p in r.errors],
                               warnings=[p.as_json() for p in r.warnings], reason=r.reason)
        msg.attachments.append(rec)
        records.append(rec)
    s.flush()

    liaison_addrs = submissions.liaison_addresses(s)
    unit, source = identify_unit(intake, reading, liaison_addrs, assigned)
    answered = None  # the earlier mail whose unit this one names, when it answers our question
    unanswered = None  # the earlier mail whose question this one answers without a unit we know
    if unit is None:
        unit = conversation.confirmed_unit(s, mail.from_addr)
        source = conversation.SOURCE if unit else None
    if unit is None:
        answered = conversation.awaiting_unit(s, mail.from_addr, pk, received_at)
        named = conversation.named_unit(intake.roster, mail.subject, mail.body_text) if answered else None
        if named is None:
            answered, unanswered = None, answered
        else:
            unit, source = named.name, conversation.SOURCE
    elif source == "assigned" and conversation.confirmed_unit(s, mail.from_addr) == unit:
        source = conversation.SOURCE  # assigned by its sender's answer, not by an admin
    msg.unit, msg.unit_source = unit, source

    forms = [(f, rec) for f, rec in zip(reading.files, records)
             if f.result.kind in FORM_KINDS and f.result.status in (PARSED, EVIDENCE)]
    carried = [f.result for f, _ in forms]
    if reading.body is not None:
        carried.append(reading.body)
    msg.kinds = sorted({r.kind for r in carried if r.status == PARSED})
    # a file the mail step could not open is already one of the mail's problems
    problems = list(mail.problems) + [f"{f.filename}：{f.result.reason}" for f in reading.files
                                      if f.result.status == ERROR and f.result.reason not in mail.problems]

    check = sender_check(mail, intake.config.mailbox.trusted_authserv_ids)
    msg.sender_check = check.summary() if check.checked else None
    forged = check.forged and source != "assigned"  # an admin's assign settles it
    if unit and source != "address":
        on_record = intake.roster.by_name[unit].emails + tuple(
            a for a, u in liaison_addrs.items() if u == unit)
        if mail.from_addr not in on_record:
            msg.flags = [f"发件地址 {mail.from_addr or '（无）'} 不在 {unit} 的登记记录中（按{_SOURCE_LABEL[source]}认定）"]
    if forged and unit:
        msg.flags = list(msg.flags) + [f"发件人身份验证未通过（{check.summary()}），疑为冒用 {mail.from_addr or '（无）'}"]

    outcome_items: list[tuple[str, str, str]] = []  # (item, label, new|duplicate)
    quiet = False  # kept for a person without an automatic answer
    if unit and forged:
        # A From the receiving server says is not the sender's never replaces a unit's
        # figures: kept for a person to look at; the unit's liaison is told.
        msg.outcome = NEEDS_REVIEW
        msg.reason = (f"发件人身份验证未通过（{check.summary()}），未登记；如确为本单位发送，"
                      f"管理员可用 intake assign 指定")
        if carried:
            _tell_liaison(intake, s, msg, unit, sorted({_item_for(cal, r, received_at) for r in carried
                                                        if r.status in (PARSED, EVIDENCE)}),
                          liaison_addrs, received_at, now)
        msg.acknowledged = _queue_ack(intake, s, msg, reading, unit, [], received_at, now)
        return NEEDS_REVIEW
    if unit:
        for f, rec in forms:
            r = f.result
            item = _item_for(cal, r, received_at)
            state = submissions.record(
                s, unit=unit, item=item, kind=r.kind, message_pk=pk, attachment_pk=rec.id,
                received_at=received_at, values=dict(r.values), text=r.text,
                evidence_only=r.status == EVIDENCE, flags=list(msg.flags), file_sha256=rec.sha256)
            outcome_items.append((item, f.filename, state))
        if reading.body is not None and reading.body.status == PARSED:
            item = _item_for(cal, reading.body, received_at)
            state = submissions.record(
                s, unit=unit, item=item, kind=WEEKLY_REPORT, message_pk=pk, attachment_pk=None,
                received_at=received_at, values={}, text=reading.body.text, flags=list(msg.flags))
            outcome_items.append((item, "邮件正文", state))

    if unit and any(state == submissions.NEW for _, _, state in outcome_items):
        outcome, reason = ACCEPTED, ""
    elif unit and outcome_items:
        outcome, reason = DUPLICATE, "与此前收到的内容相同，未重复记录"
    elif carried or problems:
        outcome = NEEDS_REVIEW
        reason = "无法确定报送单位，请用 intake assign 指定" if not unit else "；".join(problems) or "附件无法识别"
    elif answered is not None:
        outcome, reason = IGNORED, f"来信人回复说明单位为 {unit}，已据此重新处理邮件 #{answered}"
    elif unanswered is not None:
        # asking again would repeat the same question: a person reads the answer
        outcome, quiet = NEEDS_REVIEW, True
        reason = (f"回复了关于邮件 #{unanswered} 单位名称的询问，但回复中未找到名单上的单位，"
                  f"请用 intake assign {unanswered} 单位名称 指定")
    elif unit and _replies_to_our_mail(mail):
        outcome, quiet = NEEDS_REVIEW, True
        reason = "回复本系统的自动邮件，未附新的材料；如有询问，请人工答复"
    elif unit and _looks_like_submission(reading):
        outcome, reason = NEEDS_REVIEW, "来自登记单位，但未发现本次活动的表格或材料"
    elif unit:
        outcome, reason = IGNORED, f"来自登记单位（{unit}），但不是本次活动的报送（无活动表格、材料或关键词），未回复"
    else:
        outcome, reason = IGNORED, "来自未登记地址，且不含本次活动的材料"
    msg.outcome, msg.reason = outcome, reason
    if answered is not None:
        _settle_identity(intake, s, msg, reading, unit, answered, received_at, now)
        follow_ups.append(answered)

    if outcome != IGNORED and (unit or carried) and not quiet:
        msg.acknowledged = _queue_ack(intake, s, msg, reading, unit, outcome_items, received_at, now)
    if unit and source in ("form", "subject") and msg.flags and outcome == ACCEPTED:
        _tell_liaison(intake, s, msg, unit, [i for i, _, st in outcome_items if st == submissions.NEW],
                      liaison_addrs, received_at, now)
    return outcome


_SOURCE_LABEL = {"form": "表内单位名称", "subject": "邮件主题", "assigned": "管理员指定",
                 conversation.SOURCE: "来信人回复说明"}


def _settle_identity(intake: Intake, s, msg: Message, reading: Reading, unit: str, original_pk: int,
                     received_at: datetime, now: datetime) -> None:
    """The sender of `original_pk` named its unit in this reply: the original is tied to the
    unit (read again after this commit, as if assigned) and the organizers are told."""
    original = s.get(Message, original_pk)
    original.assigned_unit = unit
    if not intake.config.organizers:
        return
    note = compose_identity_note(
        calendar=intake.calendar, to=list(intake.config.organizers), sender=intake.config.smtp.sender,
        sender_addr=msg.from_addr, unit=unit, reply_pk=msg.id, subject=msg.subject,
        answer=classify.strip_quoted(reading.mail.body_text or ""), original_pk=original_pk,
        original_subject=original.subject, received_at=received_at, now=now)
    enqueue(s, key=f"identity:{_message_key(msg)}", kind="notice", message=note, message_pk=msg.id, now=now)


def _item_for(cal: Calendar, result: FormResult, received_at: datetime) -> str:
    if result.kind == WEEKLY_REPORT:
        return cal.week_for(received_at, result.named_week)
    return result.kind


def _queue_ack(intake: Intake, s, msg: Message, reading: Reading, unit: str | None,
               outcome_items, received_at: datetime, now: datetime) -> bool:
    mail = reading.mail
    to = mail.reply_to or mail.from_addr
    if not to or "@" not in to:
        return False
    key = _ack_key(msg)
    if _already_acked(s, key):
        return True
    cap = intake.config.limits.max_auto_replies_per_day
    if cap and recent_count(s, kind="ack", to_addr=to, since=now - timedelta(days=1)) >= cap:
        msg.flags = list(msg.flags) + [f"今日已向 {to} 自动回复 {cap} 封，本封不再回复"]
        return False
    received = submissions.received_items(s, unit) if unit else {}
    liaison = submissions.liaison_of(s, unit) if unit else None
    ack = replies.build_acknowledgement(
        calendar=intake.calendar, mail=mail, files=reading.files, body=reading.body, unit=unit,
        outcome=msg.outcome, reason=_for_unit(msg.reason, mail), flags=list(msg.flags), items=outcome_items,
        received=received, received_at=received_at, liaison=liaison, problems=[_for_unit(p, mail) for p in mail.problems])
    email = replies.compose_acknowledgement(ack, sender=intake.config.smtp.sender, to=to, now=now)
    return enqueue(s, key=key, kind="ack", message=email, message_pk=msg.id, now=now) or _already_acked(s, key)


def _for_unit(text: str, mail: ParsedMail) -> str:
    """An outcome's reason or a problem as the sender is told it: a file sent as a download
    link is asked for as an attachment (the admin's line names the links and asks a person)."""
    if not mail.cloud_links:
        return text
    return text.replace(cloud_links.reason(mail.cloud_links), cloud_links.ask_unit(mail.cloud_links))


def _message_key(msg: Message) -> str:
    """The message's identity in outbox keys: its Message-ID, hashed when too long for a key."""
    mid = msg.message_id
    if not mid or len(mid) > 200:
        return "sha:" + (sha256(mid.encode("utf-8", "surrogateescape")) if mid else msg.sha256)
    return mid


def _ack_key(msg: Message) -> str:
    key = f"ack:{_message_key(msg)}"
    if msg.assigned_unit:
        key += f":assigned:{msg.assigned_unit}"  # `intake assign` answers once more, now with the unit
    return key


def _tell_liaison(intake: Intake, s, msg: Message, unit: str, items: list[str], liaison_addrs: dict[str, str],
                  received_at: datetime, now: datetime) -> None:
    """A unit's figures came from an address not on its record: they are accepted, and the
    liaison on record (else the roster's addresses) is told, once per message."""
    liaison = submissions.liaison_of(s, unit) or {}
    to = [a for a, u in liaison_addrs.items() if u == unit] or list(intake.roster.by_name[unit].emails)
    to = [a for a in to if a != msg.from_addr]
    if not to or not items:
        return
    notice = replies.compose_sender_notice(
        calendar=intake.calendar, unit=unit, liaison_name=liaison.get("name"), to=to, sender_addr=msg.from_addr,
        subject=msg.subject, items=items, received_at=received_at, sender=intake.config.smtp.sender, now=now)
    enqueue(s, key=f"notice:{_message_key(msg)}:{unit}", kind="notice", message=notice,
            message_pk=msg.id, now=now)


def _already_acked(s, key: str) -> bool:
    return s.scalar(select(OutboxMail.id).where(OutboxMail.key == key)) is not None


def pending_ids(intake: Intake) -> list[PendingId]:
    """Messages waiting to be processed and not being read by any live process now."""
    now = datetime.now(timezone.utc)
    with intake.db.session() as s:
        rows = s.execute(select(Message.id, Message.claim_token, Message.claimed_by, Message.claimed_until)
                         .where(Message.outcome == PENDING).order_by(Message.id)).all()
    out = []
    for pk, token, holder, until in rows:
        if until is None or until <= now:
            out.append(PendingId(pk))
        elif _holder_is_gone(holder):
            out.append(PendingId(pk, stale_claim=token))
    return out

