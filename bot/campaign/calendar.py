"""The one calendar of the campaign: deadlines, weekly Thursdays, and the state of an item.

Everything is judged on the server's arrival time (IMAP INTERNALDATE), converted to the
campaign's time zone; the dates all come from the configuration.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..config import CampaignConfig
from .definition import WEEKLY, Campaign, resolve

ON_TIME, LATE, MISSING, OPEN = "on_time", "late", "missing", "open"
WEEKLY_PREFIX = "weekly_report:"



@dataclass(frozen=True)
class Deadline:
    item: str  # liaison_form | progress_table | summary | weekly_report:YYYY-MM-DD
    kind: str
    due: datetime  # aware, campaign zone


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n - 10] if n > 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


class Calendar:
    def __init__(self, campaign: Campaign | CampaignConfig):
        if isinstance(campaign, CampaignConfig):
            campaign = resolve(campaign)
        self.campaign = campaign
        self.tz = campaign.timezone
        wr = campaign.weekly_report
        self.weeks: list[date] = []
        d = wr.first if wr else date.max
        while wr and d <= wr.last:
            self.weeks.append(d)
            d += timedelta(days=7)
        self.deadlines: list[Deadline] = [
            Deadline(item.item, item.item, item.due) for item in campaign.items if item.kind != WEEKLY]
        self._labels = {item.item: item.label for item in campaign.items}
        # a weekly item's status keys are NAME:YYYY-MM-DD (weekly_report:2020-06-04 for 2020)
        weekly = campaign.weekly_item
        self.weekly_name = weekly.item if weekly else WEEKLY_PREFIX[:-1]
        self.weekly_prefix = self.weekly_name + ":"
        for d in self.weeks:
            self.deadlines.append(Deadline(self.weekly_key(d), self.weekly_name, self.weekly_due(d)))
        self._by_item = {dl.item: dl for dl in self.deadlines}

    def weekly_key(self, thursday: date) -> str:
        return f"{self.weekly_prefix}{thursday.isoformat()}"

    def is_weekly(self, item: str) -> bool:
        return item.startswith(self.weekly_prefix)

    def weekly_due(self, thursday: date) -> datetime:
        return datetime.combine(thursday, self.campaign.weekly_report.time, self.tz)

    def deadline(self, item: str) -> Deadline:
        return self._by_item[item]

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def week_number(self, item: str) -> int:
        return self.weeks.index(date.fromisoformat(item[len(self.weekly_prefix):])) + 1

    def week_label(self, item: str) -> str:
        d = date.fromisoformat(item[len(self.weekly_prefix):])
        return f"第{_cn_number(self.week_number(item))}周（{d.month}月{d.day}日）"

    def item_label(self, item: str) -> str:
        if self.is_weekly(item):
            return f"{self._labels.get(self.weekly_name, '周报')} {self.week_label(item)}"
        return self._labels.get(item, item)

    def week_for(self, received_at: datetime, named_week: int | None = None) -> str:
        """The weekly item a report counts for: the first Thursday deadline at or after its
        arrival; a report that names an earlier week (第N周) counts for that week, late.
        A report after the last deadline counts for the last week."""
        idx = len(self.weeks) - 1
        for i, d in enumerate(self.weeks):
            if received_at <= self.weekly_due(d):
                idx = i
                break
        if named_week is not None and 1 <= named_week <= len(self.weeks) and named_week - 1 < idx:
            idx = named_week - 1
        return self.weekly_key(self.weeks[idx])

    def state(self, item: str, received_at: datetime | None, now: datetime) -> str:
        due = self._by_item[item].due
        if received_at is not None and received_at <= now:
            return ON_TIME if received_at <= due else LATE
        return MISSING if now > due else OPEN

    def items_due_by_end(self) -> list[Deadline]:
        return sorted(self.deadlines, key=lambda d: (d.due, d.item))


def weekly_item(thursday: date) -> str:
    return f"{WEEKLY_PREFIX}{thursday.isoformat()}"
