"""Building the mail we send: one place for headers, so every outgoing mail is marked as
automatic and no text copied from a sender can inject a header."""
from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def header_safe(text: str, limit: int = 200) -> str:
    """Text from outside (a subject, a unit name) made fit for a header: one line, bounded."""
    text = _CONTROL.sub(" ", text or "").strip()
    return text[:limit]


def new_mail(*, sender: str, to: list[str], subject: str, auto_submitted: str, now: datetime,
             in_reply_to: str | None = None, references: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = header_safe(subject, 250)
    msg["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "intake.invalid"
    msg["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: mark automatic mail so that well-behaved responders never answer it, and ask
    # Exchange/Outlook not to send out-of-office replies to it.
    msg["Auto-Submitted"] = auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Loop"] = parseaddr(sender)[1]  # our own mail coming back is recognised by machines.py
    msg["Precedence"] = "bulk" if auto_submitted == "auto-generated" else "auto_reply"
    if in_reply_to:
        msg["In-Reply-To"] = header_safe(in_reply_to, 998)
        msg["References"] = header_safe(references or in_reply_to, 998)
    return msg
