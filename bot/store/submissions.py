"""Recording what units delivered: versions, duplicates, and the liaison on record.

The latest arrival (by INTERNALDATE) for a campaign, unit and item is current; older ones stay
as history. The same content again for the same campaign, unit and item is a duplicate and
changes nothing. Items of different campaigns never meet: 2021's liaison_form is not a new
version of 2020's.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import DEFAULT_CAMPAIGN, Message, Submission

NEW, DUPLICATE = "new", "duplicate"


def content_digest(values: dict[str, Any], text: str) -> str:
    """What makes two deliveries the same: the values read (or the report's text), not the file
    bytes, since re-saving a form changes the bytes but not what it says."""
    canonical = json.dumps({"v": values, "t": " ".join(text.split())}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(session: Session, *, unit: str, item: str, kind: str, message_pk: int,
           attachment_pk: int | None, received_at: datetime, values: dict, text: str,
           evidence_only: bool = False, flags: list[str] | None = None, file_sha256: str = "",
           campaign: str = DEFAULT_CAMPAIGN) -> str:
    """Record one delivery for `campaign` (its slug); DUPLICATE (nothing recorded) when it says
    the same as the version that counts now. Sending v1, v2, then v1 again makes v1 current
    again."""
    # A scan is the same delivery when it is the same file; the column holds 64 hex digits, and
    # scans are compared only with scans (rivals below), so the file's own hash serves as is.
    digest = file_sha256 if evidence_only and file_sha256 else content_digest(values, text)
    # A scan never replaces an editable file; an editable file always outranks a scan.
    rivals = _versions(session, campaign, unit, item, evidence_only)
    latest = max(rivals, key=lambda s: s.received_at, default=None)
    if latest is not None and latest.content_sha256 == digest:
        return DUPLICATE
    is_current = latest is None or received_at >= latest.received_at
    if is_current:
        for s in rivals:
            s.current = False
    session.add(Submission(campaign=campaign, unit=unit, item=item, kind=kind, message_pk=message_pk,
                           attachment_pk=attachment_pk, received_at=received_at,
                           content_sha256=digest, values=values, text=text,
                           evidence_only=evidence_only, current=is_current, flags=flags or []))
    session.flush()
    return NEW


def _versions(session: Session, campaign: str, unit: str, item: str, evidence_only: bool) -> list[Submission]:
    return list(session.scalars(select(Submission).where(
        Submission.campaign == campaign, Submission.unit == unit, Submission.item == item,
        Submission.evidence_only == evidence_only)))


def liaison_forms(session: Session) -> list[tuple[str, dict, str]]:
    """(unit, values, From address of the mail it came in) of every current accepted liaison
    form: what standing.liaison_addresses turns into the addresses units write from."""
    return [tuple(row) for row in session.execute(
        select(Submission.unit, Submission.values, Message.from_addr)
        .join(Message, Message.id == Submission.message_pk)
        .where(Submission.kind == "liaison_form", Submission.current.is_(True),
               Submission.evidence_only.is_(False)))]


def liaisons(session: Session) -> dict[str, dict]:
    """Unit -> the liaison form's values, for every unit with a current liaison form."""
    return {sub.unit: dict(sub.values or {}) for sub in session.scalars(select(Submission).where(
        Submission.kind == "liaison_form", Submission.current.is_(True),
        Submission.evidence_only.is_(False)))}


def liaison_of(session: Session, unit: str) -> dict | None:
    """One unit's current liaison form's values (as `liaisons` gives them for every unit)."""
    sub = session.scalar(select(Submission).where(
        Submission.unit == unit, Submission.item == "liaison_form", Submission.current.is_(True),
        Submission.evidence_only.is_(False)).order_by(Submission.id.desc()).limit(1))
    return dict(sub.values or {}) if sub is not None else None


def received_items(session: Session, unit: str, campaign: str | None = None) -> dict[str, datetime]:
    """Item -> earliest arrival of an editable submission, for one unit (of one campaign, when
    `campaign` names its slug)."""
    out: dict[str, datetime] = {}
    stmt = select(Submission).where(Submission.unit == unit, Submission.evidence_only.is_(False))
    if campaign is not None:
        stmt = stmt.where(Submission.campaign == campaign)
    for sub in session.scalars(stmt):
        if sub.item not in out or sub.received_at < out[sub.item]:
            out[sub.item] = sub.received_at
    return out


def forget_message(session: Session, message_pk: int) -> None:
    """Drop what one message recorded (before re-reading it) and restore the previous versions."""
    subs = list(session.scalars(select(Submission).where(Submission.message_pk == message_pk)))
    touched = {(s.campaign, s.unit, s.item, s.evidence_only) for s in subs}
    for s in subs:
        session.delete(s)
    session.flush()
    for campaign, unit, item, evidence in touched:
        rest = _versions(session, campaign, unit, item, evidence)
        latest = max(rest, key=lambda s: s.received_at, default=None)
        for s in rest:
            s.current = s is latest
