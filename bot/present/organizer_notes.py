"""Notes to the organizers about decisions the bot took on its own that a person may want to
check: today, a unit that an unknown sender named in its reply."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from ..campaign.calendar import Calendar
from ..mail.compose import header_safe, new_mail, set_text
from .labels import system_name
from .replies import local_text, template


def compose_identity_note(*, calendar: Calendar, to: list[str], sender: str, sender_addr: str, unit: str,
                          reply_pk: int, subject: str, answer: str, original_pk: int, original_subject: str,
                          received_at: datetime, now: datetime) -> EmailMessage:
    """Tell the organizers that mail from `sender_addr` is now counted for `unit` because
    the sender said so, and how to undo it."""
    msg = new_mail(sender=sender, to=to, subject=f"【单位认定】{header_safe(sender_addr)} 回复为 {unit}",
                   auto_submitted="auto-generated", now=now)
    set_text(msg, template("identity_note.txt.j2").render(
        received=local_text(received_at, calendar), sender=header_safe(sender_addr), unit=unit,
        subject=header_safe(subject) or "（无主题）", answer=" ".join(answer.split())[:200] or "（无）",
        original=original_pk, original_subject=header_safe(original_subject) or "（无主题）", reply=reply_pk,
        system=system_name(calendar.campaign)))
    return msg
