"""`intake run` as a subprocess on a campaign that is happening now, with a fast schedule: it
acknowledges, reminds, sends the digest, and ends cleanly on SIGTERM."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.conftest import ROOT
from tests.servers import Daemon
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


def test_run_acknowledges_reminds_digests_and_stops(setup):
    now = datetime.now(TZ)
    if (now.hour, now.minute) >= (23, 55) or (now.hour, now.minute) < (0, 2):
        # the slots below must fall on today's date: wait out the minutes around midnight
        tomorrow = datetime.combine(now.date() + timedelta(days=1 if now.hour == 23 else 0), datetime.min.time(), TZ)
        time.sleep(max(0.0, (tomorrow + timedelta(minutes=2) - now).total_seconds()))
        now = datetime.now(TZ)
    text = setup.config_path.read_text(encoding="utf-8")
    setup.config_path.write_text(live_campaign(text, now), encoding="utf-8")
    setup.append(weekly_mail(), datetime.now(timezone.utc))

    def subjects():
        return [r.message["Subject"] for r in setup.sent]

    def all_arrived():
        s = subjects()
        return (any(x.startswith("回复：") for x in s) and any(x.startswith("【周汇总】") for x in s)
                and sum(x.startswith("【提醒】") for x in s) >= 14)

    with Daemon(setup.config_path, ROOT) as daemon:
        daemon.wait_until(all_arrived, timeout=90)
        time.sleep(2)  # a few more ticks: nothing may be sent twice
        assert daemon.stop() == 0, daemon.err[-2000:]
    s = subjects()
    assert "Traceback" not in daemon.err
    assert sum(x.startswith("回复：") for x in s) == 1
    assert sum(x.startswith("【周汇总】") for x in s) == 1
    reminders = [x for x in s if x.startswith("【提醒】")]
    assert len(reminders) == len(set(reminders)) == 14  # every unit but 桐城, who just reported
    assert not any("桐城市总工会" in x for x in reminders)
