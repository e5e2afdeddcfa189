"""The read side the admin and the organizers see: standings, reminders due, the report.

Each function takes `now` (the Intake's clock, or `--now`) and sees only mail received by then;
what it queues is stamped with the Intake's clock, and the outbox answers what was queued before.
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from .campaign.reminders import Reminder, due_reminders
from .campaign.standing import Delivery, FormReport, UnitStanding, stand, summarise
from .present import replies
from .intake import Intake
from .outbox import DrainResult, Outbox, enqueue, is_queued, queued_keys
from .store.queries import deliveries


def standings(intake: Intake, now: datetime) -> list[UnitStanding]:
    with intake.db.session() as s:
        rows = [Delivery(*row) for row in deliveries(s, now, campaign=intake.campaign.slug)]
    return stand(intake.calendar, intake.roster, rows, now)


def report(intake: Intake, now: datetime) -> FormReport:
    """The first reported form's figures (2020: the 附件2's, the integer blanks summed)."""
    reports = form_reports(intake, now)
    return reports[0] if reports else FormReport({}, {}, [], None)


def form_reports(intake: Intake, now: datetime, stands: list[UnitStanding] | None = None) -> list[FormReport]:
    """Every reported form's figures (present.labels.report_forms: all but the liaison form),
    in the definition's order."""
    return _reports(intake, standings(intake, now) if stands is None else stands)


def _reports(intake: Intake, stands: list[UnitStanding]) -> list[FormReport]:
    from .present.labels import report_forms

    return [summarise(stands, form) for form in report_forms(intake.campaign)]


def report_doc(intake: Intake, now: datetime) -> dict:
    """`intake report --json` (interface.md): for 2020 the 附件2's totals, units and
    missing_units; a campaign reporting several forms adds "forms", each by its own fields."""
    from .present.as_json import report_json

    return report_json(form_reports(intake, now))


def pending_reminders(intake: Intake, now: datetime) -> list[Reminder]:
    """Reminders whose slot has come (within the grace period) and that were never queued."""
    due = due_reminders(intake.calendar, intake.config.schedule, intake.roster, standings(intake, now), now)
    if not due:
        return []
    with intake.db.session() as s:
        made = queued_keys(s, [intake.outbox_key(r.key) for r in due])
    return [r for r in due if intake.outbox_key(r.key) not in made]


def send_reminders(intake: Intake, now: datetime, *, drain: bool = True) -> list[Reminder]:
    """Queue every pending reminder (once per unit, item and slot, ever), then send."""
    todo = pending_reminders(intake, now)
    queued = []
    liaisons = {s.unit: s.liaison for s in standings(intake, now)}
    wall = intake.clock()
    with intake.db.session() as s:
        for r in todo:
            # the liaison form's name, else the contact the office's roster names
            name = (liaisons.get(r.unit) or {}).get("name") or intake.roster.by_name[r.unit].contact or None
            msg = replies.compose_reminder(intake.calendar, r, sender=intake.config.smtp.sender,
                                           campaign_name=intake.campaign.name, liaison_name=name, now=wall)
            if enqueue(s, key=intake.outbox_key(r.key), kind="remind", message=msg, now=wall):
                queued.append(r)
    if drain and queued:
        Outbox.of(intake).drain()
    return queued


def reminder_json(intake: Intake, r: Reminder) -> dict:
    return {"unit": r.unit, "item": r.item, "slot": intake.calendar.local(r.slot).isoformat(timespec="seconds"),
            "to": list(r.to), "subject": replies.reminder_subject(intake.calendar, r)}


def workbook_data(intake: Intake, now: datetime):
    from .present.workbook import WorkbookData
    from .present.as_json import messages_json
    from .store.queries import messages

    stands = standings(intake, now)
    reports = _reports(intake, stands)
    with intake.db.session() as s:
        msgs = [m for m in messages_json(messages(s, campaign=intake.campaign.slug), intake.calendar)
                if m["received_at"] is None
                or datetime.fromisoformat(m["received_at"]) <= now]
    main = reports[0] if reports else FormReport({}, {}, [], None)
    return WorkbookData(intake.campaign.name, now, intake.calendar, stands, main, msgs, reports)


def build_digest(intake: Intake, now: datetime):
    """(EmailMessage, workbook bytes) for the organizers, as of `now`."""
    from .present.digest import compose_digest
    from .present.workbook import build_workbook

    data = workbook_data(intake, now)
    book = build_workbook(data)
    msg = compose_digest(data, sender=intake.config.smtp.sender, to=list(intake.config.organizers),
                         wall=intake.clock(), workbook=book)
    return msg, book


def send_digest(intake: Intake, now: datetime, *, key: str | None = None, drain: bool = True) -> bool:
    """Queue the digest under `key` (default: the scheduled slot due at `now`); False when no slot
    is due or it was queued before."""
    from .campaign.reminders import due_digest

    if key is None:
        slot = due_digest(intake.calendar, intake.config.schedule, now)
        if slot is None:
            return False
        key = intake.outbox_key(f"digest:{slot.date().isoformat()}")
    if not intake.config.organizers:
        return False
    with intake.db.session() as s:
        if is_queued(s, key):
            return False
    msg, _ = build_digest(intake, now)
    with intake.db.session() as s:
        queued = enqueue(s, key=key, kind="digest", message=msg, now=intake.clock())
    if drain and queued:
        Outbox.of(intake).drain()
    return queued


def send_digest_now(intake: Intake, now: datetime, message: EmailMessage) -> tuple[bool, DrainResult]:
    """`intake digest --send`: `message` (build_digest's, as of `now`) queued under the manual
    key of `now`'s minute, then the outbox drained. Returns whether it was queued now (False: the
    same minute's digest was queued before) and what the drain did."""
    key = intake.outbox_key(f"digest:manual:{intake.calendar.local(now).isoformat(timespec='minutes')}")
    with intake.db.session() as s:
        queued = enqueue(s, key=key, kind="digest", message=message, now=intake.clock())
    return queued, Outbox.of(intake).drain()
