"""The one clock. Everything that asks "what time is it" asks an `Intake`'s clock (this, unless a
test or `--now` replaces it), so a whole walk of a mail sees one moment."""
from __future__ import annotations

from datetime import datetime, timezone


def system_clock() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(timezone.utc)
