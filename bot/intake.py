"""What a message's walk, the read side and the admin's commands need, built once per process
from the configuration."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Callable, Iterable

from .campaign.calendar import Calendar
from .campaign.definition import Campaign, resolve
from .campaign.roster import Roster
from .clock import system_clock
from .config import Config, ConfigError
from .mail.archive import Archive
from .store.db import Database


class UnknownCampaign(ConfigError):
    """`--campaign NAME` names none of the config's campaigns: one line listing them."""


def closes_at(campaign: Campaign) -> datetime:
    """The end of the campaign's period: the first moment after its `end` day."""
    return datetime.combine(campaign.end + timedelta(days=1), time(0, 0), campaign.timezone)


def is_open(campaign: Campaign, moment: datetime) -> bool:
    """`moment` lies in the campaign's period: from its opens_at to the end of its `end` day."""
    return campaign.opens_at <= moment < closes_at(campaign)


def latest(campaigns: Iterable[Campaign]) -> Campaign:
    """The campaign that starts last (of equal starts, the one the config names last)."""
    return max(reversed(tuple(campaigns)), key=lambda c: (c.start, c.opens_at))


def current_campaign(campaigns: tuple[Campaign, ...], moment: datetime) -> Campaign:
    """The campaign open at `moment` (of several open, the latest), else the latest."""
    return latest([c for c in campaigns if is_open(c, moment)] or campaigns)


@dataclass
class Intake:
    config: Config
    db: Database
    archive: Archive
    roster: Roster
    calendar: Calendar  # of `campaign`
    clock: Callable[[], datetime] = field(default=system_clock)
    # Every campaign the mailbox collects for, as the config names them; `calendar.campaign`
    # is the one the read side speaks of (`for_campaign`: `--campaign`, default the open one,
    # else the latest).
    campaigns: tuple[Campaign, ...] = ()

    @classmethod
    def from_config(cls, config: Config, clock: Callable[[], datetime] = system_clock) -> Intake:
        campaigns = tuple(resolve(c) for c in (config.campaigns or (config.campaign,)))
        return cls(config, Database(config.database_url), Archive(config.storage_dir),
                   Roster.load(config.roster_file), Calendar(campaigns[0]), clock, campaigns)

    @property
    def campaign(self) -> Campaign:
        return self.calendar.campaign

    def for_campaign(self, name: str | None = None) -> Intake:
        """The same database, archive and roster, speaking of one campaign: the one whose slug
        or name is `name`; None: the one open at the clock's now, else the latest."""
        campaigns = self.campaigns or (self.campaign,)
        if name is None:
            chosen = current_campaign(campaigns, self.clock())
        else:
            wanted = name.strip()
            chosen = next((c for c in campaigns if wanted in (c.slug, c.name)), None)
            if chosen is None:
                listed = "、".join(f"{c.slug}（{c.name}）" for c in campaigns)
                raise UnknownCampaign(f"没有名为“{name}”的活动；本配置的活动：{listed}")
        if chosen.slug == self.campaign.slug:
            return self
        return replace(self, calendar=Calendar(chosen))

    def outbox_key(self, key: str) -> str:
        """An outbox key (`remind:…`, `digest:…`) for this Intake's campaign: the first campaign
        of the config keeps the keys it always had; another one's carry its slug after the kind,
        so the same slot of two campaigns is two mails."""
        first = (self.campaigns or (self.campaign,))[0]
        if self.campaign.slug == first.slug:
            return key
        kind, _, rest = key.partition(":")
        return f"{kind}:{self.campaign.slug}:{rest}"
