"""Step 2, claim: a message is read by one process at a time.

A claim is one conditional UPDATE (token, holder `host:pid`, lease): of two daemons updating
the row at once, the second finds the condition false (PostgreSQL re-checks it on the row the
first one committed; SQLite runs them one after the other). The final transaction records an
outcome only while its claim still holds (`claimed`). The claim also says whether the mail is
read at all (`set_aside_reason`).
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from typing import Sequence

from ..campaign.definition import Campaign
from ..intake import Intake
from ..store.models import PENDING, Message

# How long a claim on a message holds: far longer than reading one mail (each attachment's
# conversion has its own timeout). A daemon killed mid-way on this host frees its claims at
# once (see holder_is_gone); one on another host holds them until they lapse.
CLAIM_SECONDS = 600.0

REASON_MARKED_HANDLED = "启用前已在邮箱中，管理员已标记为已处理（intake mark-handled），仅存档，不回复、不计入"

_HOLDER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Pending:
    """A message as `pending_ids` listed it. A daemon takes it only while it is still pending
    (another daemon may have processed it since the listing); `stale_claim` is the token of a
    claim whose holder was found gone, which may be taken over."""

    pk: int
    stale_claim: str | None = None


@dataclass(frozen=True)
class Job:
    """A claimed message, between its claim and its recorded outcome."""

    pk: int
    token: str
    digest: str
    received_at: datetime
    assigned: str | None
    set_aside: str | None = None  # why the mail is only kept and listed (see walk.SET_ASIDE)


class ClaimLost(Exception):
    """Another process took the message over (an admin's reprocess, or a lapsed claim)."""


def set_aside_reason(campaigns: Sequence[Campaign], received_at: datetime, marked_handled_at: datetime | None,
                     assigned: str | None) -> str | None:
    """Why a mail is only kept and listed, never read, answered or counted; None when it is
    read as usual: it arrived before the first of the campaigns opened for submissions. An
    admin's `assign` overrides both reasons: that mail is wanted."""
    if assigned:
        return None
    if marked_handled_at is not None:
        return REASON_MARKED_HANDLED
    opens = min(c.opens_at for c in campaigns)  # aware, in its own campaign's zone
    if received_at < opens:
        return (f"早于本次活动开始接收报送的日期（{opens.year}年{opens.month}月{opens.day}日），"
                "仅存档备查，不回复、不计入")
    return None


def begin(intake: Intake, pk: int, *, only_pending: bool, stale_claim: str | None = None,
          now: datetime | None = None) -> Job | None:
    """Claim the message for CLAIM_SECONDS; None when another process has it. With
    `only_pending` (a daemon) a message that is no longer pending, or that a live process is
    reading, is left alone; without it (an admin's `assign` or `reprocess`) the claim is taken
    over, and a daemon that was reading the message drops its result. A claim is free when it
    lapsed, or when it is still exactly the `stale_claim` whose holder pending_ids() found gone."""
    token = uuid.uuid4().hex
    now = now or intake.clock()
    where = [Message.id == pk]
    if only_pending:
        free = [Message.claimed_until.is_(None), Message.claimed_until <= now]
        if stale_claim:
            free.append(Message.claim_token == stale_claim)
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
               set_aside_reason(intake.campaigns or (intake.campaign,), row.received_at, row.marked_handled_at, row.assigned_unit))


def claimed(s, pk: int, token: str) -> Message:
    """The message row, locked until the transaction ends, if this call still holds its claim;
    the claim is released by the same commit that records the outcome."""
    msg = s.get(Message, pk, with_for_update=True)
    if msg is None or msg.claim_token != token:
        raise ClaimLost
    msg.claim_token, msg.claimed_by, msg.claimed_until = None, None, None
    return msg


def pending_ids(intake: Intake, now: datetime | None = None) -> list[Pending]:
    """Messages waiting to be processed and not being read by any live process now."""
    now = now or intake.clock()
    with intake.db.session() as s:
        rows = s.execute(select(Message.id, Message.claim_token, Message.claimed_by, Message.claimed_until)
                         .where(Message.outcome == PENDING).order_by(Message.id)).all()
    out = []
    for pk, token, holder, until in rows:
        if until is None or until <= now:
            out.append(Pending(pk))
        elif holder_is_gone(holder):
            out.append(Pending(pk, stale_claim=token))
    return out


def holder_is_gone(holder: str | None) -> bool:
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
