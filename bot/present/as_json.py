"""The JSON documents of shared/spec/interface.md, shaped from what the store and the campaign
give: `intake status --json`, `intake report --json`, `intake messages --json`, and the attachment
object that `intake inspect --json` shares with `messages`. Times are the campaign's local ISO
8601."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from ..campaign.calendar import Calendar
from ..campaign.standing import FormReport, UnitStanding, ranked
from ..forms.definition import LIST
from ..store.models import Message


def iso(moment: datetime | None, cal: Calendar) -> str | None:
    return None if moment is None else cal.local(moment).isoformat(timespec="seconds")


def attachment_json(filename: str, kind: str | None, status: str, values: dict | None, errors: list | None,
                    warnings: list | None, reason: str | None) -> dict:
    """One attachment as `intake messages --json` and `intake inspect --json` show it (errors and
    warnings already as `Problem.as_json()` dicts): the one place that shape is made."""
    return {"filename": filename, "kind": kind, "status": status, "values": values or {},
            "errors": errors or [], "warnings": warnings or [], "reason": reason}


def message_json(m: Message, cal: Calendar) -> dict:
    return {
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
        "attachments": [attachment_json(a.filename, a.kind, a.status, a.values, a.errors, a.warnings, a.reason)
                        for a in m.attachments],
        "acknowledged": bool(m.acknowledged),
        "sender_check": m.sender_check,
    }


def messages_json(messages: Iterable[Message], cal: Calendar) -> list[dict]:
    """`store.queries.messages(session, ...)` as `intake messages --json` lists them (within the
    session the messages were loaded in)."""
    return [message_json(m, cal) for m in messages]


def status_json(standings: list[UnitStanding], cal: Calendar, now: datetime,
                flags: dict[str, list[str]] | None = None) -> dict:
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


def form_report_json(report: FormReport) -> dict:
    """One form's figures, as `report --json` lists each form under "forms": what the form is,
    then its totals (the int fields summed), the units' data by the form's keys (a one-per-unit
    prose or grid form: the values; a list form: the records; a many-per-unit form: the list of
    its copies' values, of a list form all their records) and the units that sent nothing."""
    form = report.form
    out = {"form": form.form, "title": form.title, "shape": form.shape, "item": form.item,
           "per_unit": form.per_unit}
    if form.shape == LIST:
        out["list_key"] = form.list_key
    out |= {"totals": report.totals, "units": report.units, "missing_units": report.missing_units,
            "records": report.records}
    return out


def report_json(reports: list[FormReport]) -> dict:
    """`intake report --json`: the first reported form's totals, units and missing_units (2020:
    the 附件2, exactly as interface.md shows it); when the campaign reports more than one form,
    "forms" lists every one by its name (附件N) with form_report_json."""
    if not reports:
        return {"totals": {}, "units": {}, "missing_units": []}
    main = reports[0]
    doc = {"totals": main.totals, "units": main.units, "missing_units": main.missing_units}
    if len(reports) > 1:
        doc["forms"] = {r.form.form: form_report_json(r) for r in reports}
    return doc
