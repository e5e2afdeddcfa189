"""The database: what arrived, what became of it, what units submitted, what we send.

Units themselves live in the roster file (the admin edits a CSV); the database refers to them
by their canonical name. A unit's liaison is not stored apart: it is the current accepted
liaison-form submission's values, so there is one place that decides it.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, stored naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Clipped(TypeDecorator):
    """A VARCHAR(n) that keeps the first n characters of a longer value. SQLite ignores the
    length and PostgreSQL refuses the row; the fields that use it hold what a sender wrote
    (an address, a content type), which must never stop a mail from being recorded."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, str) and self.impl.length and len(value) > self.impl.length:
            return value[:self.impl.length]
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The campaign (its slug: the folder's name, bot/campaign/definition) rows made before there were
# several campaigns belong to: the shipped 2020 one, the only campaign the bot knew then.
DEFAULT_CAMPAIGN = "2020-anqing-safety-month"
SLUG_LENGTH = 120


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


# Message outcomes (interface.md). PENDING: archived, not yet processed (a crash in between is
# picked up again on the next cycle).
PENDING = "pending"
ACCEPTED = "accepted"
NEEDS_REVIEW = "needs_review"
DUPLICATE = "duplicate"
AUTO_REPLY = "auto_reply"
IGNORED = "ignored"
OUTCOMES = (ACCEPTED, NEEDS_REVIEW, DUPLICATE, AUTO_REPLY, IGNORED)
# TAKEN is no stored outcome: pipeline.process's answer when another process holds the message
# or has processed it since it was listed as pending.
TAKEN = "taken"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("message_id", "sha256", name="uq_message_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True)  # "" when the mail has none
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    received_at: Mapped[datetime]  # IMAP INTERNALDATE: deadlines are judged by it
    from_addr: Mapped[str] = mapped_column(Clipped(320), default="", index=True)
    from_name: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str | None] = mapped_column(String(200), index=True)
    unit_source: Mapped[str | None] = mapped_column(String(20))  # address | form | subject | assigned
    assigned_unit: Mapped[str | None] = mapped_column(String(200))  # set by `intake assign`
    outcome: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    kinds: Mapped[list] = mapped_column(default=list)
    flags: Mapped[list] = mapped_column(default=list)  # Chinese notes for the admin
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    # the receiving server's verdicts (Authentication-Results), e.g. "SPF=pass，DKIM=fail";
    # None when it added none
    sender_check: Mapped[str | None] = mapped_column(String(200))
    # The campaign the mail was attributed to (pipeline/decide.attribute); None while pending
    # and for mail that is no campaign's (set aside before any campaign opened).
    campaign: Mapped[str | None] = mapped_column(String(SLUG_LENGTH), default=None,
                                                 server_default=DEFAULT_CAMPAIGN, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    # set by `intake mark-handled`: mail already in the mailbox before the bot went live, kept
    # and listed, never answered or counted (also when reprocessed)
    marked_handled_at: Mapped[datetime | None]
    # A daemon processing the message holds it until claimed_until (pipeline.process): two
    # daemons never read one mail at the same time. A claim lapses then, or at once when its
    # holder (claimed_by: host:pid) is a process of this host that no longer runs.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_by: Mapped[str | None] = mapped_column(String(300))
    claimed_until: Mapped[datetime | None]

    attachments: Mapped[list[AttachmentRecord]] = relationship(
        back_populates="message", order_by="AttachmentRecord.position", cascade="all, delete-orphan")


class MailLocation(Base):
    """Where a message was seen on the server; (folder, UIDVALIDITY, UID) is never processed twice."""

    __tablename__ = "mail_locations"
    __table_args__ = (UniqueConstraint("folder", "uidvalidity", "uid", name="uq_location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    folder: Mapped[str] = mapped_column(String(400))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[int] = mapped_column(Integer)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailboxState(Base):
    __tablename__ = "mailbox_state"

    folder: Mapped[str] = mapped_column(String(400), primary_key=True)
    uidvalidity: Mapped[int]
    last_uid: Mapped[int] = mapped_column(default=0)


class AttachmentRecord(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int]
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Clipped(200), default="")
    origin: Mapped[list] = mapped_column(default=list)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    kind: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # parsed | error | evidence | skipped
    values: Mapped[dict] = mapped_column(default=dict)
    errors: Mapped[list] = mapped_column(default=list)
    warnings: Mapped[list] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[Message] = relationship(back_populates="attachments")


class Submission(Base):
    """One thing a unit delivered for one item of one campaign. The latest per (campaign, unit,
    item) is current; older ones stay as history (current=False)."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submission_campaign_unit_item", "campaign", "unit", "item"),
                      # every current liaison form is looked up for each processed mail
                      Index("ix_submission_kind_current", "kind", "current"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(SLUG_LENGTH), server_default=DEFAULT_CAMPAIGN)  # its slug
    unit: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(60))  # liaison_form | progress_table | summary | weekly_report:YYYY-MM-DD
    kind: Mapped[str] = mapped_column(String(40))
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    attachment_pk: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    received_at: Mapped[datetime]
    content_sha256: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict] = mapped_column(default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    evidence_only: Mapped[bool] = mapped_column(Boolean, default=False)  # a scan: kept, editable file still owed
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    flags: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Outbox states
QUEUED = "queued"
SENT = "sent"
FAILED = "failed"  # permanent: kept with the server's answer


class OutboxMail(Base):
    """Every mail we send is first a row here; its key makes sending idempotent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)  # ack:<pk> | remind:<unit>:<item>:<slot> | digest:<period>
    kind: Mapped[str] = mapped_column(String(20), index=True)
    to_addr: Mapped[str] = mapped_column(Clipped(320), index=True)  # first recipient (rate limits)
    recipients: Mapped[list] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    status: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
