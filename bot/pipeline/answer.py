"""Step 5, answer: what a decided message makes the bot send, queued in the same transaction
as the outcome (the outbox sends it after the commit): the sender's acknowledgement, a notice
to the unit's liaison when its figures came from an address not on record or a forged one, and
a note to the organizers when an unknown sender named its unit."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..forms import classify
from ..forms.result import EVIDENCE, PARSED
from ..intake import Intake
from ..mail import cloud_links
from ..mail.archive import sha256
from ..mail.message import ParsedMail
from ..outbox import enqueue, is_queued, recent_count
from ..present import replies
from ..present.organizer_notes import compose_identity_note
from ..store import submissions
from ..store.models import ACCEPTED, Message
from .decide import Decided, item_for
from .read import Reading


def respond(intake: Intake, s, msg: Message, reading: Reading, decided: Decided, received_at: datetime,
            now: datetime) -> list[int]:
    """Queue what the decision calls for; returns the messages it settled (read them again
    after the commit)."""
    facts, who, verdict = decided.facts, decided.who, decided.verdict
    follow_ups = []
    if facts.forged and who.unit and decided.carried:
        tell_liaison(intake, s, msg, who.unit, sorted({item_for(intake.calendar, r, received_at)
                                                       for r in decided.carried if r.status in (PARSED, EVIDENCE)}),
                     decided.liaison_addrs, received_at, now)
    if who.answered is not None:
        settle_identity(intake, s, msg, reading, who.unit, who.answered, received_at, now)
        follow_ups.append(who.answered)
    if verdict.answer:
        msg.acknowledged = queue_ack(intake, s, msg, reading, who.unit, decided.items, received_at, now)
    if (not facts.forged and who.unit and who.source in ("form", "subject") and msg.flags
            and verdict.outcome == ACCEPTED):
        tell_liaison(intake, s, msg, who.unit, [i for i, _, st in decided.items if st == submissions.NEW],
                     decided.liaison_addrs, received_at, now)
    return follow_ups


def settle_identity(intake: Intake, s, msg: Message, reading: Reading, unit: str, original_pk: int,
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
    enqueue(s, key=f"identity:{message_key(msg)}", kind="notice", message=note, message_pk=msg.id, now=now)


def queue_ack(intake: Intake, s, msg: Message, reading: Reading, unit: str | None,
              outcome_items, received_at: datetime, now: datetime) -> bool:
    """The sender's acknowledgement, once per message ever and within the daily cap per address."""
    mail = reading.mail
    to = mail.reply_to or mail.from_addr
    if not to or "@" not in to:
        return False
    key = ack_key(msg)
    if is_queued(s, key):
        return True
    cap = intake.config.limits.max_auto_replies_per_day
    if cap and recent_count(s, kind="ack", to_addr=to, since=now - timedelta(days=1)) >= cap:
        msg.flags = list(msg.flags) + [f"今日已向 {to} 自动回复 {cap} 封，本封不再回复"]
        return False
    received = submissions.received_items(s, unit, intake.campaign.slug) if unit else {}
    liaison = submissions.liaison_of(s, unit) if unit else None
    ack = replies.build_acknowledgement(
        calendar=intake.calendar, mail=mail, files=reading.files, body=reading.body, unit=unit,
        outcome=msg.outcome, reason=for_unit(msg.reason, mail), flags=list(msg.flags), items=outcome_items,
        received=received, received_at=received_at, liaison=liaison,
        problems=[for_unit(p, mail) for p in mail.problems])
    email = replies.compose_acknowledgement(ack, sender=intake.config.smtp.sender, to=to, now=now)
    return enqueue(s, key=key, kind="ack", message=email, message_pk=msg.id, now=now) or is_queued(s, key)


def for_unit(text: str, mail: ParsedMail) -> str:
    """An outcome's reason or a problem as the sender is told it: a file sent as a download
    link is asked for as an attachment (the admin's line names the links and asks a person)."""
    if not mail.cloud_links:
        return text
    return text.replace(cloud_links.reason(mail.cloud_links), cloud_links.ask_unit(mail.cloud_links))


def message_key(msg: Message) -> str:
    """The message's identity in outbox keys: its Message-ID, hashed when too long for a key."""
    mid = msg.message_id
    if not mid or len(mid) > 200:
        return "sha:" + (sha256(mid.encode("utf-8", "surrogateescape")) if mid else msg.sha256)
    return mid


def ack_key(msg: Message) -> str:
    key = f"ack:{message_key(msg)}"
    if msg.assigned_unit:
        key += f":assigned:{msg.assigned_unit}"  # `intake assign` answers once more, now with the unit
    return key


def tell_liaison(intake: Intake, s, msg: Message, unit: str, items: list[str], liaison_addrs: dict[str, str],
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
    enqueue(s, key=f"notice:{message_key(msg)}:{unit}", kind="notice", message=notice,
            message_pk=msg.id, now=now)
