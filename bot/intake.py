"""What a message's walk, the read side and the admin's commands need, built once per process
from the configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from .campaign.calendar import Calendar
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
    calendar: Calendar
    clock: Callable[[], datetime] = field(default=system_clock)

    @classmethod
    def from_config(cls, config: Config, clock: Callable[[], datetime] = system_clock) -> Intake:
        return cls(config, Database(config.database_url), Archive(config.storage_dir),
                   Roster.load(config.roster_file), Calendar(config.campaign), clock)
