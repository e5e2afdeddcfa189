"""Where every unit stands at a moment: each item's state, the liaison, the timeliness score,
what each of the campaign's forms holds, and each form's figures summed. Pure functions over
the submissions received by then; the calendar decides every state, the campaign's definition
which items and forms there are."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from ..forms.definition import INT, LIST, MANY, PROSE, Form
from .calendar import LATE, MISSING, ON_TIME, OPEN, Calendar
from .definition import Campaign
from .roster import Roster

# The 2020 items the read side has always named (a campaign without a liaison form or a prose
# form has no such item).
LIAISON_ITEM, PROGRESS_ITEM = "liaison_form", "progress_table"


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
    campaign: str | None = None  # the slug of the campaign it was recorded for (None: the only one)


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
    progress: dict[str, Any] | None = None  # the latest values of the first prose form (附件2) by then
    owes: list[str] = field(default_factory=list)
    liaison_address: str | None = None  # liaison_address() of the latest liaison form
    # form item -> what the unit sent by then: a one-per-unit form's latest values, a
    # many-per-unit form's values of every copy (oldest first); an item never sent is absent
    forms: dict[str, Any] = field(default_factory=dict)


def liaison_item(campaign: Campaign) -> str:
    """The item whose form names the unit's liaison (liaison_form for 2020)."""
    form = campaign.liaison_form
    return form.item if form is not None else LIAISON_ITEM


def progress_item(campaign: Campaign) -> str:
    """The item of the campaign's first prose form (progress_table for 2020)."""
    form = next((f for f in campaign.forms if f.shape == PROSE), None)
    return form.item if form is not None else PROGRESS_ITEM


def stand(calendar: Calendar, roster: Roster, deliveries: list[Delivery], now: datetime) -> list[UnitStanding]:
    """Every roster unit against every item of the calendar's campaign, seeing only what
    arrived at or before `now` (and, of deliveries that name their campaign, only its own)."""
    campaign = calendar.campaign
    seen = [d for d in deliveries if d.received_at <= now and not d.evidence_only
            and (d.campaign is None or d.campaign == campaign.slug)]
    first: dict[tuple[str, str], datetime] = {}
    latest: dict[tuple[str, str], Delivery] = {}
    every: dict[tuple[str, str], list[Delivery]] = {}
    for d in seen:
        key = (d.unit, d.item)
        if key not in first or d.received_at < first[key]:
            first[key] = d.received_at
        if key not in latest or d.received_at >= latest[key].received_at:
            latest[key] = d
        every.setdefault(key, []).append(d)
    liaison_name, progress_name = liaison_item(campaign), progress_item(campaign)
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
        liaison = latest.get((unit.name, liaison_name))
        progress = latest.get((unit.name, progress_name))
        owes = [i for i, st in items.items() if st.state in (MISSING, OPEN)]
        forms: dict[str, Any] = {}
        for form in campaign.forms:
            key = (unit.name, form.item)
            if form.per_unit == MANY and key in every:
                forms[form.item] = [dict(d.values or {}) for d in sorted(every[key], key=lambda d: d.received_at)]
            elif key in latest:
                forms[form.item] = dict(latest[key].values or {})
        out.append(UnitStanding(unit.name, unit.category, dict(liaison.values) if liaison else None, items, score,
                                dict(progress.values) if progress else None, owes,
                                liaison_address(liaison.values, liaison.sender) if liaison else None, forms))
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


@dataclass
class FormReport(Consolidated):
    """One form's figures over every unit: `totals` sums its integer fields (over every record
    of a list form and every copy of a many-per-unit form); `units` holds, per unit that sent it,
    a one-per-unit form's values, a list form's records, or a many-per-unit form's copies (of a
    list form: all their records); `missing_units` never sent it."""

    form: Form | None = None

    @property
    def records(self) -> int:
        """How many rows the units' data makes: units for a one-per-unit form, records else."""
        return sum(len(v) if isinstance(v, list) else 1 for v in self.units.values())


def int_fields(form: Form) -> list[str]:
    return [f.key for f in form.fields if f.type == INT and not f.header]


def records_of(form: Form, values: dict | None) -> list[dict]:
    """The records of one filled list form ({list_key: [records]}); blank rows are not records."""
    rows = (values or {}).get(form.list_key) or []
    return [dict(r) for r in rows if isinstance(r, dict) and any(v not in (None, "") for v in r.values())]


def summarise(standings: list[UnitStanding], form: Form) -> FormReport:
    """`form`'s figures over `standings` (each unit's latest copy, or every copy of a
    many-per-unit form): ints summed; a field left empty or in error is null and adds nothing;
    text stays per unit."""
    keys = int_fields(form)
    totals = {k: 0 for k in keys}
    units: dict[str, Any] = {}
    missing: list[str] = []
    for s in standings:
        got = s.forms.get(form.item)
        if got is None:
            missing.append(s.unit)
            continue
        copies = got if isinstance(got, list) else [got]
        if form.shape == LIST:
            rows = [r for copy in copies for r in records_of(form, copy)]
            units[s.unit] = rows
        else:
            rows = copies
            units[s.unit] = copies if form.per_unit == MANY else copies[0]
        for row in rows:
            for k in keys:
                v = row.get(k)
                if isinstance(v, int) and not isinstance(v, bool):
                    totals[k] += v
    return FormReport(totals, units, missing, form)


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
