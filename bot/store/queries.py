"""Read-side queries for the admin's commands; set-based, never one query per row."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..campaign.calendar import Calendar
from .models import Message


def iso(moment, cal: Calendar) -> str | None:
    return None if moment is None else cal.local(moment).isoformat(timespec="seconds")


def attachment_json(filename: str, kind: str | None, status: str, values: dict | None, errors: list | None,
                    warnings: list | None, reason: str | None) -> dict:
    """One attachment as `intake messages --json` and `intake inspect --json` show it (errors and
    warnings already as `Problem.as_json()` dicts): the one place that shape is made."""
    return {"filename": filename, "kind": kind, "status": status, "values": values or {},
            "errors": errors or [], "warnings": warnings or [], "reason": reason}


def messages_json(session: Session, cal: Calendar, state: str | None = None) -> list[dict]:
    stmt = select(Message).options(selectinload(Message.attachments)).order_by(Message.id)
    if state:
        stmt = stmt.where(Message.outcome == state)
    out = []
    for m in session.scalars(stmt):
        out.append({
            "id": m.id,
            "message_id": m.message_id or None,
            "from": m.from_addr,
            "subject": m.subject,
            "received_at": iso(m.received_at, cal),
            "unit": m.unit,
            "outcome": m.outcome,
            "reason": m.reason,
            "kinds": list(m.kinds or []),
            "flags": list(m.flags or []),
            "attachments": [attachment_json(a.filename, a.kind, a.status, a.values, a.errors, a.warnings,
                                            a.reason) for a in m.attachments],
            "acknowledged": bool(m.acknowledged),
            "sender_check": m.sender_check,
        })
    return out


def deliveries(session: Session, until=None) -> list:
    """Every submission received at or before `until` with the From address of its mail, in one query."""
    from ..campaign.standing import Delivery
    from .models import Submission

    stmt = select(Submission.unit, Submission.item, Submission.kind, Submission.received_at, Submission.values,
                  Submission.evidence_only, Message.from_addr).join(Message, Message.id == Submission.message_pk)
    if until is not None:
        stmt = stmt.where(Submission.received_at <= until)
    return [Delivery(*row) for row in session.execute(stmt)]


def unit_flags(session: Session, until=None) -> dict[str, list[str]]:
    """What each unit's mail was flagged with (an address not on record, a failed sender
    check), newest first, in one query."""
    from .models import Message

    stmt = select(Message.unit, Message.flags).where(Message.unit.is_not(None)).order_by(Message.received_at.desc())
    if until is not None:
        stmt = stmt.where(Message.received_at <= until)
    out: dict[str, list[str]] = {}
    for unit, flags in session.execute(stmt):
        for flag in flags or ():
            if flag not in out.setdefault(unit, []):
                out[unit].append(flag)
    return out


def status_json(standings, cal: Calendar, now, flags: dict[str, list[str]] | None = None) -> dict:
    from ..campaign.standing import ranked

    rank = {s.unit: place for place, s in ranked(standings)}  # equal scores share a rank
    units = []
    for s in standings:
        liaison = None
        if s.liaison:
            liaison = {"name": s.liaison.get("name"), "email": s.liaison.get("email"),
                       "mobile": s.liaison.get("mobile")}
        units.append({
            "unit": s.unit,
            "category": s.category,
            "liaison": liaison,
            "items": {item: {"state": st.state, "due": iso(st.due, cal), "received_at": iso(st.received_at, cal)}
                      for item, st in s.items.items()},
            "timeliness": {"on_time": s.timeliness.on_time, "late": s.timeliness.late,
                           "missing": s.timeliness.missing, "open": s.timeliness.open,
                           "score": s.timeliness.score, "rank": rank[s.unit],
                           "days_late": round(s.timeliness.days_late, 2),
                           "days_early": round(s.timeliness.days_early, 2)},
            "flags": (flags or {}).get(s.unit, []),
        })
    return {"now": iso(now, cal), "units": units}
