"""An unknown sender's answer to the acknowledgement that asked for its unit's full name.

The acknowledgement of mail from an address on no unit's record asks the sender to reply with
the unit's full name. When the reply names one ("您好，我们是潜山市总工会"), the conversation ends:
the reply and the mail it answers are tied to that unit, the original is processed as if an
admin had assigned it, and the organizers are told. Later mail from the same address is
recognised by this confirmation.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .campaign.roster import Roster, Unit
from .forms.classify import strip_quoted
from .store.models import NEEDS_REVIEW, Message

# How long after our question an answer still counts as one: a reply weeks later is as likely
# to be about something else.
ANSWER_WINDOW = timedelta(days=30)
# The sender's own words in a reply are its first lines; the rest is quoting and signature.
_ANSWER_CHARS = 400

SOURCE = "reply"  # Message.unit_source of a mail tied to a unit by its sender's answer


def awaiting_unit(session, from_addr: str, pk: int, received_at: datetime) -> int | None:
    """The latest earlier mail from this address that waits for its unit to be known and was
    answered with the question (acknowledged); None when there is none."""
    if not from_addr:
        return None
    return session.scalar(
        select(Message.id).where(
            Message.from_addr == from_addr, Message.id != pk, Message.unit.is_(None),
            Message.outcome == NEEDS_REVIEW, Message.acknowledged.is_(True),
            Message.assigned_unit.is_(None), Message.received_at <= received_at,
            Message.received_at >= received_at - ANSWER_WINDOW)
        .order_by(Message.received_at.desc(), Message.id.desc()).limit(1))


def named_unit(roster: Roster, subject: str, body: str) -> Unit | None:
    """The one unit the reply's own words name (its new lines, then its subject)."""
    answer = strip_quoted(body or "")[:_ANSWER_CHARS]
    return roster.find_in_text(answer) or roster.find_in_text(subject or "")


def confirmed_unit(session, from_addr: str) -> str | None:
    """The unit an earlier answer from this address confirmed, if any."""
    if not from_addr:
        return None
    return session.scalar(select(Message.unit).where(
        Message.from_addr == from_addr, Message.unit_source == SOURCE, Message.unit.is_not(None))
        .order_by(Message.id.desc()).limit(1))
