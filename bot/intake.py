"""What a message's walk, the read side and the admin's commands need, built once per process
from the configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from .campaign.calendar import Calendar
from .campaign.definition import Campaign, resolve
from .campaign.roster import Roster
from .clock import system_clock
from .config import Config
from .mail.archive import Archive
from .store.db import Database


@dataclass
class Intake:
    config: Config
    db: Database
    archive: Archive
    roster: Roster
    calendar: Calendar  # of `campaign`
    clock: Callable[[], datetime] = field(default=system_clock)
    # Every campaign the mailbox collects for, as the config names them; `calendar.campaign`
    # is the one the read side speaks of (`--campaign`, default: the open one, else the latest).
    campaigns: tuple[Campaign, ...] = ()

    @classmethod
    def from_config(cls, config: Config, clock: Callable[[], datetime] = system_clock) -> Intake:
        campaigns = tuple(resolve(c) for c in (config.campaigns or (config.campaign,)))
        return cls(config, Database(config.database_url), Archive(config.storage_dir),
                   Roster.load(config.roster_file), Calendar(campaigns[0]), clock, campaigns)

    @property
    def campaign(self) -> Campaign:
        return self.calendar.campaign
