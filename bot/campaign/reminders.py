"""Which reminders are due: the slots come from [schedule], the debts from the standings.

The items are the campaign's (its definition's forms, documents and weekly report, as the
calendar lists their deadlines). A reminder is due at `now` when its slot is at or before `now`, no more than `grace_hours` ago
(a daemon down for two days sends no stale reminders), the item's deadline has not passed,
and the unit still owes the item. Whether it was already sent is the outbox's business (its key
`remind:<unit>:<item>:<slot>`), so this module stays pure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..config import ScheduleConfig
from .calendar import MISSING, OPEN, Calendar
from .roster import Roster
from .standing import UnitStanding


@dataclass(frozen=True)
class Reminder:
    unit: str
    item: str
    slot: datetime
    to: tuple[str, ...]
    due: datetime

    @property
    def key(self) -> str:
        return f"remind:{self.unit}:{self.item}:{self.slot.isoformat()}"


def slots(calendar: Calendar, schedule: ScheduleConfig) -> list[tuple[str, datetime]]:
    """(item, slot) for every reminder the campaign schedules."""
    tz = calendar.tz
    out = []
    for dl in calendar.deadlines:
        if calendar.is_weekly(dl.item):
            thursday = date.fromisoformat(dl.item[len(calendar.weekly_prefix):])
            back = (thursday.weekday() - schedule.weekly_reminder.weekday) % 7
            out.append((dl.item, datetime.combine(thursday - timedelta(days=back), schedule.weekly_reminder.time, tz)))
        else:
            day = calendar.local(dl.due).date()
            for before in schedule.deadline_reminders_days_before:
                out.append((dl.item, datetime.combine(day - timedelta(days=before), schedule.reminder_time, tz)))
    return sorted(out, key=lambda p: (p[1], p[0]))


def due_reminders(calendar: Calendar, schedule: ScheduleConfig, roster: Roster,
                  standings: list[UnitStanding], now: datetime) -> list[Reminder]:
    grace = timedelta(hours=schedule.grace_hours)
    by_unit = {s.unit: s for s in standings}
    out = []
    for item, slot in slots(calendar, schedule):
        due = calendar.deadline(item).due
        if not (slot <= now <= slot + grace) or now > due:
            continue
        for unit in roster.units:
            standing = by_unit[unit.name]
            if standing.items[item].state not in (OPEN, MISSING):
                continue
            to = _recipients(standing, unit.emails)
            if to:
                out.append(Reminder(unit.name, item, slot, to, due))
    return out


def _recipients(standing: UnitStanding, roster_emails: tuple[str, ...]) -> tuple[str, ...]:
    """The liaison's address (the form's 电子邮箱, else the address the form came from), else
    the roster's."""
    if standing.liaison_address:
        return (standing.liaison_address,)
    return roster_emails


def digest_slots(calendar: Calendar, schedule: ScheduleConfig) -> list[datetime]:
    """Every digest moment from the campaign's start to a week after its end (the last one
    gives the organizers the final picture)."""
    c = calendar.campaign
    day = c.start
    out = []
    while day <= c.end + timedelta(days=7):
        if day.weekday() == schedule.digest.weekday:
            out.append(datetime.combine(day, schedule.digest.time, calendar.tz))
        day += timedelta(days=1)
    return out


def due_digest(calendar: Calendar, schedule: ScheduleConfig, now: datetime) -> datetime | None:
    """The digest slot due at `now` (within the grace period), if any."""
    grace = timedelta(hours=schedule.grace_hours)
    due = [s for s in digest_slots(calendar, schedule) if s <= now <= s + grace]
    return due[-1] if due else None
