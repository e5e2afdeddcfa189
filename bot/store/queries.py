"""Read-side queries for the admin's commands; set-based, never one query per row. They return
rows; bot/present/as_json.py shapes them for people and tools, bot/campaign judges them.

`campaign` (a slug) limits a query to one campaign's submissions, and to the mail attributed to
it (plus mail that is no campaign's: still pending, or set aside before any campaign opened);
None sees every campaign."""
from __future__ import annotations

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session, selectinload

from .models import Message, Submission


def messages(session: Session, state: str | None = None, campaign: str | None = None) -> list[Message]:
    """Every message in the order it was recorded (or those with outcome `state`), each with its
    attachments loaded in the same round trip."""
    stmt = select(Message).options(selectinload(Message.attachments)).order_by(Message.id)
    if state:
        stmt = stmt.where(Message.outcome == state)
    if campaign is not None:
        stmt = stmt.where(or_(Message.campaign == campaign, Message.campaign.is_(None)))
    return list(session.scalars(stmt))


def deliveries(session: Session, until=None, campaign: str | None = None) -> list[Row]:
    """(unit, item, kind, received_at, values, evidence_only, from_addr) of every submission
    received at or before `until`, with the From address of its mail, in one query: the fields
    of campaign.standing.Delivery, in its order."""
    stmt = select(Submission.unit, Submission.item, Submission.kind, Submission.received_at, Submission.values,
                  Submission.evidence_only, Message.from_addr).join(Message, Message.id == Submission.message_pk)
    if until is not None:
        stmt = stmt.where(Submission.received_at <= until)
    if campaign is not None:
        stmt = stmt.where(Submission.campaign == campaign)
    return list(session.execute(stmt))


def unit_flags(session: Session, until=None, campaign: str | None = None) -> dict[str, list[str]]:
    """What each unit's mail was flagged with (an address not on record, a failed sender
    check), newest first, in one query."""
    stmt = select(Message.unit, Message.flags).where(Message.unit.is_not(None)).order_by(Message.received_at.desc())
    if until is not None:
        stmt = stmt.where(Message.received_at <= until)
    if campaign is not None:
        stmt = stmt.where(Message.campaign == campaign)
    out: dict[str, list[str]] = {}
    for unit, flags in session.execute(stmt):
        for flag in flags or ():
            if flag not in out.setdefault(unit, []):
                out[unit].append(flag)
    return out
