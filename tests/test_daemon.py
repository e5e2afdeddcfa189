"""The daemon `intake run` starts (bot.daemon.run, the mailbox loop and the campaign's
scheduler), on a campaign that is happening at the moment its injected clock shows, with a fast
schedule: it acknowledges, reminds, sends the digest, sends nothing twice, and ends when told to.

In-process, so that the clock is the test's (no waiting for a time of day) and the daemon's
passes over the mailbox and its ticks can be waited on. `intake run` as a subprocess ending on
SIGTERM with exit status 0 is driven by tests/test_two_daemons.py and tests/test_outages.py."""
from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot import daemon
from bot.intake import Intake
from tests.fixtures.commands import weekly_mail

TZ = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FULL = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def live_campaign(config_text: str, now: datetime) -> str:
    """Rewrite the campaign and schedule so that a weekly deadline is today, later than now, and
    the reminder and digest slots fell a minute ago."""
    today = now.date()
    slot = (now - timedelta(minutes=1)).strftime("%H:%M")
    deadline = (now + timedelta(hours=3)).strftime("%H:%M") if now.hour < 20 else "23:59"
    weekday = FULL[today.weekday()]
    first = today - timedelta(days=7)
    campaign = f"""[campaign]
name = "测试活动"
timezone = "Asia/Shanghai"
start = {today - timedelta(days=10)}
end = {today + timedelta(days=10)}
[campaign.deadlines]
liaison_form = {today + timedelta(days=5)}T23:59:59
progress_table = {today + timedelta(days=9)}T23:59:59
summary = {today + timedelta(days=9)}T23:59:59
[campaign.weekly_report]
weekday = "{weekday}"
time = "{deadline}"
first = {first}
last = {today + timedelta(days=7)}

[schedule]
weekly_reminder = "{WEEKDAYS[today.weekday()]} {slot}"
deadline_reminders_days_before = [2, 0]
reminder_time = "09:00"
grace_hours = 12
digest = "{WEEKDAYS[today.weekday()]} {slot}"
tick_seconds = 1
"""
    return re.sub(r"\[campaign\].*?(?=\n\[organizers\])", campaign, config_text, flags=re.S)


class RunningClock:
    """Now is `start` plus the time elapsed since the clock was made: a campaign moment chosen by
    the test that runs on at the machine's pace, as the daemon's scheduler does."""

    def __init__(self, start: datetime):
        self.start, self.origin = start.astimezone(timezone.utc), time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


class Beats:
    """The daemon's passes over the mailbox and its campaign ticks, counted as they end, so that
    a test waits for them instead of for a guessed number of seconds."""

    def __init__(self):
        self.changed = threading.Condition()
        self.cycles = self.ticks = 0

    def cycle(self) -> None:
        with self.changed:
            self.cycles += 1
            self.changed.notify_all()

    def tick(self) -> None:
        with self.changed:
            self.ticks += 1
            self.changed.notify_all()

    def wait(self, condition, timeout: float) -> bool:
        """Until `condition()` holds, checked after each pass and tick."""
        with self.changed:
            return self.changed.wait_for(condition, timeout)


# The moment the daemon starts at: a Wednesday morning of the rewritten campaign.
MOMENT = datetime(2020, 6, 10, 10, 0, tzinfo=TZ)


def test_run_acknowledges_reminds_digests_and_stops(setup, caplog):
    setup.config_path.write_text(live_campaign(setup.config_path.read_text(encoding="utf-8"), MOMENT),
                                 encoding="utf-8")
    clock = RunningClock(MOMENT)
    intake = Intake.from_config(setup.config(), clock)
    setup.append(weekly_mail(), clock())

    def subjects():
        return [r.message["Subject"] for r in setup.sent]

    def all_arrived():
        s = subjects()
        return (any(x.startswith("回复：") for x in s) and any(x.startswith("【周汇总】") for x in s)
                and sum(x.startswith("【提醒】") for x in s) >= 14)

    beats, stop, failed = Beats(), daemon.StopFlag(), []

    def run():
        try:
            daemon.run(intake, stop, on_cycle=beats.cycle, on_tick=beats.tick)
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            failed.append(exc)

    caplog.set_level(logging.WARNING, logger="bot")
    running = threading.Thread(target=run, name="intake-run")
    running.start()
    try:
        assert beats.wait(all_arrived, timeout=90), subjects()
        # Nothing may be sent twice: a second acknowledgement would come from a later pass over
        # the mailbox, a second reminder or digest from a later tick. The pass and the tick under
        # way now may have begun before the last mail arrived; the second ones to end after this
        # began after it, and ran their outbox drain to the end.
        with beats.changed:
            cycles, ticks = beats.cycles, beats.ticks
        assert beats.wait(lambda: beats.cycles >= cycles + 2 and beats.ticks >= ticks + 2, timeout=60)
    finally:
        stop.event.set()
        running.join(timeout=60)
    assert not running.is_alive() and not failed, failed
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    s = subjects()
    assert sum(x.startswith("回复：") for x in s) == 1
    assert sum(x.startswith("【周汇总】") for x in s) == 1
    reminders = [x for x in s if x.startswith("【提醒】")]
    assert len(reminders) == len(set(reminders)) == 14  # every unit but 桐城, who just reported
    assert not any("桐城市总工会" in x for x in reminders)
