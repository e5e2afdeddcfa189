"""Read-side queries for the admin's commands; set-based, never one query per row."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..campaign.calendar import Calendar
from .models import Message


def iso(moment, cal: Calendar) -> str | None:
    return None if moment is None else cal.local(moment).isoformat(timespec="seconds")


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
            "attachments": [{
                "filename": a.filename, "kind": a.kind, "status": a.status, "values": a.values or {},
                "errors": a.errors or [], "warnings": a.warnings or [], "reason": a.reason,
            } for a in m.attachments],
            "acknowledged": bool(m.acknowledged),
        })
    return out
