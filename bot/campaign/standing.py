"""Where every unit stands at a moment: each item's state, the liaison, the timeliness score,
and the consolidated 附件2 figures. Pure functions over the submissions received by then;
the calendar decides every state."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from .calendar import LATE, MISSING, ON_TIME, OPEN, Calendar
from .roster import Roster


@dataclass(frozen=True)
class Delivery:
    """One recorded submission, as the read side needs it."""

    unit: str
    item: str
    kind: str
    received_at: datetime
    values: dict
    evidence_only: bool = False
    sender: str | None = None  # the From address of the mail it came in


def form_email(values: dict | None) -> str | None:
    """The 电子邮箱 a liaison form gives, when it gives a usable one."""
    email = (values or {}).get("email")
    return email.strip().lower() if isinstance(email, str) and "@" in email else None


def liaison_address(values: dict | None, sender: str | None) -> str | None:
    """Where a unit's liaison is written to (reminders, notices, recognising the unit's mail):
    the liaison form's 电子邮箱, else the address the form itself came from."""
    return form_email(values) or (sender.strip().lower() if sender and "@" in sender else None)


def liaison_addresses(forms: Iterable[tuple[str, dict | None, str | None]]) -> dict[str, str]:
    """Address -> unit, from (unit, values, sender) of every current liaison form
    (store.submissions.liaison_forms): its 电子邮箱, else the From address of the mail it came
    in, as reminders use it."""
    out: dict[str, str] = {}
    for unit, values, sender in forms:
        address = liaison_address(values, sender)
        if address:
            out[address] = unit
    return out


@dataclass
class ItemStatus:
    item: str
    state: str
    due: datetime
    received_at: datetime | None


@dataclass
class Timeliness:
    on_time: int = 0
    late: int = 0
    missing: int = 0
    open: int = 0
    days_late: float = 0.0  # summed over late items
    days_early: float = 0.0  # summed over on-time items

    @property
    def judged(self) -> int:
        return self.on_time + self.late + self.missing

    @property
    def rate(self) -> float | None:
        """Share of the items already due that came on time."""
        return None if not self.judged else self.on_time / self.judged

    @property
    def score(self) -> float:
        """Points for the award quotas: 1 on time, 0.5 late, 0 missing, over items due so far."""
        return 0.0 if not self.judged else round(100 * (self.on_time + 0.5 * self.late) / self.judged, 1)


@dataclass
class UnitStanding:
    unit: str
    category: str
    liaison: dict | None
    items: dict[str, ItemStatus]
    timeliness: Timeliness
    progress: dict[str, Any] | None = None  # the latest 附件2 values received by then
    owes: list[str] = field(default_factory=list)
    liaison_address: str | None = None  # liaison_address() of the latest liaison form


def stand(calendar: Calendar, roster: Roster, deliveries: list[Delivery], now: datetime) -> list[UnitStanding]:
    """Every roster unit against every item, seeing only what arrived at or before `now`."""
    seen = [d for d in deliveries if d.received_at <= now and not d.evidence_only]
    first: dict[tuple[str, str], datetime] = {}
    latest: dict[tuple[str, str], Delivery] = {}
    for d in seen:
        key = (d.unit, d.item)
        if key not in first or d.received_at < first[key]:
            first[key] = d.received_at
        if key not in latest or d.received_at >= latest[key].received_at:
            latest[key] = d
    out = []
    for unit in roster.units:
        items: dict[str, ItemStatus] = {}
        score = Timeliness()
        for dl in calendar.deadlines:
            got = first.get((unit.name, dl.item))
            state = calendar.state(dl.item, got, now)
            items[dl.item] = ItemStatus(dl.item, state, dl.due, got)
            if state == ON_TIME:
                score.on_time += 1
                score.days_early += max(0.0, (dl.due - got).total_seconds() / 86400)
            elif state == LATE:
                score.late += 1
                score.days_late += (got - dl.due).total_seconds() / 86400
            elif state == MISSING:
                score.missing += 1
            elif state == OPEN:
                score.open += 1
        liaison = latest.get((unit.name, "liaison_form"))
        progress = latest.get((unit.name, "progress_table"))
        owes = [i for i, st in items.items() if st.state in (MISSING, OPEN)]
        out.append(UnitStanding(unit.name, unit.category, dict(liaison.values) if liaison else None, items, score,
                                dict(progress.values) if progress else None, owes,
                                liaison_address(liaison.values, liaison.sender) if liaison else None))
    return out


def ranked(standings: list[UnitStanding]) -> list[tuple[int, UnitStanding]]:
    """(rank, standing) by timeliness score, best first; equal scores share a rank and the next
    rank skips the places they took (1, 1, 3), as a prize list does. Ties list by unit name."""
    order = sorted(standings, key=lambda s: (-s.timeliness.score, s.unit))
    out: list[tuple[int, UnitStanding]] = []
    for place, s in enumerate(order, start=1):
        tied = out and out[-1][1].timeliness.score == s.timeliness.score
        out.append((out[-1][0] if tied else place, s))
    return out


@dataclass
class Consolidated:
    totals: dict[str, int]
    units: dict[str, dict[str, Any]]
    missing_units: list[str]


def consolidate(standings: list[UnitStanding], int_keys: list[str]) -> Consolidated:
    """The 附件2 figures: ints summed over each unit's latest table; a blank left empty or in
    error is null and adds nothing; text values stay per unit."""
    totals = {k: 0 for k in int_keys}
    units, missing = {}, []
    for s in standings:
        if s.progress is None:
            missing.append(s.unit)
            continue
        units[s.unit] = s.progress
        for k in int_keys:
            v = s.progress.get(k)
            if isinstance(v, int) and not isinstance(v, bool):
                totals[k] += v
    return Consolidated(totals, units, missing)
